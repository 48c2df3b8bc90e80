#!/usr/bin/env bash
# Loss recovery benchmark (issue 10), two parts:
#
# 1. Live: 16 MiB through an echo service under random loss (2, 5, 10 % each
#    way, made by iptables), tcpscope on a TUN against the Linux kernel over
#    a veth pair, interleaved in the same run. The client is
#    examples/loss_echo.rs for both: connect, start the clock, write 16 MiB
#    of pseudo-random bytes while reading the echo, stop the clock when all
#    came back, compare every byte. A run over 120 s, or with wrong bytes,
#    is FAILED. tcpscope records its events; per rate the script counts RTOs
#    and retransmitted segments by cause (`rtx` field).
# 2. Virtual time: `tcpscope demo scripts/loss-bulk.toml` (4 MiB, 20 ms
#    round trip, no bandwidth limit) at 1, 2, 5, 10 % loss both ways, one
#    seed per run, the median transfer time against the Mathis bound
#    MSS/RTT x 1.22/sqrt(p).
#
#   scripts/loss-bench.sh [--runs N] [--quick] [--live-only | --virtual-only]
#                         [--live-rates 2,5,10] [--virtual-rates 1,2,5,10]
#                         [--keep]
#
#   --runs N           runs per rate and stack (default 5, at most 20)
#   --quick            one run each (--runs 1)
#   --live-only        only part 1;  --virtual-only  only part 2 (no root)
#   --live-rates L     loss percentages for part 1 (0 to 50, comma list)
#   --virtual-rates L  loss percentages for part 2 (0.1 to 50, comma list)
#   --keep             keep the event files (the directory is printed)
#
# The live part needs root, ip (iproute2), iptables, ethtool, /dev/net/tun.
# Everything live runs inside network namespaces this script creates
# (tcplb-*-PID) and deletes on exit, with the iptables rules in them; no
# packet leaves them, nothing is configured in the root namespace. Every
# wait is bounded; only processes this script started are ended, by PID.
#
# Builds with `cargo build --release` (CARGO_TARGET_DIR respected), each
# cargo command under flock /tmp/cargo-build.lock as scripts/bench.sh does.
set -euo pipefail

RUNS=5
LIVE=1
VIRT=1
KEEP=0
LIVE_RATES="2,5,10"
VIRT_RATES="1,2,5,10"
BYTES=16777216       # live echo, each way
TIMEOUT=120          # live: seconds from the connected socket to the last byte
DEMO_WALL=60         # virtual: wall-clock seconds one demo may take
RTT=0.020            # virtual: the round trip of scripts/loss-bulk.toml
VBYTES=4194304       # virtual: bytes the scenario sends

usage() { sed -n '/^#   scripts\/loss-bench.sh \[/,/^#   --keep/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "loss-bench.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
        --runs) [ $# -ge 2 ] || usage; RUNS=$2; shift 2;;
        --runs=*) RUNS=${1#--runs=}; shift;;
        --quick) RUNS=1; shift;;
        --live-only) VIRT=0; shift;;
        --virtual-only) LIVE=0; shift;;
        --live-rates) [ $# -ge 2 ] || usage; LIVE_RATES=$2; shift 2;;
        --virtual-rates) [ $# -ge 2 ] || usage; VIRT_RATES=$2; shift 2;;
        --keep) KEEP=1; shift;;
        -h|--help) usage;;
        *) echo "loss-bench.sh: unknown argument $1" >&2; usage;;
    esac
done
case "$RUNS" in ''|*[!0-9]*) die "--runs must be a whole number";; esac
if [ "$RUNS" -lt 1 ] || [ "$RUNS" -gt 20 ]; then die "--runs must be 1 to 20"; fi
[ $LIVE = 1 ] || [ $VIRT = 1 ] || die "--live-only and --virtual-only exclude each other"
check_rates() { # LIST MIN MAX
    local r
    for r in ${1//,/ }; do
        awk -v r="$r" -v lo="$2" -v hi="$3" \
            'BEGIN { exit !(r ~ /^[0-9]+(\.[0-9]+)?$/ && r + 0 >= lo && r + 0 <= hi) }' ||
            die "loss rate \"$r\" must be a number from $2 to $3"
    done
    [ -n "${1//,/}" ] || die "an empty list of loss rates"
}
check_rates "$LIVE_RATES" 0 50
check_rates "$VIRT_RATES" 0.1 50

# --- tools ----------------------------------------------------------------------
need() { # TOOL SENTENCE
    command -v "$1" >/dev/null 2>&1 || die "$1 is missing: $2"
}
need cargo "install Rust (https://rustup.rs) to build tcpscope."
need flock "install util-linux (flock serializes cargo builds)."
need timeout "install coreutils (timeout bounds each run)."
need python3 "install python3 (apt-get install python3); it reads the event files."
if [ $LIVE = 1 ]; then
    [ "$(id -u)" = 0 ] || die "the live part needs root (network namespaces, TUN, iptables); run with sudo, or pass --virtual-only."
    need ip "install iproute2 (apt-get install iproute2) for network namespaces and veth."
    need iptables "install iptables (apt-get install iptables); it makes the random loss."
    need ethtool "install ethtool (apt-get install ethtool); it turns GSO/TSO/GRO off so one drop is one packet."
    [ -c /dev/net/tun ] || die "/dev/net/tun is missing: load the tun module (modprobe tun)."
fi

cd "$(dirname "$0")/.."
ROOT=$PWD
LOCK=/tmp/cargo-build.lock
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET;; esac
flock "$LOCK" cargo build --release --quiet
[ $LIVE = 0 ] || flock "$LOCK" cargo build --release --quiet --example loss_echo
TCPSCOPE=$TARGET/release/tcpscope
ECHO=$TARGET/release/examples/loss_echo
SCEN=$ROOT/scripts/loss-bulk.toml
[ -x "$TCPSCOPE" ] || die "the build left no $TCPSCOPE"

TMP=$(mktemp -d /tmp/tcpscope-loss-bench.XXXXXX)
NS_T=tcplb-tun-$$
NS_KC=tcplb-kcli-$$
NS_KS=tcplb-ksrv-$$
VETH_C=tcplb-c$$
VETH_S=tcplb-s$$
PIDS=()
NETNS=()
cleanup() {
    local p n
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    # The iptables rules live in these namespaces and go with them.
    for n in "${NETNS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    if [ $KEEP = 1 ]; then echo "event files kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { # PID: ended and reaped, so never signal that number again
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]}")
}

run_bg() { # CMD...: run it in the background and wait, so that a signal
    local p rc=0 # reaches the trap at once (and cleanup ends the child)
    "$@" &
    p=$!
    PIDS+=("$p")
    wait "$p" || rc=$?
    forget_pid "$p"
    return $rc
}

# The analysis, in one place: `live-events FILE...`, `virtual FILE`, and the
# tables from the result files.
cat > "$TMP/analyze.py" <<'PY'
import json, math, statistics, sys

def events(path):
    with open(path, errors="replace") as f:
        for line in f:
            try:
                yield json.loads(line)
            except ValueError:
                pass  # a line cut short by a kill

CAUSES = ("dupack", "rack", "tlp", "rto")

def retransmit_counts(evs, host=None):
    """RTOs, retransmitted segments by their `rtx` cause, TLP probes."""
    c = {"rto_fired": 0, "rtx": 0, "tlp_probes": 0, "lost": 0,
         **{k: 0 for k in CAUSES}, "unknown": 0}
    for e in evs:
        k = e.get("kind")
        if k == "lagged":
            c["lost"] += int(e.get("lost", 0))
        if host is not None and e.get("host") != host:
            continue
        if k == "timer" and e.get("timer") == "retransmit" and e.get("action") == "fired":
            c["rto_fired"] += 1
        elif k == "segment" and e.get("dir") == "out":
            cause = e.get("rtx")
            if e.get("probe"):
                # A TLP probe may be new data (RFC 8985 7.3), not marked
                # retransmit; every probe carries "probe": true.
                c["tlp_probes"] += 1
            if e.get("retransmit"):
                c["rtx"] += 1
                if cause is None:
                    c["unknown"] += 1
                else:
                    key = cause if cause in CAUSES else f"other:{cause}"
                    c[key] = c.get(key, 0) + 1
    return c

def live_events(paths):
    tot = {}
    for p in paths:
        for k, v in retransmit_counts(events(p)).items():
            tot[k] = tot.get(k, 0) + v
    others = " ".join(f"{k}={v}" for k, v in sorted(tot.items()) if k.startswith("other:"))
    print(tot["rto_fired"], tot["rtx"], *(tot[k] for k in CAUSES), tot["unknown"],
          tot["lost"], others or "-", sep="\t")

def virtual(path, nbytes):
    """The transfer time of one demo run, exactly:
    start = the client's first data segment `out` (not a retransmission);
    end   = the first server `vars` event whose rcv_nxt has passed the last
            data byte (rcv_nxt - client ISN - 1 >= BYTES): the instant the
            server's engine has every byte in order, whether the FIN came
            with it or later. `vars` is emitted whenever a TCB variable
            changes, so this is the segment that completed the stream.
    Counts (client side, whole connection): RTOs fired, TLP probes
    (rtx="tlp"), RACK retransmissions (rtx="rack"), all retransmissions."""
    evs = list(events(path))
    isn = start = end = None
    mss = None
    for e in evs:
        k, h = e.get("kind"), e.get("host")
        if k == "negotiated" and h == "client":
            mss = int(e["mss"]) - (12 if e.get("ts") else 0)
        if k == "segment" and h == "client" and e.get("dir") == "out":
            if isn is None and "SYN" in e.get("flags", []):
                isn = int(e["seq"])
            if start is None and e.get("len", 0) > 0 and not e.get("retransmit"):
                start = float(e["t"])
        if (end is None and isn is not None and k == "vars" and h == "server"
                and (int(e["rcv_nxt"]) - isn - 1) % 2**32 >= nbytes
                and (int(e["rcv_nxt"]) - isn - 1) % 2**32 < 2**31):
            end = float(e["t"])
    ok = any(e.get("kind") == "app" and e.get("host") == "server"
             and f"({nbytes} bytes received in all)" in e.get("msg", "") for e in evs)
    c = retransmit_counts(evs, host="client")
    if start is None or end is None or not ok:
        print("FAIL", "the server never had all bytes", mss or "-", sep="\t")
        return
    print("OK", f"{end - start:.6f}", mss or "-", c["rto_fired"], c["tlp_probes"],
          c["rack"], c["rtx"], c["unknown"], sep="\t")

def stats(xs):
    return statistics.median(xs), min(xs), max(xs)

def fmt_time(xs, fails):
    if not xs:
        return f"- ({fails} failed)"
    m, lo, hi = stats(xs)
    return f"{m:.2f} ({lo:.2f}-{hi:.2f}, {fails} failed)"

def table_live(path, runs):
    rows = {}
    for line in open(path):
        stack, rate, run, status, secs = line.rstrip("\n").split("\t")[:5]
        r = rows.setdefault(float(rate), {"tcpscope": [[], 0], "kernel": [[], 0]})
        if status == "OK":
            r[stack][0].append(float(secs))
        else:
            r[stack][1] += 1
    print(f"{'loss each way':>13}  {'tcpscope s: median (min-max, failed)':<38}"
          f"{'kernel s: median (min-max, failed)':<38}{'ratio':>6}  target <= 3x")
    for rate in sorted(rows):
        t, k = rows[rate]["tcpscope"], rows[rate]["kernel"]
        if t[0] and k[0]:
            ratio = statistics.median(t[0]) / statistics.median(k[0])
            rs = f"{ratio:.2f}"
            ok = "ok" if ratio <= 3 and t[1] == 0 else "MISSED"
        else:
            rs, ok = "-", "MISSED"
        print(f"{rate:>12g}%  {fmt_time(*t):<38}{fmt_time(*k):<38}{rs:>6}  {ok}")

def table_virtual(path, rtt, nbytes):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        r = rows.setdefault(float(f[0]), {"t": [], "fail": 0, "mss": set(),
                                          "rto": [], "tlp": [], "rack": [], "rtx": [], "unk": 0})
        if f[2] != "OK":
            r["fail"] += 1
            continue
        r["t"].append(float(f[3]))
        if f[4] != "-":
            r["mss"].add(int(f[4]))
        for key, i in (("rto", 5), ("tlp", 6), ("rack", 7), ("rtx", 8)):
            r[key].append(int(f[i]))
        r["unk"] += int(f[9])
    print(f"{'loss':>5}  {'median s (min-max, failed)':<34}{'Mathis s':>9}{'ratio':>7}  "
          f"{'target <= 1.5':<14}{'b=2 s':>7}{'ratio':>7}{'RTOs':>6}{'TLPs':>6}{'RACK':>6}{'rtx':>7}")
    mss_seen = set()
    unknown = 0
    for rate in sorted(rows):
        r = rows[rate]
        mss = min(r["mss"]) if r["mss"] else 1448
        mss_seen |= r["mss"]
        unknown += r["unk"]
        bound = nbytes / (mss / rtt * 1.22 / math.sqrt(rate / 100))
        # Mathis et al.'s constant is sqrt(3 / (2b)) for b segments per
        # ACK: 1.22 for an ACK per segment, 0.87 for the delayed ACKs
        # (b = 2) that the receiver sends, as Linux's does.
        bound2 = nbytes / (mss / rtt * math.sqrt(3 / 4) / math.sqrt(rate / 100))
        med = lambda xs: f"{statistics.median(xs):g}" if xs else "-"
        if r["t"]:
            ratio = statistics.median(r["t"]) / bound
            rs = f"{ratio:.2f}"
            rs2 = f"{statistics.median(r['t']) / bound2:.2f}"
            ok = "ok" if ratio <= 1.5 and r["fail"] == 0 else "MISSED"
        else:
            rs, rs2, ok = "-", "-", "MISSED"
        print(f"{rate:>4g}%  {fmt_time(r['t'], r['fail']):<34}{bound:>9.2f}{rs:>7}  {ok:<14}"
              f"{bound2:>7.2f}{rs2:>7}"
              f"{med(r['rto']):>6}{med(r['tlp']):>6}{med(r['rack']):>6}{med(r['rtx']):>7}")
    print(f"(MSS {'/'.join(map(str, sorted(mss_seen))) or 1448} payload bytes per segment, "
          f"RTT {rtt * 1000:g} ms; RTOs, TLPs, RACK and rtx are medians per run at the client"
          + (f"; {unknown} retransmissions carried no rtx cause" if unknown else "") + ")")

cmd = sys.argv[1]
if cmd == "live-events":
    live_events(sys.argv[2:])
elif cmd == "virtual":
    virtual(sys.argv[2], int(sys.argv[3]))
elif cmd == "table-live":
    table_live(sys.argv[2], int(sys.argv[3]))
elif cmd == "table-virtual":
    table_virtual(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]))
PY
analyze() { python3 "$TMP/analyze.py" "$@"; }

# ================================================================================
# Part 1: live
# ================================================================================
add_ns() {
    ip netns add "$1"
    NETNS+=("$1")
    ip netns exec "$1" ip link set lo up
}

offloads_off() { # NS IFACE: one drop is one wire packet.
    # ethtool alone is not enough: Linux TCP builds GSO packets whatever the
    # device says, and iptables' OUTPUT hook sees them before they are cut
    # into segments, so a drop there would lose up to 64 KiB at once.
    # gso_max_segs 1 makes the kernel's TCP build one segment per packet
    # (read when a socket connects, so this comes before the client starts).
    local f
    for f in gso tso gro; do # a feature that cannot change is fine
        ip netns exec "$1" ethtool -K "$2" "$f" off >/dev/null 2>&1 || true
    done
    if ! ip -n "$1" link set dev "$2" gso_max_segs 1 2>/dev/null && [ -z "${GSO_WARNED:-}" ]; then
        GSO_WARNED=1
        echo "loss-bench.sh: warning: cannot set gso_max_segs on $2 (old iproute2 or kernel); an OUTPUT drop may lose several segments (see the average drop size below)" >&2
    fi
}

drops() { # NS: "OUT_PACKETS OUT_BYTES IN_PACKETS IN_BYTES" of the loss rules
    local o i
    o=$(ip netns exec "$1" iptables -L OUTPUT -v -n -x | awk '$3 == "DROP" { p += $1; b += $2 } END { print p + 0, b + 0 }')
    i=$(ip netns exec "$1" iptables -L INPUT -v -n -x | awk '$3 == "DROP" { p += $1; b += $2 } END { print p + 0, b + 0 }')
    echo "$o $i"
}

loss_rules() { # NS IFACE RATE: random loss both ways, TCP to/from port 7 only
    ip netns exec "$1" iptables -F INPUT
    ip netns exec "$1" iptables -F OUTPUT
    [ "$3" != 0 ] || return 0
    local p
    p=$(awk -v r="$3" 'BEGIN { printf "%.6f", r / 100 }')
    ip netns exec "$1" iptables -A OUTPUT -o "$2" -p tcp --dport 7 \
        -m statistic --mode random --probability "$p" -j DROP
    ip netns exec "$1" iptables -A INPUT -i "$2" -p tcp --sport 7 \
        -m statistic --mode random --probability "$p" -j DROP
}

stop_pid() { # PID: SIGTERM, at most 10 s, then SIGKILL
    local i
    kill -TERM "$1" 2>/dev/null || true
    for i in $(seq 100); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    forget_pid "$1"
}

client() { # NS ADDR OUT: one timed echo; writes "OK secs" or "FAIL reason"
    local rc=0
    run_bg timeout $((TIMEOUT + 45)) ip netns exec "$1" "$ECHO" "$2" "$BYTES" "$TIMEOUT" \
        >"$3.out" 2>"$3.err" || rc=$?
    if [ $rc = 0 ]; then
        printf 'OK\t%s\n' "$(cat "$3.out")" > "$3"
    else
        [ $rc != 124 ] || echo "killed after $((TIMEOUT + 45)) s" >> "$3.err"
        printf 'FAIL\t%s (exit %s)\n' "$(head -c 200 "$3.err" | tr '\n\t' '  ')" "$rc" > "$3"
    fi
}

run_tcpscope() { # RATE RUN
    local ev=$TMP/live-$1-$2.jsonl out=$TMP/t-$1-$2 pid i up=0
    ip netns exec "$NS_T" "$TCPSCOPE" live --headless --profile linux --tun-offload off \
        --serve 7:echo --events "$ev" --seed "$2" --duration $((TIMEOUT + 90)) \
        >/dev/null 2>"$out.stack" &
    pid=$!
    PIDS+=("$pid")
    for i in $(seq 100); do
        if ip -n "$NS_T" -4 addr show dev tcpscope0 2>/dev/null | grep -q 'inet 10\.77\.0\.1/'; then
            up=1; break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if [ $up = 1 ]; then
        offloads_off "$NS_T" tcpscope0
        client "$NS_T" 10.77.0.2:7 "$out"
    else
        printf 'FAIL\ttcpscope live did not come up: %s\n' \
            "$(head -c 200 "$out.stack" | tr '\n\t' '  ')" > "$out"
    fi
    stop_pid "$pid"
    printf 'tcpscope\t%s\t%s\t%s\n' "$1" "$2" "$(cat "$out")" >> "$TMP/live.tsv"
}

run_kernel() { # RATE RUN
    local out=$TMP/k-$1-$2
    client "$NS_KC" 10.79.0.2:7 "$out"
    printf 'kernel\t%s\t%s\t%s\n' "$1" "$2" "$(cat "$out")" >> "$TMP/live.tsv"
}

if [ $LIVE = 1 ]; then
    add_ns "$NS_T"
    add_ns "$NS_KC"
    add_ns "$NS_KS"
    ip link add "$VETH_C" netns "$NS_KC" type veth peer name "$VETH_S" netns "$NS_KS"
    ip -n "$NS_KC" addr add 10.79.0.1/24 dev "$VETH_C"
    ip -n "$NS_KS" addr add 10.79.0.2/24 dev "$VETH_S"
    ip -n "$NS_KC" link set "$VETH_C" up
    ip -n "$NS_KS" link set "$VETH_S" up
    offloads_off "$NS_KC" "$VETH_C"
    offloads_off "$NS_KS" "$VETH_S"
    ip netns exec "$NS_KS" "$ECHO" --serve 10.79.0.2:7 2>"$TMP/kserver.err" &
    PIDS+=($!)
    for _ in $(seq 50); do
        ip netns exec "$NS_KS" ss -Hltn 'sport = :7' 2>/dev/null | grep -q . && break
        sleep 0.05
    done
    : > "$TMP/live.tsv"
    echo "live: ${BYTES} bytes echoed, ${RUNS} run(s) per loss rate and stack, ${TIMEOUT} s limit per run"
    for rate in ${LIVE_RATES//,/ }; do
        loss_rules "$NS_T" tcpscope0 "$rate"
        loss_rules "$NS_KC" "$VETH_C" "$rate"
        for run in $(seq "$RUNS"); do
            run_tcpscope "$rate" "$run"
            run_kernel "$rate" "$run"
            printf '  %s%% run %s: tcpscope %s, kernel %s\n' "$rate" "$run" \
                "$(cut -f2 "$TMP/t-$rate-$run" | cut -c1-100)" "$(cut -f2 "$TMP/k-$rate-$run" | cut -c1-100)"
        done
        printf '%s\t%s\n' "$rate" "$(analyze live-events "$TMP"/live-"$rate"-*.jsonl)" >> "$TMP/live-events.tsv"
        printf '%s %s %s\n' "$rate" "$(drops "$NS_T")" "$(drops "$NS_KC")" >> "$TMP/live-drops.txt"
    done
    loss_rules "$NS_T" tcpscope0 0
    loss_rules "$NS_KC" "$VETH_C" 0

    echo
    echo "Live echo of 16 MiB under random loss each way (iptables), tcpscope (TUN, --profile linux) vs the Linux kernel (veth)"
    analyze table-live "$TMP/live.tsv" "$RUNS"
    echo
    echo "tcpscope's events, totals over the runs of each rate (retransmitted segments by the rtx cause):"
    printf '%13s %6s %8s %8s %6s %6s %6s %8s %12s  %s\n' "loss each way" "RTOs" "rtx" "dupack" "rack" "tlp" "rto" "unknown" "events lost" "other causes"
    while IFS=$'\t' read -r rate rto rtx dup rack tlp rtoc unk lost other; do
        printf '%12s%% %6s %8s %8s %6s %6s %6s %8s %12s  %s\n' "$rate" "$rto" "$rtx" "$dup" "$rack" "$tlp" "$rtoc" "$unk" "$lost" "$other"
    done < "$TMP/live-events.tsv"
    echo
    echo "iptables drops, totals over the runs (packets, average bytes; one packet each is at most 1500):"
    printf '%13s %22s %22s %22s %22s\n' "loss each way" "tcpscope client->stack" "stack->client" "kernel client->server" "server->client"
    while read -r rate top tob tip tib kop kob kip kib; do
        avg() { awk -v p="$1" -v b="$2" 'BEGIN { if (p > 0) printf "%d (%d B)", p, b / p; else print "0" }'; }
        printf '%12s%% %22s %22s %22s %22s\n' "$rate" "$(avg "$top" "$tob")" "$(avg "$tip" "$tib")" "$(avg "$kop" "$kob")" "$(avg "$kip" "$kib")"
    done < "$TMP/live-drops.txt"
    if grep -q $'\tFAIL\t' "$TMP/live.tsv"; then
        echo "failed runs:"
        awk -F'\t' '$4 == "FAIL" { printf "  %s %s%% run %s: %s\n", $1, $2, $3, $5 }' "$TMP/live.tsv"
    fi
    echo
fi

# ================================================================================
# Part 2: virtual time
# ================================================================================
if [ $VIRT = 1 ]; then
    : > "$TMP/virtual.tsv"
    for rate in ${VIRT_RATES//,/ }; do
        for seed in $(seq "$RUNS"); do
            ev=$TMP/virtual-$rate-$seed.jsonl
            rc=0
            run_bg timeout -s KILL "$DEMO_WALL" "$TCPSCOPE" demo "$SCEN" --headless --events "$ev" \
                --profile linux --loss "$rate" --seed "$seed" >/dev/null 2>"$ev.err" || rc=$?
            if [ $rc = 0 ]; then
                printf '%s\t%s\t%s\n' "$rate" "$seed" "$(analyze virtual "$ev" "$VBYTES")" >> "$TMP/virtual.tsv"
            elif [ $rc = 137 ]; then
                printf '%s\t%s\tFAIL\tkilled after %s s wall clock\n' "$rate" "$seed" "$DEMO_WALL" >> "$TMP/virtual.tsv"
            else
                printf '%s\t%s\tFAIL\texit %s: %s\n' "$rate" "$seed" "$rc" "$(head -c 200 "$ev.err" | tr '\n\t' '  ')" >> "$TMP/virtual.tsv"
            fi
        done
    done
    echo "Virtual time: 4 MiB to discard, 20 ms RTT, --loss N both ways, --profile linux, seeds 1-$RUNS (scripts/loss-bulk.toml)"
    analyze table-virtual "$TMP/virtual.tsv" "$RTT" "$VBYTES"
    if grep -q $'\tFAIL\t' "$TMP/virtual.tsv"; then
        echo "failed runs:"
        awk -F'\t' '$3 == "FAIL" { printf "  %s%% seed %s: %s\n", $1, $2, $4 }' "$TMP/virtual.tsv"
    fi
    echo
fi

echo "machine: $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
