#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-lib-in-guest.sh TEST-PROGRAM... - the library suite inside the QEMU
# guest, on the backend $LIB_BACKEND names: hbmem (the kernel driver, the
# default) or dma-heap (the driver's heap nodes through the generic
# dma-heap backend). One line per program, PASS or FAIL, then a summary;
# exits 0 only if every program passed. The guest sees the host read-only,
# so the programs run directly, not through meson.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -gt 0 ] || { echo "usage: $0 TEST-PROGRAM..." >&2; exit 2; }

export HBMEM_CONFIG="$here/../lib/empty.conf"
export HBMEM_LOG=error
# software emulation is slow: the stress test does a fiftieth of its work
export HBMEM_STRESS_SCALE=50
export HBMEM_GUEST_ENV="${HBMEM_GUEST_ENV:-} G_DEBUG"
export G_DEBUG=fatal-warnings
backend=${LIB_BACKEND:-hbmem}
case $backend in hbmem|dma-heap) ;; *) echo "bad LIB_BACKEND $backend" >&2; exit 2 ;; esac
export HBMEM_LIB_BACKEND=$backend

script='
fail=0; pass=0
for t in "$@"; do
	name=$(basename "$t")
	if out=$(HBMEM_BACKEND=$HBMEM_LIB_BACKEND "$t" 2>&1); then
		echo "PASS lib-on-$HBMEM_LIB_BACKEND/$name"; pass=$((pass + 1))
	else
		echo "FAIL lib-on-$HBMEM_LIB_BACKEND/$name"
		echo "$out" | grep -E "^not ok|Bail out|ERROR" | head -5 | sed "s/^/    /"
		fail=$((fail + 1))
	fi
done
echo "lib-on-$HBMEM_LIB_BACKEND: $pass passed, $fail failed"
[ $fail -eq 0 ]'

exec "$here/run-in-guest.sh" --timeout 900 -- sh -c "$script" sh "$@"
