#!/usr/bin/env bash
# How fast `tcpscope replay` opens a big capture, and in how much memory
# (issue 15): a synthetic pcap of 10,000 connections and 1,000,000 packets
# (etherparse's packet builder, no live traffic; frames cut to 96 bytes as
# `tcpdump -s 96` would), opened
#   - headless (`--headless --events /dev/null`: the events streamed, never
#     all held), and
#   - the way the terminal UI opens it (`--screenshot`: a counting pass,
#     then the events made again a window at a time and folded into the
#     UI's model, the last frame drawn);
# each timed with /usr/bin/time -v: wall clock and peak RSS.
#
#   scripts/capture-bench.sh [CONNS] [PER_CONN]   (default 10000 100)
#
# No privileges, no network.
set -euo pipefail
CONNS=${1:-10000}
PER=${2:-100}
for v in "$CONNS" "$PER"; do
  case "$v" in ''|*[!0-9]*) echo "CONNS and PER_CONN must be whole numbers" >&2; exit 2;; esac
done
[ -x /usr/bin/time ] || { echo "capture-bench.sh needs /usr/bin/time (GNU time)" >&2; exit 1; }

cd "$(dirname "$0")/.."
LOCK=/tmp/cargo-build.lock
flock "$LOCK" cargo build --release --quiet
flock "$LOCK" cargo build --release --quiet --example capture_synth
TARGET=${CARGO_TARGET_DIR:-$PWD/target}
TCPSCOPE=$TARGET/release/tcpscope
WORK=$(mktemp -d /tmp/tcpscope-capture-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

"$TARGET/release/examples/capture_synth" "$WORK/many.pcap" "$CONNS" "$PER"
echo "file: $(du -h "$WORK/many.pcap" | cut -f1)"

measure() {
  local label=$1; shift
  /usr/bin/time -v "$@" 2>"$WORK/time.txt" >/dev/null || { cat "$WORK/time.txt" >&2; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$WORK/time.txt" | awk '{print $NF}')
  printf '%-44s %10s wall  %8d MiB peak RSS\n' "$label" "$wall" $((rss / 1024))
}
measure "headless (--events /dev/null)" \
  "$TCPSCOPE" replay "$WORK/many.pcap" --headless --events /dev/null
measure "as the UI opens it (--screenshot)" \
  "$TCPSCOPE" replay "$WORK/many.pcap" --screenshot "$WORK/end.svg"
