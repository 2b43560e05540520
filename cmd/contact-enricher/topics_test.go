package main

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestCreateTopicsCreatesOnlyMissingOnes(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "crm"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")

	code, stdout, stderr := runCLI(t, "create-topics", "--brokers", brokers, "--partitions", "2", "crm", "out", "dead")
	if code != 0 {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"exists  crm", "created out (2 partitions)", "created dead (2 partitions)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if code, stdout, _ = runCLI(t, "create-topics", "--brokers", brokers, "out"); code != 0 || !strings.Contains(stdout, "exists  out") {
		t.Errorf("second run: exit code %d, stdout %q; want 0 and out reported as existing", code, stdout)
	}
}

func TestCreateTopicsRejectsBadArguments(t *testing.T) {
	cases := map[string][]string{
		"--brokers is required":              {"create-topics", "crm"},
		"name at least one topic":            {"create-topics", "--brokers", "127.0.0.1:1"},
		"--partitions 0: must be at least 1": {"create-topics", "--brokers", "127.0.0.1:1", "--partitions", "0", "crm"},
	}
	for want, args := range cases {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("%v: exit code %d, stderr %q; want 2 and %q", args, code, stderr, want)
		}
	}
}
