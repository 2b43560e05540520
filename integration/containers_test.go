package integration

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"
)

// kafkaImage is the broker image that testBroker starts when KAFKA_BROKERS
// is unset and a Docker daemon responds.
const kafkaImage = "apache/kafka:4.1.0"

const (
	// dockerProbeTimeout bounds the single check for a Docker daemon, so
	// that a machine without Docker falls through to kfake at once.
	dockerProbeTimeout = 3 * time.Second
	// containerStartTimeout covers pulling the image and the broker's start.
	containerStartTimeout = 5 * time.Minute
)

// kafkaContainer is the broker container shared by every test of this
// binary. It is started on first use and removed by TestMain.
var kafkaContainer struct {
	once    sync.Once
	brokers []string
	// unused is the reason there is no container, for the test log.
	unused string
	ctr    *testcontainers.DockerContainer
}

// TestMain removes the broker container, if a test started one, after
// every test has run.
func TestMain(m *testing.M) {
	code := m.Run()
	if ctr := kafkaContainer.ctr; ctr != nil {
		if err := testcontainers.TerminateContainer(ctr); err != nil {
			fmt.Fprintf(os.Stderr, "removing the Kafka container: %v\n", err)
		}
	}
	os.Exit(code)
}

// containerBroker returns the bootstrap address of the shared Kafka
// container, starting it on the first call. When no Docker daemon responds
// or the container does not start, it returns nil and the reason, and the
// test binary does not try again.
func containerBroker() (brokers []string, unused string) {
	kafkaContainer.once.Do(func() {
		probe := time.Now()
		if err := dockerHealthy(); err != nil {
			kafkaContainer.unused = fmt.Sprintf("Docker unavailable (probed in %s): %v", time.Since(probe).Round(10*time.Microsecond), err)
			return
		}
		ctr, brokers, err := startKafkaContainer()
		kafkaContainer.ctr = ctr
		if err != nil {
			kafkaContainer.unused = "the " + kafkaImage + " container did not start: " + err.Error()
			return
		}
		kafkaContainer.brokers = brokers
	})
	return kafkaContainer.brokers, kafkaContainer.unused
}

// dockerHealthy sends an info request to the Docker daemon that
// testcontainers finds through DOCKER_HOST, its properties file or the
// default socket. It returns an error unless the daemon responds within
// dockerProbeTimeout.
func dockerHealthy() error {
	result := make(chan error, 1)
	// NewDockerProvider looks for the daemon without a deadline of its own,
	// so the probe runs aside and is abandoned when it takes too long.
	go func() {
		// testcontainers' own SkipIfProviderIsNotHealthy recovers from a
		// panic in these calls, so the probe does too.
		defer func() {
			if r := recover(); r != nil {
				result <- fmt.Errorf("probing Docker panicked: %v", r)
			}
		}()
		provider, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
		if err != nil {
			result <- err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), dockerProbeTimeout)
		defer cancel()
		result <- provider.Health(ctx) // Health closes the provider
	}()
	select {
	case err := <-result:
		return err
	case <-time.After(dockerProbeTimeout):
		return fmt.Errorf("no Docker daemon responded within %s", dockerProbeTimeout)
	}
}

// startKafkaContainer starts a single KRaft node, broker and controller,
// from kafkaImage. The image reads its server properties from KAFKA_*
// variables. The client listener has the same port inside the container and
// on the host's 127.0.0.1, so the advertised address works from both sides
// without a start script that learns the mapped port.
//
// The testcontainers Kafka module (v0.44.0) is not used: its start script
// runs the Confluent image's /etc/confluent/docker scripts, which the
// apache/kafka image does not have.
//
// NOTE: this has compiled but never run, because the machine it was
// written on has no Docker. The variables follow the apache/kafka image's
// KAFKA_* convention, and the wait is for the line that broker.sh also
// waits for.
func startKafkaContainer() (*testcontainers.DockerContainer, []string, error) {
	port, err := freeHostPort()
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), containerStartTimeout)
	defer cancel()
	portSpec := strconv.Itoa(port) + "/tcp"
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctr, err := testcontainers.Run(ctx, kafkaImage,
		testcontainers.WithEnv(map[string]string{
			"KAFKA_NODE_ID":                                          "1",
			"KAFKA_PROCESS_ROLES":                                    "broker,controller",
			"KAFKA_LISTENERS":                                        fmt.Sprintf("PLAINTEXT://:%d,CONTROLLER://:9093", port),
			"KAFKA_ADVERTISED_LISTENERS":                             "PLAINTEXT://" + addr,
			"KAFKA_LISTENER_SECURITY_PROTOCOL_MAP":                   "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
			"KAFKA_INTER_BROKER_LISTENER_NAME":                       "PLAINTEXT",
			"KAFKA_CONTROLLER_LISTENER_NAMES":                        "CONTROLLER",
			"KAFKA_CONTROLLER_QUORUM_VOTERS":                         "1@localhost:9093",
			"KAFKA_AUTO_CREATE_TOPICS_ENABLE":                        "false",
			"KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS":                 "0",
			"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR":                 "1",
			"KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS":                     "1",
			"KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR":         "1",
			"KAFKA_TRANSACTION_STATE_LOG_MIN_ISR":                    "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
			"KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR":            "1",
		}),
		testcontainers.WithExposedPorts(portSpec),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = network.PortMap{
				network.MustParsePort(portSpec): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: strconv.Itoa(port)}},
			}
		}),
		testcontainers.WithWaitStrategy(wait.ForLog("Kafka Server started").WithStartupTimeout(containerStartTimeout)),
	)
	if err != nil {
		return ctr, nil, err
	}
	return ctr, []string{addr}, nil
}

// freeHostPort returns a TCP port that is free on 127.0.0.1 now. Another
// process may take it before the container binds it. The container then
// fails to start and the tests use kfake.
func freeHostPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
