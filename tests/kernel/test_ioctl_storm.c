// SPDX-License-Identifier: GPL-2.0
/*
 * Robustness: storms of malformed ioctls on /dev/hbmem and the heap
 * devices (random numbers, sizes, flags, fds and pointers, overflowing
 * ranges, ioctls sent to the wrong device, fds of other kinds), and a
 * multi-process allocate / import-by-share-id / free stress. The kernel
 * must refuse what is wrong without a WARN or Oops (the harness checks the
 * guest log) and leave every heap whole afterwards.
 */
#include "ktest.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static struct kheap heaps[KTEST_MAX_HEAPS];
static int nheaps;

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64*: repeatable from the fixed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void on_tick(int sig)
{
	(void)sig;
}

/* Interrupt any wait the storm manages to start, every 20 ms. */
static void start_ticker(void)
{
	struct sigaction sa = { .sa_handler = on_tick };
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

/* Close every fd from @first up, except @keep... (-1 terminated). */
static void close_from(int first, const int *keep)
{
	int fd, k, max = (int)sysconf(_SC_OPEN_MAX);

	if (max > 4096)
		max = 4096;
	for (fd = first; fd < max; fd++) {
		for (k = 0; keep[k] >= 0 && keep[k] != fd; k++)
			;
		if (keep[k] < 0)
			close(fd);
	}
}

struct storm_env {
	unsigned char *rw;	/* a writable page */
	unsigned char *ro;	/* a read-only page */
	unsigned char *gap;	/* an unmapped address */
	int fds[8];		/* assorted fds to plant into structs */
	int nfds;
};

static void storm_env_init(struct storm_env *e, int dmabuf)
{
	unsigned char *m;

	m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(m + 4096, 4096);
	mprotect(m + 2 * 4096, 4096, PROT_READ);
	e->rw = m;
	e->gap = m + 4096;
	e->ro = m + 2 * 4096;
	e->nfds = 0;
	e->fds[e->nfds++] = dmabuf;
	e->fds[e->nfds++] = eventfd(0, EFD_CLOEXEC);
	e->fds[e->nfds++] = open("/dev/null", O_RDWR | O_CLOEXEC);
	e->fds[e->nfds++] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e->fds[e->nfds++] = ktest_ctl_open();
	e->fds[e->nfds++] = 4095;
	e->fds[e->nfds++] = -1;
}

/* A random argument: a bad pointer, or the writable page full of noise. */
static void *storm_arg(struct storm_env *e, size_t size)
{
	unsigned int i;

	switch (rnd() % 8) {
	case 0:
		return NULL;
	case 1:
		return e->gap;
	case 2:
		return e->ro;
	case 3:
		/* Straddles the end of the writable page. */
		return e->rw + 4096 - (size ? size / 2 + 1 : 1);
	default:
		for (i = 0; i < 4096 / 8; i++)
			((uint64_t *)e->rw)[i] = rnd() % 4 ? rnd() % 64 : rnd();
		/* Plant real fds and plausible values where fds usually are. */
		((uint32_t *)e->rw)[0] = e->fds[rnd() % e->nfds];
		if (rnd() % 2)
			((uint32_t *)e->rw)[1] = rnd() % 8;
		if (rnd() % 2)
			((uint32_t *)e->rw)[2] = rnd() % 4;
		return e->rw;
	}
}

static unsigned int storm_size(void)
{
	static const unsigned int sizes[] = {
		0, 1, 8, 15, 16, 24, 32, 48, 56, 64, 72, 88, 128, 4096, 16383,
	};

	return sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
}

static unsigned long storm_cmd(unsigned int type)
{
	static const unsigned int dirs[] = {
		_IOC_NONE, _IOC_READ, _IOC_WRITE, _IOC_READ | _IOC_WRITE,
	};
	unsigned int size = storm_size();

	return _IOC(dirs[rnd() % 4], rnd() % 8 ? type : (unsigned int)rnd() % 256,
		    rnd() % 4 ? rnd() % 14 : rnd() % 256, size);
}

static int storm(int target, unsigned int type, int iterations, int dmabuf)
{
	struct storm_env e;
	int keep[16], base, i, n = 0;

	storm_env_init(&e, dmabuf);
	for (i = 0; i < e.nfds; i++)
		keep[n++] = e.fds[i];
	keep[n++] = target;
	keep[n] = -1;
	base = dup(0);
	close(base);
	start_ticker();

	for (i = 0; i < iterations; i++) {
		unsigned long cmd = storm_cmd(type);

		if (ioctl(target, cmd, storm_arg(&e, _IOC_SIZE(cmd))) >= 0 &&
		    i % 64 == 0)
			close_from(base, keep);
		if (i % 256 == 0)
			close_from(base, keep);
	}
	close_from(base, keep);
	return KTEST_PASS;
}

static int test_storm_on_control_device(void *arg)
{
	int ctl = ktest_ctl_open(), fd;

	(void)arg;
	KTEST_CHECK(ctl >= 0, "open /dev/hbmem: %s", strerror(errno));
	fd = ktest_heap_alloc_path(heaps[0].path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc: %s", strerror(-fd));
	return storm(ctl, HBMEM_IOC_MAGIC, 40000, fd);
}

static int test_storm_on_heap_devices(void *arg)
{
	int i, hfd, fd, ret = KTEST_PASS;

	(void)arg;
	for (i = 0; i < nheaps && ret == KTEST_PASS; i++) {
		hfd = open(heaps[i].path, O_RDWR | O_CLOEXEC);
		KTEST_CHECK(hfd >= 0, "open %s", heaps[i].path);
		fd = ktest_heap_alloc_fd(hfd, 4096, O_RDWR | O_CLOEXEC);
		ret = storm(hfd, DMA_HEAP_IOC_MAGIC, 6000, fd);
		close(fd);
		close(hfd);
	}
	return ret;
}

static int test_control_refuses_other_kinds_of_fd(void *arg)
{
	int ctl = ktest_ctl_open(), sv[2], p[2], fds[8], i, n = 0, r;
	struct hbmem_buf_info info;
	struct hbmem_pids pids;
	struct hbmem_phys ph;

	(void)arg;
	KTEST_CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sv) && !pipe(p), "setup");
	fds[n++] = eventfd(0, 0);
	fds[n++] = sv[0];
	fds[n++] = p[0];
	fds[n++] = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	fds[n++] = open("/dev/null", O_RDWR);
	fds[n++] = open("/", O_RDONLY | O_DIRECTORY);
	fds[n++] = open(heaps[0].path, O_RDWR);
	fds[n++] = open("/dev/hbmem", O_PATH);
	for (i = 0; i < n; i++) {
		KTEST_CHECK(fds[i] >= 0, "setup fd %d", i);
		r = ktest_buf_info(ctl, fds[i], &info);
		KTEST_CHECK(r == -EINVAL || r == -EBADF, "BUF_INFO took fd kind %d", i);
		r = ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fds[i], 0, 0);
		KTEST_CHECK(r == -EINVAL || r == -EBADF,
			    "CONSUME_INC took fd kind %d (%d)", i, r);
		memset(&pids, 0, sizeof(pids));
		pids.ref.fd = fds[i];
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_PIDS, &pids) &&
			    (errno == EINVAL || errno == EBADF), "PIDS took fd kind %d", i);
		memset(&ph, 0, sizeof(ph));
		ph.ref.fd = fds[i];
		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_PHYS, &ph) &&
			    (errno == EINVAL || errno == EBADF), "PHYS took fd kind %d", i);
	}
	return KTEST_PASS;
}

static int test_ioctls_sent_to_the_wrong_device_fail(void *arg)
{
	int ctl = ktest_ctl_open(), hfd, fd;
	struct dma_heap_allocation_data d = { .len = 4096, .fd_flags = O_RDWR };
	struct hbmem_version v;
	struct hbmem_buf_info info;
	struct dma_buf_sync s = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };

	(void)arg;
	hfd = open(heaps[0].path, O_RDWR | O_CLOEXEC);
	fd = ktest_heap_alloc_fd(hfd, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0, "alloc");
	KTEST_CHECK(ioctl(ctl, DMA_HEAP_IOCTL_ALLOC, &d) && errno == ENOTTY,
		    "/dev/hbmem allocated like a heap");
	KTEST_CHECK(ioctl(ctl, DMA_BUF_IOCTL_SYNC, &s) && errno == ENOTTY,
		    "/dev/hbmem took a dma-buf sync");
	KTEST_CHECK(ioctl(hfd, HBMEM_IOC_VERSION, &v), "a heap answered VERSION");
	KTEST_CHECK(ioctl(hfd, DMA_BUF_IOCTL_SYNC, &s), "a heap took a dma-buf sync");
	memset(&info, 0, sizeof(info));
	info.fd = fd;
	KTEST_CHECK(ioctl(hfd, HBMEM_IOC_BUF_INFO, &info), "a heap answered BUF_INFO");
	KTEST_CHECK(ioctl(fd, HBMEM_IOC_BUF_INFO, &info) && errno == ENOTTY,
		    "a dma-buf answered BUF_INFO");
	KTEST_CHECK(ioctl(fd, DMA_HEAP_IOCTL_ALLOC, &d) && errno == ENOTTY,
		    "a dma-buf allocated like a heap");
	return KTEST_PASS;
}

static int test_import_rejects_overflowing_ranges(void *arg)
{
	static const uint64_t offs[] = { 0, 4096, 1ULL << 63, UINT64_MAX & ~4095ULL,
					 (UINT64_MAX & ~4095ULL) - 4096 };
	static const uint64_t lens[] = { 4096, 8192, 1ULL << 63, UINT64_MAX & ~4095ULL };
	int ctl = ktest_ctl_open(), fd, r;
	struct hbmem_buf_info a;
	unsigned int i, j;

	(void)arg;
	fd = ktest_heap_alloc_path(heaps[0].path, 4096, O_RDWR | O_CLOEXEC);
	KTEST_CHECK(fd >= 0 && !ktest_buf_info(ctl, fd, &a), "alloc");
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			if (!offs[i] && lens[j] == 4096)
				continue;	/* the one valid range */
			r = ktest_import(ctl, a.share_id, offs[i], lens[j]);
			KTEST_CHECK(r == -EINVAL, "offset %#llx len %#llx gave %d",
				    (unsigned long long)offs[i],
				    (unsigned long long)lens[j], r);
		}
	}
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct hbmem_import imp = { .flags = HBMEM_IMPORT_BY_PHYS,
					    .fd_flags = O_RDWR,
					    .offset = offs[i], .len = lens[i % 4] };

		KTEST_CHECK(ioctl(ctl, HBMEM_IOC_IMPORT, &imp) &&
			    (errno == EINVAL || errno == ENOENT),
			    "import by phys %#llx accepted",
			    (unsigned long long)offs[i]);
	}
	return KTEST_PASS;
}

struct stamp {
	uint32_t magic;
	uint32_t pid;
	uint32_t seq;
	uint32_t share_id;
};

#define STAMP_MAGIC 0x68626d6du
#define WORKERS 6

/*
 * One worker: allocates on random heaps, stamps each buffer, passes its
 * share id to the next worker over a pipe, imports what the previous one
 * sent and checks the stamp. It keeps its last four buffers alive, so an
 * import may also find a buffer gone (ENOENT), never a wrong one.
 */
static int stress_worker(int id, int in, int out, int ctl, int rounds)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20, 3 << 20 };
	int keep[4] = { -1, -1, -1, -1 }, r, fd, imp;
	struct hbmem_buf_info info;
	uint32_t sid;
	struct stamp *st;

	rng_state += (uint64_t)id * 0x1234567;
	for (r = 0; r < rounds; r++) {
		const struct kheap *h = &heaps[rnd() % nheaps];
		size_t len = sizes[rnd() % 4];

		fd = ktest_heap_alloc_path(h->path, len, O_RDWR | O_CLOEXEC);
		if (fd == -ENOMEM) {
			/* Still pass something on: 0 names no buffer. */
			sid = 0;
			if (write(out, &sid, sizeof(sid)) != sizeof(sid) ||
			    read(in, &sid, sizeof(sid)) != sizeof(sid))
				return 9;
			continue;
		}
		if (fd < 0 || ktest_buf_info(ctl, fd, &info))
			return 10;
		st = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (st == MAP_FAILED)
			return 11;
		if (st->magic)
			return 12;	/* not zeroed */
		*st = (struct stamp){ STAMP_MAGIC, getpid(), r, info.share_id };
		((unsigned char *)st)[len - 1] = (unsigned char)r;
		munmap(st, len);
		if (ktest_count(ctl, HBMEM_IOC_CONSUME_INC, fd, 0, 0) < 1)
			return 13;

		if (keep[r % 4] >= 0)
			close(keep[r % 4]);
		keep[r % 4] = fd;
		if (write(out, &info.share_id, sizeof(info.share_id)) != sizeof(sid))
			return 14;

		if (read(in, &sid, sizeof(sid)) != sizeof(sid))
			return 15;
		imp = ktest_import(ctl, sid, 0, 0);
		if (imp == -ENOENT || imp == -EMFILE)
			continue;
		if (imp < 0)
			return 16;
		st = mmap(NULL, 4096, PROT_READ, MAP_SHARED, imp, 0);
		if (st == MAP_FAILED)
			return 17;
		if (st->magic != STAMP_MAGIC || st->share_id != sid)
			return 18;	/* someone else's memory */
		munmap(st, 4096);
		/* The sender may have freed its handle already: at least ours. */
		if (ktest_count(ctl, HBMEM_IOC_SHARE_COUNT_GET, imp, 0, 0) < 1)
			return 19;
		ktest_count(ctl, HBMEM_IOC_CONSUME_DEC, imp, 0, 0);
		close(imp);
	}
	return 0;
}

static int test_multi_process_alloc_import_free_stress(void *arg)
{
	int pipes[WORKERS][2], i, status, ctl, bad = 0;
	char codes[64] = "";
	struct kheap after[KTEST_MAX_HEAPS];
	pid_t pids[WORKERS];

	(void)arg;
	for (i = 0; i < WORKERS; i++)
		KTEST_CHECK(!pipe(pipes[i]), "pipe");
	for (i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int j;

			/* Only our two pipe ends: a dead neighbour then reads as EOF. */
			for (j = 0; j < WORKERS; j++) {
				if (j != i)
					close(pipes[j][0]);
				if (j != (i + 1) % WORKERS)
					close(pipes[j][1]);
			}
			ctl = ktest_ctl_open();
			_exit(stress_worker(i, pipes[i][0],
					    pipes[(i + 1) % WORKERS][1], ctl, 150));
		}
	}
	for (i = 0; i < WORKERS; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	for (i = 0; i < WORKERS; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
		snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), " %d",
			 WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status));
	}
	KTEST_CHECK(!bad, "workers ended with codes%s", codes);

	KTEST_CHECK(ktest_heaps(after, KTEST_MAX_HEAPS) == nheaps, "heap query");
	for (i = 0; i < nheaps; i++) {
		if (after[i].info.type != HBMEM_HEAP_TYPE_CARVEOUT)
			continue;
		KTEST_CHECK(after[i].info.free == after[i].info.size,
			    "%s has %llu of %llu free after every worker exited",
			    after[i].info.name, (unsigned long long)after[i].info.free,
			    (unsigned long long)after[i].info.size);
	}
	return KTEST_PASS;
}

static const struct ktest tests[] = {
	{ "storm/malformed_ioctls_on_control_device_are_refused",
	  test_storm_on_control_device, NULL, 180 },
	{ "storm/malformed_ioctls_on_heap_devices_are_refused",
	  test_storm_on_heap_devices, NULL, 180 },
	KTEST("storm/control_refuses_fds_of_other_kinds", test_control_refuses_other_kinds_of_fd),
	KTEST("storm/ioctls_sent_to_the_wrong_device_fail", test_ioctls_sent_to_the_wrong_device_fail),
	KTEST("storm/import_rejects_overflowing_ranges", test_import_rejects_overflowing_ranges),
	{ "storm/multi_process_alloc_import_free_leaves_heaps_whole",
	  test_multi_process_alloc_import_free_stress, NULL, 240 },
};

int main(void)
{
	nheaps = ktest_heaps(heaps, KTEST_MAX_HEAPS);
	if (nheaps <= 0) {
		printf("SKIP storm: no hbmem module\n");
		return 77;
	}
	return ktest_main(tests, sizeof(tests) / sizeof(tests[0]));
}
