#!/bin/sh
# The end-to-end suite on the kernels of the matrix (tests/kernels/matrix.txt):
#
#   tests/kernels/run.sh [--systemd] [KERNEL ...] [-- PYTEST-ARGS]
#
# Default: every kernel of the matrix, the whole suite (tests/e2e).  Each
# Debian kernel is fetched first if missing (fetch.sh) and booted under qemu
# (boot.sh), where pytest runs as root with this machine's build (build/, run
# `make` first); "host" runs pytest right here.  The whole suite includes
# test_systemd.py, which needs systemd as PID 1: each guest kernel boots a
# second time with systemd for it.  --systemd: only the systemd boots (default
# PYTEST-ARGS tests/e2e/test_systemd.py).  One line per run, then
# "N passed, N failed, N skipped" summed over them; the status is 0 only
# when every run passed.  Guests run under TCG, several times slower than
# this machine: SYSMON_TEST_SLOW (default 4 in a guest) scales the suite's
# timeouts (tests/e2e/conftest.py), and a guest may run KMX_TIMEOUT seconds
# (default 5400: the whole suite takes about an hour on 5.10 here).
# KMX_JOBS (default 2) guests run at once: under TCG a guest keeps about
# one core of this machine busy.  Each kernel's output is printed when its runs end;
# "host" runs last, alone.  Run as root; on a shared machine under
#   flock /tmp/sysmon-qemu.lock tests/kernels/run.sh ...
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 1
KERNELS_DIR=${KERNELS_DIR:-/var/cache/sysmon-kernels}
export KERNELS_DIR

systemd_only=0
[ "${1:-}" = --systemd ] && { systemd_only=1; shift; }
kernels=""
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	kernels="$kernels $1"; shift
done
[ "${1:-}" = -- ] && shift
whole=0
if [ $# -eq 0 ]; then
	whole=1
	if [ $systemd_only = 1 ]; then set -- tests/e2e/test_systemd.py; else set -- tests/e2e; fi
fi
[ -n "$kernels" ] || kernels=$(awk '!/^#/ && NF {print $1}' "$here/matrix.txt")
if [ "$(id -u)" -ne 0 ]; then
	echo "kernels: run as root (the suite loads eBPF; qemu reads the whole root)" >&2
	exit 2
fi

quote() { for a in "$@"; do printf " '%s'" "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"; done; }
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
export KMX_TIMEOUT=${KMX_TIMEOUT:-5400}
jobs=${KMX_JOBS:-2}

# count FILE WORD: the number before WORD in pytest's summary line FILE (0 if absent).
count() { grep -o "[0-9]* $2" "$1" | cut -d' ' -f1 | head -n1 | grep . || echo 0; }

# run KERNEL MODE PYTEST-ARGS...: one run (MODE plain or systemd), its
# output into $work/KERNEL.out, its result line appended to
# $work/KERNEL.lines and its counts ("passed failed skipped") to
# $work/KERNEL.counts.
run() {
	k=$1 mode=$2; shift 2
	o=$work/$k.$mode
	append=$(awk -v n="$k" '!/^#/ && $1 == n {print $3}' "$here/matrix.txt")
	[ "$append" = - ] && append=""
	pytest="/usr/bin/python3 -m pytest -q -p no:cacheprovider --color=no$(quote "$@")"
	start=$(date +%s)
	if [ "$k" = host ]; then
		what="host $(uname -r)"
		eval "$pytest" > "$o" 2>&1
		rc=$?
	else
		what="$k $(cat "$KERNELS_DIR/$k/.version")"
		flag=""
		[ "$mode" = systemd ] && { flag=--systemd what="$what (systemd)"; }
		KMX_APPEND="$append ${KMX_APPEND:-}" "$here/boot.sh" $flag "$KERNELS_DIR/$k" \
			"SYSMON_TEST_SLOW=${SYSMON_TEST_SLOW:-4} $pytest" > "$o" 2>&1
		rc=$?
	fi
	cat "$o" >> "$work/$k.out"
	grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error|deselected)' "$o" | tail -n1 > "$o.summary"
	p=$(count "$o.summary" passed) f=$(count "$o.summary" failed)
	e=$(count "$o.summary" error) s=$(count "$o.summary" skipped)
	f=$((f + e))
	[ "$rc" -ne 0 ] && [ "$rc" -ne 5 ] && [ "$f" -eq 0 ] && f=1   # no summary: the guest failed
	echo "kernel $what: $p passed, $f failed, $s skipped in $(( $(date +%s) - start )) s" >> "$work/$k.lines"
	echo "$p $f $s" >> "$work/$k.counts"
}

# kernel K PYTEST-ARGS...: every run of kernel K, then its output and lines.
kernel() {
	k=$1; shift
	echo "kernel $k: running" >&2
	if [ $systemd_only = 1 ]; then
		run "$k" systemd "$@"
	else
		run "$k" plain "$@"
		# The whole suite includes the systemd test, which needs systemd as PID 1.
		[ $whole = 1 ] && [ "$k" != host ] && run "$k" systemd tests/e2e/test_systemd.py
	fi
	cat "$work/$k.out" "$work/$k.lines"
}

guests="" host=0
for k in $kernels; do
	grep -q "^$k[[:space:]]" "$here/matrix.txt" || { echo "kernels: $k is not in $here/matrix.txt" >&2; exit 2; }
	if [ "$k" = host ]; then
		[ $systemd_only = 1 ] || host=1
		continue
	fi
	if [ ! -s "$KERNELS_DIR/$k/.version" ] || [ ! -x "$KERNELS_DIR/busybox" ]; then
		sh "$here/fetch.sh" "$k" || { echo "kernels: $k could not be fetched" >&2; exit 1; }
	fi
	guests="$guests $k"
done

# KMX_JOBS lanes, each running its share of the guests one after another
# (the matrix's kernels dealt out in turn).
lane=0
while [ "$lane" -lt "$jobs" ]; do
	(
		i=0
		for k in $guests; do
			[ $((i % jobs)) -eq "$lane" ] && kernel "$k" "$@"
			i=$((i + 1))
		done
	) &
	lane=$((lane + 1))
done
wait
[ $host = 1 ] && kernel host "$@"

total_p=0 total_f=0 total_s=0 runs=0
for k in $guests $( [ $host = 1 ] && echo host); do
	[ -s "$work/$k.counts" ] || echo "0 1 0" > "$work/$k.counts"   # its lane died
	while read -r p f s; do
		total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s)) runs=$((runs + 1))
	done < "$work/$k.counts"
done
[ $runs -gt 1 ] && for k in $guests $( [ $host = 1 ] && echo host); do cat "$work/$k.lines"; done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ]
