// SPDX-License-Identifier: MIT
/*
 * hbmem kernel-driver backend: buffers from hbmem.ko.
 *
 * Allocation goes through the driver's heap nodes (/dev/dma_heap/<name>,
 * the standard dma-heap ioctl); everything dma-heap lacks goes through the
 * control device /dev/hbmem (include/uapi/linux/hbmem.h): global share
 * ids, import by share id, holder and consume counts and their waits,
 * holder pids, physical addresses. Sharing is therefore global: a
 * descriptor sent to another process imports there, and the counts are
 * the kernel's, across processes, with a dead process's holds dropped by
 * the kernel.
 *
 * Heaps: each hbmem heap takes the driver heap of the same name ("uncache"
 * also answers to "ion_uncache"); ion_cma falls back to the driver's page
 * heap when the driver has no heap of that name. Capacities are the
 * driver's. The control fd and the heap nodes are opened when the heaps
 * are read and closed at the last module close, so the process's fd count
 * does not move while the module is open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "linux/hbmem.h"

#define HBMEM_CTL "/dev/hbmem"
#define DMA_HEAP_DIR "/dev/dma_heap/"
#define MAX_NODES 16

static int ctl_fd = -1;
static struct {
	char name[HB_MEM_HEAP_NAME_MAX];
	int fd;
} nodes[MAX_NODES];
static int nnodes;

static int ioctl_retry(int fd, unsigned long req, void *arg)
{
	while (ioctl(fd, req, arg) < 0) {
		if (errno != EINTR && errno != EAGAIN)
			return -errno;
	}
	return 0;
}

static int ctl_version(int fd, struct hbmem_version *v)
{
	memset(v, 0, sizeof(*v));
	return ioctl_retry(fd, HBMEM_IOC_VERSION, v);
}

/*
 * 0 when at least one of the driver's heap nodes opens: allocation goes
 * through them, so with /dev/hbmem usable but no node (not created, or
 * not ours to open) the backend could allocate nothing. Else why not.
 */
static int any_node_opens(int ctl, uint32_t count)
{
	char path[sizeof(DMA_HEAP_DIR) + HB_MEM_HEAP_NAME_MAX];
	int fd, ret = -ENODEV;
	uint32_t i;

	for (i = 0; i < count && i < MAX_NODES; i++) {
		struct hbmem_heap_info info = { .index = i };

		ret = ioctl_retry(ctl, HBMEM_IOC_HEAP_QUERY, &info);
		if (ret < 0)
			return ret;
		snprintf(path, sizeof(path), DMA_HEAP_DIR "%.*s",
			 (int)sizeof(info.name), info.name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		ret = -errno;
	}
	return ret;
}

static int hbmem_probe(void)
{
	struct hbmem_version v;
	int fd, ret;

	fd = open(HBMEM_CTL, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ctl_version(fd, &v);
	if (ret == 0 && v.major != HBMEM_VERSION_MAJOR) {
		hbmem_err_log(HBMEM_CTL " speaks version %u, we need %u",
			      v.major, HBMEM_VERSION_MAJOR);
		ret = -EPROTO;
	}
	if (ret == 0)
		ret = any_node_opens(fd, v.heap_count);
	close(fd);
	return ret;
}

static void set_heap(struct hbmem_heap *h, const struct hbmem_heap_info *d)
{
	snprintf(h->node, sizeof(h->node), "%s", d->name);
	h->capacity = d->size;
	h->attrs = HB_MEM_HEAP_ATTR_ZEROED;
	h->attrs |= d->attrs & HBMEM_HEAP_ATTR_CACHED ? HB_MEM_HEAP_ATTR_CACHEABLE
						      : HB_MEM_HEAP_ATTR_UNCACHED;
	if (d->attrs & HBMEM_HEAP_ATTR_CONTIGUOUS)
		h->attrs |= HB_MEM_HEAP_ATTR_CONTIGUOUS;
}

static int node_fd(const char *name)
{
	char path[sizeof(DMA_HEAP_DIR) + HB_MEM_HEAP_NAME_MAX];
	int i, fd;

	for (i = 0; i < nnodes; i++)
		if (!strcmp(nodes[i].name, name))
			return nodes[i].fd;
	snprintf(path, sizeof(path), DMA_HEAP_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (nnodes < MAX_NODES) {
		snprintf(nodes[nnodes].name, sizeof(nodes[0].name), "%s", name);
		nodes[nnodes++].fd = fd;
	}
	return fd;
}

static int hbmem_heaps(struct hbmem_heap *heaps, int count)
{
	struct hbmem_heap_info info[MAX_NODES], *page_heap = NULL;
	struct hbmem_version v;
	int i, j, n, ret;

	ctl_fd = open(HBMEM_CTL, O_RDWR | O_CLOEXEC);
	if (ctl_fd < 0)
		return -errno;
	ret = ctl_version(ctl_fd, &v);
	if (ret < 0)
		return ret;
	n = v.heap_count < MAX_NODES ? (int)v.heap_count : MAX_NODES;
	for (i = 0; i < n; i++) {
		memset(&info[i], 0, sizeof(info[i]));
		info[i].index = (uint32_t)i;
		ret = ioctl_retry(ctl_fd, HBMEM_IOC_HEAP_QUERY, &info[i]);
		if (ret < 0)
			return ret;
		if (!page_heap && info[i].type == HBMEM_HEAP_TYPE_PAGES)
			page_heap = &info[i];
	}
	for (j = 0; j < count; j++) {
		struct hbmem_heap *h = &heaps[j];

		h->capacity = 0;
		for (i = 0; i < n; i++) {
			if (!strcmp(info[i].name, h->name) ||
			    (!strcmp(h->name, "uncache") &&
			     !strcmp(info[i].name, "ion_uncache"))) {
				set_heap(h, &info[i]);
				break;
			}
		}
		if (i == n && !strcmp(h->name, "ion_cma") && page_heap)
			set_heap(h, page_heap);
		/* open the node now: the fd count stays put while open */
		if (h->capacity && node_fd(h->node) < 0)
			h->capacity = 0;
	}
	return 0;
}

static int hbmem_alloc(const struct hbmem_heap *heap, uint64_t len,
		       bool cached, const char *label, int *out)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};
	int fd = node_fd(heap->node), ret;

	(void)cached;	/* the heap decides; its attributes say which */
	(void)label;
	if (fd < 0)
		return fd == -ENOENT ? -ENOMEM : fd;
	ret = ioctl_retry(fd, DMA_HEAP_IOCTL_ALLOC, &data);
	if (ret == 0)
		*out = (int)data.fd;
	return ret;
}

static void hbmem_shutdown(void)
{
	while (nnodes > 0)
		close(nodes[--nnodes].fd);
	if (ctl_fd >= 0)
		close(ctl_fd);
	ctl_fd = -1;
}

static int hbmem_phys(int fd, uint64_t *phys)
{
	struct hbmem_phys p = { .ref.fd = (uint32_t)fd };
	int ret = ioctl_retry(ctl_fd, HBMEM_IOC_PHYS, &p);

	if (ret == 0)
		*phys = p.phys;
	return ret;
}

static int hbmem_share_info(int fd, int32_t *id, uint64_t *len, uint64_t *off)
{
	struct hbmem_buf_info info = { .fd = (uint32_t)fd };
	int ret = ioctl_retry(ctl_fd, HBMEM_IOC_BUF_INFO, &info);

	if (ret == 0) {
		*id = (int32_t)info.share_id;
		*len = info.size;
		*off = info.offset;
	}
	return ret;
}

static int hbmem_share_import_phys(uint64_t phys, uint64_t len, int *fd)
{
	struct hbmem_import imp = {
		.flags = HBMEM_IMPORT_BY_PHYS,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.offset = phys,
		.len = len,
	};
	int ret = ioctl_retry(ctl_fd, HBMEM_IOC_IMPORT, &imp);

	if (ret == 0)
		*fd = (int)imp.fd;
	return ret;
}

static int hbmem_share_import(int32_t id, uint64_t off, uint64_t len, int *fd)
{
	struct hbmem_import imp = {
		.share_id = (uint32_t)id,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.offset = off,
		.len = len,
	};
	int ret = ioctl_retry(ctl_fd, HBMEM_IOC_IMPORT, &imp);

	if (ret == 0)
		*fd = (int)imp.fd;
	return ret;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int hbmem_share_count(int fd, enum hbmem_count_kind kind, bool wait,
			     int32_t target, int64_t timeout_ms, int32_t *count)
{
	struct hbmem_count c;
	unsigned long req;
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;

	if (kind == HBMEM_COUNT_CLIENTS)
		req = wait ? HBMEM_IOC_SHARE_COUNT_WAIT
			   : HBMEM_IOC_SHARE_COUNT_GET;
	else
		req = wait ? HBMEM_IOC_CONSUME_WAIT : HBMEM_IOC_CONSUME_GET;
	for (;;) {
		memset(&c, 0, sizeof(c));
		c.ref.fd = (uint32_t)fd;
		if (wait) {
			c.target = (uint32_t)target;
			c.timeout_ms = (uint64_t)timeout_ms;
		}
		if (ioctl(ctl_fd, req, &c) == 0)
			break;
		if (errno != EINTR)
			return -errno;
		/* a signal: wait again for what is left of the time */
		if (timeout_ms > 0) {
			timeout_ms = deadline - now_ms();
			if (timeout_ms <= 0)
				return -ETIMEDOUT;
		}
	}
	if (count)
		*count = (int32_t)c.count;
	return 0;
}

static int hbmem_share_consume(int fd, int delta)
{
	struct hbmem_count c = { .ref.fd = (uint32_t)fd };

	return ioctl_retry(ctl_fd, delta > 0 ? HBMEM_IOC_CONSUME_INC
					     : HBMEM_IOC_CONSUME_DEC,
			   &c);
}

static int hbmem_share_pids(int32_t id, int32_t *pids, int32_t num,
			    int32_t *total)
{
	struct hbmem_pids p = {
		.ref.share_id = (uint32_t)id,
		.ref.flags = HBMEM_REF_BY_SHARE_ID,
	};
	uint32_t i;
	int ret = ioctl_retry(ctl_fd, HBMEM_IOC_PIDS, &p);

	if (ret < 0)
		return ret;
	for (i = 0; i < p.count && (int32_t)i < num; i++)
		pids[i] = (int32_t)p.pids[i];
	*total = (int32_t)p.total;
	return 0;
}

const struct hbmem_backend hbmem_backend_hbmem = {
	.name = "hbmem",
	.caps = HB_MEM_BACKEND_CAP_DMABUF | HB_MEM_BACKEND_CAP_PHYS,
	.probe = hbmem_probe,
	.alloc = hbmem_alloc,
	.sync = _hbmem_dmabuf_sync,
	.phys = hbmem_phys,
	.shutdown = hbmem_shutdown,
	.heaps = hbmem_heaps,
	.share_info = hbmem_share_info,
	.share_import = hbmem_share_import,
	.share_import_phys = hbmem_share_import_phys,
	.share_count = hbmem_share_count,
	.share_consume = hbmem_share_consume,
	.share_pids = hbmem_share_pids,
};
