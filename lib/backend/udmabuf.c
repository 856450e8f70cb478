// SPDX-License-Identifier: MIT
/*
 * udmabuf backend: a memfd turned into a real dma-buf by /dev/udmabuf.
 *
 * The memory is the same page cache as the memfd backend, but the fd the
 * library hands out is a dma-buf, so V4L2 and DRM drivers can import it.
 * The memfd itself is closed once the dma-buf holds its pages; the kernel
 * requires F_SEAL_SHRINK on it, which _hbmem_memfd_create() sets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/udmabuf.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdio.h>

#include "hbmem_internal.h"

#define UDMABUF_DEV "/dev/udmabuf"

static int udmabuf_probe(void)
{
	int fd = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int udmabuf_alloc(const struct hbmem_heap *heap, uint64_t len,
			 bool cached, const char *label, int *out)
{
	struct udmabuf_create create = { 0 };
	char name[HB_MEM_HEAP_NAME_MAX + 32];
	int dev, memfd, fd, ret;

	(void)cached;
	snprintf(name, sizeof(name), "%s:%s", heap->name, label);
	ret = _hbmem_memfd_create(name, len, &memfd);
	if (ret < 0)
		return ret;
	dev = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		ret = -errno;
		goto out_close_memfd;
	}
	create.memfd = (uint32_t)memfd;
	create.flags = UDMABUF_FLAGS_CLOEXEC;
	create.offset = 0;
	create.size = len;
	fd = ioctl(dev, UDMABUF_CREATE, &create);
	ret = fd < 0 ? -errno : 0;
	close(dev);
	if (fd >= 0)
		*out = fd;
out_close_memfd:
	/* the dma-buf holds the pages now; the memfd fd is not needed */
	close(memfd);
	return ret;
}

const struct hbmem_backend hbmem_backend_udmabuf = {
	.name = "udmabuf",
	.caps = HB_MEM_BACKEND_CAP_DMABUF,
	.probe = udmabuf_probe,
	.alloc = udmabuf_alloc,
	.sync = _hbmem_dmabuf_sync,
};
