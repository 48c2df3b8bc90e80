#!/usr/bin/env bash
# tcpscope's benchmarks, each figure beside its references measured in the
# same run (issues 7 and 12):
#   - bulk throughput into a discard service, one connection, MiB/s;
#   - bulk throughput out of the stack (a download: a source on port 19 --
#     tcpscope's chargen, zeros from the kernel and smoltcp), MiB/s;
#   - short connections per second against an echo service (connect, send
#     64 bytes, half-close, read until the server's FIN), with one and with
#     four client threads;
#   - tcpscope's memory per idle connection: RSS growth over 10,000 idle
#     echo connections (each has echoed one byte);
# for tcpscope live on a TUN (recording its events to a file), the Linux
# kernel over a veth pair, and a minimal smoltcp server on a TUN
# (benches/smoltcp-ref, built here from crates.io; not part of tcpscope;
# tuned as far as smoltcp allows, see its source: Nagle off, 64 listening
# sockets per port, buffers as large as tcpscope's);
# plus the engine's segments per second (criterion, benches/engine.rs) and
# the terminal UI's frame time at 10,000 connections (benches/ui_render.rs).
#
#   scripts/bench.sh [SECS]     (default 5 s per figure, at most 60)
#
# Needs root, ip (iproute2) and /dev/net/tun. Everything runs inside network
# namespaces this script creates (tcpsb-*-PID) and deletes on exit; no packet
# leaves them. Every loop is bounded by SECS.
set -euo pipefail

SECS=${1:-5}
case "$SECS" in ''|*[!0-9]*) echo "SECS must be a whole number" >&2; exit 2;; esac
[ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || { echo "SECS must be 1 to 60" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench.sh needs root (network namespaces, TUN)" >&2; exit 1; }

cd "$(dirname "$0")/.."
LOCK=/tmp/cargo-build.lock
flock "$LOCK" cargo build --release --quiet
flock "$LOCK" cargo build --release --quiet --example bench_peer
(cd benches/smoltcp-ref && flock "$LOCK" cargo build --release --quiet)
TCPSCOPE=$PWD/target/release/tcpscope
PEER=$PWD/target/release/examples/bench_peer
SMOL=$PWD/benches/smoltcp-ref/target/release/smoltcp-ref
TMP=$(mktemp -d /tmp/tcpscope-bench.XXXXXX)

NS_T=tcpsb-tun-$$
NS_S=tcpsb-smol-$$
NS_A=tcpsb-kcli-$$
NS_B=tcpsb-ksrv-$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "$NS_T" "$NS_S" "$NS_A" "$NS_B"; do ip netns del "$n" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

for n in "$NS_T" "$NS_S" "$NS_A" "$NS_B"; do
    ip netns add "$n"
    ip netns exec "$n" ip link set lo up
    # Many short connections: keep connect() from running out of ports
    # while the client's side holds TIME-WAIT.
    ip netns exec "$n" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
    ip netns exec "$n" sysctl -q -w net.ipv4.tcp_tw_reuse=1
done

wait_link() { # NS IFACE
    for _ in $(seq 100); do
        ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "bench.sh: $2 did not appear in $1" >&2
    return 1
}

# --- tcpscope on a TUN, recording its events ----------------------------------
ip netns exec "$NS_T" "$TCPSCOPE" live --headless --events "$TMP/events.jsonl" \
    --serve 7:echo,9:discard,19:chargen --recv-buf 4194304 --duration $((5 * SECS + 40)) &
T_PID=$!
PIDS+=($T_PID)
wait_link "$NS_T" tcpscope0
sleep 0.3
T_BULK=$(ip netns exec "$NS_T" "$PEER" bulk 10.77.0.2:9 "$SECS")
T_DOWN=$(ip netns exec "$NS_T" "$PEER" down 10.77.0.2:19 "$SECS")
read -r T_SHORT T_FAIL < <(ip netns exec "$NS_T" "$PEER" echo 10.77.0.2:7 "$SECS")
read -r T_SHORT4 T_FAIL4 < <(ip netns exec "$NS_T" "$PEER" echo 10.77.0.2:7 "$SECS" 4)
# Memory per idle connection: 10,000 connections that each echoed a byte,
# then sit idle; the stack's RSS before and after (one warm-up connection
# first, so one-time allocations are in the base).
T_MEM=$(ip netns exec "$NS_T" python3 - 10000 "$T_PID" <<'PY'
import resource, socket, sys, time
n, pid = int(sys.argv[1]), sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
def rss():
    with open(f"/proc/{pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])
w = socket.create_connection(("10.77.0.2", 7)); w.sendall(b"w"); w.recv(1); w.close()
time.sleep(0.5)
base, socks = rss(), []
for _ in range(n):
    s = socket.create_connection(("10.77.0.2", 7), timeout=5); s.sendall(b"x"); socks.append(s)
for s in socks:
    s.recv(1)
time.sleep(1.0)
print(f"{(rss() - base) / n:.1f}")
for s in socks:
    s.close()
PY
)
T_EVENTS=$(wc -l < "$TMP/events.jsonl")
# Events the writer could not keep up with, as its `lagged` events say.
T_LOST=$({ grep -o '"kind":"lagged","lost":[0-9]*' "$TMP/events.jsonl" || true; } | awk -F: '{n += $NF} END {print n + 0}')

# --- smoltcp on a TUN ---------------------------------------------------------
ip netns exec "$NS_S" "$SMOL" tun0 10.88.0.2/24 4194304 &
PIDS+=($!)
wait_link "$NS_S" tun0
ip netns exec "$NS_S" ip addr add 10.88.0.1/24 dev tun0
ip netns exec "$NS_S" ip link set tun0 txqueuelen 10000 up
sleep 0.3
S_BULK=$(ip netns exec "$NS_S" "$PEER" bulk 10.88.0.2:9 "$SECS" || echo failed)
S_DOWN=$(ip netns exec "$NS_S" "$PEER" down 10.88.0.2:19 "$SECS" || echo failed)
read -r S_SHORT S_FAIL < <(ip netns exec "$NS_S" "$PEER" echo 10.88.0.2:7 "$SECS")
read -r S_SHORT4 S_FAIL4 < <(ip netns exec "$NS_S" "$PEER" echo 10.88.0.2:7 "$SECS" 4)

# --- the kernel over a veth pair ----------------------------------------------
ip link add tcpsb-a$$ netns "$NS_A" type veth peer name tcpsb-b$$ netns "$NS_B"
ip netns exec "$NS_A" ip addr add 10.78.0.1/24 dev tcpsb-a$$
ip netns exec "$NS_B" ip addr add 10.78.0.2/24 dev tcpsb-b$$
ip netns exec "$NS_A" ip link set tcpsb-a$$ up
ip netns exec "$NS_B" ip link set tcpsb-b$$ up
ip netns exec "$NS_B" "$PEER" serve 10.78.0.2 &
PIDS+=($!)
sleep 0.5
K_BULK=$(ip netns exec "$NS_A" "$PEER" bulk 10.78.0.2:9 "$SECS")
K_DOWN=$(ip netns exec "$NS_A" "$PEER" down 10.78.0.2:19 "$SECS")
read -r K_SHORT K_FAIL < <(ip netns exec "$NS_A" "$PEER" echo 10.78.0.2:7 "$SECS")
read -r K_SHORT4 K_FAIL4 < <(ip netns exec "$NS_A" "$PEER" echo 10.78.0.2:7 "$SECS" 4)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

echo
printf '%-44s %10s %10s %10s %9s %9s\n' "" "tcpscope" "smoltcp" "kernel" "÷smoltcp" "÷kernel"
row() { printf '%-44s %10s %10s %10s %9s %9s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$3")" "$(ratio "$2" "$4")"; }
row "bulk in (to discard), MiB/s" "$T_BULK" "$S_BULK" "$K_BULK"
row "bulk out (a download from port 19), MiB/s" "$T_DOWN" "$S_DOWN" "$K_DOWN"
row "short connections/s to echo, one client" "$T_SHORT" "$S_SHORT" "$K_SHORT"
row "short connections/s to echo, 4 threads" "$T_SHORT4" "$S_SHORT4" "$K_SHORT4"
printf '%-44s %10s %10s %10s\n' "short connections that failed (1; 4 threads)" "$T_FAIL; $T_FAIL4" "$S_FAIL; $S_FAIL4" "$K_FAIL; $K_FAIL4"
echo "tcpscope memory per idle connection (RSS growth over 10,000 idle echo connections): $T_MEM KiB"
echo "tcpscope recorded $T_EVENTS events meanwhile (--events FILE, bursts coalesced); the writer lost $T_LOST (lagged)"

# --- in-process figures ---------------------------------------------------------
if [ "${BENCH_SKIP_CRITERION:-0}" != 1 ]; then
    ENG=$(flock "$LOCK" cargo bench --quiet --bench engine -- --noplot 2>/dev/null \
        | awk '/engine\/4 MiB each way, events with hex/ {f=1} f && /thrpt:/ {print $4, $5; exit}')
    UI=$(flock "$LOCK" cargo bench --quiet --bench ui_render -- --noplot 2>/dev/null \
        | awk '/time:/ {print $4, $5; n++} n==2 {exit}' | paste -sd' ' -)
    echo "engine hot path (two engines, in-order data and ACKs, events on): $ENG segments/s"
    echo "UI frame with 10,000 connections and 100,000 events (200x50, 80x24): $UI"
fi
echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), ${SECS} s per figure"
