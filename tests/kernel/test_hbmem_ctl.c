// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/hbmem control interface: version, heap queries, share ids,
 * import (whole, partial, by physical address), share client counts,
 * consume counts, waits, pids and physical addresses.
 */
#include "ktest.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;
static const struct kheap *carveout;	/* a cached carveout */
static const struct kheap *pages;	/* the page heap */

static const struct kheap *any_heap(void)
{
	return carveout ? carveout : pages;
}

static int alloc_on(const struct kheap *h, size_t len)
{
	return ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int test_version_is_1_and_counts_heaps(void *arg)
{
	struct hbmem_version v;
	int ctl = ktest_ctl_open();

	(void)arg;
	KTEST_CHECK(ctl >= 0, "open /dev/hbmem: %s", strerror(errno));
	memset(&v, 0xff, sizeof(v));
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_VERSION, &v), "VERSION: %s", strerror(errno));
	KTEST_CHECK(v.major == 1 && v.minor >= 1 && v.heap_count == (uint32_t)nheaps && !v.reserved,
		    "version %u.%u, %u heaps", v.major, v.minor, v.heap_count);
	return KTEST_PASS;
}

static int test_heap_query_describes_heaps(void *arg)
{
	struct hbmem_heap_info info;
	int ctl = ktest_ctl_open(), i;

	(void)arg;
	for (i = 0; i < nheaps; i++) {
		const struct hbmem_heap_info *h = &heaps[i].info;

		KTEST_CHECK(access(heaps[i].path, R_OK | W_OK) == 0,
			    "no node %s", heaps[i].path);
		KTEST_CHECK(h->attrs & HBMEM_HEAP_ATTR_ZEROED, "%s not zeroed", h->name);
		KTEST_CHECK(h->free <= h->size && h->size, "%s: free %llu size %llu",
			    h->name, (unsigned long long)h->free,
			    (unsigned long long)h->size);
		if (h->type == HBMEM_HEAP_TYPE_CARVEOUT)
			KTEST_CHECK((h->attrs & HBMEM_HEAP_ATTR_CONTIGUOUS) &&
				    (h->attrs & HBMEM_HEAP_ATTR_PHYS) && h->base,
				    "carveout %s lacks contiguity, phys or base", h->name);
	}
	memset(&info, 0, sizeof(info));
	info.index = nheaps;
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_HEAP_QUERY, &info) && errno == ENOENT,
		    "index past the end not ENOENT");
	info.index = 0;
	info.reserved = 1;
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_HEAP_QUERY, &info) && errno == EINVAL,
		    "reserved field not checked");
	KTEST_CHECK(ioctl(ctl, _IOR(HBMEM_IOC_MAGIC, 63, struct hbmem_version), &info) &&
		    errno == ENOTTY, "unknown ioctl not ENOTTY");
	return KTEST_PASS;
}

static int test_buf_info_names_share_id_heap_and_size(void *arg)
{
	const struct kheap *h = any_heap();
	struct hbmem_buf_info a, b;
	int ctl = ktest_ctl_open(), fa, fb;

	(void)arg;
	fa = alloc_on(h, 3 * 4096);
	fb = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0 && fb >= 0, "alloc failed");
	KTEST_CHECK(!ktest_buf_info(ctl, fa, &a) && !ktest_buf_info(ctl, fb, &b),
		    "BUF_INFO: %s", strerror(errno));
	KTEST_CHECK(a.share_id && b.share_id && a.share_id != b.share_id,
		    "share ids %u and %u", a.share_id, b.share_id);
	KTEST_CHECK(a.size == 3 * 4096 && a.len == a.size && !a.offset,
		    "size %llu len %llu", (unsigned long long)a.size,
		    (unsigned long long)a.len);
	KTEST_CHECK(a.heap_index == h->info.index && a.attrs == h->info.attrs,
		    "heap %u attrs %#x", a.heap_index, a.attrs);
	return KTEST_PASS;
}

static int test_buf_info_rejects_foreign_fds(void *arg)
{
	struct hbmem_buf_info i;
	int ctl = ktest_ctl_open(), efd;

	(void)arg;
	efd = eventfd(0, EFD_CLOEXEC);
	KTEST_CHECK(ktest_buf_info(ctl, efd, &i) == -EINVAL, "eventfd not EINVAL");
	KTEST_CHECK(ktest_buf_info(ctl, ctl, &i) == -EINVAL, "/dev/hbmem fd not EINVAL");
	KTEST_CHECK(ktest_buf_info(ctl, 999, &i) == -EBADF, "closed fd not EBADF");
	KTEST_CHECK(ktest_buf_info(ctl, -1, &i) == -EBADF, "fd -1 not EBADF");
	return KTEST_PASS;
}

static int test_import_shares_memory_and_counts_clients(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fb, n;
	struct hbmem_buf_info a, b;
	unsigned char *pa, *pb;

	(void)arg;
	fa = alloc_on(h, 64 * 1024);
	KTEST_CHECK(fa >= 0, "alloc: %s", strerror(-fa));
	KTEST_CHECK(!ktest_buf_info(ctl, fa, &a), "BUF_INFO failed");
	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, fa, 0, 0);
	KTEST_CHECK(n == 1, "share count after alloc is %d", n);

	fb = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(fb >= 0, "import: %s", strerror(-fb));
	KTEST_CHECK(!ktest_buf_info(ctl, fb, &b) && b.share_id == a.share_id &&
		    b.len == a.size, "import is a different buffer");
	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, fa, 0, 0);
	KTEST_CHECK(n == 2, "share count after import is %d", n);

	pa = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	pb = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fb, 0);
	KTEST_CHECK(pa != MAP_FAILED && pb != MAP_FAILED, "mmap failed");
	strcpy((char *)pa + 1000, "written through the allocator's fd");
	KTEST_CHECK(!strcmp((char *)pb + 1000, "written through the allocator's fd"),
		    "the import does not see the allocator's data");
	munmap(pb, 65536);

	/* A dup is the same handle, and mapping keeps a handle alive. */
	n = dup(fb);
	close(fb);
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, fa, 0, 0) == 2,
		    "closing a dup'd fd dropped the handle");
	close(n);
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, fa, 0, 0) == 1,
		    "share count after the import's release is not 1");

	/* The allocator may go first; the memory stays with the importer. */
	fb = ktest_import(ctl, a.share_id, 0, 0);
	close(fa);
	pb = mmap(NULL, 65536, PROT_READ, MAP_SHARED, fb, 0);
	KTEST_CHECK(pb != MAP_FAILED && !strcmp((char *)pb + 1000,
						"written through the allocator's fd"),
		    "data lost when the allocator closed first");
	munmap(pa, 65536);
	munmap(pb, 65536);
	close(fb);
	KTEST_CHECK(ktest_import(ctl, a.share_id, 0, 0) == -ENOENT,
		    "importing a freed buffer did not give ENOENT");
	return KTEST_PASS;
}

static int test_partial_import_maps_the_sub_range(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fp, i;
	struct hbmem_buf_info a, p;
	unsigned char *pa, *pp;

	(void)arg;
	fa = alloc_on(h, 8 * 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	pa = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	KTEST_CHECK(pa != MAP_FAILED, "mmap: %s", strerror(errno));
	for (i = 0; i < 8; i++)
		memset(pa + i * 4096, 'a' + i, 4096);

	fp = ktest_import(ctl, a.share_id, 3 * 4096, 2 * 4096);
	KTEST_CHECK(fp >= 0, "partial import: %s", strerror(-fp));
	KTEST_CHECK(ktest_dmabuf_size(fp) == 2 * 4096, "partial import size %lld",
		    (long long)ktest_dmabuf_size(fp));
	KTEST_CHECK(!ktest_buf_info(ctl, fp, &p) && p.offset == 3 * 4096 &&
		    p.len == 2 * 4096 && p.size == 8 * 4096, "BUF_INFO of the part");
	pp = mmap(NULL, 2 * 4096, PROT_READ, MAP_SHARED, fp, 0);
	KTEST_CHECK(pp != MAP_FAILED, "mmap of the part: %s", strerror(errno));
	KTEST_CHECK(pp[0] == 'd' && pp[4096] == 'e' && pp[8191] == 'e',
		    "the part maps the wrong pages (%c %c)", pp[0], pp[4096]);
	KTEST_CHECK(mmap(NULL, 3 * 4096, PROT_READ, MAP_SHARED, fp, 0) == MAP_FAILED,
		    "mapping beyond the part allowed");

	KTEST_CHECK(ktest_import(ctl, a.share_id, 100, 4096) == -EINVAL,
		    "unaligned offset accepted");
	KTEST_CHECK(ktest_import(ctl, a.share_id, 0, 100) == -EINVAL,
		    "unaligned len accepted");
	KTEST_CHECK(ktest_import(ctl, a.share_id, 7 * 4096, 2 * 4096) == -EINVAL,
		    "range past the end accepted");
	KTEST_CHECK(ktest_import(ctl, a.share_id, 4096, 0) == -EINVAL,
		    "empty range accepted");
	KTEST_CHECK(ktest_import(ctl, a.share_id, UINT64_MAX & ~4095ULL, 8192) == -EINVAL,
		    "overflowing range accepted");
	KTEST_CHECK(ktest_import(ctl, 0, 0, 0) == -ENOENT, "share id 0 found");
	KTEST_CHECK(ktest_import(ctl, 0x7fffffff, 0, 0) == -ENOENT, "unknown id found");
	return KTEST_PASS;
}

static int test_import_validates_flags_and_fd(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa;
	struct hbmem_buf_info a;
	struct hbmem_import imp;

	(void)arg;
	fa = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	imp = (struct hbmem_import){ .share_id = a.share_id, .fd_flags = O_RDWR,
				     .flags = 0x80 };
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_IMPORT, &imp) && errno == EINVAL,
		    "unknown import flag accepted");
	imp = (struct hbmem_import){ .share_id = a.share_id, .fd_flags = O_TRUNC };
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_IMPORT, &imp) && errno == EINVAL,
		    "bad fd_flags accepted");
	imp = (struct hbmem_import){ .share_id = a.share_id, .fd = 3 };
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_IMPORT, &imp) && errno == EINVAL,
		    "non-zero fd on input accepted");
	imp = (struct hbmem_import){ .share_id = a.share_id, .fd_flags = O_RDWR };
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_IMPORT, &imp), "import without CLOEXEC");
	KTEST_CHECK(!(fcntl(imp.fd, F_GETFD) & FD_CLOEXEC), "CLOEXEC set unasked");
	return KTEST_PASS;
}

static int test_share_count_wait_times_out_and_wakes(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fb, n, status;
	struct hbmem_buf_info a;
	int64_t t0;
	pid_t pid;

	(void)arg;
	fa = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	fb = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(fb >= 0, "import failed");

	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_WAIT, fa, 1, 0);
	KTEST_CHECK(n == -ETIMEDOUT, "poll with 2 clients gave %d", n);
	t0 = now_ms();
	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_WAIT, fa, 1, 200);
	KTEST_CHECK(n == -ETIMEDOUT && now_ms() - t0 >= 190,
		    "200 ms wait gave %d after %lld ms", n, (long long)(now_ms() - t0));
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_WAIT, fa, 2, 0) == 2,
		    "wait for a count already reached did not return at once");

	/* A child holds the import and lets go after 300 ms. */
	pid = fork();
	if (pid == 0) {
		usleep(300 * 1000);
		close(fb);
		_exit(0);
	}
	close(fb);
	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_WAIT, fa, 1, 10000);
	KTEST_CHECK(n == 1, "timed wait did not wake on release: %d", n);
	waitpid(pid, &status, 0);

	/* Waiting for ever, woken by a child process that exits. */
	fb = ktest_import(ctl, a.share_id, 0, 0);
	pid = fork();
	if (pid == 0) {
		usleep(200 * 1000);
		_exit(0);
	}
	close(fb);
	fb = -1;
	pid = fork();
	if (pid == 0) {
		int fc = ktest_import(ctl, a.share_id, 0, 0);

		(void)fc;
		usleep(300 * 1000);
		_exit(0);	/* the import goes with the process */
	}
	usleep(100 * 1000);
	n = ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_WAIT, fa, 1, -1);
	KTEST_CHECK(n == 1, "endless wait did not wake on process exit: %d", n);
	while (wait(&status) > 0)
		;
	return KTEST_PASS;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int test_wait_is_interrupted_by_signals(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, n;
	struct sigaction sa = { .sa_handler = on_alarm };

	(void)arg;
	fa = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0, "alloc failed");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fa, 0, 0) == 1, "inc");
	sigaction(SIGUSR1, &sa, NULL);
	if (fork() == 0) {
		usleep(200 * 1000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	n = ktest_count(ctl, HBMEM_IOC_CONSUME_WAIT, fa, 0, -1);
	KTEST_CHECK(n == -EINTR, "signal during an endless wait gave %d", n);
	return KTEST_PASS;
}

static int test_consume_count_inc_dec_and_clamp(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fb, n;
	struct hbmem_buf_info a;

	(void)arg;
	fa = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_GET, fa, 0, 0) == 0,
		    "fresh buffer has a consume count");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_DEC, fa, 0, 0) == 0,
		    "dec at 0 did not stay 0");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_DEC, fa, 0, 0) == 0,
		    "second dec at 0 did not stay 0");
	fb = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fb, 0, 0) == 1, "inc 1");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fb, 0, 0) == 2, "inc 2");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fa, 0, 0) == 3, "inc 3");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_GET, fa, 0, 0) == 3,
		    "count not shared between handles");
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_DEC, fa, 0, 0) == 2, "dec");
	n = ktest_count(ctl, HBMEM_IOC_CONSUME_WAIT, fa, 1, 0);
	KTEST_CHECK(n == -ETIMEDOUT, "wait poll at 2 for <= 1 gave %d", n);

	/* The import's two increments leave with it. */
	close(fb);
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_GET, fa, 0, 0) == 0,
		    "a released handle's consume count stayed");

	/* Consumer in another process: waits wake on its decrement. */
	fb = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fb, 0, 0) == 1, "inc");
	if (fork() == 0) {
		usleep(200 * 1000);
		ktest_count(ctl, HBMEM_IOC_CONSUME_DEC, fb, 0, 0);
		pause();
	}
	n = ktest_count(ctl, HBMEM_IOC_CONSUME_WAIT, fa, 0, 5000);
	KTEST_CHECK(n == 0, "consume wait did not wake: %d", n);

	/* By share id as well. */
	{
		struct hbmem_count c = { .ref = { .share_id = a.share_id,
						  .flags = HBMEM_REF_BY_SHARE_ID } };

		KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_CONSUME_INC, &c) && c.count == 1,
			    "inc by share id");
		c.ref.flags = 0x10 | HBMEM_REF_BY_SHARE_ID;
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_CONSUME_GET, &c) && errno == EINVAL,
			    "unknown ref flag accepted");
		c.ref.flags = HBMEM_REF_BY_SHARE_ID;
		c.target = 5;
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_CONSUME_GET, &c) && errno == EINVAL,
			    "target on a GET accepted");
	}
	return KTEST_PASS;
}

static int test_pids_lists_allocator_and_importers(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fb, p[2], status, i, seen = 0;
	struct hbmem_buf_info a;
	struct hbmem_pids pids;
	pid_t child;
	char c;

	(void)arg;
	fa = alloc_on(h, 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	fb = ktest_import(ctl, a.share_id, 0, 0);	/* same process: once */
	KTEST_CHECK(fb >= 0, "import");
	KTEST_CHECK(!pipe(p), "pipe");
	child = fork();
	if (child == 0) {
		int fc = ktest_import(ctl, a.share_id, 0, 0);

		c = fc >= 0 ? 'y' : 'n';
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	KTEST_CHECK(read(p[0], &c, 1) == 1 && c == 'y', "child import failed");

	memset(&pids, 0, sizeof(pids));
	pids.ref.fd = fa;
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_PIDS, &pids), "PIDS: %s", strerror(errno));
	KTEST_CHECK(pids.total == 2 && pids.count == 2, "total %u count %u",
		    pids.total, pids.count);
	for (i = 0; i < 2; i++)
		seen |= (pids.pids[i] == (uint32_t)getpid()) |
			(pids.pids[i] == (uint32_t)child) << 1;
	KTEST_CHECK(seen == 3, "pids %u %u, expected %d and %d", pids.pids[0],
		    pids.pids[1], getpid(), child);

	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	memset(&pids, 0, sizeof(pids));
	pids.ref.share_id = a.share_id;
	pids.ref.flags = HBMEM_REF_BY_SHARE_ID;
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_PIDS, &pids) && pids.total == 1 &&
		    pids.pids[0] == (uint32_t)getpid(),
		    "after the child died: total %u", pids.total);
	return KTEST_PASS;
}

static int test_phys_for_root_on_carveouts_only(void *arg)
{
	int ctl = ktest_ctl_open(), fa, fp;
	struct hbmem_phys ph;
	struct hbmem_buf_info a;
	unsigned char *pa, *pp;

	(void)arg;
	if (!carveout)
		return ktest_skip("no cached carveout heap");
	fa = alloc_on(carveout, 4 * 4096);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	memset(&ph, 0, sizeof(ph));
	ph.ref.fd = fa;
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_PHYS, &ph), "PHYS: %s", strerror(errno));
	KTEST_CHECK(ph.len == 4 * 4096 && ph.phys >= carveout->info.base &&
		    ph.phys + ph.len <= carveout->info.base + carveout->info.size,
		    "phys %#llx len %llu outside the heap",
		    (unsigned long long)ph.phys, (unsigned long long)ph.len);

	/* Import by physical address: the vendor's partial sharing. */
	pa = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fa, 0);
	KTEST_CHECK(pa != MAP_FAILED, "mmap");
	pa[2 * 4096] = 0x5a;
	{
		struct hbmem_import imp = { .flags = HBMEM_IMPORT_BY_PHYS,
					    .fd_flags = O_RDWR | O_CLOEXEC,
					    .offset = ph.phys + 2 * 4096,
					    .len = 4096 };

		KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_IMPORT, &imp), "import by phys: %s",
			    strerror(errno));
		fp = imp.fd;
		pp = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fp, 0);
		KTEST_CHECK(pp != MAP_FAILED && pp[0] == 0x5a,
			    "import by phys maps the wrong page");
		imp = (struct hbmem_import){ .flags = HBMEM_IMPORT_BY_PHYS,
					     .fd_flags = O_RDWR,
					     .offset = ph.phys + 2 * 4096,
					     .len = 3 * 4096 };
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_IMPORT, &imp) && errno == ENOENT,
			    "import by phys beyond the buffer allowed");
	}

	if (pages) {
		int fq = alloc_on(pages, 4096);

		memset(&ph, 0, sizeof(ph));
		ph.ref.fd = fq;
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_PHYS, &ph) && errno == EINVAL,
			    "page heap buffer got a physical address");
	}

	/* Without CAP_SYS_ADMIN (and allow_phys off) the answer is EPERM. */
	if (fork() == 0) {
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		memset(&ph, 0, sizeof(ph));
		ph.ref.fd = fa;
		_exit(ioctl(ctl, HBMEM_IOC_PHYS, &ph) && errno == EPERM ? 0 : 1);
	} else {
		int status;

		wait(&status);
		KTEST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			    "an unprivileged caller was not refused (status %d)",
			    status);
	}
	return KTEST_PASS;
}

/* Walk every live buffer; return the entry for @share_id in *@out. */
static int walk_find(int ctl, uint32_t share_id, struct hbmem_buf_next *out,
		     int *seen)
{
	struct hbmem_buf_next n = { 0 };
	uint32_t last = 0;
	int found = 0;

	*seen = 0;
	while (!ioctl(ctl, HBMEM_IOC_BUF_NEXT, &n)) {
		if (n.share_id <= last)
			return -EINVAL;		/* must strictly increase */
		last = n.share_id;
		(*seen)++;
		if (n.share_id == share_id) {
			*out = n;
			found = 1;
		}
		memset(&n, 0, sizeof(n));
		n.share_id = last;
	}
	if (errno != ENOENT)
		return -errno;
	return found;
}

static int test_buf_next_walks_live_buffers(void *arg)
{
	const struct kheap *h = any_heap();
	int ctl = ktest_ctl_open(), fa, fb, fi, seen, seen2;
	struct hbmem_buf_info a, b;
	struct hbmem_buf_next n;

	(void)arg;
	fa = alloc_on(h, 3 * 4096);
	fb = alloc_on(h, 5 * 4096);
	KTEST_CHECK(fa >= 0 && fb >= 0, "alloc failed");
	KTEST_CHECK(!ktest_buf_info(ctl, fa, &a) && !ktest_buf_info(ctl, fb, &b),
		    "BUF_INFO failed");
	fi = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(fi >= 0, "import: %s", strerror(-fi));
	KTEST_CHECK(ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fa, 0, 0) == 1,
		    "CONSUME_INC failed");

	KTEST_CHECK(walk_find(ctl, a.share_id, &n, &seen) == 1,
		    "buffer %u not in the walk", a.share_id);
	KTEST_CHECK(n.size == 3 * 4096 && n.clients == 2 && n.consume == 1 &&
		    n.heap_index == h->info.index && !n.reserved,
		    "entry: size %llu clients %u consume %u heap %u",
		    (unsigned long long)n.size, n.clients, n.consume,
		    n.heap_index);
	KTEST_CHECK(walk_find(ctl, b.share_id, &n, &seen) == 1 &&
		    n.size == 5 * 4096 && n.clients == 1 && !n.consume,
		    "second buffer entry wrong");

	/* the last handle gone, the buffer leaves the walk */
	close(fb);
	KTEST_CHECK(walk_find(ctl, b.share_id, &n, &seen2) == 0,
		    "freed buffer %u still walked", b.share_id);
	KTEST_CHECK(seen2 == seen - 1, "walk saw %d then %d", seen, seen2);

	/* bad input */
	memset(&n, 0, sizeof(n));
	n.reserved = 1;
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_BUF_NEXT, &n) && errno == EINVAL,
		    "reserved field not checked");
	memset(&n, 0, sizeof(n));
	n.share_id = UINT32_MAX;
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_BUF_NEXT, &n) && errno == ENOENT,
		    "past the last id not ENOENT");
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_BUF_NEXT, NULL) && errno == EFAULT,
		    "NULL argument not EFAULT");

	close(fi);
	close(fa);
	KTEST_CHECK(walk_find(ctl, a.share_id, &n, &seen) == 0,
		    "freed buffer %u still walked", a.share_id);
	return KTEST_PASS;
}

/* HEAP_QUERY for heap @index; 0 or -errno. */
static int heap_query(int ctl, uint32_t index, struct hbmem_heap_info *info)
{
	memset(info, 0, sizeof(*info));
	info->index = index;
	return ioctl(ctl, HBMEM_IOC_HEAP_QUERY, info) ? -errno : 0;
}

/*
 * A waiter holds a buffer for its counts, not as a handle: when the last
 * handle goes the buffer dies at once, whoever waits on it. Its memory is
 * back in the heap, its share id is unknown (no import brings it back)
 * and a consume wait that nothing can satisfy any more ends with ENOENT.
 */
static int test_buffer_dies_with_last_handle_despite_waiters(void *arg)
{
	struct hbmem_count c;
	struct hbmem_heap_info before, after;
	struct hbmem_buf_info a;
	int ctl = ktest_ctl_open(), fa, fi, p[2], status, n;
	int64_t t0;
	pid_t child;
	char ch;

	(void)arg;
	if (!carveout)
		return ktest_skip("no cached carveout heap");
	KTEST_CHECK(!heap_query(ctl, carveout->info.index, &before), "HEAP_QUERY");
	fa = alloc_on(carveout, 1 << 20);
	KTEST_CHECK(fa >= 0 && !ktest_buf_info(ctl, fa, &a), "alloc failed");
	memset(&c, 0, sizeof(c));
	c.ref.share_id = a.share_id;
	c.ref.flags = HBMEM_REF_BY_SHARE_ID;
	KTEST_CHECK(!ioctl(ctl, HBMEM_IOC_CONSUME_INC, &c) && c.count == 1,
		    "CONSUME_INC by share id: %s", strerror(errno));

	KTEST_CHECK(!pipe(p), "pipe");
	child = fork();
	if (child == 0) {
		close(fa);
		c.target = 0;
		c.timeout_ms = 5000;
		ch = 'w';
		if (write(p[1], &ch, 1) != 1)
			_exit(3);
		if (!ioctl(ctl, HBMEM_IOC_CONSUME_WAIT, &c))
			_exit(2);
		_exit(errno == ENOENT ? 0 : errno == ETIMEDOUT ? 1 : 2);
	}
	KTEST_CHECK(read(p[0], &ch, 1) == 1, "child did not start");
	usleep(300 * 1000);	/* the child is asleep in its wait */
	t0 = now_ms();
	close(fa);

	fi = ktest_import(ctl, a.share_id, 0, 0);
	KTEST_CHECK(fi == -ENOENT,
		    "the buffer came back by share id after its last handle closed (%d)",
		    fi);
	memset(&c, 0, sizeof(c));
	c.ref.share_id = a.share_id;
	c.ref.flags = HBMEM_REF_BY_SHARE_ID;
	KTEST_CHECK(ioctl(ctl, HBMEM_IOC_SHARE_COUNT_GET, &c) && errno == ENOENT,
		    "a dead buffer's share id still answers (count %u)", c.count);
	KTEST_CHECK(!heap_query(ctl, carveout->info.index, &after), "HEAP_QUERY");
	KTEST_CHECK(after.free == before.free,
		    "a waiter keeps the memory: free %llu, %llu before the alloc",
		    (unsigned long long)after.free,
		    (unsigned long long)before.free);

	while ((n = waitpid(child, &status, 0)) < 0 && errno == EINTR)
		;
	KTEST_CHECK(n == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the consume wait on the dead buffer did not end with ENOENT (status %#x)",
		    status);
	KTEST_CHECK(now_ms() - t0 < 4000, "the wait ended only after %lld ms",
		    (long long)(now_ms() - t0));
	return KTEST_PASS;
}

static const struct ktest tests[] = {
	KTEST("ctl/version_is_1_and_counts_heaps", test_version_is_1_and_counts_heaps),
	KTEST("ctl/heap_query_describes_every_heap", test_heap_query_describes_heaps),
	KTEST("ctl/buf_info_names_share_id_heap_and_size", test_buf_info_names_share_id_heap_and_size),
	KTEST("ctl/buf_info_rejects_foreign_fds", test_buf_info_rejects_foreign_fds),
	KTEST("ctl/import_shares_memory_and_counts_clients", test_import_shares_memory_and_counts_clients),
	KTEST("ctl/partial_import_maps_only_the_sub_range", test_partial_import_maps_the_sub_range),
	KTEST("ctl/import_validates_flags_and_fd", test_import_validates_flags_and_fd),
	KTEST("ctl/share_count_wait_times_out_and_wakes_on_release", test_share_count_wait_times_out_and_wakes),
	KTEST("ctl/waits_are_interrupted_by_signals", test_wait_is_interrupted_by_signals),
	KTEST("ctl/consume_count_inc_dec_clamps_and_leaves_with_handle", test_consume_count_inc_dec_and_clamp),
	KTEST("ctl/pids_lists_allocator_and_importer_processes", test_pids_lists_allocator_and_importers),
	KTEST("ctl/phys_for_root_on_carveouts_only", test_phys_for_root_on_carveouts_only),
	KTEST("ctl/buf_next_walks_live_buffers", test_buf_next_walks_live_buffers),
	KTEST("ctl/buffer_dies_with_last_handle_despite_waiters",
	      test_buffer_dies_with_last_handle_despite_waiters),
};

int main(void)
{
	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP ctl: no hbmem module (/dev/hbmem: %s)\n", strerror(errno));
		return 77;
	}
	carveout = ktest_heap_find(heaps, nheaps, HBMEM_HEAP_TYPE_CARVEOUT,
				   HBMEM_HEAP_ATTR_CACHED, 0);
	pages = ktest_heap_find(heaps, nheaps, HBMEM_HEAP_TYPE_PAGES, 0, 0);
	return ktest_main(tests, sizeof(tests) / sizeof(tests[0]));
}
