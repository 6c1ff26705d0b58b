# Shared by the relay benchmarks (relay_vs_haproxy.sh, relay_vs_mosquitto.sh, idle_conns.sh):
# sourced, not run. Temporary folder, process bookkeeping (every background process is stopped
# by PID on exit, including Ctrl-C and errors), ports, groved start-up, timing helpers, and the
# sender/receiver pair of relay_vs_haproxy.sh and relay_vs_mosquitto.sh.
# The caller sets BENCH_NAME before sourcing.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Build folder: BUILD_DIR (or the first argument of the script), default build/release.
BUILD_DIR=${BUILD_DIR:-$REPO/build/release}
GROVE=${GROVE:-$BUILD_DIR/src/cli/grove}
GROVED=${GROVED:-$BUILD_DIR/src/relay/groved}
RELAY_URL=grove://relay.bench

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# Checks that programs exist; installs nothing (scripts/deps.sh installs the peers).
need() {
  local p
  for p in "$@"; do
    command -v "$p" >/dev/null || [[ -x $p ]] ||
      die "$p is missing: run scripts/deps.sh (Debian packages haproxy, mosquitto, mosquitto-clients, socat, time)"
  done
}

# ---- temporary folder: DIR_PARENT (default ${TMPDIR:-/tmp}); one folder per run.
make_work() {  # PARENT
  mkdir -p "$1"
  WORK=$(mktemp -d "$1/grove-$BENCH_NAME.XXXXXX")
  FS_TYPE=$(df -PT "$WORK" | awk 'NR==2 {print $2}')
}

# ---- every background process is recorded and stopped by PID, children first.
PIDS=()
WORK=
started() { PIDS+=("$1"); }
finished() {  # PID: forget it once waited for, so a recycled PID is never signalled
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop() {  # PID: SIGTERM, wait up to 5 s, then SIGKILL
  local pid=$1 i
  pkill -TERM -P "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  finished "$pid"
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop "$pid"; done
  [[ -n $WORK ]] && rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
secs() { awk -v n="$1" 'BEGIN {printf "%.3f", n / 1e9}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# CPU seconds (user + system) a running process has used so far.
proc_cpu() {  # PID
  awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0
}
# CPU seconds of a finished /usr/bin/time -f '%U %S' -o FILE run.
time_cpu() { awk 'END {printf "%.2f", $1 + $2}' "$1"; }
CPU_TIME=(/usr/bin/time -f '%U %S' -o)

# A free-looking port (programs that cannot report an ephemeral port).
random_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }
wait_listening() {  # PORT PID
  local i
  for ((i = 0; i < 300; i++)); do
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}
wait_for_line() {  # FILE REGEX PID [TRIES of 20 ms]
  local i
  for ((i = 0; i < ${4:-500}; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

# Starts groved on 127.0.0.1 (ephemeral ports) with the database DB and the config CONF
# (empty = defaults); sets GROVED_PID and GROVED_PORT. -v logs connections, not messages.
start_groved() {  # DB LOG [CONF]
  local -a conf=()
  [[ -n ${3:-} ]] && conf=(-c "$3")
  "$GROVED" --db "$1" run "${conf[@]}" -l 127.0.0.1:0 --ssl-listen 127.0.0.1:0 \
    --device-url "$RELAY_URL" -v 2>"$2" &
  GROVED_PID=$!; started "$GROVED_PID"
  wait_for_line "$2" 'listening on .* \(ssl-port\)' "$GROVED_PID" ||
    { cat "$2" >&2; die "groved did not start"; }
  GROVED_PORT=$(sed -nE 's/.*listening on [^ ]*:([0-9]+) \(sstp\).*/\1/p' "$2" | head -1)
}

# Adds devices NAME... to DB, writing each secret to $WORK/NAME.key.
add_devices() {  # DB NAME...
  local db=$1 n
  shift
  for n in "$@"; do
    "$GROVED" --db "$db" device add "$RELAY_URL/d/$n" >"$WORK/$n.key" 2>/dev/null ||
      die "groved device add $n failed"
    chmod 600 "$WORK/$n.key"
  done
}

# ---- relay_vs_haproxy.sh and relay_vs_mosquitto.sh: device A sends COUNT messages to device B
# through groved. The script sets COUNT and MSG_BYTES first; RUNS, CLIENT, ACK_EVERY, RELAY_CLIENT
# and BENCH_DIR are read here (the scripts' headers describe them).
setup_relay_pair() {  # PROGRAM...: the other relay's programs, checked with need
  RUNS=${RUNS:-3}
  CLIENT=${CLIENT:-bench}
  ACK_EVERY=${ACK_EVERY:-16}
  RELAY_CLIENT=${RELAY_CLIENT:-$BUILD_DIR/bench/bench_relay_client}
  [[ $CLIENT == cli || -x $RELAY_CLIENT ]] ||
    die "no $RELAY_CLIENT (configure with -DGROVE_BENCH=ON and build bench_relay_client, or CLIENT=cli)"
  (( MSG_BYTES % 4 == 0 )) || die "MSG_BYTES must be a multiple of 4"
  [[ -x $GROVED ]] || die "no groved under $BUILD_DIR (build it, or pass BUILD_DIR)"
  [[ $CLIENT != cli || -x $GROVE ]] || die "no grove under $BUILD_DIR (build it, or pass BUILD_DIR)"
  need "$@" /usr/bin/time ss base64
  make_work "${BENCH_DIR:-${TMPDIR:-/tmp}}"
  # COUNT lines of MSG_BYTES random base64 characters, read by every file-fed sender.
  MSGS=$WORK/messages.txt
  head -c $((COUNT * MSG_BYTES / 4 * 3)) /dev/urandom | base64 -w "$MSG_BYTES" >"$MSGS"
  [[ $(wc -l <"$MSGS") -eq $COUNT ]] || die "message file has $(wc -l <"$MSGS") lines, not $COUNT"
}
clients_line() {
  if [[ $CLIENT == cli ]]; then
    echo "clients:   grove send --lines / grove receive (no A bit: acknowledgements every 5 s)"
  else
    echo "clients:   $RELAY_CLIENT (A bit on every $ACK_EVERY-th message and the last)"
  fi
}
grove_recv() {  # starts the receiver for B (COUNT messages) in the background; sets RPID
  if [[ $CLIENT == cli ]]; then
    "${CPU_TIME[@]}" "$WORK/cpu-recv" "$GROVE" receive -c "127.0.0.1:$GROVED_PORT" \
      --relay-url "$RELAY_URL" --device-url "$RELAY_URL/d/b" --secret-file "$WORK/b.key" \
      -n "$COUNT" >/dev/null 2>"$WORK/recv.log" &
  else
    "${CPU_TIME[@]}" "$WORK/cpu-recv" "$RELAY_CLIENT" receive -c "127.0.0.1:$GROVED_PORT" \
      --relay-url "$RELAY_URL" --device-url "$RELAY_URL/d/b" --secret-file "$WORK/b.key" \
      -n "$COUNT" 2>"$WORK/recv.log" &
  fi
  RPID=$!; started "$RPID"
}
grove_send_start() {  # starts the sender of COUNT messages A -> B in the background; sets SPID
  if [[ $CLIENT == cli ]]; then
    "${CPU_TIME[@]}" "$WORK/cpu-send" "$GROVE" send --no-progress -c "127.0.0.1:$GROVED_PORT" \
      --relay-url "$RELAY_URL" --device-url "$RELAY_URL/d/a" --secret-file "$WORK/a.key" \
      --to "$RELAY_URL/d/b" --lines <"$MSGS" >/dev/null 2>"$WORK/send.log" &
  else
    "${CPU_TIME[@]}" "$WORK/cpu-send" "$RELAY_CLIENT" send -c "127.0.0.1:$GROVED_PORT" \
      --relay-url "$RELAY_URL" --device-url "$RELAY_URL/d/a" --secret-file "$WORK/a.key" \
      --to "$RELAY_URL/d/b" -n "$COUNT" --size "$MSG_BYTES" --ack-every "$ACK_EVERY" \
      2>"$WORK/send.log" &
  fi
  SPID=$!; started "$SPID"
}
wait_ok() {  # PID WHAT LOG...: waits for PID; if it failed, prints the logs and dies
  local pid=$1 what=$2 rc=0
  shift 2
  wait "$pid" || rc=$?
  finished "$pid"
  [[ $rc -eq 0 ]] || { cat "$@" >&2; die "$what exited $rc"; }
}
b_auths() { grep -c 'event=authenticated .*device=grove://relay.bench/d/b' "$WORK/groved.log" || true; }
wait_b_online() {  # BEFORE: B is online once groved logged one more authentication of it
  local i
  for ((i = 0; i < 500; i++)); do
    (( $(b_auths) > $1 )) && break
    kill -0 "$RPID" 2>/dev/null || { cat "$WORK/recv.log" >&2; die "grove receive exited early"; }
    sleep 0.02
  done
}

machine_line() {
  echo "machine:   $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
}
# The 1-minute load average before the benchmark's own work, and the highest seen.
START_LOAD=$(load1)
MAX_LOAD=$START_LOAD
note_load() { MAX_LOAD=$(awk -v m="$MAX_LOAD" '{print ($1 > m) ? $1 : m}' /proc/loadavg); }
load_warning() {  # the runs themselves add about 2 on a 2-core machine
  if awk -v s="$START_LOAD" -v m="$MAX_LOAD" -v n="$(nproc)" 'BEGIN {exit !(s > 0.5 * n || m > 1.5 * n)}'; then
    echo "WARNING: load average $START_LOAD at the start, up to $MAX_LOAD during the runs, on" \
      "$(nproc) CPUs: other work competed with the benchmark; run again on an idle machine" \
      "before trusting the absolute numbers (ratios of interleaved runs suffer less)."
  fi
}
