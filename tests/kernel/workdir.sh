# SPDX-License-Identifier: GPL-2.0
# Sourced by the kernel test scripts: where builds and guest files are
# cached. The guest sees the host's / but mounts its own /tmp and /run, so
# the cache must live elsewhere when the source tree is under those.
hbmem_work_root() {
	if [ -n "${HBMEM_GUEST_WORK:-}" ]; then
		echo "$HBMEM_GUEST_WORK"
		return
	fi
	case "$1/" in
	/tmp/*|/run/*|/dev/*|/proc/*|/sys/*) echo /var/tmp/hbmem-guest-work ;;
	*) echo "$1/tests/kernel/work" ;;
	esac
}
