#!/usr/bin/env bash
# The Grove demo on embedded defaults: builds, starts the groved relay on its embedded SQLite
# store, adds two devices, sends while the recipient is offline, then starts the recipient and
# shows the delivery. Nothing to configure; everything runs on loopback in a throw-away folder.
set -euo pipefail
cd "$(dirname "$0")/.."
GROVE_NO_PEERS=1 scripts/deps.sh
echo "==> building (the first run takes a few minutes)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DGROVE_WERROR=ON >/dev/null
cmake --build build/release -j"$(nproc)" --target grove groved >/dev/null
GROVE=$PWD/build/release/src/cli/grove
GROVED=$PWD/build/release/src/relay/groved
work=$(mktemp -d)
relay_pid=""
cleanup() { [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
RELAY=grove://demo-relay
db="$work/relay/grove.db"

echo "==> adding two devices to the relay's device table (each secret is printed once)"
"$GROVED" --db "$db" device add "$RELAY/d/alice" >"$work/alice.key" 2>/dev/null
"$GROVED" --db "$db" device add "$RELAY/d/bob" >"$work/bob.key" 2>/dev/null
chmod 600 "$work"/*.key
"$GROVED" --db "$db" device list | sed 's/^/    /'

echo "==> starting groved (native SSTP port, the SSL port and the HTTP port, all on loopback)"
"$GROVED" --db "$db" run -l 127.0.0.1:0 --ssl-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --device-url "$RELAY" -v \
  2>"$work/relay.log" &
relay_pid=$!
for _ in $(seq 100); do grep -q "(ssl-port)" "$work/relay.log" 2>/dev/null && break; sleep 0.05; done
addr=$(sed -n 's/^listening on \(.*\) (sstp)$/\1/p' "$work/relay.log" | head -1)
ssl=$(sed -n 's/^listening on \(.*\) (ssl-port)$/\1/p' "$work/relay.log" | head -1)
echo "    relay $RELAY at $addr (SSL port $ssl)"

echo "==> alice sends to bob while bob is offline; the relay acknowledges once it is stored"
head -c 5000000 /dev/urandom >"$work/photo.bin"
"$GROVE" send -c "$addr" --relay-url "$RELAY" --device-url "$RELAY/d/alice" \
  --secret-file "$work/alice.key" --to "$RELAY/d/bob" --no-progress \
  "hello bob" "this waited at the relay for you"
"$GROVE" send -c "$ssl" --relay-url "$RELAY" --device-url "$RELAY/d/alice" \
  --secret-file "$work/alice.key" --to "$RELAY/d/bob" --no-progress -f "$work/photo.bin"
echo "    sent 2 messages and a 5 MB file (the file through the SSL port)"

echo "==> bob comes online and receives:"
"$GROVE" receive -c "$addr" --relay-url "$RELAY" --device-url "$RELAY/d/bob" \
  --secret-file "$work/bob.key" -o "$work/bob-inbox" -n 3
for f in "$work"/bob-inbox/*; do
  printf '    %-20s %9s bytes  %s\n' "$(basename "$f")" "$(stat -c %s "$f")" \
    "$(head -c 40 "$f" | tr -c '[:print:]' '.')"
done
cmp -s "$work/photo.bin" "$work/bob-inbox/photo.bin" && echo "    photo.bin is byte-identical"

echo "==> the relay's log:"
sed 's/^/    /' "$work/relay.log"
