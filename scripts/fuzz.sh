#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Run the libFuzzer targets at length (the fuzz suite runs them briefly).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [OUTDIR]
#
# Defaults: 600 s per target, build-fuzz/ in the source tree. The corpora
# in OUTDIR/corpus/ grow from run to run; crashes are left as
# OUTDIR/crash-<target>-*, to replay with: OUTDIR/<target> <crash file>.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
out=${2:-$src/build-fuzz}
exec "$src/tests/fuzz/run.sh" "$out" 2000000000 "$secs"
