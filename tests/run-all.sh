#!/bin/sh
# Every test of the project: the cmocka unit tests (arguments), then the
# end-to-end tests under tests/e2e (pytest, real kernel, as root), then the
# process, network, file and driver tests and the systemd test on the kernels
# CHECK_KERNELS names (default 6.1, Debian 12's; "none" for none) under qemu
# (tests/kernels/run.sh).  Skipped tests are listed with their reasons
# (pytest -rs, run-unit.sh's SKIPPED lines).  Ends with one line
# "N passed, N failed, N skipped" over all of them.
cd "$(dirname "$0")/.." || exit 1
unit_out=$(tests/run-unit.sh "$@"); unit_rc=$?
printf '%s\n' "$unit_out"
unit_summary='s/^unit: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$'
up=$(printf '%s\n' "$unit_out" | sed -n "$unit_summary/\\1/p")
uf=$(printf '%s\n' "$unit_out" | sed -n "$unit_summary/\\2/p")
us=$(printf '%s\n' "$unit_out" | sed -n "$unit_summary/\\3/p")

ep=0 ef=0 es=0 e2e_rc=0
if ls tests/e2e/test_*.py >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "e2e: skipped (the end-to-end tests need root)"
	else
		e2e_out=$(/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/e2e 2>&1); e2e_rc=$?
		printf '%s\n' "$e2e_out"
		summary=$(printf '%s\n' "$e2e_out" | tail -1)
		ep=$(printf '%s\n' "$summary" | grep -o '[0-9]* passed' | cut -d' ' -f1)
		ef=$(printf '%s\n' "$summary" | grep -o '[0-9]* failed' | cut -d' ' -f1)
		er=$(printf '%s\n' "$summary" | grep -o '[0-9]* error' | cut -d' ' -f1)
		es=$(printf '%s\n' "$summary" | grep -o '[0-9]* skipped' | cut -d' ' -f1)
		ep=${ep:-0}; ef=$(( ${ef:-0} + ${er:-0} )); es=${es:-0}
		[ $e2e_rc -eq 5 ] && e2e_rc=0   # no tests collected
		[ $e2e_rc -ne 0 ] && [ $ef -eq 0 ] && ef=1
	fi
fi
# kernels ARGS...: tests/kernels/run.sh ARGS, its counts added to kp, kf, ks.
kp=0 kf=0 ks=0 kernels_rc=0
kernels() {
	out=$(tests/kernels/run.sh "$@" 2>&1); rc=$?
	printf '%s\n' "$out"
	counts=$(printf '%s\n' "$out" | tail -1 |
		sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
	set -- $counts
	p=${1:-0} f=${2:-0} s=${3:-0}
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ $rc -ne 0 ] && kernels_rc=$rc
	kp=$((kp + p)) kf=$((kf + f)) ks=$((ks + s))
}
check_kernels=${CHECK_KERNELS:-6.1}
if [ "$check_kernels" != none ] && [ "$(id -u)" -eq 0 ]; then
	# shellcheck disable=SC2086
	kernels $check_kernels -- tests/e2e/test_process.py tests/e2e/test_network.py \
		tests/e2e/test_files.py tests/e2e/test_driverload.py
	# shellcheck disable=SC2086
	kernels --systemd $check_kernels
fi
echo "$((${up:-0} + ep + kp)) passed, $((${uf:-0} + ef + kf)) failed, $((${us:-0} + es + ks)) skipped"
[ $unit_rc -eq 0 ] && [ $e2e_rc -eq 0 ] && [ $kernels_rc -eq 0 ]
