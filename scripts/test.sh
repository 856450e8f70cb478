#!/usr/bin/env bash
# The whole test suite, as CI runs it, on a fresh Debian 12 as root:
# installs what it needs, builds with warnings as errors, runs every suite,
# then the library suites again under ASan+UBSan and under valgrind.
# Ends with one line: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh all || exit 1

status=0
builds=()

logs=()

run() { # run <build-dir> [--setup NAME] <meson test args...>
	local dir=$1; shift
	local log=testlog.json
	[ "${1:-}" = --setup ] && log=testlog-$2.json
	rm -f "$dir/meson-logs/$log"
	meson test -C "$dir" --print-errorlogs "$@" || status=1
	logs+=("$dir/meson-logs/$log")
}

setup() { # setup <build-dir> <meson setup args...>
	local dir=$1; shift
	if [ -d "$dir" ]; then
		meson setup --reconfigure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi && ninja -C "$dir" || { echo "build failed: $dir" >&2; exit 1; }
}

echo "== build (gcc, -Werror)"
setup build-ci -Dwerror=true
echo "== all suites"
run build-ci --num-processes 2

echo "== ASan+UBSan"
setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dbench=false
ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	run build-asan --suite lib --suite alloc --suite install --num-processes 2

echo "== valgrind memcheck"
run build-ci --setup valgrind --suite lib --num-processes 2

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
