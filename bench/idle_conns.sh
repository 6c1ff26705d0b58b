#!/usr/bin/env bash
# Idle connections: COUNT concurrent authenticated grove-auth-1 connections held open against one
# groved on 127.0.0.1, and groved's resident memory per connection (issue 3 target: 10,000
# connections at no more than 20 KiB RSS each).
#
# Usage: bench/idle_conns.sh [BUILD_DIR]      (default build/release; needs groved and
#                                              bench/bench_idle_conns, built with -DGROVE_BENCH=ON)
# Environment:
#   BUILD_DIR   build folder (or GROVED=, IDLE_CONNS= for the two programs)
#   COUNT       connections (default 10000)
#   RATE        connections started per second (default 1000)
#   MAX_PENDING handshakes in flight at most (default 256)
#   HOLD        seconds to keep the connections open after the first measurement, then measure
#               again (default 50: past the 45 s keep-alive, so both sides have sent a Noop)
#   RUNS        repetitions with a fresh groved each (default 1)
#   BENCH_DIR   parent folder of the temporary folder (default ${TMPDIR:-/tmp})
#
# Steps: `groved device import` adds COUNT devices in one command (their secrets go to a file
# only this script reads); groved starts with max_connections above COUNT; the generator
# (bench_idle_conns, one event loop, the real engine over net::Driver) opens COUNT connections at
# RATE per second, each authenticating as its own device, and reads groved's VmRSS from
# /proc/PID/status before the first connection and after all are authenticated; the difference
# divided by COUNT is the cost of one idle authenticated connection. Both processes get
# `ulimit -n` raised to COUNT + 1024 (the hard limit must allow it).
set -euo pipefail
BENCH_NAME=idle_conns
[[ $# -ge 1 ]] && BUILD_DIR=$1
# shellcheck source=bench/relay_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/relay_common.sh"
IDLE_CONNS=${IDLE_CONNS:-$BUILD_DIR/bench/bench_idle_conns}

COUNT=${COUNT:-10000}
RATE=${RATE:-1000}
MAX_PENDING=${MAX_PENDING:-256}
HOLD=${HOLD:-50}
RUNS=${RUNS:-1}
[[ -x $GROVED ]] || die "no groved at $GROVED (build it, or pass BUILD_DIR)"
[[ -x $IDLE_CONNS ]] || die "no $IDLE_CONNS (configure with -DGROVE_BENCH=ON, build bench_idle_conns)"
need ss

want_fds=$((COUNT + 1024))
if (( $(ulimit -Hn) < want_fds )); then
  die "the hard limit of open files is $(ulimit -Hn); $want_fds needed (raise it, or lower COUNT)"
fi
ulimit -n "$want_fds"
ports=$(awk '{print $2 - $1 + 1}' /proc/sys/net/ipv4/ip_local_port_range)
(( ports > COUNT )) || die "only $ports local ports (net.ipv4.ip_local_port_range) for $COUNT connections"

make_work "${BENCH_DIR:-${TMPDIR:-/tmp}}"
echo "idle connections: $COUNT to one groved over 127.0.0.1, $RATE/s, $MAX_PENDING handshakes at once, $RUNS run(s)"
echo "groved:    $GROVED"
machine_line
echo "ulimit -n: $(ulimit -n)"
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"

DB=$WORK/relay.db
for ((i = 0; i < COUNT; i++)); do echo "$RELAY_URL/d/idle$i"; done >"$WORK/devices.txt"
t0=$(now_ns)
"$GROVED" --db "$DB" device import "$WORK/devices.txt" >"$WORK/secrets.txt" 2>"$WORK/import.log" ||
  { cat "$WORK/import.log" >&2; die "groved device import failed"; }
chmod 600 "$WORK/secrets.txt"
echo "import:    $COUNT devices in $(secs $(($(now_ns) - t0))) s (groved device import)"
cat >"$WORK/groved.toml" <<EOF
max_connections = $((COUNT + 1000))
EOF

RESULTS=()
for ((run = 1; run <= RUNS; run++)); do
  start_groved "$DB" "$WORK/groved-$run.log" "$WORK/groved.toml"
  sleep 1  # let start-up allocations settle before the "before" reading
  echo
  echo "---- run $run: groved pid $GROVED_PID, port $GROVED_PORT"
  rc=0
  "$IDLE_CONNS" -c "127.0.0.1:$GROVED_PORT" --relay-url "$RELAY_URL" --devices "$WORK/secrets.txt" \
    -n "$COUNT" --rate "$RATE" --max-pending "$MAX_PENDING" --pid "$GROVED_PID" --hold "$HOLD" \
    | tee "$WORK/gen-$run.log" || rc=$?
  note_load
  [[ $rc -eq 0 ]] || echo "WARNING: the generator reported failed or dropped connections (exit $rc)"
  while read -r v; do RESULTS+=("$v"); done < <(sed -nE 's/^RESULT .*: ([0-9.]+) .*/\1/p' "$WORK/gen-$run.log")
  stop "$GROVED_PID"
done

echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
if [[ ${#RESULTS[@]} -gt 0 ]]; then
  echo "KiB per idle authenticated connection, every measurement: ${RESULTS[*]}"
  echo "RESULT median $(median "${RESULTS[@]}") KiB, worst $(best "${RESULTS[@]}") KiB per connection   (target <= 20 KiB)"
fi
load_warning
