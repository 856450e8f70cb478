// SPDX-License-Identifier: MIT
/*
 * dma-heap backend: buffers from /dev/dma_heap/<name>.
 *
 * A heap node named exactly like the hbmem heap ("ion_cma", "carveout",
 * as the hbmem kernel driver registers them; "ion_uncache" for uncache)
 * serves that heap. Otherwise the kernel's generic heaps do: "system" for
 * cacheable requests, "system-uncached" (where it exists) for the others,
 * then any CMA heap. With no node at all, the heap counts as full.
 * Heap nodes are opened once and kept, CLOEXEC.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hbmem_internal.h"

#define DMA_HEAP_DIR "/dev/dma_heap/"

struct dmaheap_node {
	char name[HB_MEM_HEAP_NAME_MAX];
	int fd;
};

/* Called under hbmem_lock, so the cache needs no lock of its own. */
static struct dmaheap_node dmaheap_nodes[16];
static int dmaheap_nnodes;

static int dmaheap_open(const char *name)
{
	char path[sizeof(DMA_HEAP_DIR) + HB_MEM_HEAP_NAME_MAX];
	int i, fd;

	for (i = 0; i < dmaheap_nnodes; i++)
		if (!strcmp(dmaheap_nodes[i].name, name))
			return dmaheap_nodes[i].fd;
	snprintf(path, sizeof(path), DMA_HEAP_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (dmaheap_nnodes < (int)(sizeof(dmaheap_nodes) /
				   sizeof(dmaheap_nodes[0]))) {
		snprintf(dmaheap_nodes[dmaheap_nnodes].name,
			 sizeof(dmaheap_nodes[0].name), "%s", name);
		dmaheap_nodes[dmaheap_nnodes++].fd = fd;
	}
	return fd;
}

static int dmaheap_pick(const struct hbmem_heap *heap, bool cached)
{
	static const char *const cached_order[] = {
		"system", "linux,cma", "reserved", "default_cma_region",
	};
	static const char *const uncached_order[] = {
		"system-uncached", "system", "linux,cma", "reserved",
		"default_cma_region",
	};
	const char *const *order = cached ? cached_order : uncached_order;
	size_t n = cached ? 4 : 5, i;
	int fd;

	fd = dmaheap_open(heap->node);
	if (fd >= 0)
		return fd;
	/* the S600 name of the uncached heap */
	if (!strcmp(heap->name, "uncache")) {
		fd = dmaheap_open("ion_uncache");
		if (fd >= 0)
			return fd;
	}
	for (i = 0; i < n; i++) {
		fd = dmaheap_open(order[i]);
		if (fd >= 0)
			return fd;
	}
	return -ENODEV;
}

/* Open every heap's node at module open, so the fd count stays put. */
static int dmaheap_heaps(struct hbmem_heap *heaps, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		dmaheap_pick(&heaps[i], true);
		dmaheap_pick(&heaps[i], false);
	}
	return 0;
}

/*
 * Usable when one of the heaps alloc() falls back to opens: opened, not
 * access()ed, since a node can look readable and still refuse open (a
 * /dev mounted nodev, a node with no driver behind it), and a backend
 * chosen on such a node would fail every allocation.
 */
static int dmaheap_probe(void)
{
	static const char *const any[] = {
		"ion_cma", "system", "linux,cma", "reserved",
		"default_cma_region",
	};
	char path[sizeof(DMA_HEAP_DIR) + HB_MEM_HEAP_NAME_MAX];
	int fd, ret = -ENODEV;
	size_t i;

	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++) {
		snprintf(path, sizeof(path), DMA_HEAP_DIR "%s", any[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		/* say why a node that is there cannot be used */
		if (errno != ENOENT)
			ret = -errno;
	}
	return ret;
}

static int dmaheap_alloc(const struct hbmem_heap *heap, uint64_t len,
			 bool cached, const char *label, int *out)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int heap_fd;

	(void)label; /* dma-bufs are named by their exporter */
	heap_fd = dmaheap_pick(heap, cached);
	if (heap_fd < 0)
		return -ENOMEM;	/* no node serves this heap: it is full */
	while (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	*out = (int)data.fd;
	return 0;
}

static void dmaheap_shutdown(void)
{
	while (dmaheap_nnodes > 0)
		close(dmaheap_nodes[--dmaheap_nnodes].fd);
}

int _hbmem_dmabuf_sync(int fd, uint32_t flags)
{
	struct dma_buf_sync sync = { .flags = flags };

	while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

const struct hbmem_backend hbmem_backend_dmaheap = {
	.name = "dma-heap",
	.caps = HB_MEM_BACKEND_CAP_DMABUF,
	.probe = dmaheap_probe,
	.alloc = dmaheap_alloc,
	.sync = _hbmem_dmabuf_sync,
	.shutdown = dmaheap_shutdown,
	.heaps = dmaheap_heaps,
};
