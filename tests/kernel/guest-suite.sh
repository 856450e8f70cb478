#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-suite.sh BINDIR - run inside the guest by run-suite.sh: every
# kernel test program in order, their "PASS/FAIL/SKIP name" lines, and a
# summary line. Module unloading goes last: it takes the module away and
# brings it back.

bindir=${1:?usage: guest-suite.sh BINDIR}
programs="test_dma_heap test_hbmem_ctl test_drm_prime test_v4l2_dmabuf test_ioctl_storm test_module_unload"
pass=0 fail=0 skip=0

for prog in $programs; do
	if [ ! -x "$bindir/$prog" ]; then
		echo "SKIP $prog: not built"
		skip=$((skip + 1))
		continue
	fi
	out=/tmp/ktest-$prog.out
	start=$(date +%s)
	timeout -k 5 600 "$bindir/$prog" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if { [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ "$f" = 0 ]; } ||
	   { [ "$rc" = 0 ] && [ "$f" != 0 ]; }; then
		echo "FAIL $prog: exited with status $rc"
		fail=$((fail + 1))
	fi
	echo "# $prog: status $rc in $(( $(date +%s) - start ))s"
done

echo "kernel: $pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
