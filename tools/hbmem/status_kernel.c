// SPDX-License-Identifier: MIT
/*
 * `hbmem status` from the kernel driver: heaps from HBMEM_IOC_HEAP_QUERY,
 * buffers by walking HBMEM_IOC_BUF_NEXT (driver 1.1 and later) with their
 * holders from HBMEM_IOC_PIDS. Everything is a snapshot: a buffer freed
 * during the walk is simply not listed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "linux/hbmem.h"
#include "status.h"

#define MAX_HEAPS 64

static int ctl_ioctl(int fd, unsigned long req, void *arg)
{
	while (ioctl(fd, req, arg) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int read_heaps(int ctl, struct hbmem_status *st, uint32_t count,
		      char names[][HBMEM_HEAP_NAME_LEN])
{
	uint32_t i;
	int ret;

	for (i = 0; i < count; i++) {
		struct hbmem_heap_info info = { .index = i };
		struct status_heap *h;

		ret = ctl_ioctl(ctl, HBMEM_IOC_HEAP_QUERY, &info);
		if (ret < 0)
			return ret;
		h = status_add_heap(st);
		if (!h)
			return -ENOMEM;
		snprintf(h->name, sizeof(h->name), "%s", info.name);
		snprintf(names[i], HBMEM_HEAP_NAME_LEN, "%s", info.name);
		h->capacity = (int64_t)info.size;
		h->used = (int64_t)(info.size - info.free);
		/* a page heap has no fragmentation; a carveout may */
		h->largest_free = info.type == HBMEM_HEAP_TYPE_PAGES ?
				  (int64_t)info.free : -1;
		h->buffers = 0;
	}
	return 0;
}

static int read_bufs(int ctl, struct hbmem_status *st, uint32_t nheaps,
		     char names[][HBMEM_HEAP_NAME_LEN])
{
	struct hbmem_buf_next n = { 0 };
	uint32_t last = 0;
	int ret;

	for (;;) {
		struct hbmem_pids p = { 0 };
		struct status_buf *b;
		uint32_t i;

		memset(&n, 0, sizeof(n));
		n.share_id = last;
		ret = ctl_ioctl(ctl, HBMEM_IOC_BUF_NEXT, &n);
		if (ret == -ENOENT)
			return 0;
		if (ret < 0)
			return ret;
		last = n.share_id;

		b = status_add_buf(st);
		if (!b)
			return -ENOMEM;
		b->share_id = (int32_t)n.share_id;
		if (n.heap_index < nheaps) {
			snprintf(b->heap, sizeof(b->heap), "%s",
				 names[n.heap_index]);
			st->heaps[n.heap_index].buffers++;
		}
		b->size = (int64_t)n.size;
		b->clients = (int32_t)n.clients;
		b->consume = (int32_t)n.consume;
		b->npids = -1;
		p.ref.share_id = n.share_id;
		p.ref.flags = HBMEM_REF_BY_SHARE_ID;
		if (ctl_ioctl(ctl, HBMEM_IOC_PIDS, &p) == 0) {
			b->npids = (int32_t)p.total;
			for (i = 0; i < p.count && i < STATUS_MAX_PIDS; i++)
				b->pids[i] = (int32_t)p.pids[i];
		}
	}
}

int status_from_kernel(struct hbmem_status *st)
{
	char names[MAX_HEAPS][HBMEM_HEAP_NAME_LEN];
	struct hbmem_version v = { 0 };
	int ctl, ret;

	ctl = open("/dev/hbmem", O_RDONLY | O_CLOEXEC);
	if (ctl < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	ret = ctl_ioctl(ctl, HBMEM_IOC_VERSION, &v);
	if (ret < 0)
		goto out;
	if (v.major != HBMEM_VERSION_MAJOR) {
		ret = -EPROTO;
		goto out;
	}
	snprintf(st->source, sizeof(st->source), "hbmem.ko %u.%u",
		 v.major, v.minor);
	if (v.heap_count > MAX_HEAPS)
		v.heap_count = MAX_HEAPS;
	ret = read_heaps(ctl, st, v.heap_count, names);
	if (ret < 0)
		goto out;
	/* the walk came with 1.1; an older driver shows heaps only */
	if (v.minor >= 1)
		ret = read_bufs(ctl, st, v.heap_count, names);
out:
	close(ctl);
	return ret;
}
