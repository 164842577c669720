#!/bin/sh
# Run each libFuzzer target (arguments after the first) for SECONDS (the
# first argument) over its seed corpus fuzz/corpus/<target>, copied into
# build/ so that new inputs never land in the source tree.
seconds=$1; shift
status=0
for f in "$@"; do
	name=$(basename "$f")
	work=build/fuzz/corpus-$name
	mkdir -p "$work"
	[ -d "fuzz/corpus/$name" ] && cp -r "fuzz/corpus/$name/." "$work/"
	echo "== $name: $seconds s"
	"$f" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	     -artifact_prefix=build/fuzz/ "$work" 2>&1 | tail -15 || status=1
done
exit $status
