#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh [HEAP-ARGS...] - build hbmem_bench and run it in the QEMU guest
# (tests/kernel/run-in-guest.sh) against the default board-like heaps.
# Arguments are passed to hbmem_bench (carveout heap, page heap).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCROOT=$(cd "$HERE/../.." && pwd)
. "$SRCROOT/tests/kernel/workdir.sh"
WORK=$(hbmem_work_root "$SRCROOT")
mkdir -p "$WORK/bin"
gcc -O2 -g -Wall -Wextra -I"$SRCROOT/include/uapi" -o "$WORK/bin/hbmem_bench" \
	"$HERE/hbmem_bench.c"
exec "$SRCROOT/tests/kernel/run-in-guest.sh" --timeout 900 -- "$WORK/bin/hbmem_bench" "$@"
