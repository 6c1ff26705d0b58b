#!/usr/bin/env bash
# Peer-to-peer throughput: `grove send -f` -> `grove listen` against socat copying the same bytes,
# all over 127.0.0.1 in the same run (issue 2 target: grove >= 0.7x socat).
#
# Usage: bench/p2p_vs_socat.sh            (GROVE=path/to/grove to pick the binary)
# Environment:
#   GROVE       grove binary (default: build/release/src/cli/grove under the repository)
#   SIZE_MIB    size of the test file in MiB (default 1024)
#   RUNS        repetitions of each case (default 3); the median is reported
#   BENCH_DIR   parent folder for the temporary files (default: /dev/shm when it has room,
#               else ${TMPDIR:-/tmp})
#   NULL_SINK   1 (default) also runs both tools into /dev/null, to separate disk from protocol
#
# Cases, each timed from the start of the sender to the point where every byte is delivered:
#   grove->file   grove listen -o DIR -n 1; time = `grove send -f` start .. its exit (exit 0 means
#                 every fragment was acknowledged, i.e. written and flushed by the receiver)
#   socat->file   socat -u TCP-LISTEN:... OPEN:out,creat,trunc; socat -u OPEN:FILE TCP:...;
#                 time = sender start .. both socat processes exited (the receiver exits once it
#                 wrote the last byte: the same "delivered to the file" point as grove's ack)
#   grove->null   grove listen -n 1 (messages on stdout) > /dev/null
#   socat->null   socat -u TCP-LISTEN:... OPEN:/dev/null
# Received files are checked (size and SHA-256) after each timed run, outside the timing.
# MB/s means 10^6 bytes per second. Nothing is built; nothing listens beyond 127.0.0.1.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GROVE=${GROVE:-$REPO/build/release/src/cli/grove}
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
NULL_SINK=${NULL_SINK:-1}
SIZE=$((SIZE_MIB * 1024 * 1024))

die() { echo "p2p_vs_socat: $*" >&2; exit 1; }

[[ -x $GROVE ]] || die "no grove binary at $GROVE (build it, or set GROVE=path/to/grove)"
if ! command -v socat >/dev/null; then
  echo "socat is missing: installing it with apt-get" >&2
  SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get install -y socat >/dev/null ||
    { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y socat >/dev/null; } ||
    die "could not install socat"
fi
# GNU time reports each process's CPU seconds (package `time`).
if [[ ! -x /usr/bin/time ]]; then
  echo "/usr/bin/time is missing: installing package time with apt-get" >&2
  SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get install -y time >/dev/null ||
    { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y time >/dev/null; } ||
    die "could not install time"
fi
CPU_TIME=(/usr/bin/time -f '%U %S' -o)  # followed by the file that receives "user sys"

# ---- work folder: tmpfs keeps the disk out of the measurement when it has room for the source,
# one received copy and a margin.
need_kib=$(((2 * SIZE + 256 * 1024 * 1024) / 1024))
if [[ -n ${BENCH_DIR:-} ]]; then
  parent=$BENCH_DIR
elif [[ -d /dev/shm ]] && (( $(df -Pk /dev/shm | awk 'NR==2 {print $4}') >= need_kib )); then
  parent=/dev/shm
else
  parent=${TMPDIR:-/tmp}
fi
(( $(df -Pk "$parent" | awk 'NR==2 {print $4}') >= need_kib )) ||
  die "$parent has less than $((need_kib / 1024)) MiB free"
WORK=$(mktemp -d "$parent/grove-p2p.XXXXXX")
FS_TYPE=$(df -PT "$WORK" | awk 'NR==2 {print $2}')

# ---- cleanup: every background process this script starts is recorded in PIDS (the PID of
# /usr/bin/time; the measured program is its only child) and stopped by PID, child first.
PIDS=()
started() { PIDS+=("$1"); }
finished() {  # PID: forget it once waited for, so a recycled PID is never signalled
  local p keep=()
  for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
cpu_sum() {  # files written by /usr/bin/time: the last line is "user sys"
  local f s=0
  for f in "$@"; do s=$(awk -v s="$s" 'END {printf "%.2f", s + $1 + $2}' "$f"); done
  echo "$s"
}

# Waits (up to 10 s) for `grove listen` to print "listening on HOST:PORT"; sets PORT.
grove_port() {  # LOG PID
  local i line
  for ((i = 0; i < 200; i++)); do
    line=$(grep -m1 '^listening on ' "$1" 2>/dev/null || true)
    if [[ -n $line ]]; then
      PORT=${line##*:}
      return 0
    fi
    kill -0 "$2" 2>/dev/null || break
    sleep 0.05
  done
  cat "$1" >&2
  die "grove listen did not report its port"
}

# socat cannot report an ephemeral port: try random high ports until its listener is up.
random_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40000)); }
wait_listening() {  # PORT PID
  local i
  for ((i = 0; i < 200; i++)); do
    ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.02
  done
  return 1
}

verify() {  # FILE LABEL
  local got
  got=$(stat -c %s "$1")
  [[ $got -eq $SIZE ]] || die "$2: received $got bytes, expected $SIZE"
  [[ $(sha256sum "$1" | cut -d' ' -f1) == "$SRC_SHA" ]] || die "$2: SHA-256 of the received file differs"
}

mbps() { awk -v b="$SIZE" -v ns="$1" 'BEGIN {printf "%.1f", b / (ns / 1e9) / 1e6}'; }

# ---- one timed run per case; each sets NS (wall time), CPU_SEND and CPU_RECV (CPU seconds,
# user + system, of the sending and the receiving process).
run_grove() {  # SINK: file|null
  local sink=$1 out="$WORK/grove-out" log="$WORK/grove-listen.log" lpid t0 t1 rc=0
  local -a sink_args=()
  rm -rf "$out"
  if [[ $sink == file ]]; then mkdir -p "$out"; sink_args=(-o "$out"); fi
  "${CPU_TIME[@]}" "$WORK/cpu-recv" "$GROVE" listen -l 127.0.0.1:0 "${sink_args[@]}" -n 1 \
    >/dev/null 2>"$log" &
  lpid=$!; started "$lpid"
  grove_port "$log" "$lpid"
  t0=$(now_ns)
  "${CPU_TIME[@]}" "$WORK/cpu-send" timeout 600 "$GROVE" send -c "127.0.0.1:$PORT" -f "$SRC" \
    --no-progress 2>"$WORK/grove-send.log" || rc=$?
  t1=$(now_ns)
  [[ $rc -eq 0 ]] || { cat "$WORK/grove-send.log" "$log" >&2; die "grove send exited $rc"; }
  rc=0; wait "$lpid" || rc=$?
  finished "$lpid"
  [[ $rc -eq 0 ]] || { cat "$log" >&2; die "grove listen exited $rc"; }
  [[ $sink == file ]] && verify "$out/$(basename "$SRC")" "grove->file"
  rm -rf "$out"
  NS=$((t1 - t0)); CPU_SEND=$(cpu_sum "$WORK/cpu-send"); CPU_RECV=$(cpu_sum "$WORK/cpu-recv")
}

run_socat() {  # SINK: file|null
  local sink=$1 dest="$WORK/socat-out" rpid="" t0 t1 attempt rc=0
  [[ $sink == null ]] && dest=/dev/null
  rm -f "$WORK/socat-out"
  for ((attempt = 1; attempt <= 5; attempt++)); do
    PORT=$(random_port)
    "${CPU_TIME[@]}" "$WORK/cpu-recv" socat -u "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr" \
      "OPEN:$dest,creat,trunc" 2>"$WORK/socat-recv.log" &
    rpid=$!; started "$rpid"
    wait_listening "$PORT" "$rpid" && break
    pkill -TERM -P "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    finished "$rpid"; rpid=
  done
  [[ -n $rpid ]] || die "socat could not listen on a loopback port"
  t0=$(now_ns)
  "${CPU_TIME[@]}" "$WORK/cpu-send" timeout 600 socat -u "OPEN:$SRC" "TCP:127.0.0.1:$PORT" || rc=$?
  [[ $rc -eq 0 ]] || die "socat sender exited $rc"
  wait "$rpid" || rc=$?
  t1=$(now_ns)  # the receiver has written the last byte and exited
  finished "$rpid"
  [[ $rc -eq 0 ]] || { cat "$WORK/socat-recv.log" >&2; die "socat receiver exited $rc"; }
  [[ $sink == file ]] && verify "$WORK/socat-out" "socat->file"
  rm -f "$WORK/socat-out"
  NS=$((t1 - t0)); CPU_SEND=$(cpu_sum "$WORK/cpu-send"); CPU_RECV=$(cpu_sum "$WORK/cpu-recv")
}

median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# ---- setup
SRC="$WORK/payload.bin"
echo "== Grove p2p vs socat: $SIZE_MIB MiB over 127.0.0.1, $RUNS runs per case"
echo "grove:     $GROVE"
echo "socat:     $(socat -V 2>/dev/null | awk '/socat version/ {print $3}')"
echo "machine:   $(nproc) CPUs, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -r)"
echo "files in:  $WORK ($FS_TYPE$([[ $FS_TYPE == tmpfs ]] && echo ', memory: disk not measured' || echo ', disk-backed; source cached after the first read'))"
START_LOAD=$(cut -d' ' -f1 /proc/loadavg)  # before this script's own work
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (start)"
head -c "$SIZE" /dev/urandom >"$SRC"
SRC_SHA=$(sha256sum "$SRC" | cut -d' ' -f1)
cases=(grove-file socat-file)
[[ $NULL_SINK == 1 ]] && cases+=(grove-null socat-null)
MAX_LOAD=$START_LOAD
declare -A RATE CPUS
for c in "${cases[@]}"; do RATE[$c]=; CPUS[$c]=; done

# Cases are interleaved run by run so that a change of background load hits them all alike.
for ((run = 1; run <= RUNS; run++)); do
  for c in "${cases[@]}"; do
    run_"${c%-*}" "${c#*-}"
    r=$(mbps "$NS")
    MAX_LOAD=$(awk -v m="$MAX_LOAD" '{print ($1 > m) ? $1 : m}' /proc/loadavg)
    RATE[$c]+="$r "; CPUS[$c]+="$(awk -v a="$CPU_SEND" -v b="$CPU_RECV" 'BEGIN {printf "%.2f", a + b}') "
    printf 'run %d  %-11s %8.3f s  %8s MB/s  cpu send %5s s recv %5s s  load %s\n' "$run" \
      "${c/-/->}" "$(awk -v n="$NS" 'BEGIN {print n / 1e9}')" "$r" "$CPU_SEND" "$CPU_RECV" \
      "$(cut -d' ' -f1 /proc/loadavg)"
  done
done

# ---- report
echo
echo "load avg:  $(cut -d' ' -f1-3 /proc/loadavg) (end)"
printf '%-12s %12s %14s   %s\n' case "median MB/s" "median cpu s" "runs (MB/s)"
declare -A MED
for c in "${cases[@]}"; do
  # shellcheck disable=SC2086
  MED[$c]=$(median ${RATE[$c]})
  # shellcheck disable=SC2086
  printf '%-12s %12s %14s   %s\n' "${c/-/->}" "${MED[$c]}" "$(median ${CPUS[$c]})" "${RATE[$c]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo
echo "RATIO grove/socat (to file):     $(ratio "${MED[grove-file]}" "${MED[socat-file]}")x   (target >= 0.70x)"
if [[ $NULL_SINK == 1 ]]; then
  echo "RATIO grove/socat (/dev/null):   $(ratio "${MED[grove-null]}" "${MED[socat-null]}")x"
fi
# The transfers themselves add about 2 to the load average; more than that means other work.
if awk -v s="$START_LOAD" -v m="$MAX_LOAD" -v n="$(nproc)" 'BEGIN {exit !(s > 0.5 * n || m > 1.5 * n)}'; then
  echo "WARNING: load average $START_LOAD at the start, up to $MAX_LOAD during the runs, on $(nproc)" \
    "CPUs: other work competed with the transfers; run again on an idle machine before trusting" \
    "these numbers."
fi
