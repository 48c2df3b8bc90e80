#!/usr/bin/env bash
# Live-mode benchmark: tcpscope's stack on a TUN versus the kernel over a
# veth pair, measured in the same run with the same client and server code
# (examples/bench_peer.rs: a load generator, and a kernel-socket server with
# the same discard and hyper HTTP services).
#
#   scripts/bench-live.sh [SECS]     (default 5 s per measurement, at most 60)
#
# Needs root, ip (iproute2) and /dev/net/tun. Everything runs inside network
# namespaces this script creates (tcpsb-*-PID) and deletes on exit; no packet
# leaves them. Every loop is bounded by SECS.
set -euo pipefail

SECS=${1:-5}
case "$SECS" in ''|*[!0-9]*) echo "SECS must be a whole number" >&2; exit 2;; esac
[ "$SECS" -ge 1 ] && [ "$SECS" -le 60 ] || { echo "SECS must be 1 to 60" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-live.sh needs root (network namespaces, TUN)" >&2; exit 1; }

cd "$(dirname "$0")/.."
LOCK=/tmp/cargo-build.lock
flock "$LOCK" cargo build --release --quiet
flock "$LOCK" cargo build --release --quiet --example bench_peer
TCPSCOPE=$PWD/target/release/tcpscope
PEER=$PWD/target/release/examples/bench_peer

NS_T=tcpsb-tun-$$
NS_A=tcpsb-kcli-$$
NS_B=tcpsb-ksrv-$$
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    for n in "$NS_T" "$NS_A" "$NS_B"; do ip netns del "$n" 2>/dev/null || true; done
}
trap cleanup EXIT

for n in "$NS_T" "$NS_A" "$NS_B"; do
    ip netns add "$n"
    ip netns exec "$n" ip link set lo up
    # Many short connections: keep connect() from running out of ports.
    ip netns exec "$n" sysctl -q -w net.ipv4.ip_local_port_range="1024 65000"
done

# --- tcpscope on a TUN ------------------------------------------------------
ip netns exec "$NS_T" "$TCPSCOPE" live --headless --events /dev/null \
    --serve 9:discard,80:http --duration $((4 * SECS + 10)) &
PIDS+=($!)
for _ in $(seq 50); do
    ip netns exec "$NS_T" ip link show tcpscope0 >/dev/null 2>&1 && break
    sleep 0.1
done
sleep 0.3
T_BULK=$(ip netns exec "$NS_T" "$PEER" bulk 10.77.0.2:9 "$SECS")
read -r T_SHORT T_FAIL < <(ip netns exec "$NS_T" "$PEER" short 10.77.0.2:80 "$SECS")

# --- the kernel over a veth pair ---------------------------------------------
ip link add tcpsb-a$$ netns "$NS_A" type veth peer name tcpsb-b$$ netns "$NS_B"
ip netns exec "$NS_A" ip addr add 10.78.0.1/24 dev tcpsb-a$$
ip netns exec "$NS_B" ip addr add 10.78.0.2/24 dev tcpsb-b$$
ip netns exec "$NS_A" ip link set tcpsb-a$$ up
ip netns exec "$NS_B" ip link set tcpsb-b$$ up
ip netns exec "$NS_B" "$PEER" serve 10.78.0.2 &
PIDS+=($!)
sleep 0.5
K_BULK=$(ip netns exec "$NS_A" "$PEER" bulk 10.78.0.2:9 "$SECS")
read -r K_SHORT K_FAIL < <(ip netns exec "$NS_A" "$PEER" short 10.78.0.2:80 "$SECS")

printf '%-46s %12s %12s\n' "" "tcpscope" "kernel"
printf '%-46s %12s %12s\n' "bulk to discard, MiB/s (one connection)" "$T_BULK" "$K_BULK"
printf '%-46s %12s %12s\n' "short HTTP connections/s (one client)" "$T_SHORT" "$K_SHORT"
printf '%-46s %12s %12s\n' "short connections that failed" "$T_FAIL" "$K_FAIL"
echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), ${SECS} s per figure"
