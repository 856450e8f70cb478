// SPDX-License-Identifier: MIT
/*
 * udmabuf backend: a memfd turned into a real dma-buf by /dev/udmabuf.
 *
 * The memory is the same page cache as the memfd backend, but the fd the
 * library hands out is a dma-buf, so V4L2 and DRM drivers can import it.
 * The memfd itself is closed once the dma-buf holds its pages; the kernel
 * requires F_SEAL_SHRINK on it, which _hbmem_memfd_create() sets.
 *
 * Two behaviours of the driver this backend answers (seen on Debian 12's
 * 6.12 kernel, where it is built in):
 *  - a buffer larger than the driver's size_limit_mb parameter (64 MiB by
 *    default; udmabuf.size_limit_mb= on the kernel command line) is refused
 *    with EINVAL. The limit is read at probe and a larger request fails
 *    before anything is made, as -ENOMEM (INSUFFICIENT_MEM: the heap
 *    fallback goes on), with one error message naming the parameter. A
 *    limit of 0 refuses every buffer, so the probe fails (the automatic
 *    choice goes on to memfd); the parameter is writable at run time, so
 *    an EINVAL is checked against the limit read again;
 *  - DMA_BUF_SYNC_END is refused (EINVAL) until a SYNC_START has made the
 *    buffer's DMA mapping. A flush is a lone END, so the first one is
 *    bracketed: START, then END, both in the same direction.
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
#define UDMABUF_LIMIT "/sys/module/udmabuf/parameters/size_limit_mb"

/* Bytes one buffer may have; 0: no limit known. Set at probe. */
static uint64_t size_limit;
static bool limit_told;

/*
 * The driver's size_limit_mb in bytes into *@limit (0 when unknown or
 * unlimited: the parameter is missing or negative), or -ENOSPC when it is
 * 0: the driver then refuses every buffer.
 */
static int read_size_limit(uint64_t *limit)
{
	FILE *f = fopen(UDMABUF_LIMIT, "re");
	long long mb;
	int n;

	*limit = 0;
	if (!f)
		return 0;
	n = fscanf(f, "%lld", &mb);
	fclose(f);
	if (n != 1)
		return 0;
	if (mb == 0)
		return -ENOSPC;
	if (mb > 0 && mb < (1ll << 40))
		*limit = (uint64_t)mb << 20;
	return 0;
}

static int udmabuf_probe(void)
{
	int fd = open(UDMABUF_DEV, O_RDWR | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return -errno;
	close(fd);
	ret = read_size_limit(&size_limit);
	if (ret < 0) {
		hbmem_debug("udmabuf makes no buffer: %s is 0", UDMABUF_LIMIT);
		return ret;
	}
	limit_told = false;
	return 0;
}

/* @len is over the driver's limit: say so once, and count it as no room. */
static int over_limit(uint64_t len)
{
	if (!__atomic_exchange_n(&limit_told, true, __ATOMIC_RELAXED))
		hbmem_err_log("udmabuf makes buffers of at most %llu MiB (%s); "
			      "asked for %llu bytes",
			      (unsigned long long)(size_limit >> 20),
			      UDMABUF_LIMIT, (unsigned long long)len);
	return -ENOMEM;
}

/*
 * The driver refused @len with EINVAL: when its limit was lowered since
 * the probe (the parameter is writable at run time) and @len is now over
 * it, that is no room (-ENOMEM), not a bad request.
 */
static int refused(uint64_t len)
{
	uint64_t limit;

	if (read_size_limit(&limit) < 0) {
		size_limit = 0;
		hbmem_err_log("udmabuf makes no buffer now: %s is 0",
			      UDMABUF_LIMIT);
		return -ENOMEM;
	}
	if (limit && len > limit) {
		size_limit = limit;
		return over_limit(len);
	}
	return -EINVAL;
}

static int udmabuf_alloc(const struct hbmem_heap *heap, uint64_t len,
			 bool cached, const char *label, int *out)
{
	struct udmabuf_create create = { 0 };
	char name[HB_MEM_HEAP_NAME_MAX + 32];
	int dev, memfd, fd, ret;

	(void)cached;
	if (size_limit && len > size_limit)
		return over_limit(len);
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
	if (ret == -EINVAL)
		ret = refused(len);
	if (fd >= 0)
		*out = fd;
out_close_memfd:
	/* the dma-buf holds the pages now; the memfd fd is not needed */
	close(memfd);
	return ret;
}

/*
 * DMA_BUF_IOCTL_SYNC, with a lone END that the driver refuses for want of
 * a mapping (EINVAL) retried after the START that makes it. Takes no fd.
 */
static int udmabuf_sync(int fd, uint32_t flags)
{
	int ret = _hbmem_dmabuf_sync(fd, flags);

	if (ret == -EINVAL && (flags & HBMEM_SYNC_END)) {
		ret = _hbmem_dmabuf_sync(fd, (flags & ~HBMEM_SYNC_END) |
						     HBMEM_SYNC_START);
		if (ret == 0)
			ret = _hbmem_dmabuf_sync(fd, flags);
	}
	return ret;
}

const struct hbmem_backend hbmem_backend_udmabuf = {
	.name = "udmabuf",
	.caps = HB_MEM_BACKEND_CAP_DMABUF,
	.probe = udmabuf_probe,
	.alloc = udmabuf_alloc,
	.sync = udmabuf_sync,
};
