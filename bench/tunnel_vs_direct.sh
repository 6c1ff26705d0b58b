#!/usr/bin/env bash
# Getting through (issue 4): what the proxy paths cost.
#  1. Throughput: `grove send -f` of the same file to `grove listen`, direct (native path) and
#     through squid's CONNECT tunnel (--path tunnel), interleaved in the same run.
#     Target: tunnel >= 0.9x direct.
#  2. Time to connect: `grove connect` to a groved relay on each path (native, direct443, tunnel
#     through squid, socks through dante), without and with --tls (TLS 1.3, grove-auth-1 bound
#     to the exporter). The figure is the step's own "working after N ms" (TCP, proxy
#     handshake, TLS, SSTP Connect/ConnectResponse with grove-auth-1), not process start-up.
#
# Usage: bench/tunnel_vs_direct.sh
# Environment:
#   GROVE, GROVED  binaries (default: build/release/src/{cli/grove,relay/groved})
#   SIZE_MIB       file size in MiB (default 1024)
#   RUNS           throughput repetitions per case (default 3); medians are reported
#   CONNECTS       `grove connect` repetitions per path (default 10); medians are reported
#   BENCH_DIR      parent folder for temporary files (default /dev/shm when it has room)
# Needs squid, danted, openssl and GNU time (peers.md; apt install time). Everything listens on 127.0.0.1 only; every
# process started here is stopped by PID on exit.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GROVE=${GROVE:-$REPO/build/release/src/cli/grove}
GROVED=${GROVED:-$REPO/build/release/src/relay/groved}
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
CONNECTS=${CONNECTS:-10}
SIZE=$((SIZE_MIB * 1024 * 1024))

die() { echo "tunnel_vs_direct: $*" >&2; exit 1; }
[[ -x $GROVE ]] || die "no grove binary at $GROVE (set GROVE=...)"
[[ -x $GROVED ]] || die "no groved binary at $GROVED (set GROVED=...)"
SQUID=$(command -v squid || echo /usr/sbin/squid)
DANTED=$(command -v danted || echo /usr/sbin/danted)
[[ -x $SQUID ]] || die "squid is not installed (apt install squid)"
[[ -x $DANTED ]] || die "danted is not installed (apt install dante-server)"
command -v openssl >/dev/null || die "openssl is not installed"
TIME=$(command -v /usr/bin/time || true)
[[ -x $TIME ]] || die "GNU time is not installed (apt install time)"

need_kib=$(((2 * SIZE + 256 * 1024 * 1024) / 1024))
if [[ -n ${BENCH_DIR:-} ]]; then
  parent=$BENCH_DIR
elif [[ -d /dev/shm ]] && (($(df -Pk /dev/shm | awk 'NR==2 {print $4}') >= need_kib)); then
  parent=/dev/shm
else
  parent=${TMPDIR:-/tmp}
fi
WORK=$(mktemp -d "$parent/grove-tunnel.XXXXXX")
chmod 755 "$WORK"

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    pkill -KILL -P "$pid" 2>/dev/null || true  # squid's and dante's own children
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
random_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }
wait_port() {  # PORT PID
  local i
  for ((i = 0; i < 500; i++)); do
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}
port_from() {  # LOG KIND: the port of "listening on HOST:PORT (KIND)"
  local i
  for ((i = 0; i < 250; i++)); do
    local p
    p=$(sed -n "s/^listening on .*:\([0-9]*\) ($2)\$/\1/p" "$1" | head -1)
    [[ -n $p ]] && { echo "$p"; return 0; }
    sleep 0.04
  done
  cat "$1" >&2
  die "no '($2)' listening line in $1"
}

# squid allowing CONNECT from localhost to the given ports; sets SQUID_PORT.
start_squid() {  # PORTS...
  local dir attempt
  for ((attempt = 0; attempt < 5; attempt++)); do
    SQUID_PORT=$(random_port)
    dir=$WORK/squid-$SQUID_PORT  # one folder per instance: squid refuses a live PID file
    mkdir -p "$dir"
    cat >"$dir/squid.conf" <<EOF
http_port 127.0.0.1:$SQUID_PORT
pid_filename $dir/squid.pid
cache_log $dir/cache.log
access_log none
coredump_dir $dir
cache deny all
shutdown_lifetime 1 seconds
pinger_enable off
acl SSTP_ports port $*
acl CONNECT method CONNECT
http_access deny CONNECT !SSTP_ports
http_access allow localhost
http_access deny all
EOF
    chown -R proxy:proxy "$dir" 2>/dev/null || true
    "$SQUID" -N -d1 -n "grovebench$SQUID_PORT" -f "$dir/squid.conf" >"$dir/out.log" 2>&1 &
    PIDS+=($!)
    SQUID_PID=$!
    disown $!  # killed by PID in cleanup; no job-control "Killed" line
    wait_port "$SQUID_PORT" "${PIDS[-1]}" && return 0
  done
  cat "$dir/out.log" >&2
  die "squid did not start"
}

start_dante() {  # TARGET_PORT; sets DANTE_PORT
  local dir="$WORK/dante" attempt
  mkdir -p "$dir"
  for ((attempt = 0; attempt < 5; attempt++)); do
    DANTE_PORT=$(random_port)
    cat >"$dir/danted.conf" <<EOF
logoutput: stderr
internal: 127.0.0.1 port = $DANTE_PORT
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: error }
socks pass {
  from: 127.0.0.0/8 to: 127.0.0.0/8 port = $1
  command: connect
  log: error
}
socks block { from: 0.0.0.0/0 to: 0.0.0.0/0 log: error }
EOF
    "$DANTED" -f "$dir/danted.conf" -p "$dir/danted.pid" >"$dir/out.log" 2>&1 &
    PIDS+=($!)
    disown $!
    wait_port "$DANTE_PORT" "${PIDS[-1]}" && return 0
  done
  cat "$dir/out.log" >&2
  die "danted did not start"
}

echo "== Grove through proxies: $SIZE_MIB MiB, $RUNS runs; $CONNECTS connects per path"
echo "grove:     $GROVE"
echo "squid:     $("$SQUID" -v | head -1)"
echo "machine:   $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
echo "files in:  $WORK ($(df -PT "$WORK" | awk 'NR==2 {print $2}'))"
START_LOAD=$(cut -d' ' -f1 /proc/loadavg)
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"
MAX_LOAD=$START_LOAD
export XDG_STATE_HOME=$WORK/state  # path memory of these runs stays here

# ---------------------------------------------------------------- 1. throughput
SRC=$WORK/payload.bin
head -c "$SIZE" /dev/urandom >"$SRC"
SRC_SHA=$(sha256sum "$SRC" | cut -d' ' -f1)
LISTEN_PORT=$(random_port)  # fixed for squid's ACL; grove listen takes it below
start_squid "$LISTEN_PORT"

# CPU seconds (user + system) a process has used so far, from /proc (squid runs throughout).
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
# GNU time's "%U %S" output file -> CPU seconds.
cpu_from() { awk 'NF == 2 && $1 ~ /^[0-9.]+$/ {printf "%.3f", $1 + $2}' "$1"; }

run_case() {  # native|tunnel; sets NS and CPU ("send listen squid" CPU seconds)
  local path=$1 out=$WORK/in log=$WORK/listen.log lpid t0 t1 rc=0 squid0 squid1
  local -a args=(--path native)
  [[ $path == tunnel ]] && args=(--path tunnel --port-443 "$LISTEN_PORT" --proxy "http://127.0.0.1:$SQUID_PORT")
  rm -rf "$out"; mkdir -p "$out"
  "$TIME" -f '%U %S' -o "$WORK/listen.cpu" \
    "$GROVE" listen -l "127.0.0.1:$LISTEN_PORT" -o "$out" -n 1 >/dev/null 2>"$log" &
  lpid=$!; PIDS+=("$lpid")
  wait_port "$LISTEN_PORT" "$lpid" || { cat "$log" >&2; die "grove listen did not start"; }
  squid0=$(cpu_of "$SQUID_PID")
  t0=$(now_ns)
  timeout 600 "$TIME" -f '%U %S' -o "$WORK/send.cpu" \
    "$GROVE" send --no-progress -c "127.0.0.1:$LISTEN_PORT" "${args[@]}" -f "$SRC" \
    2>"$WORK/send.log" || rc=$?
  t1=$(now_ns)
  squid1=$(cpu_of "$SQUID_PID")
  [[ $rc -eq 0 ]] || { cat "$WORK/send.log" >&2; die "grove send ($path) exited $rc"; }
  wait "$lpid" || true
  [[ $(sha256sum "$out/payload.bin" | cut -d' ' -f1) == "$SRC_SHA" ]] || die "$path: received file differs"
  NS=$((t1 - t0))
  CPU="$(cpu_from "$WORK/send.cpu") $(cpu_from "$WORK/listen.cpu") $(awk -v a="$squid0" -v b="$squid1" 'BEGIN {printf "%.3f", b - a}')"
}

declare -A RATE CPUS
RATE[native]=; RATE[tunnel]=
printf '%-14s %9s %10s   %s\n' "" time rate "CPU seconds: send listen squid"
for ((run = 1; run <= RUNS; run++)); do
  for c in native tunnel; do
    run_case "$c"
    r=$(awk -v b="$SIZE" -v ns="$NS" 'BEGIN {printf "%.1f", b / (ns / 1e9) / 1e6}')
    RATE[$c]+="$r "
    CPUS[$c]+="$CPU;"
    MAX_LOAD=$(awk -v m="$MAX_LOAD" '{print ($1 > m) ? $1 : m}' /proc/loadavg)
    printf 'run %d  %-7s %8.3f s  %8s MB/s   %s   load %s\n' "$run" "$c" \
      "$(awk -v n="$NS" 'BEGIN {print n / 1e9}')" "$r" "$CPU" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
# Median CPU seconds per process, per case ("send listen squid").
cpu_medians() {
  local i col
  for i in 1 2 3; do
    col=$(tr ';' '\n' <<<"${CPUS[$1]}" | awk -v i="$i" 'NF {print $i}')
    # shellcheck disable=SC2086
    printf '%s ' "$(median $col)"
  done
}
# shellcheck disable=SC2086
MED_DIRECT=$(median ${RATE[native]})
# shellcheck disable=SC2086
MED_TUNNEL=$(median ${RATE[tunnel]})
rm -f "$SRC"

# ---------------------------------------------------------------- 2. time to connect
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/relay.key" \
  -out "$WORK/relay.pem" -days 2 -subj /CN=relay.bench \
  -addext "subjectAltName=DNS:relay.bench,IP:127.0.0.1" 2>/dev/null
"$GROVED" --db "$WORK/relay.db" device add grove://relay.bench/d/bench >"$WORK/bench.key" 2>/dev/null
chmod 600 "$WORK/bench.key"
cat >"$WORK/groved.toml" <<EOF
tls_certificate = "$WORK/relay.pem"
tls_private_key = "$WORK/relay.key"
http_listen = []
EOF
"$GROVED" --db "$WORK/relay.db" run --config "$WORK/groved.toml" -l 127.0.0.1:0 \
  --ssl-listen 127.0.0.1:0 --device-url grove://relay.bench 2>"$WORK/relay.log" &
PIDS+=($!)
disown $!
NATIVE=$(port_from "$WORK/relay.log" sstp)
SSL=$(port_from "$WORK/relay.log" ssl-port)
start_squid "$SSL"
start_dante "$NATIVE"

connect_ms() {  # PATH [--tls ...]: one `grove connect`; prints the step's "working after N ms"
  local path=$1
  shift
  local out rc=0
  out=$("$GROVE" connect -c "127.0.0.1:$NATIVE" --port-443 "$SSL" --relay-url grove://relay.bench \
    --device-url grove://relay.bench/d/bench --secret-file "$WORK/bench.key" --path "$path" \
    --proxy "http://127.0.0.1:$SQUID_PORT" --socks "socks5://127.0.0.1:$DANTE_PORT" "$@" 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || { echo "$out" >&2; die "grove connect --path $path $* exited $rc"; }
  sed -n 's/.*: working after \([0-9]*\) ms.*/\1/p' <<<"$out" | head -1
}

echo
printf '%-10s %16s %16s   %s\n' path "plain median ms" "tls median ms" "(each: $CONNECTS connects)"
for path in native direct443 tunnel socks; do
  plain=(); tls=()
  for ((i = 0; i < CONNECTS; i++)); do
    plain+=("$(connect_ms "$path")")
    tls+=("$(connect_ms "$path" --tls --tls-ca "$WORK/relay.pem")")
  done
  printf '%-10s %16s %16s   plain: %s | tls: %s\n' "$path" "$(median "${plain[@]}")" \
    "$(median "${tls[@]}")" "${plain[*]}" "${tls[*]}"
done

echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
printf 'throughput medians: direct %s MB/s, tunnel %s MB/s (runs: direct %s| tunnel %s)\n' \
  "$MED_DIRECT" "$MED_TUNNEL" "${RATE[native]}" "${RATE[tunnel]}"
echo "RATIO tunnel/direct: $(awk -v a="$MED_TUNNEL" -v b="$MED_DIRECT" 'BEGIN {printf "%.2f", a / b}')x   (target >= 0.90x)"
# Where the CPU goes: with N cores, a transfer cannot be faster than its busiest process nor
# than the sum of all its processes' CPU seconds spread over the N cores.
read -r ds dl _ <<<"$(cpu_medians native)"
read -r ts tl tq <<<"$(cpu_medians tunnel)"
echo "CPU seconds per run (medians): direct send $ds, listen $dl | tunnel send $ts, listen $tl, squid $tq"
awk -v ds="$ds" -v dl="$dl" -v ts="$ts" -v tl="$tl" -v tq="$tq" -v n="$(nproc)" 'BEGIN {
  d = ds > dl ? ds : dl; if ((ds + dl) / n > d) d = (ds + dl) / n
  t = ts > tl ? ts : tl; if (tq > t) t = tq; if ((ts + tl + tq) / n > t) t = (ts + tl + tq) / n
  printf "CPU bound on %d cores: direct >= %.2f s, tunnel >= %.2f s: best possible ratio %.2fx\n", n, d, t, d / t
}'
if awk -v s="$START_LOAD" -v m="$MAX_LOAD" -v n="$(nproc)" 'BEGIN {exit !(s > 0.5 * n || m > 1.5 * n)}'; then
  echo "WARNING: load average $START_LOAD at the start, up to $MAX_LOAD during the runs, on" \
    "$(nproc) CPUs: other work competed with the transfers."
fi
