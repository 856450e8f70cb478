#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Build the fuzz targets (build.sh) and run each one for a bounded time.
#
#   tests/fuzz/run.sh OUTDIR [RUNS] [SECONDS]
#
# Each target runs until RUNS inputs (default 20000) or SECONDS (default
# 20) have passed, on its corpus under OUTDIR/corpus/<target>, which
# grows from run to run. Any crash, sanitizer report or broken invariant
# fails the run and leaves the input in OUTDIR/crash-*. Exit 77 (skip) when
# clang or libFuzzer is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: run.sh OUTDIR [RUNS] [SECONDS]}
runs=${2:-20000}
secs=${3:-20}

"$here/build.sh" "$out"
rc=$?
[ $rc -eq 0 ] || exit $rc

export HBMEM_CONFIG="$here/../lib/empty.conf"
export HBMEM_AUTOSPAWN=0
export HBMEM_LOG=none
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"

status=0
for t in $(cat "$out/targets"); do
	mkdir -p "$out/corpus/$t"
	echo "fuzz: $t: up to $runs inputs or ${secs}s"
	if ! "$out/$t" -runs="$runs" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=1024 -max_len=2048 -len_control=0 -artifact_prefix="$out/crash-$t-" \
		-print_final_stats=1 "$out/corpus/$t" >"$out/$t.log" 2>&1; then
		echo "fuzz: $t FAILED; its log:"
		tail -n 40 "$out/$t.log"
		status=1
	else
		grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)" \
			"$out/$t.log" | tail -n 2
	fi
done
exit $status
