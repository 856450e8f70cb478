// SPDX-License-Identifier: GPL-2.0
/*
 * dma-heap conformance of every /dev/dma_heap/<name> node hbmem creates:
 * the behaviours the kernel's own dma-heap core and its selftest pin.
 */
#include "ktest.h"

#include <dirent.h>
#include <sys/mman.h>

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;

/* Any dma-heap caller's struct, shorter or longer than today's. */
struct alloc_old {		/* before heap_flags existed: 16 bytes */
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
};

struct alloc_new {		/* a future one: 48 bytes */
	uint64_t len;
	uint32_t fd;
	uint32_t fd_flags;
	uint64_t heap_flags;
	uint64_t garbage[3];
};

#define ALLOC_OLD _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct alloc_old)
#define ALLOC_NEW _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct alloc_new)

static int fill_check(int fd, size_t len, unsigned char set,
		      unsigned char expect)
{
	unsigned char *p;
	size_t i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (ktest_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW))
		goto fail;
	for (i = 0; i < len; i++) {
		if (p[i] != expect)
			goto fail;
	}
	memset(p, set, len);
	if (ktest_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW))
		goto fail;
	munmap(p, len);
	return 0;
fail:
	munmap(p, len);
	return -EIO;
}

static int test_alloc_mmap_sync_roundtrip(void *arg)
{
	const struct kheap *h = arg;
	const size_t len = 1 << 20;
	unsigned char *p;
	int fd, fl;

	fd = ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	KTEST_CHECK(ktest_dmabuf_size(fd) == (int64_t)len,
		    "lseek(SEEK_END) gives %lld", (long long)ktest_dmabuf_size(fd));
	fl = fcntl(fd, F_GETFD);
	KTEST_CHECK(fl & FD_CLOEXEC, "O_CLOEXEC was not applied to the fd");

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	KTEST_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	KTEST_CHECK(!ktest_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW),
		    "SYNC_START failed");
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + 3);
	KTEST_CHECK(!ktest_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW),
		    "SYNC_END failed");
	munmap(p, len);

	/* A second mapping sees what the first wrote. */
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	KTEST_CHECK(p != MAP_FAILED, "second mmap: %s", strerror(errno));
	KTEST_CHECK(!ktest_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ),
		    "SYNC_START read failed");
	for (size_t i = 0; i < len; i++)
		KTEST_CHECK(p[i] == (unsigned char)(i * 7 + 3),
			    "byte %zu reads %u", i, p[i]);
	ktest_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
	munmap(p, len);
	close(fd);
	return KTEST_PASS;
}

static int test_len_is_rounded_up_to_pages(void *arg)
{
	const struct kheap *h = arg;
	long page = sysconf(_SC_PAGESIZE);
	int fd;

	fd = ktest_heap_alloc_path(h->path, 1, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc of 1 byte: %s", strerror(-fd));
	KTEST_CHECK(ktest_dmabuf_size(fd) == page, "size is %lld, not a page",
		    (long long)ktest_dmabuf_size(fd));
	close(fd);
	return KTEST_PASS;
}

static int reused_read_zero(const struct kheap *h, size_t len)
{
	int fds[32], i, ret;

	for (i = 0; i < 32; i++) {
		fds[i] = ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(fds[i] >= 0, "alloc %d: %s", i, strerror(-fds[i]));
		ret = fill_check(fds[i], len, 0xff, 0);
		KTEST_CHECK(!ret, "first round buffer %d not zero or not writable", i);
	}
	for (i = 0; i < 32; i++)
		close(fds[i]);
	for (i = 0; i < 32; i++) {
		fds[i] = ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(fds[i] >= 0, "realloc %d: %s", i, strerror(-fds[i]));
		ret = fill_check(fds[i], len, 0xff, 0);
		KTEST_CHECK(!ret, "reused buffer %d does not read back zero", i);
	}
	for (i = 0; i < 32; i++)
		close(fds[i]);
	return KTEST_PASS;
}

static int test_reused_4k_buffers_read_zero(void *arg)
{
	return reused_read_zero(arg, 4096);
}

static int test_reused_1m_buffers_read_zero(void *arg)
{
	return reused_read_zero(arg, 1 << 20);
}

static int test_rejects_bad_requests(void *arg)
{
	const struct kheap *h = arg;
	struct dma_heap_allocation_data d;
	int hfd;

	hfd = open(h->path, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(hfd >= 0, "open %s: %s", h->path, strerror(errno));

	memset(&d, 0, sizeof(d));
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == EINVAL,
		    "len 0 not rejected with EINVAL");

	d = (struct dma_heap_allocation_data){ .len = 4096,
					       .fd_flags = ~(O_RDWR | O_CLOEXEC) };
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == EINVAL,
		    "unknown fd_flags not rejected");

	d = (struct dma_heap_allocation_data){ .len = 4096, .fd_flags = O_RDWR,
					       .heap_flags = 0x111111 };
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == EINVAL,
		    "heap_flags not rejected");

	d = (struct dma_heap_allocation_data){ .len = 4096, .fd = 5,
					       .fd_flags = O_RDWR };
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == EINVAL,
		    "non-zero fd on input not rejected");

	d = (struct dma_heap_allocation_data){ .len = UINT64_MAX,
					       .fd_flags = O_RDWR };
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == EINVAL,
		    "len that overflows page rounding not rejected");

	d = (struct dma_heap_allocation_data){ .len = 1ULL << 50,
					       .fd_flags = O_RDWR };
	KTEST_CHECK(ioctl(hfd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == ENOMEM,
		    "1 PiB not refused with ENOMEM (%s)", strerror(errno));

	KTEST_CHECK(ioctl(hfd, _IOWR(DMA_HEAP_IOC_MAGIC, 0x1, d), &d) &&
		    errno == ENOTTY, "unknown ioctl number not ENOTTY");

	/* An ioctl to something that is not a heap. */
	d = (struct dma_heap_allocation_data){ .len = 4096, .fd_flags = O_RDWR };
	KTEST_CHECK(ioctl(0, DMA_HEAP_IOCTL_ALLOC, &d), "fd 0 accepted");
	close(hfd);
	return KTEST_PASS;
}

static int test_accepts_older_and_newer_structs(void *arg)
{
	const struct kheap *h = arg;
	struct alloc_old o = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC };
	struct alloc_new n = { .len = 4096, .fd_flags = O_RDWR | O_CLOEXEC,
			       .garbage = { 1, 2, 3 } };
	int hfd;

	hfd = open(h->path, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(hfd >= 0, "open: %s", strerror(errno));
	KTEST_CHECK(!ioctl(hfd, ALLOC_OLD, &o), "16-byte struct refused: %s",
		    strerror(errno));
	KTEST_CHECK(ktest_dmabuf_size(o.fd) == 4096, "16-byte alloc: bad fd");
	close(o.fd);
	KTEST_CHECK(!ioctl(hfd, ALLOC_NEW, &n), "48-byte struct refused: %s",
		    strerror(errno));
	KTEST_CHECK(ktest_dmabuf_size(n.fd) == 4096, "48-byte alloc: bad fd");
	KTEST_CHECK(n.garbage[0] == 1 && n.garbage[2] == 3,
		    "the tail of a larger struct was not left as it was");
	close(n.fd);
	close(hfd);
	return KTEST_PASS;
}

static int test_mmap_honours_offset_and_size(void *arg)
{
	const struct kheap *h = arg;
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p, *q;
	int fd, i;

	fd = ktest_heap_alloc_path(h->path, 8 * page, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	p = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	KTEST_CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
	for (i = 0; i < 8; i++)
		memset(p + i * page, 0x10 + i, page);
	q = mmap(NULL, 3 * page, PROT_READ, MAP_SHARED, fd, 5 * page);
	KTEST_CHECK(q != MAP_FAILED, "mmap at page 5: %s", strerror(errno));
	for (i = 0; i < 3; i++)
		KTEST_CHECK(q[i * page] == 0x15 + i && q[i * page + page - 1] == 0x15 + i,
			    "page %d of the offset mapping reads %#x", i, q[i * page]);
	munmap(q, 3 * page);
	q = mmap(NULL, 4 * page, PROT_READ, MAP_SHARED, fd, 5 * page);
	KTEST_CHECK(q == MAP_FAILED, "a mapping past the end was allowed");
	munmap(p, 8 * page);
	close(fd);
	return KTEST_PASS;
}

static int test_sync_rejects_bad_flags(void *arg)
{
	const struct kheap *h = arg;
	struct dma_buf_sync s = { .flags = 0x100 };
	int fd;

	fd = ktest_heap_alloc_path(h->path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	KTEST_CHECK(ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) && errno == EINVAL,
		    "unknown sync flag accepted");
	s.flags = DMA_BUF_SYNC_START;
	KTEST_CHECK(ioctl(fd, DMA_BUF_IOCTL_SYNC, &s) && errno == EINVAL,
		    "sync without READ or WRITE accepted");
	close(fd);
	return KTEST_PASS;
}

static int test_full_heap_says_enomem_and_recovers(void *arg)
{
	const struct kheap *h = arg;
	struct kheap now[KTEST_MAX_HEAPS];
	uint64_t chunk = h->info.size / 4;
	int fds[8], n = 0, fd, i;

	if (h->info.type != HBMEM_HEAP_TYPE_CARVEOUT) {
		long ram = sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);

		/* Filling a page heap is safe only if a limit keeps RAM free. */
		if (h->info.size > (uint64_t)ram / 2)
			return ktest_skip("the page heap has no limit below half the RAM");
	}
	fd = ktest_heap_alloc_path(h->path, h->info.size + 4096, O_RDWR);
	KTEST_CHECK(fd == -ENOMEM, "more than the heap: %d", fd);
	while (n < 8) {
		fd = ktest_heap_alloc_path(h->path, chunk, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			break;
		fds[n++] = fd;
	}
	KTEST_CHECK(n == 4 && fd == -ENOMEM,
		    "expected 4 quarters then ENOMEM, got %d then %d", n, fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	KTEST_CHECK(ktest_heaps(now, KTEST_MAX_HEAPS) > (int)h->info.index,
		    "heap query failed");
	KTEST_CHECK(now[h->info.index].info.free == h->info.size ||
		    (h->info.type == HBMEM_HEAP_TYPE_PAGES &&
		     now[h->info.index].info.free >= h->info.free),
		    "free is %llu of %llu after every buffer was closed",
		    (unsigned long long)now[h->info.index].info.free,
		    (unsigned long long)h->info.size);
	return KTEST_PASS;
}

static int test_every_heap_node_is_a_hbmem_heap(void *arg)
{
	struct dirent *de;
	int found = 0, i;
	DIR *d;

	(void)arg;
	d = opendir("/dev/dma_heap");
	KTEST_CHECK(d, "no /dev/dma_heap: %s", strerror(errno));
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		for (i = 0; i < nheaps; i++) {
			if (!strcmp(heaps[i].info.name, de->d_name))
				found++;
		}
	}
	closedir(d);
	KTEST_CHECK(found == nheaps, "%d of %d heaps have a node", found, nheaps);
	return KTEST_PASS;
}

#define PER_HEAP(fn, what, tmo) { what, fn, NULL, tmo }

static const struct ktest per_heap[] = {
	PER_HEAP(test_alloc_mmap_sync_roundtrip, "alloc_mmap_sync_roundtrip", 0),
	PER_HEAP(test_len_is_rounded_up_to_pages, "len_is_rounded_up_to_pages", 0),
	PER_HEAP(test_reused_4k_buffers_read_zero, "reused_4k_buffers_read_zero", 0),
	PER_HEAP(test_reused_1m_buffers_read_zero, "reused_1m_buffers_read_zero", 120),
	PER_HEAP(test_rejects_bad_requests, "rejects_bad_len_flags_fd_and_ioctl", 0),
	PER_HEAP(test_accepts_older_and_newer_structs, "accepts_16_and_48_byte_structs", 0),
	PER_HEAP(test_mmap_honours_offset_and_size, "mmap_honours_offset_and_size", 0),
	PER_HEAP(test_sync_rejects_bad_flags, "sync_rejects_bad_flags", 0),
	PER_HEAP(test_full_heap_says_enomem_and_recovers, "full_heap_says_enomem_and_recovers", 120),
};

int main(void)
{
	struct ktest all[1 + KTEST_MAX_HEAPS * (sizeof(per_heap) / sizeof(per_heap[0]))];
	static char names[KTEST_MAX_HEAPS * 16][96];
	size_t n = 0, j;
	int i, k = 0;

	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP dma_heap: no hbmem module (/dev/hbmem: %s)\n",
		       strerror(errno));
		return 77;
	}
	all[n++] = (struct ktest){ "dma_heap/every_heap_has_a_node",
				   test_every_heap_node_is_a_hbmem_heap, NULL, 0 };
	for (i = 0; i < nheaps; i++) {
		for (j = 0; j < sizeof(per_heap) / sizeof(per_heap[0]); j++) {
			snprintf(names[k], sizeof(names[k]), "dma_heap/%s/%s",
				 heaps[i].info.name, per_heap[j].name);
			all[n] = per_heap[j];
			all[n].name = names[k++];
			all[n].arg = &heaps[i];
			n++;
		}
	}
	return ktest_main(all, n);
}
