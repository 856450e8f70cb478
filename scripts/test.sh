#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian 12 as root:
# installs what it needs, builds with warnings as errors, runs every suite,
# then the library, sharing, tools and GStreamer suites again under
# ASan+UBSan (and the driver and V4L2 guest tests), the threaded parts
# under TSan, and the library, allocator, sharing and GStreamer (in and
# across processes) suites under valgrind.
# Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh all || exit 1

status=0
builds=()

logs=()

run() { # run <build-dir> <log-name> [--setup NAME] <meson test args...>
	local dir=$1 log=$2 file; shift 2
	# meson names the log <logbase>-<setup>.json under a test setup
	file=$log
	[ "${1:-}" = --setup ] && file=$log-$2
	rm -f "$dir/meson-logs/$file.json"
	meson test -C "$dir" --print-errorlogs --logbase "$log" "$@" || status=1
	logs+=("$dir/meson-logs/$file.json")
}

setup() { # setup <build-dir> <meson setup args...>
	local dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi && ninja -C "$dir" || { echo "build failed: $dir" >&2; exit 1; }
}

# A broker started by a sanitized test writes its reports here; any line
# in it fails the run (the broker's stderr is otherwise /dev/null).
broker_clean() { # broker_clean <file>
	sleep 3	# brokers exit two seconds after their last client
	if [ -s "$1" ]; then
		echo "hbmemd reported errors ($1):" >&2
		head -40 "$1" >&2
		status=1
	fi
}

echo "== build (gcc, -Werror)"
setup build-ci -Dwerror=true
echo "== all suites"
run build-ci testlog --num-processes 2

echo "== ASan+UBSan"
setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbench=false
rm -f build-asan/broker-stderr.log
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
HBMEM_BROKER_STDERR=$PWD/build-asan/broker-stderr.log \
	run build-asan testlog-asan --num-processes 2 \
	--suite lib --suite alloc --suite install --suite share \
	--suite tools --suite gst --suite gst-ipc
broker_clean build-asan/broker-stderr.log
echo "== ASan+UBSan: the driver's suite, GStreamer and V4L2 in the QEMU guest"
run build-asan testlog-asan-v4l2 kernel-suite kernel-gst-v4l2
unset ASAN_OPTIONS UBSAN_OPTIONS

echo "== TSan: the threaded parts (pool, queue, share pool, broker client)"
setup build-tsan -Dwerror=true -Db_sanitize=thread -Db_lundef=false \
	-Dbench=false -Dexamples=false -Dgst=disabled
TSAN_OPTIONS=halt_on_error=1 \
	run build-tsan testlog-tsan --num-processes 2 \
	test-pool test-queue test-queue-sides test-queue-sides-fenced \
	test-stress test-sharepool test-sharepool-broker test-broker

echo "== valgrind memcheck"
rm -f build-ci/broker-stderr.log
HBMEM_BROKER_STDERR=$PWD/build-ci/broker-stderr.log \
	run build-ci testlog --setup valgrind --num-processes 2 \
	--suite lib --suite alloc --suite share --suite gst --suite gst-ipc
broker_clean build-ci/broker-stderr.log

# One line for the record, counted from meson's own test logs.
python3 - "${logs[@]}" <<'PY' || status=1
import json, sys
count = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        count["failed"] += 1
        print(f"missing test log {path}", file=sys.stderr)
        continue
    for line in lines:
        r = json.loads(line).get("result")
        key = {"OK": "passed", "EXPECTEDFAIL": "passed",
               "SKIP": "skipped"}.get(r, "failed")
        count[key] += 1
print(f"{count['passed']} passed, {count['failed']} failed, "
      f"{count['skipped']} skipped")
sys.exit(1 if count["failed"] else 0)
PY
exit $status
