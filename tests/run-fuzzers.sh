#!/bin/sh
# Run each libFuzzer target (arguments after the first) for SECONDS (the
# first argument) over its seed corpus fuzz/corpus/<target>, copied into
# build/ so that new inputs never land in the source tree.  A target passes
# if it ran its time without a crash, leak or timeout; the last line is
# "fuzz: N passed, N failed, 0 skipped" over the targets (none is skipped).
seconds=$1; shift
passed=0 failed=0
for f in "$@"; do
	name=$(basename "$f")
	work=build/fuzz/corpus-$name
	mkdir -p "$work"
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
	echo "== $name: $seconds s"
	"$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	     -artifact_prefix=build/fuzz/ "$work" > "build/fuzz/$name.log" 2>&1; rc=$?
	tail -15 "build/fuzz/$name.log"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		echo "$name: exited with status $rc (build/fuzz/$name.log)"
		failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
