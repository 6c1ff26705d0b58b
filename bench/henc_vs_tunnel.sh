#!/usr/bin/env bash
# HTTP encapsulations through squid (issue 5): `grove send -f` to a real groved over each HTTP
# mode (keepalive, longlived, polling) through the same squid, against the Secure Tunnel
# (CONNECT) through that squid, and against GNU httptunnel (hts/htc) carrying the same bytes
# through the same squid. All on 127.0.0.1, same run. Target: LongLived >= 0.8x the tunnel.
#
# Usage: bench/henc_vs_tunnel.sh     (GROVE=..., GROVED=... pick the binaries)
# Environment:
#   GROVE, GROVED  binaries (default: build/release/src/{cli/grove,relay/groved})
#   SIZE_MIB       test file size in MiB (default 100)
#   RUNS           repetitions of each case (default 3); the median is reported
#   MODES          cases to run (default "tunnel keepalive longlived polling httptunnel")
#   SQUID_BUFFER   squid's read_ahead_gap and client_request_buffer_max_size (default "1 MB")
#   BENCH_DIR      parent folder for temporary files (default /dev/shm, else $TMPDIR or /tmp)
#   HTC_CONTENT_LENGTH  htc's -c, the size of its upstream requests (default 1G). With htc's own
#                  default (100K) the stream breaks through squid 5.7 at a request boundary
#                  (squid answers 502 to one of htc's POSTs and the relay then reads bytes out
#                  of order: ProtocolError); one 1 GiB request, like LongLived's ~2 GiB
#                  budget, keeps the comparison to the transport itself.
#
# Timing: grove cases run from `grove send` start to its exit; exit 0 means every fragment was
# acknowledged, i.e. stored durably by the relay (the relay's SQLite store is in the work folder).
# httptunnel: the same `grove send` on the native path, into htc, which carries the SSTP stream
# through squid to hts, which hands it to groved's native port: the same bytes, timed the
# same way (exit 0 = every fragment acknowledged). A failed run is reported and left out of
# the median. MB/s = 10^6 bytes/s.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GROVE=${GROVE:-$REPO/build/release/src/cli/grove}
GROVED=${GROVED:-$REPO/build/release/src/relay/groved}
SIZE_MIB=${SIZE_MIB:-100}
RUNS=${RUNS:-3}
MODES=${MODES:-"tunnel keepalive longlived polling httptunnel"}
HTC_CONTENT_LENGTH=${HTC_CONTENT_LENGTH:-1G}
SIZE=$((SIZE_MIB * 1024 * 1024))

die() { echo "henc_vs_tunnel: $*" >&2; exit 1; }
[[ -x $GROVE ]] || die "no grove binary at $GROVE (set GROVE=path/to/grove)"
[[ -x $GROVED ]] || die "no groved binary at $GROVED (set GROVED=path/to/groved)"
for p in squid hts htc; do
  command -v $p >/dev/null || die "$p is missing (apt install squid httptunnel)"
done

parent=${BENCH_DIR:-}
if [[ -z $parent ]]; then
  parent=${TMPDIR:-/tmp}
  if [[ -d /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR==2 {print $4}') >= (4 * SIZE / 1024) )); then
    parent=/dev/shm
  fi
fi
WORK=$(mktemp -d "$parent/grove-henc.XXXXXX")
chmod 755 "$WORK"

# Every background process is recorded and stopped by PID (its process group for squid).
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
mbps() { awk -v b="$SIZE" -v ns="$1" 'BEGIN {printf "%.1f", b / (ns / 1e9) / 1e6}'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT
  local i
  for ((i = 0; i < 250; i++)); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.02
  done
  return 1
}

head -c "$SIZE" /dev/urandom > "$WORK/src.bin"

# ---- groved with two devices, native, ssl (CONNECT target) and http listeners.
R=grove://relay.bench
"$GROVED" --db "$WORK/db/g.db" device add "$R/d/alice" > "$WORK/alice.key" 2>/dev/null
"$GROVED" --db "$WORK/db/g.db" device add "$R/d/bob" > /dev/null 2>&1
chmod 600 "$WORK/alice.key"
# Every run sends to bob, who stays offline, so every message takes the store path (durable
# before acknowledged; an online recipient would take the live path, and alice herself is
# online while she sends): lift the 1 GiB queue quota (sstp.md §10.8) for the bench.
echo "max_device_queue_bytes = 1099511627776" > "$WORK/groved.toml"
"$GROVED" --db "$WORK/db/g.db" run --config "$WORK/groved.toml" -l 127.0.0.1:0 \
  --ssl-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --device-url "$R" 2> "$WORK/relay.err" &
GROVED_PID=$!
PIDS+=($GROVED_PID)
for ((i = 0; i < 250; i++)); do grep -q "event=started" "$WORK/relay.err" 2>/dev/null && break; sleep 0.02; done
port_of() { sed -n "s/.*listening on [^ ]*:\([0-9]*\) ($1).*/\1/p" "$WORK/relay.err" | head -1; }
SSTP_PORT=$(port_of sstp); SSL_PORT=$(port_of ssl-port); HTTP_PORT=$(port_of http)
[[ -n $HTTP_PORT ]] || { cat "$WORK/relay.err" >&2; die "groved did not start"; }

# ---- squid without authentication (its cost is the same for every case), no cache.
SQUID_PORT=$(free_port)
mkdir -p "$WORK/squid"
cat > "$WORK/squid/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
pid_filename $WORK/squid/squid.pid
cache_log $WORK/squid/cache.log
access_log none
coredump_dir $WORK/squid
cache deny all
# Same for every case: let squid buffer more than its 16 KiB/64 KiB defaults per direction.
read_ahead_gap ${SQUID_BUFFER:-1 MB}
client_request_buffer_max_size ${SQUID_BUFFER:-1 MB}
shutdown_lifetime 1 seconds
pinger_enable off
acl SSTP_ports port $SSL_PORT
acl CONNECT method CONNECT
http_access deny CONNECT !SSTP_ports
http_access allow localhost
http_access deny all
CONF
chown -R proxy:proxy "$WORK/squid" 2>/dev/null || true
squid -N -d1 -n "grovebench$SQUID_PORT" -f "$WORK/squid/squid.conf" > "$WORK/squid/out" 2>&1 &
SQUID_PID=$!
PIDS+=($SQUID_PID)
wait_port "$SQUID_PORT" || { cat "$WORK/squid/out" >&2; die "squid did not start"; }
PROXY=http://127.0.0.1:$SQUID_PORT

# CPU time (user + system, all threads, in clock ticks) a process has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
# Sets CHILD_CPU to the CPU seconds (user + system) of this shell's finished children so far:
# bash's `times`, run in this shell (in a pipe or $(...) it would count a subshell's children).
child_cpu() {
  times > "$WORK/times"
  CHILD_CPU=$(awk 'NR == 2 {gsub(/[ms]/, " "); printf "%.3f", $1 * 60 + $2 + $3 * 60 + $4}' "$WORK/times")
}

run_grove() {  # PATH_NAME; sets NS and CPU ("grove groved squid" CPU seconds)
  local path=$1 t0 t1 rc=0 d0 s0 c0
  d0=$(cpu_ticks "$GROVED_PID"); s0=$(cpu_ticks "$SQUID_PID"); child_cpu; c0=$CHILD_CPU
  t0=$(now_ns)
  timeout 900 "$GROVE" send --no-progress -c "127.0.0.1:$SSTP_PORT" --relay-url "$R" \
    --device-url "$R/d/alice" --secret-file "$WORK/alice.key" --to "$R/d/bob" \
    --proxy "$PROXY" --path "$path" --port-443 "$SSL_PORT" --http-port "$HTTP_PORT" \
    -f "$WORK/src.bin" 2> "$WORK/send.err" || rc=$?
  t1=$(now_ns)
  [[ $rc -eq 0 ]] || { cat "$WORK/send.err" >&2; die "grove send --path $path exited $rc"; }
  NS=$((t1 - t0))
  child_cpu
  CPU=$(awk -v c0="$c0" -v c1="$CHILD_CPU" -v d0="$d0" -v d1="$(cpu_ticks "$GROVED_PID")" \
    -v s0="$s0" -v s1="$(cpu_ticks "$SQUID_PID")" -v hz="$TICK" \
    'BEGIN {printf "%.2f %.2f %.2f", c1 - c0, (d1 - d0) / hz, (s1 - s0) / hz}')
}

run_httptunnel() {  # sets NS: grove's SSTP stream carried by htc ~ squid ~ hts to groved
  local hts_port lport hpid cpid t0 t1 rc=0
  hts_port=$(free_port); lport=$(free_port)
  # hts forwards to groved's native port; htc listens for grove send and tunnels through
  # squid. Both serve one connection each (a probe would use it up: just wait); each runs in
  # a session of its own, as they signal their process group when they end.
  setsid hts -w -F 127.0.0.1:"$SSTP_PORT" 127.0.0.1:"$hts_port" > "$WORK/hts.log" 2>&1 &
  hpid=$!; PIDS+=($hpid)
  sleep 0.5
  setsid htc -w -c "$HTC_CONTENT_LENGTH" -P 127.0.0.1:"$SQUID_PORT" -F "$lport" \
    127.0.0.1:"$hts_port" > "$WORK/htc.log" 2>&1 &
  cpid=$!; PIDS+=($cpid)
  sleep 0.5
  # Timed like the grove cases: exit 0 means the relay acknowledged every fragment, so the
  # stream cannot end early and nothing can be lost unnoticed.
  t0=$(now_ns)
  timeout 900 "$GROVE" send --no-progress -c "127.0.0.1:$lport" --relay-url "$R" \
    --device-url "$R/d/alice" --secret-file "$WORK/alice.key" --to "$R/d/bob" \
    --path native --retry-for 0 -f "$WORK/src.bin" 2> "$WORK/send.err" || rc=$?
  t1=$(now_ns)
  kill "$cpid" "$hpid" 2>/dev/null || true
  wait "$cpid" "$hpid" 2>/dev/null || true
  NS=$((t1 - t0))
  if [[ $rc -ne 0 ]]; then
    echo "httptunnel run failed (grove send exited $rc after $((NS / 1000000)) ms):" >&2
    tail -3 "$WORK/send.err" >&2
    NS=0
  fi
}

echo "henc_vs_tunnel: $SIZE_MIB MiB, $RUNS runs per case, squid $(squid -v | head -1 | awk '{print $4}'), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1 /proc/loadavg)"
declare -A RESULT BOUND
for mode in $MODES; do
  times=()
  cpus=()
  for ((r = 0; r < RUNS; r++)); do
    CPU=
    if [[ $mode == httptunnel ]]; then run_httptunnel; else run_grove "$mode"; fi
    [[ $NS -gt 0 ]] || continue
    times+=("$NS")
    [[ -n $CPU ]] && cpus+=("$CPU")
  done
  if [[ ${#times[@]} -eq 0 ]]; then
    printf '%-11s incomplete in every run\n' "$mode"
    continue
  fi
  ns=$(printf '%s\n' "${times[@]}" | median)
  RESULT[$mode]=$(mbps "$ns")
  printf '%-11s %8s MB/s  (median of %d: %s s)\n' "$mode" "${RESULT[$mode]}" "${#times[@]}" \
    "$(printf '%s\n' "${times[@]}" | awk '{printf "%.2f ", $1 / 1e9}')"
  if [[ ${#cpus[@]} -gt 0 ]]; then
    c1=$(printf '%s\n' "${cpus[@]}" | awk '{print $1}' | median)
    c2=$(printf '%s\n' "${cpus[@]}" | awk '{print $2}' | median)
    c3=$(printf '%s\n' "${cpus[@]}" | awk '{print $3}' | median)
    # The shortest time these three processes can take on this machine: no faster than the
    # busiest one alone, nor than all their CPU spread over every core.
    BOUND[$mode]=$(awk -v a="$c1" -v b="$c2" -v c="$c3" -v n="$(nproc)" 'BEGIN {
      m = a; if (b > m) m = b; if (c > m) m = c; s = (a + b + c) / n; printf "%.3f", (s > m) ? s : m }')
    printf '%-11s CPU s, medians: grove send %s, groved %s, squid %s; %d-core bound %s s\n' "" \
      "$c1" "$c2" "$c3" "$(nproc)" "${BOUND[$mode]}"
  fi
done
if [[ -n ${RESULT[tunnel]:-} ]]; then
  for mode in keepalive longlived polling httptunnel; do
    [[ -n ${RESULT[$mode]:-} ]] || continue
    printf '%-11s / tunnel = %sx' "$mode" "$(awk -v a="${RESULT[$mode]}" -v b="${RESULT[tunnel]}" 'BEGIN {printf "%.2f", a / b}')"
    # The best this mode could do against the tunnel as measured, with its CPU as measured.
    if [[ -n ${BOUND[$mode]:-} ]]; then
      printf '  (at most %sx with this CPU on %d cores)' "$(awk -v t="${RESULT[tunnel]}" \
        -v b="${BOUND[$mode]}" -v mib="$SIZE_MIB" 'BEGIN {printf "%.2f", mib * 1048576 / 1e6 / b / t}')" "$(nproc)"
    fi
    echo
  done
fi
echo "load at the end $(cut -d' ' -f1 /proc/loadavg)"
