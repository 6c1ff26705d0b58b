#!/usr/bin/env bash
# Do groved's event loops pay? The same two sender -> receiver pairs and the same bytes, in the
# same run, through:
#   one    one groved with one event loop (event_loops = 1);
#   multi  one groved with LOOPS event loops (default: one per core);
#   two    two independent groved processes with one loop each, one pair on each: two loops
#          that never talk to each other, no shared state, no hand-off between them, so an
#          upper bound for any multi-loop groved.
#
# Usage: bench/relay_loops.sh [BUILD_DIR]    (default build/release)
# Environment:
#   BUILD_DIR    build folder holding src/relay/groved and bench/bench_relay_client
#   CASE         live (default): receivers online, 64 KiB messages (the haproxy benchmark's
#                path); store: receivers offline, 1 KiB messages, timed until every message is
#                durable and acknowledged (the Mosquitto benchmark's path)
#   COUNT        messages per pair (default: 2048 for live, 50000 for store)
#   RUNS         repetitions, interleaved (default 3); medians reported
#   LOOPS        event loops of the "multi" groved (default 0: one per core)
#   BENCH_DIR    parent of the temporary folder (default ${TMPDIR:-/tmp})
# Output: aggregate throughput of both pairs in each case, the ratios multi/one (what the loops
# give) and two/one (the most they could give), and the CPU seconds of the relays and the
# clients, so the result can be judged on any machine. In "store" each groved of "two" also has
# its own store thread and database, so that bound includes a second writer, which "multi"
# (one store) does not have.
set -euo pipefail
BENCH_NAME=relay_loops
[[ $# -ge 1 ]] && BUILD_DIR=$1
# shellcheck source=bench/relay_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/relay_common.sh"

CASE=${CASE:-live}
case $CASE in
  live) COUNT=${COUNT:-2048}; MSG_BYTES=65536 ;;
  store) COUNT=${COUNT:-50000}; MSG_BYTES=1024 ;;
  *) die "CASE must be live or store" ;;
esac
RUNS=${RUNS:-3}
LOOPS=${LOOPS:-0}
RELAY_CLIENT=${RELAY_CLIENT:-$BUILD_DIR/bench/bench_relay_client}
[[ -x $GROVED ]] || die "no groved under $BUILD_DIR (build it, or pass BUILD_DIR)"
[[ -x $RELAY_CLIENT ]] || die "no $RELAY_CLIENT (configure with -DGROVE_BENCH=ON, build bench_relay_client)"
need /usr/bin/time ss
make_work "${BENCH_DIR:-${TMPDIR:-/tmp}}"

echo "relay loops ($CASE): 2 pairs x $COUNT messages of $MSG_BYTES bytes, $RUNS runs"
echo "groved:    $GROVED"
machine_line
echo "data in:   $WORK ($FS_TYPE)"
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"

# Three relays, each with devices a1 b1 a2 b2: R1 and R2 with one loop ("one" uses R1 for both
# pairs, "two" R1 and R2), R3 with LOOPS loops ("multi", both pairs).
declare -A PORT GPID
echo "event_loops = 1" >"$WORK/one-loop.toml"
echo "event_loops = $LOOPS" >"$WORK/multi-loop.toml"
for r in 1 2 3; do
  db=$WORK/r$r.db
  for n in a1 b1 a2 b2; do
    "$GROVED" --db "$db" device add "$RELAY_URL/d/$n" >"$WORK/r$r-$n.key" 2>/dev/null ||
      die "groved device add failed"
  done
  conf=$WORK/one-loop.toml
  [[ $r == 3 ]] && conf=$WORK/multi-loop.toml
  start_groved "$db" "$WORK/groved-r$r.log" "$conf"
  PORT[$r]=$GROVED_PORT; GPID[$r]=$GROVED_PID
done
MULTI=$(sed -nE 's/.*event=started.*event_loops=([0-9]+).*/\1/p' "$WORK/groved-r3.log")
echo "multi:     one groved with ${MULTI:-?} event loops"

client() {  # send|receive RELAY PAIR: starts one client in the background; sets CPID
  local mode=$1 r=$2 p=$3 me peer extra=()
  if [[ $mode == send ]]; then
    me=a$p; peer=b$p
    extra=(--to "$RELAY_URL/d/$peer" --size "$MSG_BYTES" --ack-every 16)
  else
    me=b$p
  fi
  "${CPU_TIME[@]}" "$WORK/cpu-$mode-$p" "$RELAY_CLIENT" "$mode" -c "127.0.0.1:${PORT[$r]}" \
    --relay-url "$RELAY_URL" --device-url "$RELAY_URL/d/$me" --secret-file "$WORK/r$r-$me.key" \
    -n "$COUNT" "${extra[@]}" 2>"$WORK/$mode-$p.log" &
  CPID=$!; started "$CPID"
}
wait_pid() {  # PID WHAT
  local rc=0
  wait "$1" || rc=$?
  finished "$1"
  [[ $rc -eq 0 ]] || { tail -n 3 "$WORK"/*.log >&2; die "$2 exited $rc"; }
}
groved_cpu() {
  awk -v a="$(proc_cpu "${GPID[1]}")" -v b="$(proc_cpu "${GPID[2]}")" \
    -v c="$(proc_cpu "${GPID[3]}")" 'BEGIN {print a + b + c}'
}

one_run() {  # one|multi|two: sets NS, GCPU and CCPU (CPU seconds of the relays and the clients)
  local how=$1 r1=1 r2=2 c0 c1 t0 t1 p pids=() recv=()
  [[ $how == one ]] && r2=1
  [[ $how == multi ]] && r1=3 && r2=3
  if [[ $CASE == live ]]; then
    client receive "$r1" 1; recv+=("$CPID")
    client receive "$r2" 2; recv+=("$CPID")
    for p in 1 2; do wait_for_line "$WORK/receive-$p.log" ready "${recv[$((p - 1))]}" ||
      die "receiver $p did not start"; done
  fi
  c0=$(groved_cpu); t0=$(now_ns)
  client send "$r1" 1; pids+=("$CPID")
  client send "$r2" 2; pids+=("$CPID")
  for p in "${pids[@]}"; do wait_pid "$p" sender; done
  for p in "${recv[@]}"; do wait_pid "$p" receiver; done
  t1=$(now_ns); c1=$(groved_cpu)
  NS=$((t1 - t0))
  GCPU=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", b - a}')
  CCPU=$({ cat "$WORK"/cpu-send-* "$WORK"/cpu-receive-* 2>/dev/null || true; } |
    awk '{s += $1 + $2} END {printf "%.2f", s}')
  rm -f "$WORK"/cpu-send-* "$WORK"/cpu-receive-*
  if [[ $CASE == store ]]; then  # empty the queues for the next run, untimed
    client receive "$r1" 1; wait_pid "$CPID" drain
    client receive "$r2" 2; wait_pid "$CPID" drain
    rm -f "$WORK"/cpu-receive-*
  fi
}

rate() { awk -v n="$((2 * COUNT * MSG_BYTES))" -v ns="$1" 'BEGIN {printf "%.1f", n / (ns / 1e9) / 1e6}'; }
declare -A R
R[one]=; R[multi]=; R[two]=
for ((run = 1; run <= RUNS; run++)); do
  for how in one multi two; do
    one_run "$how"
    note_load
    R[$how]+="$(rate "$NS") "
    printf 'run %d  %-5s  %8s MB/s  %s s  groved cpu %5s s  clients cpu %5s s  load %s\n' \
      "$run" "$how" "$(rate "$NS")" "$(secs "$NS")" "$GCPU" "$CCPU" "$(load1)"
  done
done
echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
# shellcheck disable=SC2086
m1=$(median ${R[one]}); mm=$(median ${R[multi]}); m2=$(median ${R[two]})
printf 'one groved, one loop          median %8s MB/s   runs %s\n' "$m1" "${R[one]}"
printf 'one groved, %s loops           median %8s MB/s   runs %s\n' "${MULTI:-?}" "$mm" "${R[multi]}"
printf 'two groved, one loop each     median %8s MB/s   runs %s\n' "$m2" "${R[two]}"
printf 'RATIO multi/one: %sx   (what the event loops give)\n' "$(ratio "$mm" "$m1")"
printf 'RATIO two/one:   %sx   (the most they could give here; about 1: nothing)\n' \
  "$(ratio "$m2" "$m1")"
load_warning
