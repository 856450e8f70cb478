// SPDX-License-Identifier: MIT
/*
 * memfd backend: anonymous shared memory from memfd_create().
 *
 * The embedded default: it works in any container, needs no privilege, and
 * its fds still pass between processes. The memory is ordinary page cache,
 * CPU-coherent, with no physical address. Each memfd is named after its
 * heap and use ("hbmem:ion_cma:com") so /proc/<pid>/fd and /proc/<pid>/maps
 * say what it is, and sealed once sized so that nobody holding the fd, in
 * this process or another, can shrink it under a mapping (SIGBUS) or grow
 * it past its heap charge.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hbmem_internal.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

static int memfd_open(const char *name)
{
	int fd;

	/* Older kernels reject MFD_NOEXEC_SEAL with EINVAL: retry without. */
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING |
				MFD_NOEXEC_SEAL);
	if (fd < 0 && errno == EINVAL)
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd < 0 ? -errno : fd;
}

int _hbmem_memfd_create(const char *label, uint64_t len, int *out)
{
	char name[64];
	int fd, ret;

	snprintf(name, sizeof(name), "hbmem:%s", label ? label : "buf");
	fd = memfd_open(name);
	if (fd < 0)
		return fd;
	if (ftruncate(fd, (off_t)len) < 0) {
		ret = -errno;
		goto err_close;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) <
	    0) {
		ret = -errno;
		goto err_close;
	}
	*out = fd;
	return 0;

err_close:
	close(fd);
	/* ftruncate past the tmpfs limit says EFBIG or ENOSPC: out of memory */
	return (ret == -EFBIG || ret == -ENOSPC) ? -ENOMEM : ret;
}

static int memfd_probe(void)
{
	int fd = memfd_open("hbmem:probe");

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int memfd_alloc(const struct hbmem_heap *heap, uint64_t len,
		       bool cached, const char *label, int *fd)
{
	char name[HB_MEM_HEAP_NAME_MAX + 32];

	(void)cached; /* page cache is always coherent */
	snprintf(name, sizeof(name), "%s:%s", heap->name, label);
	return _hbmem_memfd_create(name, len, fd);
}

const struct hbmem_backend hbmem_backend_memfd = {
	.name = "memfd",
	.caps = HB_MEM_BACKEND_CAP_COHERENT,
	.probe = memfd_probe,
	.alloc = memfd_alloc,
};
