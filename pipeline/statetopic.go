package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// ErrStateTopicNotCompacted is returned at start when the job-state topic
// exists without cleanup.policy=compact: with deletion by age, the record
// of a long job could vanish while the job still runs.
var ErrStateTopicNotCompacted = errors.New("job-state topic is not compacted")

// ensureStateTopic creates the job-state topic when it is missing: one
// partition, because the order of its records decides between replicas,
// and compacted, because only the latest record of each job matters. An
// existing topic must be compacted and have one partition.
func ensureStateTopic(ctx context.Context, adm *kadm.Client, topic string, replication int16) error {
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("listing job-state topic %s: %w", topic, err)
	}
	d, ok := details[topic]
	if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
		return createStateTopic(ctx, adm, topic, replication)
	}
	if d.Err != nil {
		return fmt.Errorf("describing job-state topic %s: %w", topic, d.Err)
	}
	if n := len(d.Partitions); n != 1 {
		return fmt.Errorf("job-state topic %s has %d partitions; it needs exactly 1, because the order of its records decides between replicas: choose another --state-topic", topic, n)
	}
	return checkCompacted(ctx, adm, topic)
}

func createStateTopic(ctx context.Context, adm *kadm.Client, topic string, replication int16) error {
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, 1, replication, map[string]*string{"cleanup.policy": &compact}, topic)
	if err == nil {
		err = resp.Err // kadm reports the per-topic error here, not in err
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		// Another replica created it between the listing and now.
		return checkCompacted(ctx, adm, topic)
	}
	if err != nil {
		detail := ""
		if resp.ErrMessage != "" {
			detail = " (" + resp.ErrMessage + ")"
		}
		return fmt.Errorf("creating job-state topic %s with replication factor %d: %w%s", topic, replication, err, detail)
	}
	return nil
}

func checkCompacted(ctx context.Context, adm *kadm.Client, topic string) error {
	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describing configs of job-state topic %s: %w", topic, err)
	}
	rc, err := configs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("describing configs of job-state topic %s: %w", topic, err)
	}
	policy := "delete" // Kafka's default
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if !strings.Contains(policy, "compact") {
		return fmt.Errorf("%w: topic %s has cleanup.policy=%s; set cleanup.policy=compact on it or choose another --state-topic",
			ErrStateTopicNotCompacted, topic, policy)
	}
	return nil
}
