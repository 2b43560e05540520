#!/usr/bin/env bash
# Runs one Apache Kafka node (KRaft, broker and controller in one JVM) on
# 127.0.0.1 for the integration tests, from jars that Maven fetches.
#
#   broker.sh fetch               copy the broker's jars into .ci/cache/kafka-libs
#   broker.sh start STATE_DIR     format (first start only) and start a node
#   broker.sh stop STATE_DIR      stop it (SIGTERM, then SIGKILL after 30 s)
#   broker.sh restart STATE_DIR   stop, then start on the same ports and data
#
# `start` writes STATE_DIR/env with `export` lines for the tests to source.
# README.md in this folder lists them.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly SCRIPT_PATH="$SCRIPT_DIR/${BASH_SOURCE[0]##*/}"
readonly POM="$SCRIPT_DIR/pom.xml"
# .ci/cache/ is in .gitignore, so the fetched jars stay out of git.
readonly LIBS_DIR="${KAFKA_LIBS_DIR:-${SCRIPT_DIR%/*}/cache/kafka-libs}"

readonly START_TIMEOUT_S="${KAFKA_START_TIMEOUT_S:-90}"
readonly STOP_TIMEOUT_S="${KAFKA_STOP_TIMEOUT_S:-30}"
readonly HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m}"
readonly JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# Test credentials. They protect nothing but a throwaway broker on loopback.
readonly SCRAM_USER=ce-test
readonly SCRAM_PASSWORD=ce-test-secret
readonly PLAIN_USER=ce-plain
readonly PLAIN_PASSWORD=ce-plain-secret
readonly KEYSTORE_PASSWORD=ce-test-keystore

# KafkaRaftServer logs this line once its listeners are open and the broker
# has caught up with the metadata log (checked on Kafka 4.4.0).
readonly STARTED_MESSAGE='Kafka Server started'

log() { echo "broker.sh: $*" >&2; }
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,11s/^# \{0,1\}//p' "$SCRIPT_PATH" >&2
  exit 2
}

# --- fetch ------------------------------------------------------------------

pom_checksum() { sha256sum <"$POM" | cut -d' ' -f1; }

# Copies the broker's runtime jars into LIBS_DIR, unless the jars there were
# copied for the same pom.xml.
fetch_libs() {
  local checksum
  checksum="$(pom_checksum)"
  if [[ -f "$LIBS_DIR/pom.sha256" && "$(<"$LIBS_DIR/pom.sha256")" == "$checksum" ]]; then
    log "kafka jars up to date in $LIBS_DIR"
    return
  fi
  command -v mvn >/dev/null || die "mvn not found: install Maven 3.8 or newer"

  # Copy into a new folder and swap it in whole: jars left over from an older
  # pom.xml would otherwise join the classpath, and an interrupted copy would
  # look complete.
  local staging="$LIBS_DIR.tmp.$$"
  rm -rf "$staging"
  log "fetching kafka jars with Maven into $LIBS_DIR"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$staging" -DincludeScope=runtime >&2; then
    rm -rf "$staging"
    die "Maven failed to fetch the jars listed in $POM"
  fi
  echo "$checksum" >"$staging/pom.sha256"
  rm -rf "$LIBS_DIR"
  mv "$staging" "$LIBS_DIR"
}

# Prints the Kafka version, read from the name of the kafka_2.13 jar.
kafka_version() {
  local jars=("$LIBS_DIR"/kafka_2.13-*.jar)
  [[ -f "${jars[0]}" ]] || die "no kafka_2.13 jar in $LIBS_DIR: run 'broker.sh fetch'"
  local name="${jars[0]##*/}"
  name="${name#kafka_2.13-}"
  echo "${name%.jar}"
}

# --- state directory ----------------------------------------------------------

# Prints the absolute path of a state directory, creating it when asked to.
resolve_state_dir() {
  local dir="$1" create="$2"
  if [[ ! -d "$dir" ]]; then
    [[ "$create" == create ]] || return 1
    mkdir -p "$dir"
  fi
  (cd "$dir" && pwd)
}

# Prints the pid of the broker running from STATE_DIR, or returns 1 if there
# is none. The pid in broker.pid counts only while it still runs kafka.Kafka
# with this folder's server.properties, so a reused pid is never signalled. A
# zombie fails the check too, because its cmdline is empty.
running_broker_pid() {
  local state="$1" pid cmdline
  [[ -f "$state/broker.pid" ]] || return 1
  pid="$(<"$state/broker.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || return 1
  [[ "$cmdline" == *" kafka.Kafka $state/server.properties"* ]] || return 1
  echo "$pid"
}

# Prints three free TCP ports on 127.0.0.1: PLAINTEXT, SASL_SSL, CONTROLLER.
# All three sockets stay bound until the last is picked, so the ports differ.
# NOTE: another process may take a port between this check and the broker's
# bind, or while the broker is down in a restart. The start then fails.
pick_free_ports() {
  python3 -c '
import socket
sockets = []
for _ in range(3):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
'
}

# Prints a new cluster id in Kafka's format: 16 random bytes, base64url
# without padding. Kafka's own generator avoids a leading '-' too, because
# command lines would take the id for an option.
new_cluster_id() {
  python3 -c '
import base64, uuid
while True:
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not cluster_id.startswith("-"):
        print(cluster_id)
        break
'
}

# --- TLS ------------------------------------------------------------------------

# Makes a throwaway CA and a server certificate for 127.0.0.1 and localhost in
# STATE_DIR/tls, once: a restart keeps them, so clients keep trusting the CA.
make_tls() {
  local tls_dir="$1"
  if [[ -f "$tls_dir/ca.pem" && -f "$tls_dir/server.p12" ]]; then
    return
  fi
  rm -rf "$tls_dir"
  mkdir -p "$tls_dir"

  # KAFKA_TLS_TOOL=keytool forces the fallback, to test it on a machine
  # that has openssl.
  local tool="${KAFKA_TLS_TOOL:-}"
  if [[ -z "$tool" ]]; then
    if command -v openssl >/dev/null; then tool=openssl; else tool=keytool; fi
  fi
  case "$tool" in
    openssl) make_tls_with_openssl "$tls_dir" ;;
    keytool) make_tls_with_keytool "$tls_dir" ;;
    *) die "invalid KAFKA_TLS_TOOL '$tool': expected openssl or keytool" ;;
  esac
}

# Writes ca.pem, server.p12 (key and chain for the broker) and, because
# openssl can export keys as PEM, a client certificate for mutual TLS:
# client.pem and client.key.
make_tls_with_openssl() {
  local dir="$1"
  local ec_key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)

  # An explicit config keeps the certificates independent of the system's
  # openssl.cnf.
  cat >"$dir/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = contact-enricher CI test CA
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF

  (
    cd "$dir"
    openssl req -x509 -new -config openssl.cnf -extensions ca_ext "${ec_key[@]}" \
      -keyout ca.key -out ca.pem -days 365 2>/dev/null

    local name subject
    for name in server client; do
      subject=/CN=127.0.0.1
      [[ "$name" == client ]] && subject=/CN=ce-test-client
      openssl req -new -config openssl.cnf "${ec_key[@]}" -subj "$subject" \
        -keyout "$name.key" -out "$name.csr" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
        -set_serial "0x$(openssl rand -hex 8)" -days 365 \
        -extfile openssl.cnf -extensions "${name}_ext" -out "$name.pem" 2>/dev/null
    done

    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem \
      -name broker -passout "pass:$KEYSTORE_PASSWORD" -out server.p12
  ) || die "openssl failed to make the test certificates in $dir"
}

# Writes ca.pem and server.p12 with keytool alone. keytool cannot export a
# private key, so this path makes no PEM client certificate.
make_tls_with_keytool() {
  local dir="$1"
  local store=(-storetype PKCS12 -storepass "$KEYSTORE_PASSWORD" -noprompt)
  local ec_key=(-keyalg EC -groupname secp256r1 -validity 365)
  (
    cd "$dir"
    keytool -genkeypair -alias ca "${ec_key[@]}" -dname "CN=contact-enricher CI test CA" \
      -ext bc:c=ca:true -ext ku:c=keyCertSign,cRLSign -keystore ca.p12 "${store[@]}"
    keytool -exportcert -rfc -alias ca -keystore ca.p12 -file ca.pem "${store[@]}"

    keytool -genkeypair -alias broker "${ec_key[@]}" -dname "CN=127.0.0.1" \
      -keystore server.p12 "${store[@]}"
    keytool -certreq -alias broker -keystore server.p12 -file server.csr "${store[@]}"
    keytool -gencert -alias ca -keystore ca.p12 -infile server.csr -outfile server.pem -rfc \
      -validity 365 -ext bc:c=ca:false -ext ku:c=digitalSignature -ext eku=serverAuth \
      -ext san=ip:127.0.0.1,dns:localhost "${store[@]}"
    # The CA goes in first so that keytool can build the chain of the reply.
    keytool -importcert -alias ca -file ca.pem -keystore server.p12 "${store[@]}"
    keytool -importcert -alias broker -file server.pem -keystore server.p12 "${store[@]}"
  ) >/dev/null 2>&1 || die "keytool failed to make the test certificates in $dir"
}

# --- configuration ------------------------------------------------------------

write_server_properties() {
  local state="$1" plain_port="$2" sasl_port="$3" controller_port="$4"
  local prefix=listener.name.sasl_ssl
  cat >"$state/server.properties" <<EOF
# Written by .ci/kafka/broker.sh at every start, so edits are lost.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$plain_port,SASL_SSL://127.0.0.1:$sasl_port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$plain_port,SASL_SSL://127.0.0.1:$sasl_port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data

# SASL_SSL. The SCRAM users are stored in the metadata log by the format step.
$prefix.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
$prefix.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$PLAIN_USER="$PLAIN_PASSWORD";
$prefix.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
$prefix.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
$prefix.ssl.keystore.type=PKCS12
$prefix.ssl.keystore.location=$state/tls/server.p12
$prefix.ssl.keystore.password=$KEYSTORE_PASSWORD
$prefix.ssl.key.password=$KEYSTORE_PASSWORD
# "requested": a client may present a certificate signed by the test CA, and
# a client without one still connects.
$prefix.ssl.client.auth=requested
$prefix.ssl.truststore.type=PEM
$prefix.ssl.truststore.location=$state/tls/ca.pem

# One node, so every internal topic has one replica. One partition for the
# internal topics too, instead of 50, which a single node gains nothing from.
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# The compaction tests need the cleaner. It checks for dirty logs every
# second instead of every 15 s, and its 128 MiB default buffer would take a
# quarter of the 512 MiB heap.
log.cleaner.enable=true
log.cleaner.backoff.ms=1000
log.cleaner.dedupe.buffer.size=16777216
EOF
}

# Sends the broker's log (and the storage tool's) to STATE_DIR/broker.log,
# appending, so that a restart keeps the earlier run's lines.
write_log4j2_config() {
  local state="$1"
  cat >"$state/log4j2.properties" <<EOF
# Written by .ci/kafka/broker.sh at every start, so edits are lost.
status = warn
appender.file.type = File
appender.file.name = broker_log
appender.file.fileName = $state/broker.log
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = broker_log
EOF
}

# Formats the log directory on the first start only: formatting again would
# fail, and a new cluster id would make the broker refuse its old data.
format_storage() {
  local state="$1"
  if [[ -f "$state/data/meta.properties" ]]; then
    return
  fi
  local cluster_id
  cluster_id="$(new_cluster_id)"
  log "formatting $state/data (cluster id $cluster_id)"
  # --standalone makes this node the only voter of a dynamic controller
  # quorum. The SCRAM users go into the first metadata records, so that the
  # broker needs no admin call before the tests authenticate.
  if ! "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$state/log4j2.properties" \
      -cp "$LIBS_DIR/*" kafka.tools.StorageTool format \
      --config "$state/server.properties" --cluster-id "$cluster_id" --standalone \
      --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
      --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
      >"$state/format.log" 2>&1; then
    cat "$state/format.log" >&2
    die "kafka.tools.StorageTool failed to format $state/data"
  fi
}

# --- start and stop -------------------------------------------------------------

# Returns 0 if something accepts TCP connections on 127.0.0.1:PORT.
port_accepts() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints the end of the broker's logs to stderr, for a start that failed.
print_broker_logs() {
  local state="$1"
  if [[ -s "$state/broker.out" ]]; then
    log "--- last 20 lines of $state/broker.out (JVM output) ---"
    tail -n 20 "$state/broker.out" >&2
  fi
  log "--- last 100 lines of $state/broker.log ---"
  tail -n 100 "$state/broker.log" >&2 2>/dev/null || log "(no broker.log)"
}

# Waits until the broker has logged STARTED_MESSAGE after byte LOG_OFFSET of
# broker.log and both client ports accept connections. A port alone is not
# enough: the broker accepts connections before it can serve requests.
wait_until_ready() {
  local state="$1" pid="$2" log_offset="$3" plain_port="$4" sasl_port="$5"
  local deadline=$((SECONDS + START_TIMEOUT_S))
  while true; do
    # This checks the pid with kill -0 because running_broker_pid fails
    # between fork and exec, while the child's cmdline is still bash's. The
    # JVM is this shell's child, so its pid is not reused before bash reaps it.
    if ! kill -0 "$pid" 2>/dev/null; then
      print_broker_logs "$state"
      die "the broker JVM (pid $pid) exited during start: see the log above"
    fi
    if tail -c "+$((log_offset + 1))" "$state/broker.log" 2>/dev/null \
        | grep -qF "$STARTED_MESSAGE" \
        && port_accepts "$plain_port" && port_accepts "$sasl_port"; then
      return
    fi
    if ((SECONDS >= deadline)); then
      print_broker_logs "$state"
      # A half-started JVM would outlive the failed start: stop it here.
      stop_broker "$state"
      die "timed out after ${START_TIMEOUT_S}s waiting for the broker to start: see the log above"
    fi
    sleep 0.5
  done
}

# Writes STATE_DIR/env, replacing it whole so a reader never sees half a file.
write_env_file() {
  local state="$1" pid="$2" version="$3" plain_port="$4" sasl_port="$5"
  local -a vars=(
    KAFKA_BROKERS "127.0.0.1:$plain_port"
    KAFKA_SASL_SSL_BROKERS "127.0.0.1:$sasl_port"
    KAFKA_TLS_CA_FILE "$state/tls/ca.pem"
  )
  if [[ -f "$state/tls/client.pem" ]]; then
    vars+=(
      KAFKA_TLS_CLIENT_CERT_FILE "$state/tls/client.pem"
      KAFKA_TLS_CLIENT_KEY_FILE "$state/tls/client.key"
    )
  fi
  vars+=(
    KAFKA_SCRAM_USER "$SCRAM_USER"
    KAFKA_SCRAM_PASSWORD "$SCRAM_PASSWORD"
    KAFKA_PLAIN_USER "$PLAIN_USER"
    KAFKA_PLAIN_PASSWORD "$PLAIN_PASSWORD"
    KAFKA_VERSION "$version"
    KAFKA_BROKER_PID "$pid"
    KAFKA_STATE_DIR "$state"
    KAFKA_BROKER_LOG "$state/broker.log"
    KAFKA_BROKER_SCRIPT "$SCRIPT_PATH"
  )
  local i
  for ((i = 0; i < ${#vars[@]}; i += 2)); do
    printf 'export %s=%q\n' "${vars[i]}" "${vars[i + 1]}"
  done >"$state/env.tmp"
  mv "$state/env.tmp" "$state/env"
}

start_broker() {
  local state="$1" started_at=$SECONDS pid
  if pid="$(running_broker_pid "$state")"; then
    die "a broker already runs from $state (pid $pid): run 'broker.sh stop $state' first"
  fi
  fetch_libs
  command -v "$JAVA" >/dev/null || die "java not found: install Java 17 or set JAVA_HOME"
  local version
  version="$(kafka_version)"

  # The first start picks the ports and later starts reuse them, so that
  # clients of a restarted broker reconnect to the same addresses.
  local plain_port sasl_port controller_port
  if [[ ! -f "$state/ports" ]]; then
    pick_free_ports >"$state/ports"
  fi
  read -r plain_port sasl_port controller_port <"$state/ports"

  make_tls "$state/tls"
  write_server_properties "$state" "$plain_port" "$sasl_port" "$controller_port"
  write_log4j2_config "$state"
  format_storage "$state"

  # Only lines after this offset tell whether this start succeeded.
  local log_offset=0
  [[ -f "$state/broker.log" ]] && log_offset="$(stat -c %s "$state/broker.log")"

  # The JVM's own output goes to a file: a background JVM holding the
  # caller's stdout would keep a `$(broker.sh start ...)` from returning.
  local -a heap_opts
  read -r -a heap_opts <<<"$HEAP_OPTS"
  "$JAVA" "${heap_opts[@]}" -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$state/server.properties" \
    </dev/null >>"$state/broker.out" 2>&1 &
  pid=$!
  echo "$pid" >"$state/broker.pid"

  wait_until_ready "$state" "$pid" "$log_offset" "$plain_port" "$sasl_port"
  write_env_file "$state" "$pid" "$version" "$plain_port" "$sasl_port"
  echo "kafka $version started on PLAINTEXT 127.0.0.1:$plain_port and SASL_SSL 127.0.0.1:$sasl_port" \
    "(pid $pid, $((SECONDS - started_at)) s, env in $state/env)"
}

# Waits up to TIMEOUT_S seconds for the broker of STATE_DIR to exit. Returns 1
# if it still runs.
wait_for_exit() {
  local state="$1" timeout_s="$2"
  local deadline=$((SECONDS + timeout_s))
  while running_broker_pid "$state" >/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# Stops the broker of STATE_DIR, if one runs: SIGTERM lets it shut down
# cleanly, SIGKILL follows after STOP_TIMEOUT_S. Succeeds if none runs.
stop_broker() {
  local state="$1" pid started_at=$SECONDS
  if ! pid="$(running_broker_pid "$state")"; then
    rm -f "$state/broker.pid"
    log "no broker runs from $state"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for_exit "$state" "$STOP_TIMEOUT_S"; then
    log "the broker (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT_S}s: sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_for_exit "$state" 10 || die "the broker (pid $pid) still runs after SIGKILL"
  fi
  rm -f "$state/broker.pid"
  log "stopped the broker (pid $pid) in $((SECONDS - started_at)) s"
}

# --- commands -------------------------------------------------------------------

main() {
  local command="${1:-}"
  case "$command" in
    fetch)
      [[ $# -eq 1 ]] || usage
      fetch_libs
      log "kafka $(kafka_version): $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $LIBS_DIR"
      ;;
    start)
      [[ $# -eq 2 ]] || usage
      start_broker "$(resolve_state_dir "$2" create)"
      ;;
    stop)
      [[ $# -eq 2 ]] || usage
      local state
      if ! state="$(resolve_state_dir "$2" no)"; then
        log "no state directory $2: nothing to stop"
        return 0
      fi
      stop_broker "$state"
      ;;
    restart)
      [[ $# -eq 2 ]] || usage
      local state
      state="$(resolve_state_dir "$2" create)"
      stop_broker "$state"
      start_broker "$state"
      ;;
    *)
      usage
      ;;
  esac
}

main "$@"
