#!/usr/bin/env bash
# The Grove demo on embedded defaults: builds, then shows two devices exchanging messages.
# Nothing to configure; everything runs on loopback and in a throw-away folder.
set -euo pipefail
cd "$(dirname "$0")/.."
GROVE_NO_PEERS=1 scripts/deps.sh
echo "==> building (first run takes a few minutes)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGROVE_WERROR=ON >/dev/null
cmake --build build/release -j"$(nproc)" --target grove >/dev/null
GROVE=$PWD/build/release/src/cli/grove
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

echo "==> a shared secret for the two devices (grove-auth-1)"
"$GROVE" keygen >"$work/peer.key"; chmod 600 "$work/peer.key"

echo "==> device B listens (grove listen), saving what arrives to $work/inbox"
"$GROVE" listen -l 127.0.0.1:0 --device-url grove://demo/d/bob --secret-file "$work/peer.key" \
  -o "$work/inbox" -n 4 -v 2>"$work/listen.log" >"$work/listen.out" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$work/listen.log" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^listening on //p' "$work/listen.log" | head -1)

echo "==> device A sends two text messages and a 20 MB file to B at $addr"
head -c 20000000 /dev/urandom >"$work/photo.bin"
"$GROVE" send -c "$addr" --to grove://demo/d/bob --device-url grove://demo/d/alice \
  --secret-file "$work/peer.key" -v "hello bob" "how are you?" -f "$work/photo.bin"
echo "hello from stdin" | "$GROVE" send -c "$addr" --to grove://demo/d/bob \
  --device-url grove://demo/d/alice --secret-file "$work/peer.key"
wait "${pids[0]}"

echo "==> what B received:"
for f in "$work"/inbox/*; do
  printf '  %-24s %10s bytes\n' "$(basename "$f")" "$(stat -c %s "$f")"
done
cmp -s "$work/photo.bin" "$work/inbox/photo.bin" && echo "  photo.bin is byte-identical to the original"
echo "==> B's log:"
sed 's/^/  /' "$work/listen.log"
