#!/usr/bin/env bash
# Store-and-forward of small messages: groved (durable before acknowledgement, SQLite) against
# Mosquitto (MQTT QoS 1, persistence on), 1 KiB messages, all over 127.0.0.1 in the same run
# (issue 3 target: groved >= 2x Mosquitto).
#
# Usage: bench/relay_vs_mosquitto.sh [BUILD_DIR]    (default build/release)
# Environment:
#   BUILD_DIR    build folder holding src/cli/grove and src/relay/groved (or GROVE=, GROVED=)
#   COUNT        messages per run (default 50000)
#   MSG_BYTES    message size (default 1024; a multiple of 4)
#   RUNS         repetitions of each case, interleaved (default 3); median and best reported
#   PUB_INFLIGHT mosquitto_pub -M: QoS 1 messages in flight (default 1000; the client's own
#                default is 20). grove send keeps up to 1 MiB queued, about 1000 such messages.
#   BENCH_DIR    parent folder of the temporary folder holding both brokers' data (default
#                ${TMPDIR:-/tmp}; the script prints its file system)
#   CLIENT       bench (default): bench/bench_relay_client sends and receives for groved, with
#                the A bit (AcknowledgeImmediately) on every ACK_EVERY-th message (default 16)
#                and the last; cli: `grove send --lines < FILE` / `grove receive -n COUNT` (grove
#                send sets A on every 128th message and the last; sstp.md §9.4, relay_client.cpp)
#
# What each side does (both read the same file: COUNT lines of MSG_BYTES base64 characters):
#   groved     the relay; device A sends to device B (one message per line, one session). groved acknowledges a message only after it is committed
#              and synced in SQLite (WAL, synchronous=FULL: an fsync per group commit).
#   mosquitto  broker with `persistence true`, autosave_interval 1800 (the default) and
#              autosave_on_changes false: its in-memory state is written to mosquitto.db every
#              30 minutes and at exit, so a QoS 1 PUBACK means "in the broker's memory", not
#              "on disk"; nothing is fsynced per message. max_queued_messages 0 (no limit; the
#              default 1000 would drop messages for the offline subscriber), max_inflight_messages
#              256 towards the subscriber (groved's max_unacked_deliveries). The publisher is
#              `mosquitto_pub -q 1 -l -M PUB_INFLIGHT`, the subscriber `mosquitto_sub -q 1 -c -i ID`
#              (a persistent session: clean session off), a fresh topic and client id per run.
# Cases, interleaved run by run:
#   store    receiver offline (its session/device exists); time = sender start .. sender exits
#            with every message acknowledged (groved: durable; mosquitto: PUBACK)
#   drain    then the receiver connects; time = its start .. it exits after COUNT messages
#   live     receiver online first; time = sender start .. receiver has all COUNT messages
# Throughput is messages per second; the relay's CPU seconds per run come from /proc/PID/stat.
set -euo pipefail
BENCH_NAME=relay_vs_mosquitto
[[ $# -ge 1 ]] && BUILD_DIR=$1
# shellcheck source=bench/relay_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/relay_common.sh"

COUNT=${COUNT:-50000}
MSG_BYTES=${MSG_BYTES:-1024}
PUB_INFLIGHT=${PUB_INFLIGHT:-1000}
setup_relay_pair mosquitto mosquitto_pub mosquitto_sub

echo "store-and-forward: $COUNT messages of $MSG_BYTES bytes over 127.0.0.1, $RUNS runs per case"
echo "grove:     $GROVE"
echo "groved:    $GROVED (SQLite WAL, synchronous=FULL, group commit)"
clients_line
echo "mosquitto: $(mosquitto -h 2>&1 | awk '/version/ {print $3; exit}') (persistence on, autosave every 1800 s, QoS 1, mosquitto_pub -M $PUB_INFLIGHT)"
machine_line
echo "data in:   $WORK ($FS_TYPE)"
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"

# ---- groved, devices A and B.
DB=$WORK/relay.db
add_devices "$DB" a b
start_groved "$DB" "$WORK/groved.log"

# ---- mosquitto.
mkdir -p "$WORK/mosquitto"
for ((tries = 0; tries < 20; tries++)); do
  MQ_PORT=$(random_port)
  cat >"$WORK/mosquitto.conf" <<EOF
listener $MQ_PORT 127.0.0.1
allow_anonymous true
user $(id -un)
persistence true
persistence_location $WORK/mosquitto/
persistence_file mosquitto.db
autosave_interval 1800
autosave_on_changes false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 256
log_dest stderr
log_type error
log_type warning
EOF
  mosquitto -c "$WORK/mosquitto.conf" 2>"$WORK/mosquitto.log" &
  MQ_PID=$!; started "$MQ_PID"
  wait_listening "$MQ_PORT" "$MQ_PID" && break
  stop "$MQ_PID"; MQ_PID=
done
[[ -n ${MQ_PID:-} ]] || { cat "$WORK/mosquitto.log" >&2; die "mosquitto did not start"; }

grove_send() {  # sends COUNT messages A -> B; returns once all are acknowledged
  grove_send_start
  wait_ok "$SPID" "grove send" "$WORK/send.log"
}
wait_recv() { wait_ok "$RPID" receiver "$WORK/recv.log"; }

mq_sub() {  # ID TOPIC [extra args]: subscriber in the background; sets RPID
  local id=$1 topic=$2
  shift 2
  "${CPU_TIME[@]}" "$WORK/cpu-recv" mosquitto_sub -p "$MQ_PORT" -h 127.0.0.1 -q 1 -c -i "$id" \
    -t "$topic" "$@" >/dev/null 2>"$WORK/recv.log" &
  RPID=$!; started "$RPID"
}
mq_pub() {  # TOPIC
  "${CPU_TIME[@]}" "$WORK/cpu-send" mosquitto_pub -p "$MQ_PORT" -h 127.0.0.1 -q 1 \
    -M "$PUB_INFLIGHT" -t "$1" -l <"$MSGS" 2>"$WORK/send.log" ||
    { cat "$WORK/send.log" >&2; die "mosquitto_pub failed"; }
}
mq_subscribed() {  # waits until the broker lists the subscriber's connection
  local i
  for ((i = 0; i < 250; i++)); do
    ss -Htn state established "dport = :$MQ_PORT" 2>/dev/null | grep -q . && return 0
    sleep 0.02
  done
  die "mosquitto_sub did not connect"
}

# Each run_* sets STORE_NS, DRAIN_NS, LIVE_NS and *_CPU (relay CPU seconds).
relay_pid() { [[ $1 == groved ]] && echo "$GROVED_PID" || echo "$MQ_PID"; }

run_case() {  # groved|mosquitto RUN
  local who=$1 run=$2 pid c0 c1 t0 t1 before
  pid=$(relay_pid "$who")
  local topic="bench/$run" id="sub-$run"
  # store: receiver offline
  if [[ $who == mosquitto ]]; then  # create the persistent session, then leave
    mosquitto_sub -p "$MQ_PORT" -h 127.0.0.1 -q 1 -c -i "$id-s" -t "$topic/s" -E >/dev/null 2>&1 ||
      die "mosquitto_sub -E failed"
  fi
  c0=$(proc_cpu "$pid"); t0=$(now_ns)
  if [[ $who == groved ]]; then grove_send; else mq_pub "$topic/s"; fi
  t1=$(now_ns); c1=$(proc_cpu "$pid")
  STORE_NS=$((t1 - t0)); STORE_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
  # drain: the receiver connects and takes everything
  c0=$(proc_cpu "$pid"); t0=$(now_ns)
  if [[ $who == groved ]]; then grove_recv; else mq_sub "$id-s" "$topic/s" -C "$COUNT"; fi
  wait_recv
  t1=$(now_ns); c1=$(proc_cpu "$pid")
  DRAIN_NS=$((t1 - t0)); DRAIN_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
  # live: receiver online first
  if [[ $who == groved ]]; then
    before=$(b_auths)
    grove_recv
    wait_b_online "$before"
  else
    mq_sub "$id-l" "$topic/l" -C "$COUNT"
    mq_subscribed
    sleep 0.2  # SUBACK: the subscription must exist before the first publish
  fi
  c0=$(proc_cpu "$pid"); t0=$(now_ns)
  if [[ $who == groved ]]; then grove_send; else mq_pub "$topic/l"; fi
  wait_recv
  t1=$(now_ns); c1=$(proc_cpu "$pid")
  LIVE_NS=$((t1 - t0)); LIVE_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
}

rate() { awk -v n="$COUNT" -v ns="$1" 'BEGIN {printf "%.0f", n / (ns / 1e9)}'; }

declare -A R CPU
for who in groved mosquitto; do
  for ph in store drain live; do R[$who-$ph]=; CPU[$who-$ph]=; done
done
for ((run = 1; run <= RUNS; run++)); do
  for who in groved mosquitto; do
    run_case "$who" "$run"
    note_load
    for ph in store drain live; do
      v=${ph^^}_NS; c=${ph^^}_CPU
      R[$who-$ph]+="$(rate "${!v}") "; CPU[$who-$ph]+="${!c} "
    done
    printf 'run %d  %-9s  store %8s msg/s (%s s cpu)  drain %8s msg/s (%s s)  live %8s msg/s (%s s)  load %s\n' \
      "$run" "$who" "$(rate "$STORE_NS")" "$STORE_CPU" "$(rate "$DRAIN_NS")" "$DRAIN_CPU" \
      "$(rate "$LIVE_NS")" "$LIVE_CPU" "$(load1)"
  done
done

echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
printf '%-17s %12s %10s %14s   %s\n' case "median msg/s" "best" "relay cpu s" "runs (msg/s)"
declare -A MED BEST
for ph in store drain live; do
  for who in groved mosquitto; do
    k=$who-$ph
    # shellcheck disable=SC2086
    MED[$k]=$(median ${R[$k]}); BEST[$k]=$(best ${R[$k]})
    # shellcheck disable=SC2086
    printf '%-17s %12s %10s %14s   %s\n' "$who $ph" "${MED[$k]}" "${BEST[$k]}" "$(median ${CPU[$k]})" "${R[$k]}"
  done
done
echo
for ph in store drain live; do
  printf 'RATIO groved/mosquitto %-6s median %6sx  best %6sx%s\n' "$ph" \
    "$(ratio "${MED[groved-$ph]}" "${MED[mosquitto-$ph]}")" \
    "$(ratio "${BEST[groved-$ph]}" "${BEST[mosquitto-$ph]}")" \
    "$([[ $ph == store ]] && echo '   (target >= 2x: durable acknowledgements)')"
done
load_warning
