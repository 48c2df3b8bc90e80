#!/bin/sh
# Run a directory of packetdrill scripts (a checkout of google/packetdrill's
# gtests/net/tcp, the kernel's tools/testing/selftests/net/packetdrill) with
# `tcpscope drill`, each for IPv4 and IPv6, and print a table: one row per
# script, the outcome per IP version, then the totals.
#
#   scripts/packetdrill-suite.sh DIR [TCPSCOPE]
#
# TCPSCOPE defaults to target/release/tcpscope, else target/debug/tcpscope.
set -u
dir=${1:?usage: packetdrill-suite.sh DIR [TCPSCOPE]}
bin=${2:-}
if [ -z "$bin" ]; then
    here=$(cd "$(dirname "$0")/.." && pwd)
    for b in "$here/target/release/tcpscope" "$here/target/debug/tcpscope"; do
        [ -x "$b" ] && bin=$b && break
    done
fi
[ -x "${bin:-}" ] || { echo "packetdrill-suite.sh: build tcpscope first (cargo build)" >&2; exit 2; }


{ printf '%-60s %-12s %-12s\n' SCRIPT IPV4 IPV6
find "$dir" -name '*.pkt' | LC_ALL=C sort | while read -r f; do
    rel=${f#"$dir"/}
    # Each script runs from its own directory, as packetdrill runs them
    # (their backtick lines name files relative to it).
    d=$(dirname "$f"); b=$(basename "$f")
    r4=$(cd "$d" && "$bin" drill --ip-version ipv4 "$b" 2>/dev/null | head -n 1 | cut -d' ' -f1)
    r6=$(cd "$d" && "$bin" drill --ip-version ipv6 "$b" 2>/dev/null | head -n 1 | cut -d' ' -f1)
    printf '%-60s %-12s %-12s\n' "$rel" "${r4:-ERROR}" "${r6:-ERROR}"
done; } | awk '
    NR == 1 { print; next }
    { print; n++; if ($2 == "PASS") a++; if ($3 == "PASS") b++ }
    END { printf "%d scripts: %d pass on IPv4, %d on IPv6\n", n, a, b }'
