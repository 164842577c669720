#!/bin/sh
# Run every cmocka test program given as an argument; print each program's
# output, then each skipped test with its reason (the message the test
# printed before skip()), and, last, one summary line
# "unit: N passed, N failed, N skipped" over all of them.
# Exits non-zero if any test failed or any program crashed.
passed=0 failed=0 skipped=0 skips=""
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	printf '%s\n' "$out"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	skipped=$((skipped + ${s:-0}))
	# "[ RUN      ] name", what it printed, "[  SKIPPED ] name": one line each.
	skips="$skips$(printf '%s\n' "$out" | awk -v prog="$(basename "$t")" '
		/^\[ RUN      \] / { name = $4; why = ""; next }
		/^\[  SKIPPED \] / && $4 == name { printf "SKIPPED %s: %s: %s\n", prog, name, why == "" ? "no reason given" : why; name = ""; next }
		name != "" { sub(/^skipped: /, ""); why = why == "" ? $0 : why "; " $0 }')
"
	if [ $rc -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
		echo "$t: exited with status $rc"
		failed=$((failed + 1))
	fi
done
printf '%s' "$skips" | grep -v '^$'
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
