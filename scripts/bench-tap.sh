#!/usr/bin/env bash
# A benchmark, not a test: what `tcpscope watch` and `tcpscope intercept`
# cost on this machine (docs/watch.md, Watching and intercepting, measured).
#
#   scripts/bench-tap.sh [BIN] [SECS]
#
# BIN: the tcpscope binary (default target/release/tcpscope); SECS: how
# long watch watches the bulk transfer (default 300, the README's 5 minutes).
#
# Everything runs in two network namespaces this script creates and
# deletes (a veth pair between them, 10.90.0.1 and 10.90.0.2): no packet
# leaves them. Needs root, iproute2, iptables, python3, curl.
#
# 1. watch: a bulk transfer (python's sockets, as fast as the veth pair
#    goes) for SECS, watch on the receiver's side; reports the packets the
#    capture saw against the kernel's count of packets on the interface,
#    what libpcap says it missed, and watch's memory (VmRSS, VmHWM) at the end.
# 2. intercept: round trips of one byte over a connection to port 8000,
#    without tcpscope and through intercept with no rule (added latency per
#    packet: half the difference of the RTTs, a packet crossing the queue
#    once each way), and a 200 MB download's throughput both ways.
set -euo pipefail
BIN=${1:-target/release/tcpscope}
SECS=${2:-300}
BIN=$(readlink -f "$BIN")
S=tsbench-s-$$
C=tsbench-c-$$
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$S" 2>/dev/null || true
  ip netns del "$C" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
ip netns add "$S"
ip netns add "$C"
ip -n "$S" link add tsb0 type veth peer name tsb1 netns "$C"
ip -n "$S" addr add 10.90.0.1/24 dev tsb0
ip -n "$C" addr add 10.90.0.2/24 dev tsb1
for ns in "$S" "$C"; do ip -n "$ns" link set lo up; done
ip -n "$S" link set tsb0 up
ip -n "$C" link set tsb1 up

rx_packets() { ip netns exec "$S" cat /sys/class/net/tsb0/statistics/rx_packets; }
tx_packets() { ip netns exec "$S" cat /sys/class/net/tsb0/statistics/tx_packets; }

echo "== watch: a bulk transfer for ${SECS}s, watch on the receiver's side"
# A sink on the server side, a sender on the client side (bounded by SECS).
ip netns exec "$S" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.90.0.1", 5001)); s.listen(1)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += len(b)
print(n)
' > "$TMP/sink.out" &
PIDS+=($!)
sleep 0.5
ip netns exec "$S" "$BIN" watch --headless --events "$TMP/watch.jsonl" --duration "$((SECS + 60))" > "$TMP/watch.out" 2>&1 &
WPID=$!
PIDS+=($WPID)
sleep 1
rx0=$(rx_packets); tx0=$(tx_packets)
ip netns exec "$C" python3 -c "
import socket, time
s = socket.create_connection(('10.90.0.1', 5001))
buf = b'x' * (1 << 20)
end = time.time() + $SECS
while time.time() < end:
    s.sendall(buf)
s.close()
"
sleep 0.5
rx1=$(rx_packets); tx1=$(tx_packets)
# watch is still running (ip netns exec became it): its memory now.
grep -E 'VmRSS|VmHWM' "/proc/$WPID/status" || true
kill -TERM "$WPID"
wait "$WPID" || true
bytes=$(cat "$TMP/sink.out")
kernel=$(( (rx1 - rx0) + (tx1 - tx0) ))
echo "transfer: $bytes bytes in ${SECS}s: $(python3 -c "print(round($bytes*8/$SECS/1e9, 2))") Gbit/s"
echo "packets on the interface (the kernel's count, both ways): $kernel"
echo "watch's account:"
grep -E '"seen: |missed' "$TMP/watch.jsonl" | tail -n 3 || true

echo "== intercept: added latency and throughput"
head -c 200000000 /dev/zero > "$TMP/big"
ip netns exec "$S" python3 -m http.server 8000 --bind 10.90.0.1 --directory "$TMP" > /dev/null 2>&1 &
PIDS+=($!)
ip netns exec "$S" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.90.0.1", 8001)); s.listen(1)
while True:
    c, _ = s.accept()
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        b = c.recv(1)
        if not b: break
        c.sendall(b)
' > /dev/null 2>&1 &
PIDS+=($!)
sleep 1
rtt() {
  ip netns exec "$C" python3 -c '
import socket, time, statistics
s = socket.create_connection(("10.90.0.1", '"$1"'))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
v = []
for i in range(5000):
    t = time.perf_counter(); s.sendall(b"x"); s.recv(1); v.append(time.perf_counter() - t)
v.sort()
print(f"median {statistics.median(v)*1e6:.1f} us, p99 {v[int(len(v)*0.99)]*1e6:.1f} us")
'
}
get() {
  ip netns exec "$C" curl -s -o /dev/null -w '%{speed_download}' http://10.90.0.1:8000/big |
    python3 -c 'import sys; print(f"{float(sys.stdin.read())/2**20:.0f} MiB/s")'
}
echo "without tcpscope: round trip $(rtt 8001); download $(get)"
ip netns exec "$S" "$BIN" intercept --port 8001 --headless --events /dev/null --duration 60 > /dev/null 2>&1 &
IPID=$!
PIDS+=($IPID)
sleep 1
echo "through intercept (port 8001, no rule): round trip $(rtt 8001)"
kill -TERM "$IPID"; wait "$IPID" || true
ip netns exec "$S" "$BIN" intercept --port 8000 --headless --events /dev/null --duration 120 > /dev/null 2>&1 &
IPID=$!
PIDS+=($IPID)
sleep 1
echo "through intercept (port 8000, no rule): download $(get)"
kill -TERM "$IPID"; wait "$IPID" || true
echo "rules left in the namespace: $(ip netns exec "$S" iptables -S | grep -c TCPSCOPE || true)"
