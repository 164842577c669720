#!/bin/sh
# Every test of the project: the cmocka unit tests (arguments), then the
# end-to-end tests under tests/e2e (pytest, real kernel, as root).  Skipped
# tests are listed with their reasons (pytest -rs, run-unit.sh's SKIPPED
# lines).  Ends with one line "N passed, N failed, N skipped" over both.
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
echo "$((${up:-0} + ep)) passed, $((${uf:-0} + ef)) failed, $((${us:-0} + es)) skipped"
[ $unit_rc -eq 0 ] && [ $e2e_rc -eq 0 ]
