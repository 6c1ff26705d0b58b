#!/usr/bin/env bash
# Relay live path: 1 sender -> groved -> 1 online receiver, 64 KiB messages, against haproxy
# (tcp mode) relaying the same bytes, all over 127.0.0.1 in the same run (issue 3 target:
# groved >= 0.6x haproxy).
#
# Usage: bench/relay_vs_haproxy.sh [BUILD_DIR]     (default build/release)
# Environment:
#   BUILD_DIR   build folder holding src/cli/grove and src/relay/groved (or GROVE=, GROVED=)
#   COUNT       messages per run (default 2048: 128 MiB of 64 KiB messages)
#   MSG_BYTES   message size (default 65536; a multiple of 4)
#   RUNS        repetitions of each case, interleaved (default 3); median and best are reported
#   BENCH_DIR   parent folder of the temporary folder, which holds groved's SQLite database
#               (default ${TMPDIR:-/tmp}; the script prints its file system). /dev/shm takes
#               the disk out of groved's durable writes.
#   CLIENT      bench (default): bench/bench_relay_client sends and receives, with the A bit
#               (AcknowledgeImmediately) on every ACK_EVERY-th message (default 16) and the
#               last; cli: `grove send --lines < FILE` and `grove receive -n COUNT` (grove send
#               sets A only on every 128th message and the last: an 8 MiB window of 64 KiB
#               messages drains before it reopens; sstp.md §9.4, see relay_client.cpp)
#
# Cases, each timed from the start of the sender to the moment the receiver has every byte:
#   groved    the receiver (device B) connected and authenticated first; then the sender
#             (device A) sends COUNT messages to B through groved; time = sender start .. the
#             receiver exits after the last message. groved
#             acknowledges each message to the sender only once it is durable in SQLite (WAL,
#             synchronous=FULL, group commit) and forwards it to B at that point; B's
#             acknowledgement deletes the stored copy.
#   haproxy   haproxy -db (tcp mode, one frontend, one backend server) in front of
#             `socat -u -b 65536 TCP-LISTEN:... OPEN:/dev/null`; the sender is
#             `socat -u -b 65536 OPEN:FILE TCP:haproxy`; time = sender start .. the sink exits
#             (it has read the last byte and the end of stream).
# haproxy's sender reads a file of COUNT lines of MSG_BYTES random base64 characters from the
# page cache (so does `grove send --lines` with CLIENT=cli; bench_relay_client keeps its payload
# in memory). CPU seconds of the relay process (groved or haproxy) are counted per run from
# /proc/PID/stat. MB/s means 10^6 payload bytes per second.
set -euo pipefail
BENCH_NAME=relay_vs_haproxy
[[ $# -ge 1 ]] && BUILD_DIR=$1
# shellcheck source=bench/relay_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/relay_common.sh"

COUNT=${COUNT:-2048}
MSG_BYTES=${MSG_BYTES:-65536}
setup_relay_pair haproxy socat
PAYLOAD=$((COUNT * MSG_BYTES))  # bytes of messages; the file adds one newline per message

echo "relay live path: $COUNT messages of $MSG_BYTES bytes ($((PAYLOAD >> 20)) MiB) over 127.0.0.1, $RUNS runs per case"
echo "grove:     $GROVE"
echo "groved:    $GROVED"
clients_line
echo "haproxy:   $(haproxy -v | awk 'NR==1 {print $3}') (tcp mode, default threads = $(nproc))"
machine_line
echo "database:  $WORK ($FS_TYPE)"
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"

# ---- groved: one relay for every run, devices A (sender) and B (receiver).
DB=$WORK/relay.db
add_devices "$DB" a b
start_groved "$DB" "$WORK/groved.log"

run_groved() {
  local t0 t1 c0 c1 before
  before=$(b_auths)
  grove_recv
  wait_b_online "$before"
  c0=$(proc_cpu "$GROVED_PID")
  t0=$(now_ns)
  grove_send_start
  wait_ok "$RPID" "grove receive" "$WORK/recv.log" "$WORK/send.log"
  t1=$(now_ns)
  wait_ok "$SPID" "grove send" "$WORK/send.log"
  c1=$(proc_cpu "$GROVED_PID")
  NS=$((t1 - t0))
  RELAY_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
  ENDS_CPU=$(awk -v a="$(time_cpu "$WORK/cpu-send")" -v b="$(time_cpu "$WORK/cpu-recv")" 'BEGIN {printf "%.2f", a + b}')
}

run_haproxy() {
  local sink_port front_port cfg="$WORK/haproxy.cfg" hpid kpid t0 t1 c0 c1 rc=0 tries
  for ((tries = 0; tries < 20; tries++)); do
    sink_port=$(random_port)
    "${CPU_TIME[@]}" "$WORK/cpu-recv" socat -u -b 65536 \
      "TCP-LISTEN:$sink_port,bind=127.0.0.1,reuseaddr" OPEN:/dev/null 2>"$WORK/sink.log" &
    kpid=$!; started "$kpid"
    wait_listening "$sink_port" "$kpid" && break
    stop "$kpid"; kpid=
  done
  [[ -n $kpid ]] || die "socat sink could not listen"
  for ((tries = 0; tries < 20; tries++)); do
    front_port=$(random_port)
    cat >"$cfg" <<EOF
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 120s
    timeout server 120s
frontend bench_in
    bind 127.0.0.1:$front_port
    default_backend bench_out
backend bench_out
    server sink 127.0.0.1:$sink_port
EOF
    haproxy -db -f "$cfg" >"$WORK/haproxy.log" 2>&1 &
    hpid=$!; started "$hpid"
    wait_listening "$front_port" "$hpid" && break
    stop "$hpid"; hpid=
  done
  [[ -n $hpid ]] || { cat "$WORK/haproxy.log" >&2; die "haproxy did not start"; }
  c0=$(proc_cpu "$hpid")
  t0=$(now_ns)
  "${CPU_TIME[@]}" "$WORK/cpu-send" socat -u -b 65536 "OPEN:$MSGS" "TCP:127.0.0.1:$front_port" \
    2>"$WORK/send.log" || { cat "$WORK/send.log" >&2; die "socat sender failed"; }
  wait "$kpid" || rc=$?
  t1=$(now_ns)
  finished "$kpid"
  [[ $rc -eq 0 ]] || { cat "$WORK/sink.log" >&2; die "socat sink exited $rc"; }
  c1=$(proc_cpu "$hpid")
  stop "$hpid"
  NS=$((t1 - t0))
  RELAY_CPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
  ENDS_CPU=$(awk -v a="$(time_cpu "$WORK/cpu-send")" -v b="$(time_cpu "$WORK/cpu-recv")" 'BEGIN {printf "%.2f", a + b}')
}

mbps() { awk -v b="$PAYLOAD" -v ns="$1" 'BEGIN {printf "%.1f", b / (ns / 1e9) / 1e6}'; }

cases=(groved haproxy)
declare -A RATE RCPU
for c in "${cases[@]}"; do RATE[$c]=; RCPU[$c]=; done
for ((run = 1; run <= RUNS; run++)); do
  for c in "${cases[@]}"; do
    "run_$c"
    r=$(mbps "$NS")
    note_load
    RATE[$c]+="$r "; RCPU[$c]+="$RELAY_CPU "
    printf 'run %d  %-8s %8s s  %8s MB/s  relay cpu %6s s  sender+receiver cpu %6s s  load %s\n' \
      "$run" "$c" "$(secs "$NS")" "$r" "$RELAY_CPU" "$ENDS_CPU" "$(load1)"
  done
done

echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
printf '%-9s %12s %10s %16s   %s\n' case "median MB/s" "best MB/s" "relay cpu s/GB" "runs (MB/s)"
declare -A MED BEST
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  MED[$c]=$(median ${RATE[$c]}); BEST[$c]=$(best ${RATE[$c]})
  # shellcheck disable=SC2086
  printf '%-9s %12s %10s %16s   %s\n' "$c" "${MED[$c]}" "${BEST[$c]}" \
    "$(awk -v c="$(median ${RCPU[$c]})" -v b="$PAYLOAD" 'BEGIN {printf "%.2f", c / (b / 1e9)}')" "${RATE[$c]}"
done
echo
echo "RATIO groved/haproxy (median): $(ratio "${MED[groved]}" "${MED[haproxy]}")x   (target >= 0.60x)"
echo "RATIO groved/haproxy (best):   $(ratio "${BEST[groved]}" "${BEST[haproxy]}")x"
load_warning
