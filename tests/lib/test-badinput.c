// SPDX-License-Identifier: MIT
/*
 * Bad input to every public function: NULL pointers; negative, foreign,
 * closed and freed fds; addresses in no buffer; size 0; sizes whose
 * arithmetic overflows; unknown formats; empty bitmaps; double frees; calls
 * before the first open and after the last close. Each must return its
 * HB_MEM_ERR_* code, crash nothing and leave nothing behind.
 *
 * One test per function, /badinput/<function>. Each runs:
 *   1. the calls with the module never opened, in a fresh process (the
 *      hidden test /badinput/<function>/subprocess/before-open);
 *   2. the same calls after the last close, with handles that were valid
 *      just before it;
 *   3. bad input with the module open;
 *   4. one good call, proving the function still works.
 * The teardown checks that every test ends with the heaps empty and no fd
 * left open.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"

#define KiB 1024ull
#define MiB (1024ull * 1024ull)


/* Whether the module runs on backend @name (the module must be open). */
static bool backend_is(const char *name)
{
	char got[32];

	assert_ok(hb_mem_get_backend(got, sizeof(got), NULL));
	return !strcmp(got, name);
}

static inline uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A page that belongs to no hbmem buffer. */
static uint8_t foreign_page[4096] __attribute__((aligned(4096)));

/* ---- handles, valid or stale ------------------------------------------ */

/*
 * One handle of each kind. Before the first open they are made up; after
 * the last close they are real ones the close has just freed.
 */
struct handles {
	hb_mem_common_buf_t com;
	hb_mem_graphic_buf_t graph;
	hb_mem_graphic_buf_group_t group;
	hb_mem_pool_t pool;
	hb_mem_buf_queue_t queue;
};

static void alloc_nv12(int64_t flags, hb_mem_graphic_buf_t *g)
{
	assert_ok(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, flags, 0, 0,
					 g));
}

/* A group with the members @bitmap names, all NV12 64x48. */
static void alloc_group(uint32_t bitmap, hb_mem_graphic_buf_group_t *grp)
{
	int32_t w[8], h[8], f[8], s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8];
	int i;

	for (i = 0; i < 8; i++) {
		w[i] = 64;
		h[i] = 48;
		f[i] = MEM_PIX_FMT_NV12;
		fl[i] = i == 1 ? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF : 0;
	}
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, grp,
					       bitmap));
}

static void handles_fake(struct handles *h)
{
	memset(h, 0, sizeof(*h));
	h->com.fd = 3;
	h->com.share_id = 1;
	h->com.size = sizeof(foreign_page);
	h->com.virt_addr = foreign_page;
	h->graph.fd[0] = 3;
	h->graph.plane_cnt = 1;
	h->graph.format = MEM_PIX_FMT_YUV400;
	h->graph.width = 64;
	h->graph.height = 64;
	h->graph.share_id[0] = 1;
	h->graph.size[0] = sizeof(foreign_page);
	h->graph.virt_addr[0] = foreign_page;
	h->group.graph_group[0] = h->graph;
	h->group.bit_map = 1;
	h->pool.fd = 3;
	h->pool.size = sizeof(foreign_page);
	h->queue.unique_id = 1;
	h->queue.count = 4;
	h->queue.item_size = 8;
}

/* Real handles; the caller closes the module, which frees them. */
static void handles_alloc(struct handles *h)
{
	handles_fake(h);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &h->com));
	alloc_nv12(0, &h->graph);
	alloc_group(0x3, &h->group);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &h->pool));
	h->queue.unique_id = 0;
	assert_ok(hb_mem_create_buf_queue(&h->queue));
}

typedef void (*closed_fn)(const struct handles *h);

/* The subprocess half: this process has never opened the module. */
static void before_open(gconstpointer data)
{
	const closed_fn *fn = data;
	struct handles h;

	handles_fake(&h);
	(*fn)(&h);
}

static const char *test_argv0;

/*
 * Run the hidden test @path in a fresh process and check it passed. Done by
 * hand rather than with g_test_trap_subprocess(), whose child watch may
 * start a GLib worker thread that keeps an fd open for good (under
 * valgrind, which lacks pidfd_open), which the fixture would call a leak.
 */
static void run_in_fresh_process(const char *path)
{
	char *argv[] = { (char *)test_argv0, "-p", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	g_assert_cmpint(posix_spawn(&pid, test_argv0, &fa, NULL, argv, environ),
			==, 0);
	posix_spawn_file_actions_destroy(&fa);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s failed in a fresh process (status 0x%x)", path,
			status);
}

/*
 * Steps 1 and 2 of every test: @fn's calls before the first open (in a
 * child) and after the last close (here), then reopen for step 3.
 */
static void check_closed(const char *name, closed_fn fn)
{
	struct handles h;
	char *path;

	path = g_strdup_printf("/badinput/%s/subprocess/before-open", name);
	run_in_fresh_process(path);
	g_free(path);

	handles_alloc(&h);
	assert_ok(hb_mem_module_close());
	fn(&h);
	assert_ok(hb_mem_module_open());
}

#define CHECK_CLOSED(fn) check_closed(#fn, closed_##fn)

/* ---- bad fds and addresses ---------------------------------------------- */

/*
 * fds that name no hbmem buffer: negative, huge, another file, a memfd
 * that is not ours, and a number that was just closed. Made after the
 * test's own buffers so that the closed number is not reused under it.
 */
struct bad_fds {
	int fd[8];
	int n;
	int devnull, memfd;
};

static void bad_fds_open(struct bad_fds *b)
{
	int closed;

	b->n = 0;
	b->fd[b->n++] = -1;
	b->fd[b->n++] = INT32_MIN;
	b->fd[b->n++] = INT32_MAX;
	b->fd[b->n++] = 1 << 20;
	b->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	g_assert_cmpint(b->devnull, >=, 0);
	b->fd[b->n++] = b->devnull;
	b->memfd = memfd_create("not-hbmem", MFD_CLOEXEC);
	g_assert_cmpint(b->memfd, >=, 0);
	g_assert_cmpint(ftruncate(b->memfd, 4096), ==, 0);
	b->fd[b->n++] = b->memfd;
	closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(closed, >=, 0);
	close(closed);
	b->fd[b->n++] = closed;
}

static void bad_fds_close(struct bad_fds *b)
{
	close(b->devnull);
	close(b->memfd);
}

/*
 * Addresses in no hbmem buffer. (One past a buffer's end is checked with
 * sizes that are not page multiples: a page-aligned end may well be where
 * the next mapping starts.)
 */
struct bad_addrs {
	uint64_t a[8];
	int n;
	void *heap;
};

static void bad_addrs_init(struct bad_addrs *b)
{
	b->heap = g_malloc(64);
	b->n = 0;
	b->a[b->n++] = 0;
	b->a[b->n++] = 1;
	b->a[b->n++] = 4096;
	b->a[b->n++] = va(foreign_page);
	b->a[b->n++] = va(b->heap);
	b->a[b->n] = va(b);
	b->n++;
	b->a[b->n++] = UINT64_MAX - 4095;
	b->a[b->n++] = UINT64_MAX;
}

static void bad_addrs_free(struct bad_addrs *b)
{
	g_free(b->heap);
}

static void heaps_are_empty(void)
{
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

/* ==== module ============================================================= */

static void closed_hb_mem_get_version(const struct handles *h)
{
	uint32_t a, b, c;

	/* needs no module */
	assert_ok(hb_mem_get_version(&a, &b, &c));
	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_hb_mem_get_version(TestModule *m, gconstpointer d)
{
	uint32_t a = 77, b = 77, c = 77;

	CHECK_CLOSED(hb_mem_get_version);
	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, NULL, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, &b, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(NULL, NULL, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* nothing is written on failure */
	g_assert_cmpuint(a, ==, 77);
	assert_ok(hb_mem_get_version(&a, &b, &c));
	g_assert_cmpuint(a, ==, 1);
}

static void closed_hb_mem_module_open(const struct handles *h)
{
	/* open is the one call that works on a closed module */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_close());
}

/* Open with @var=@value must fail and leave the module closed. */
static void open_fails_with(const char *var, const char *value)
{
	char *saved = g_strdup(g_getenv(var));

	g_setenv(var, value, TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	if (saved)
		g_setenv(var, saved, TRUE);
	else
		g_unsetenv(var);
	g_free(saved);
}

static void test_hb_mem_module_open(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;
	int fds;

	CHECK_CLOSED(hb_mem_module_open);
	/* fully closed, so the next open is a first open */
	assert_ok(hb_mem_module_close());
	fds = test_count_fds();
	open_fails_with("HBMEM_BACKEND", "no-such-backend");
	open_fails_with("HBMEM_HEAPS", "ion_cma");
	open_fails_with("HBMEM_HEAPS", "no_such_heap=1M");
	open_fails_with("HBMEM_HEAPS", "ion_cma=lots");
	open_fails_with("HBMEM_HEAPS", "ion_cma=-1");
	open_fails_with("HBMEM_HEAPS", "ion_cma=1Q");
	/* sizes whose arithmetic overflows */
	open_fails_with("HBMEM_HEAPS", "ion_cma=99999999999999999999999");
	open_fails_with("HBMEM_HEAPS", "ion_cma=17179869184T");
	open_fails_with("HBMEM_CONFIG", "/nonexistent/hbmem.conf");
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);

	/* good: opens are counted */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_close());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void closed_hb_mem_module_close(const struct handles *h)
{
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_module_close(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;
	hb_mem_graphic_buf_t g;
	int fds;

	CHECK_CLOSED(hb_mem_module_close);
	/* closing more often than opening */
	assert_ok(hb_mem_module_close());
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	fds = test_count_fds();
	/* the last close takes what the process still holds */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(64 * KiB, 0, &buf));
	alloc_nv12(0, &g);
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_module_open());
	heaps_are_empty();
	assert_hb(hb_mem_free_buf(buf.fd), HB_MEM_ERR_INVALID_FD);

	/* good: a close that is not the last keeps buffers alive */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_module_close());
	assert_ok(hb_mem_get_com_buf(buf.fd, &buf));
	assert_ok(hb_mem_free_buf(buf.fd));
}

/* ==== common buffers ===================================================== */

static void closed_hb_mem_alloc_com_buf(const struct handles *h)
{
	hb_mem_common_buf_t buf;

	assert_hb(hb_mem_alloc_com_buf(4096, 0, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_alloc_com_buf(0, 0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_alloc_com_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf, bufs[16];
	struct rlimit saved, low;
	int i, n, fds;
	int32_t ret;

	CHECK_CLOSED(hb_mem_alloc_com_buf);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_com_buf(0, 0, &buf), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_com_buf(0, 0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* page rounding would wrap */
	assert_hb(hb_mem_alloc_com_buf(UINT64_MAX, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(UINT64_MAX - 4094, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(1ull << 63, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	/* bigger than every heap, on every heap */
	assert_hb(hb_mem_alloc_com_buf(64ull << 30, 0, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(64ull << 30,
				       HB_MEM_USAGE_PRIV_HEAP_RESERVED, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_PRIV_HEAP_SRAM, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	heaps_are_empty();

	/* out of fds: TOO_MANY_FD, and the heap charge is given back */
	fds = test_count_fds();
	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	low = saved;
	low.rlim_cur = (rlim_t)fds + 4;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
	for (n = 0; n < 16; n++) {
		ret = hb_mem_alloc_com_buf(4096, 0, &bufs[n]);
		if (ret != 0)
			break;
	}
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
	assert_hb(ret, HB_MEM_ERR_TOO_MANY_FD);
	g_assert_cmpint(n, <, 16);
	for (i = 0; i < n; i++)
		assert_ok(hb_mem_free_buf(bufs[i].fd));
	heaps_are_empty();

	/* good: unknown flag bits are accepted and echoed */
	assert_ok(hb_mem_alloc_com_buf(1, (int64_t)(1ull << 62) | (1ll << 40),
				       &buf));
	g_assert_cmphex(buf.flags, ==, (1ull << 62) | (1ull << 40));
	g_assert_cmpuint(buf.size, ==, 1);
	buf.virt_addr[0] = 1;
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void closed_hb_mem_get_com_buf(const struct handles *h)
{
	hb_mem_common_buf_t buf;

	assert_hb(hb_mem_get_com_buf(h->com.fd, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_com_buf(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_com_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf, out;
	hb_mem_graphic_buf_t g;
	hb_mem_graphic_buf_group_t grp;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_get_com_buf);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	alloc_nv12(HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, &g);
	alloc_group(0x1, &grp);
	assert_hb(hb_mem_get_com_buf(buf.fd, NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* fds of other kinds of buffer */
	assert_hb(hb_mem_get_com_buf(g.fd[0], &out), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_com_buf(grp.graph_group[0].fd[0], &out),
		  HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_com_buf(b.fd[i], &out),
			  HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(grp.graph_group[0].fd[1]));

	/* good */
	assert_ok(hb_mem_get_com_buf(buf.fd, &out));
	g_assert_cmpmem(&out, sizeof(out), &buf, sizeof(buf));
	assert_ok(hb_mem_free_buf(buf.fd));
	/* freed */
	assert_hb(hb_mem_get_com_buf(buf.fd, &out), HB_MEM_ERR_INVALID_FD);
}

/* ==== graphic buffers ==================================================== */

static void closed_hb_mem_alloc_graph_buf(const struct handles *h)
{
	hb_mem_graphic_buf_t g;

	assert_hb(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0, 0, &g),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_alloc_graph_buf(0, 0, -1, 0, -1, -1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_alloc_graph_buf(TestModule *m, gconstpointer d)
{
	static const int32_t bad_formats[] = {
		MEM_PIX_FMT_NONE, MEM_PIX_FMT_TOTAL, MEM_PIX_FMT_TOTAL + 1,
		1000, INT32_MIN, INT32_MAX, -2,
	};
	const int64_t contig = HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF;
	hb_mem_graphic_buf_t g;
	size_t i;

	CHECK_CLOSED(hb_mem_alloc_graph_buf);
	assert_hb(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0, 0,
					 NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* unknown formats */
	for (i = 0; i < G_N_ELEMENTS(bad_formats); i++)
		assert_hb(hb_mem_alloc_graph_buf(64, 48, bad_formats[i], 0, 0,
						 0, &g),
			  HB_MEM_ERR_INVALID_PARAMS);
	/* zero and negative dimensions and strides */
	assert_hb(hb_mem_alloc_graph_buf(0, 48, MEM_PIX_FMT_NV12, 0, 0, 0, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(64, 0, MEM_PIX_FMT_NV12, 0, 0, 0, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(-64, 48, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(64, INT32_MIN, MEM_PIX_FMT_NV12, 0, 0,
					 0, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, -1, 0,
					 &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0, -1,
					 &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* width x bytes per pixel overflows a line */
	assert_hb(hb_mem_alloc_graph_buf(0x60000000, 1, MEM_PIX_FMT_RGB24, 0, 0,
					 0, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(1, 1, MEM_PIX_FMT_ARGB, 0, INT32_MAX,
					 0, &g),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* width x height x planes fits 64 bits but no heap */
	assert_hb(hb_mem_alloc_graph_buf(INT32_MAX, INT32_MAX, MEM_PIX_FMT_NV12,
					 0, 0, 0, &g),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_graph_buf(INT32_MAX, INT32_MAX,
					 MEM_PIX_FMT_YUV444P, contig, 0, 0, &g),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_graph_buf(16, 16, MEM_PIX_FMT_NV12, 0,
					 INT32_MAX, INT32_MAX, &g),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	/* the second plane does not fit: the first is given back */
	assert_hb(hb_mem_alloc_graph_buf(20480, 20480, MEM_PIX_FMT_YUV444P, 0,
					 0, 0, &g),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	heaps_are_empty();

	/* good */
	assert_ok(hb_mem_alloc_graph_buf(63, 47, MEM_PIX_FMT_NV12, 0, 0, 0, &g));
	g_assert_cmpint(g.plane_cnt, ==, 2);
	memset(g.virt_addr[1], 0x80, g.size[1]);
	assert_ok(hb_mem_free_buf(g.fd[1]));
}

static void closed_hb_mem_get_graph_buf(const struct handles *h)
{
	hb_mem_graphic_buf_t g;

	assert_hb(hb_mem_get_graph_buf(h->graph.fd[0], &g),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_graph_buf(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_graph_buf(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_t g, out;
	hb_mem_common_buf_t c;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_get_graph_buf);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_graph_buf(g.fd[0], NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_graph_buf(c.fd, &out), HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_graph_buf(b.fd[i], &out),
			  HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(c.fd));

	/* good, by either plane */
	assert_ok(hb_mem_get_graph_buf(g.fd[1], &out));
	g_assert_cmpmem(&out, sizeof(out), &g, sizeof(g));
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_hb(hb_mem_get_graph_buf(g.fd[1], &out), HB_MEM_ERR_INVALID_FD);
}

/* ==== groups ============================================================= */

static void closed_hb_mem_alloc_graph_buf_group(const struct handles *h)
{
	int32_t w[8] = { 64 }, hh[8] = { 48 }, f[8] = { MEM_PIX_FMT_NV12 };
	int32_t s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8] = { 0 };
	hb_mem_graphic_buf_group_t grp;

	assert_hb(hb_mem_alloc_graph_buf_group(w, hh, f, fl, s, vs, &grp, 1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_alloc_graph_buf_group(NULL, NULL, NULL, NULL, NULL,
					       NULL, NULL, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_alloc_graph_buf_group(TestModule *m, gconstpointer d)
{
	int32_t w[8], h[8], f[8], s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8] = { 0 };
	hb_mem_graphic_buf_group_t grp;
	int i, fds;

	CHECK_CLOSED(hb_mem_alloc_graph_buf_group);
	for (i = 0; i < 8; i++) {
		w[i] = 64;
		h[i] = 48;
		f[i] = MEM_PIX_FMT_NV12;
	}
	/* NULL arrays and group */
	assert_hb(hb_mem_alloc_graph_buf_group(NULL, h, f, fl, s, vs, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, NULL, f, fl, s, vs, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, NULL, fl, s, vs, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, NULL, s, vs, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, NULL, vs, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, NULL, &grp, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, NULL, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* bitmap 0, and bits beyond the eighth member */
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0x100),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp,
					       0x80000001u),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp,
					       UINT32_MAX),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a bad last member undoes the members before it */
	fds = test_count_fds();
	f[7] = MEM_PIX_FMT_TOTAL;
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0xFF),
		  HB_MEM_ERR_INVALID_PARAMS);
	f[7] = MEM_PIX_FMT_NV12;
	w[6] = 0;
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0xFF),
		  HB_MEM_ERR_INVALID_PARAMS);
	w[6] = 0x60000000;
	f[6] = MEM_PIX_FMT_RGB24;
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0xFF),
		  HB_MEM_ERR_INVALID_PARAMS);
	w[6] = 65536;
	h[6] = 65536;
	assert_hb(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0xFF),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	heaps_are_empty();

	/* good: entries outside the bitmap are never looked at */
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &grp, 0x81));
	g_assert_cmphex(grp.bit_map, ==, 0x81);
	assert_ok(hb_mem_free_buf(grp.graph_group[7].fd[0]));
}

static void closed_hb_mem_get_graph_buf_group(const struct handles *h)
{
	hb_mem_graphic_buf_group_t grp;

	assert_hb(hb_mem_get_graph_buf_group(h->group.graph_group[0].fd[0],
					     &grp),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_graph_buf_group(-1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_graph_buf_group(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp, *out = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_graphic_buf_t g;
	hb_mem_common_buf_t c;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_get_graph_buf_group);
	alloc_group(0x6, &grp);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_graph_buf_group(grp.graph_group[1].fd[0], NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a graphic buffer outside any group, a common buffer */
	assert_hb(hb_mem_get_graph_buf_group(g.fd[0], out),
		  HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_graph_buf_group(c.fd, out), HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_graph_buf_group(b.fd[i], out),
			  HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(c.fd));

	/* good, by any plane of any member */
	assert_ok(hb_mem_get_graph_buf_group(grp.graph_group[2].fd[1], out));
	g_assert_cmpmem(out, sizeof(*out), &grp, sizeof(grp));
	assert_ok(hb_mem_free_buf(grp.graph_group[1].fd[0]));
	assert_hb(hb_mem_get_graph_buf_group(grp.graph_group[2].fd[0], out),
		  HB_MEM_ERR_INVALID_FD);
	g_free(out);
}

/* ==== free =============================================================== */

static void closed_hb_mem_free_buf(const struct handles *h)
{
	assert_hb(hb_mem_free_buf(h->com.fd), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_free_buf(h->graph.fd[1]), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_free_buf(-1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_free_buf(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp;
	hb_mem_common_buf_t c, imp;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i, cnt;

	CHECK_CLOSED(hb_mem_free_buf);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_free_buf(b.fd[i]), HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	/* double free: common, every plane of a graphic, every member */
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(hb_mem_free_buf(c.fd), HB_MEM_ERR_INVALID_FD);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_free_buf(g.fd[1]));
	assert_hb(hb_mem_free_buf(g.fd[1]), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_free_buf(g.fd[0]), HB_MEM_ERR_INVALID_FD);
	alloc_group(0x3, &grp);
	assert_ok(hb_mem_free_buf(grp.graph_group[1].fd[0]));
	assert_hb(hb_mem_free_buf(grp.graph_group[0].fd[0]),
		  HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_free_buf(grp.graph_group[0].fd[1]),
		  HB_MEM_ERR_INVALID_FD);
	/* an import is its own handle: freeing it twice fails too */
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_import_com_buf(&c, &imp));
	assert_ok(hb_mem_free_buf(imp.fd));
	assert_hb(hb_mem_free_buf(imp.fd), HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	/* the allocator's hold is still charged, the import's is gone */
	g_assert_cmpuint(test_heaps_used(), ==, (uint64_t)sysconf(_SC_PAGESIZE));

	/* good */
	assert_ok(hb_mem_free_buf(c.fd));
	heaps_are_empty();
}

/* ==== cache maintenance ================================================== */

typedef int32_t (*sync_fd_fn)(int32_t fd, uint64_t offset, uint64_t size);

static void closed_sync_fd(sync_fd_fn fn, const struct handles *h)
{
	assert_hb(fn(h->com.fd, 0, 4096), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(fn(-1, 0, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void check_sync_fd(sync_fd_fn fn)
{
	hb_mem_common_buf_t c, u;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i;

	assert_ok(hb_mem_alloc_com_buf(10000, HB_MEM_USAGE_CACHED, &c));
	assert_ok(hb_mem_alloc_com_buf(10000, 0, &u));
	alloc_nv12(HB_MEM_USAGE_CACHED, &g);
	/* size 0; past the end; offset + size overflows */
	for (i = 0; i < 2; i++) {
		int32_t fd = i ? u.fd : c.fd;

		assert_hb(fn(fd, 0, 0), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, 0, 10001), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, 10000, 1), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, 9999, 2), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, UINT64_MAX, 2), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, 2, UINT64_MAX), HB_MEM_ERR_INVALID_PARAMS);
		assert_hb(fn(fd, UINT64_MAX, UINT64_MAX),
			  HB_MEM_ERR_INVALID_PARAMS);
	}
	/* a plane fd covers its own plane only */
	assert_hb(fn(g.fd[1], 0, g.size[1] + 1), HB_MEM_ERR_INVALID_PARAMS);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.fd[i], 0, 1), HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(u.fd));
	assert_hb(fn(u.fd, 0, 1), HB_MEM_ERR_INVALID_FD);

	/* good: the whole buffer, and the last byte; uncached only warns */
	assert_ok(fn(c.fd, 0, 10000));
	assert_ok(fn(c.fd, 9999, 1));
	assert_ok(fn(g.fd[1], 0, g.size[1]));
	assert_ok(hb_mem_alloc_com_buf(10000, 0, &u));
	assert_ok(fn(u.fd, 0, 10000));
	assert_ok(hb_mem_free_buf(u.fd));
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_invalidate_buf(const struct handles *h)
{
	closed_sync_fd(hb_mem_invalidate_buf, h);
}

static void test_hb_mem_invalidate_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_invalidate_buf);
	check_sync_fd(hb_mem_invalidate_buf);
}

static void closed_hb_mem_flush_buf(const struct handles *h)
{
	closed_sync_fd(hb_mem_flush_buf, h);
}

static void test_hb_mem_flush_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_flush_buf);
	check_sync_fd(hb_mem_flush_buf);
}

typedef int32_t (*sync_addr_fn)(uint64_t virt_addr, uint64_t size);

static void closed_sync_addr(sync_addr_fn fn, const struct handles *h)
{
	assert_hb(fn(va(h->com.virt_addr), 4096), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(fn(0, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void check_sync_addr(sync_addr_fn fn)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	uint64_t base;
	int i;

	assert_ok(hb_mem_alloc_com_buf(10000, HB_MEM_USAGE_CACHED, &c));
	base = va(c.virt_addr);
	assert_hb(fn(base, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(base, 10001), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(base + 5000, 5001), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(base + 1, UINT64_MAX), HB_MEM_ERR_INVALID_PARAMS);
	/* one past the end is not in the buffer */
	assert_hb(fn(base + 10000, 1), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.a[i], 1), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);

	/* good: from an inner address to the end */
	assert_ok(fn(base + 5000, 5000));
	assert_ok(fn(base, 10000));
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(fn(base, 1), HB_MEM_ERR_INVALID_VADDR);
}

static void closed_hb_mem_invalidate_buf_with_vaddr(const struct handles *h)
{
	closed_sync_addr(hb_mem_invalidate_buf_with_vaddr, h);
}

static void test_hb_mem_invalidate_buf_with_vaddr(TestModule *m,
						  gconstpointer d)
{
	CHECK_CLOSED(hb_mem_invalidate_buf_with_vaddr);
	check_sync_addr(hb_mem_invalidate_buf_with_vaddr);
}

static void closed_hb_mem_flush_buf_with_vaddr(const struct handles *h)
{
	closed_sync_addr(hb_mem_flush_buf_with_vaddr, h);
}

static void test_hb_mem_flush_buf_with_vaddr(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_flush_buf_with_vaddr);
	check_sync_addr(hb_mem_flush_buf_with_vaddr);
}

/* ==== address queries ==================================================== */

static void closed_hb_mem_is_valid_buf(const struct handles *h)
{
	int32_t valid;

	assert_hb(hb_mem_is_valid_buf(va(h->com.virt_addr), 1, &valid),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_is_valid_buf(0, 0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_is_valid_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	int32_t valid;
	uint64_t base;
	int i;

	CHECK_CLOSED(hb_mem_is_valid_buf);
	assert_ok(hb_mem_alloc_com_buf(10000, 0, &c));
	base = va(c.virt_addr);
	assert_hb(hb_mem_is_valid_buf(base, 1, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_is_valid_buf(base, 0, &valid),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* address + size overflows */
	assert_hb(hb_mem_is_valid_buf(base, UINT64_MAX, &valid),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_is_valid_buf(UINT64_MAX, 2, &valid),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* not (wholly) in a buffer: a successful "no" */
	bad_addrs_init(&b);
	for (i = 0; i < b.n - 1; i++) {
		valid = 77;
		assert_ok(hb_mem_is_valid_buf(b.a[i], 1, &valid));
		g_assert_cmpint(valid, ==, 0);
	}
	bad_addrs_free(&b);
	valid = 77;
	assert_ok(hb_mem_is_valid_buf(base + 9999, 2, &valid));
	g_assert_cmpint(valid, ==, 0);
	assert_ok(hb_mem_is_valid_buf(base + 10000, 1, &valid));
	g_assert_cmpint(valid, ==, 0);

	/* good */
	assert_ok(hb_mem_is_valid_buf(base + 1, 9999, &valid));
	g_assert_cmpint(valid, ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_is_valid_buf(base, 1, &valid));
	g_assert_cmpint(valid, ==, 0);
}

static void closed_hb_mem_get_phys_addr(const struct handles *h)
{
	uint64_t pa;

	assert_hb(hb_mem_get_phys_addr(va(h->com.virt_addr), &pa),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_phys_addr(0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_phys_addr(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	uint32_t caps;
	uint64_t pa;
	char name[32];
	int i;

	CHECK_CLOSED(hb_mem_get_phys_addr);
	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	assert_hb(hb_mem_get_phys_addr(va(c.virt_addr), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_phys_addr(b.a[i], &pa),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(hb_mem_get_phys_addr(va(c.virt_addr) + 5000, &pa),
		  HB_MEM_ERR_INVALID_VADDR);

	/* good: a real address, or NOT_ALLOW where there are none */
	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	if (caps & HB_MEM_BACKEND_CAP_PHYS) {
		assert_ok(hb_mem_get_phys_addr(va(c.virt_addr) + 100, &pa));
		g_assert_cmphex(pa, ==, c.phys_addr + 100);
	} else {
		assert_hb(hb_mem_get_phys_addr(va(c.virt_addr) + 100, &pa),
			  HB_MEM_ERR_NOT_ALLOW);
	}
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_get_buf_info(const struct handles *h)
{
	uint64_t start, size;
	int64_t flags;

	assert_hb(hb_mem_get_buf_info(va(h->com.virt_addr), &start, &size,
				      &flags),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_info(0, NULL, NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buf_info(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	uint64_t start, size, base;
	int64_t flags;
	int i;

	CHECK_CLOSED(hb_mem_get_buf_info);
	assert_ok(hb_mem_alloc_com_buf(5000, HB_MEM_USAGE_CACHED, &c));
	base = va(c.virt_addr);
	assert_hb(hb_mem_get_buf_info(base, NULL, &size, &flags),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_info(base, &start, NULL, &flags),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_info(base, &start, &size, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_buf_info(b.a[i], &start, &size, &flags),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(hb_mem_get_buf_info(base + 5000, &start, &size, &flags),
		  HB_MEM_ERR_INVALID_VADDR);

	/* good */
	assert_ok(hb_mem_get_buf_info(base + 4999, &start, &size, &flags));
	g_assert_cmphex(start, ==, base);
	g_assert_cmpuint(size, ==, 5000);
	g_assert_cmphex(flags, ==, HB_MEM_USAGE_CACHED);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_get_com_buf_with_vaddr(const struct handles *h)
{
	hb_mem_common_buf_t c;

	assert_hb(hb_mem_get_com_buf_with_vaddr(va(h->com.virt_addr), &c),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_com_buf_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_com_buf_with_vaddr(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, out;
	hb_mem_graphic_buf_t g;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_com_buf_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_nv12(HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, &g);
	assert_hb(hb_mem_get_com_buf_with_vaddr(va(c.virt_addr), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a graphic buffer is not a common one here */
	assert_hb(hb_mem_get_com_buf_with_vaddr(va(g.virt_addr[0]), &out),
		  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_com_buf_with_vaddr(b.a[i], &out),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_ok(hb_mem_free_buf(g.fd[0]));

	/* good */
	assert_ok(hb_mem_get_com_buf_with_vaddr(va(c.virt_addr) + 4095, &out));
	g_assert_cmpmem(&out, sizeof(out), &c, sizeof(c));
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(hb_mem_get_com_buf_with_vaddr(va(c.virt_addr), &out),
		  HB_MEM_ERR_INVALID_VADDR);
}

static void closed_hb_mem_get_graph_buf_with_vaddr(const struct handles *h)
{
	hb_mem_graphic_buf_t g;

	assert_hb(hb_mem_get_graph_buf_with_vaddr(va(h->graph.virt_addr[0]),
						  &g),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_graph_buf_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_graph_buf_with_vaddr(TestModule *m,
						 gconstpointer d)
{
	hb_mem_graphic_buf_t g, out;
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_graph_buf_with_vaddr);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_graph_buf_with_vaddr(va(g.virt_addr[0]), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_graph_buf_with_vaddr(va(c.virt_addr), &out),
		  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_graph_buf_with_vaddr(b.a[i], &out),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(hb_mem_get_graph_buf_with_vaddr(va(g.virt_addr[1]) +
						  g.size[1], &out),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(c.fd));

	/* good, from inside the second plane */
	assert_ok(hb_mem_get_graph_buf_with_vaddr(va(g.virt_addr[1]) + 10,
						  &out));
	g_assert_cmpmem(&out, sizeof(out), &g, sizeof(g));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_get_graph_buf_group_with_vaddr(
	const struct handles *h)
{
	hb_mem_graphic_buf_group_t grp;

	assert_hb(hb_mem_get_graph_buf_group_with_vaddr(
			  va(h->group.graph_group[0].virt_addr[0]), &grp),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_graph_buf_group_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_graph_buf_group_with_vaddr(TestModule *m,
						       gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp, *out = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_graphic_buf_t g;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_graph_buf_group_with_vaddr);
	alloc_group(0x5, &grp);
	alloc_nv12(0, &g);
	assert_hb(hb_mem_get_graph_buf_group_with_vaddr(
			  va(grp.graph_group[0].virt_addr[0]), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_graph_buf_group_with_vaddr(va(g.virt_addr[0]),
							out),
		  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_graph_buf_group_with_vaddr(b.a[i], out),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_ok(hb_mem_free_buf(g.fd[0]));

	/* good */
	assert_ok(hb_mem_get_graph_buf_group_with_vaddr(
		va(grp.graph_group[2].virt_addr[1]), out));
	g_assert_cmpmem(out, sizeof(*out), &grp, sizeof(grp));
	assert_ok(hb_mem_free_buf(grp.graph_group[0].fd[0]));
	g_free(out);
}

static void closed_hb_mem_free_buf_with_vaddr(const struct handles *h)
{
	assert_hb(hb_mem_free_buf_with_vaddr(va(h->com.virt_addr)),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_free_buf_with_vaddr(0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_free_buf_with_vaddr(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp;
	hb_mem_common_buf_t c;
	hb_mem_graphic_buf_t g;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_free_buf_with_vaddr);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_free_buf_with_vaddr(b.a[i]),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	/* one past the end; double free */
	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	assert_hb(hb_mem_free_buf_with_vaddr(va(c.virt_addr) + 5000),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf_with_vaddr(va(c.virt_addr) + 4999));
	assert_hb(hb_mem_free_buf_with_vaddr(va(c.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_free_buf_with_vaddr(va(g.virt_addr[1])));
	assert_hb(hb_mem_free_buf_with_vaddr(va(g.virt_addr[0])),
		  HB_MEM_ERR_INVALID_VADDR);
	alloc_group(0x3, &grp);
	assert_ok(hb_mem_free_buf_with_vaddr(va(grp.graph_group[1].virt_addr[0])));
	assert_hb(hb_mem_free_buf_with_vaddr(va(grp.graph_group[0].virt_addr[0])),
		  HB_MEM_ERR_INVALID_VADDR);
	heaps_are_empty();

	/* good */
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_free_buf_with_vaddr(va(c.virt_addr)));
	heaps_are_empty();
}

/* ==== types and views ==================================================== */

static void closed_hb_mem_get_buf_type_with_vaddr(const struct handles *h)
{
	hb_mem_buffer_type_t t;

	assert_hb(hb_mem_get_buf_type_with_vaddr(va(h->com.virt_addr), &t),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_type_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buf_type_with_vaddr(TestModule *m,
						gconstpointer d)
{
	hb_mem_common_buf_t c;
	hb_mem_buffer_type_t t;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_buf_type_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_buf_type_with_vaddr(va(c.virt_addr), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_buf_type_with_vaddr(b.a[i], &t),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);

	/* good */
	t = HB_MEM_BUFFER_TYPE_MAX;
	assert_ok(hb_mem_get_buf_type_with_vaddr(va(c.virt_addr) + 1, &t));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_COMMON);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_get_buf_type_and_buf_with_vaddr(
	const struct handles *h)
{
	hb_mem_buffer_type_t t;
	hb_mem_common_buf_t c;
	hb_mem_graphic_buf_t g;

	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(va(h->com.virt_addr),
							 &t, &c, &g),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(0, NULL, NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buf_type_and_buf_with_vaddr(TestModule *m,
							gconstpointer d)
{
	hb_mem_common_buf_t c, oc;
	hb_mem_graphic_buf_t g, og;
	hb_mem_buffer_type_t t;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_buf_type_and_buf_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_nv12(0, &g);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(va(c.virt_addr), NULL,
							 &oc, &og),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(va(c.virt_addr), &t,
							 NULL, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a non-contiguous image has no common view */
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(va(g.virt_addr[0]),
							 &t, &oc, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(va(g.virt_addr[1]),
							 &t, &oc, &og),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(b.a[i], &t,
								 &oc, &og),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);

	/* good: the image alone, and the common buffer both ways */
	assert_ok(hb_mem_get_buf_type_and_buf_with_vaddr(va(g.virt_addr[0]),
							 &t, NULL, &og));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
	assert_ok(hb_mem_get_buf_type_and_buf_with_vaddr(va(c.virt_addr), &t,
							 &oc, &og));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_COMMON);
	g_assert_cmpuint(og.size[0], ==, 4096);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_get_buf_and_type_with_vaddr(const struct handles *h)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_buffer_type_t t;
	hb_mem_common_buf_t c;
	hb_mem_graphic_buf_t g;

	assert_hb(hb_mem_get_buf_and_type_with_vaddr(va(h->com.virt_addr), &t,
						     &c, &g, grp),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(0, NULL, NULL, NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	g_free(grp);
}

static void test_hb_mem_get_buf_and_type_with_vaddr(TestModule *m,
						    gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp, *og = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_common_buf_t c, oc;
	hb_mem_graphic_buf_t g, ogr;
	hb_mem_buffer_type_t t;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_get_buf_and_type_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_nv12(0, &g);
	alloc_group(0x1, &grp);
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(va(c.virt_addr), NULL,
						     &oc, &ogr, og),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* the output for the buffer's own kind is missing */
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(va(c.virt_addr), &t, NULL,
						     &ogr, og),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(va(g.virt_addr[0]), &t,
						     &oc, NULL, og),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(
			  va(grp.graph_group[0].virt_addr[0]), &t, &oc, &ogr,
			  NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_buf_and_type_with_vaddr(b.a[i], &t, &oc,
							     &ogr, og),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);

	/* good: one call per kind */
	assert_ok(hb_mem_get_buf_and_type_with_vaddr(va(c.virt_addr), &t, &oc,
						     NULL, NULL));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_COMMON);
	assert_ok(hb_mem_get_buf_and_type_with_vaddr(va(g.virt_addr[1]), &t,
						     NULL, &ogr, NULL));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
	assert_ok(hb_mem_get_buf_and_type_with_vaddr(
		va(grp.graph_group[0].virt_addr[1]), &t, NULL, NULL, og));
	g_assert_cmpint(t, ==, HB_MEM_BUFFER_TYPE_GRAPHIC_GROUP);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(grp.graph_group[0].fd[0]));
	g_free(og);
}

/* ==== heaps and copies =================================================== */

static void closed_hb_mem_get_heap_size(const struct handles *h)
{
	uint64_t size;

	assert_hb(hb_mem_get_heap_size(0, &size), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_size(0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_size(TestModule *m, gconstpointer d)
{
	uint64_t size, cma;

	CHECK_CLOSED(hb_mem_get_heap_size);
	assert_hb(hb_mem_get_heap_size(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_RESERVED, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good; unknown heap bits mean ion_cma */
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_DMA, &cma));
	g_assert_cmpuint(cma, >, 0);
	assert_ok(hb_mem_get_heap_size(1ull << 39, &size));
	g_assert_cmpuint(size, ==, cma);
	assert_ok(hb_mem_get_heap_size(UINT64_MAX, &size));
}

static void closed_hb_mem_dma_copy(const struct handles *h)
{
	assert_hb(hb_mem_dma_copy(va(h->com.virt_addr), va(foreign_page), 16),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_dma_copy(0, 0, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_dma_copy(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t a, b;
	uint8_t local[64];
	uint64_t pa, pb;

	CHECK_CLOSED(hb_mem_dma_copy);
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &a));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	pa = va(a.virt_addr);
	pb = va(b.virt_addr);
	/* NULL ends, size 0 */
	assert_hb(hb_mem_dma_copy(0, pb, 16), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, 0, 16), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, pb, 0), HB_MEM_ERR_INVALID_PARAMS);
	/* address + size overflows */
	assert_hb(hb_mem_dma_copy(pa, pb, UINT64_MAX), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(UINT64_MAX - 8, pb, 16),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa, UINT64_MAX - 8, 16),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* more than a buffer holds, at either end */
	assert_hb(hb_mem_dma_copy(pa, pb, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pb, pa, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(pa + 8000, pb, 193),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* neither end is ours */
	assert_hb(hb_mem_dma_copy(va(local), va(foreign_page), sizeof(local)),
		  HB_MEM_ERR_INVALID_VADDR);

	/* good: ours to ours, and ours to plain memory */
	memset(b.virt_addr, 0x5A, 4096);
	assert_ok(hb_mem_dma_copy(pa + 4096, pb, 4096));
	g_assert_cmpuint(a.virt_addr[8191], ==, 0x5A);
	assert_ok(hb_mem_dma_copy(va(local), pb, sizeof(local)));
	g_assert_cmpuint(local[63], ==, 0x5A);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
}

/* ==== import ============================================================= */

static void closed_hb_mem_import_com_buf(const struct handles *h)
{
	hb_mem_common_buf_t in = h->com, out;

	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_import_com_buf(NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_import_com_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, other, in, out, gone;
	int fds;

	CHECK_CLOSED(hb_mem_import_com_buf);
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &other));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &gone));
	assert_ok(hb_mem_free_buf(gone.fd));
	fds = test_count_fds();
	assert_hb(hb_mem_import_com_buf(NULL, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_com_buf(&c, NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* share ids: none, negative, freed, made up */
	in = c;
	in.share_id = 0;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.share_id = -5;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.share_id = INT32_MAX;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_com_buf(&gone, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* sizes: 0, too big, overflowing the device address */
	in = c;
	in.size = 0;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.size = 8193;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.size = UINT64_MAX;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = c;
	in.phys_addr = c.phys_addr + 4096;
	in.size = 4097;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.phys_addr = c.phys_addr + 8192;
	in.size = 1;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.phys_addr = UINT64_MAX;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* device address before the buffer, or another buffer's */
	in = c;
	in.phys_addr = c.phys_addr - 1;
	assert_hb(hb_mem_import_com_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.phys_addr = other.phys_addr;
	in.size = 4096;
	if (other.phys_addr > c.phys_addr + 4096 ||
	    other.phys_addr < c.phys_addr)
		assert_hb(hb_mem_import_com_buf(&in, &out),
			  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_ok(hb_mem_free_buf(other.fd));

	/* good: fd and virt_addr are ignored; a partial share */
	in = c;
	in.fd = -1;
	in.virt_addr = NULL;
	in.phys_addr = c.phys_addr + 4096;
	in.size = 4096;
	c.virt_addr[4096] = 0x42;
	assert_ok(hb_mem_import_com_buf(&in, &out));
	g_assert_cmpuint(out.virt_addr[0], ==, 0x42);
	assert_ok(hb_mem_free_buf(out.fd));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_import_graph_buf(const struct handles *h)
{
	hb_mem_graphic_buf_t in = h->graph, out;

	assert_hb(hb_mem_import_graph_buf(&in, &out),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_import_graph_buf(NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_import_graph_buf(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_t g, cg, in, out;
	int fds;

	CHECK_CLOSED(hb_mem_import_graph_buf);
	alloc_nv12(0, &g);
	alloc_nv12(HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, &cg);
	fds = test_count_fds();
	assert_hb(hb_mem_import_graph_buf(NULL, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_graph_buf(&g, NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* plane counts */
	in = g;
	in.plane_cnt = 0;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.plane_cnt = -1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.plane_cnt = MAX_GRAPHIC_BUF_COMP + 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* plane sizes: 0, overflowing their sum, too big */
	in = g;
	in.size[1] = 0;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = cg;
	in.size[1] = UINT64_MAX - in.size[0] + 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = cg;
	in.size[1] += 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* a plane placed before the first, or past the end */
	in = cg;
	in.phys_addr[1] = cg.phys_addr[0] - 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = cg;
	in.phys_addr[1] = cg.phys_addr[0] + cg.size[0] + 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* the second plane's share id is bad: the first is given back */
	in = g;
	in.share_id[1] = 0;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in.share_id[1] = -3;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	in = g;
	in.size[1] = g.size[1] + 1;
	assert_hb(hb_mem_import_graph_buf(&in, &out), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpint(test_count_fds(), ==, fds);

	/* good, both layouts */
	in = g;
	memset(in.fd, 0xFF, sizeof(in.fd));
	memset(in.virt_addr, 0, sizeof(in.virt_addr));
	assert_ok(hb_mem_import_graph_buf(&in, &out));
	g_assert_cmpint(out.plane_cnt, ==, 2);
	assert_ok(hb_mem_free_buf(out.fd[1]));
	assert_ok(hb_mem_import_graph_buf(&cg, &out));
	g_assert_true(out.virt_addr[1] == out.virt_addr[0] + cg.size[0]);
	assert_ok(hb_mem_free_buf(out.fd[0]));
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(cg.fd[0]));
}

static void closed_hb_mem_import_graph_buf_group(const struct handles *h)
{
	hb_mem_graphic_buf_group_t *in = g_new(hb_mem_graphic_buf_group_t, 2);

	in[0] = h->group;
	assert_hb(hb_mem_import_graph_buf_group(&in[0], &in[1]),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_import_graph_buf_group(NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	g_free(in);
}

static void test_hb_mem_import_graph_buf_group(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 3);
	hb_mem_graphic_buf_group_t *in = grp + 1, *out = grp + 2;
	int fds;

	CHECK_CLOSED(hb_mem_import_graph_buf_group);
	alloc_group(0x7, grp);
	fds = test_count_fds();
	assert_hb(hb_mem_import_graph_buf_group(NULL, out),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_import_graph_buf_group(grp, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	*in = *grp;
	in->bit_map = 0;
	assert_hb(hb_mem_import_graph_buf_group(in, out),
		  HB_MEM_ERR_INVALID_PARAMS);
	in->bit_map = 0x107;
	assert_hb(hb_mem_import_graph_buf_group(in, out),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a member the bitmap names but that is empty */
	in->bit_map = 0xF;
	assert_hb(hb_mem_import_graph_buf_group(in, out),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* the last member is bad: the ones before are given back */
	*in = *grp;
	in->graph_group[2].share_id[0] = 0;
	assert_hb(hb_mem_import_graph_buf_group(in, out),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpint(test_count_fds(), ==, fds);

	/* good */
	assert_ok(hb_mem_import_graph_buf_group(grp, out));
	g_assert_cmphex(out->bit_map, ==, 0x7);
	assert_ok(hb_mem_free_buf(out->graph_group[2].fd[0]));
	assert_ok(hb_mem_free_buf(grp->graph_group[0].fd[0]));
	g_free(grp);
}

/* ==== share client and consume counts ==================================== */

typedef int32_t (*count_fd_fn)(int32_t fd, int32_t *cnt);
typedef int32_t (*count_addr_fn)(uint64_t virt_addr, int32_t *cnt);

static void check_count_fd(count_fd_fn fn, int32_t expect)
{
	hb_mem_common_buf_t c;
	struct bad_fds b;
	int32_t cnt;
	int i;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(fn(c.fd, NULL), HB_MEM_ERR_INVALID_PARAMS);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.fd[i], &cnt), HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);

	/* good */
	cnt = -7;
	assert_ok(fn(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, expect);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(fn(c.fd, &cnt), HB_MEM_ERR_INVALID_FD);
}

static void check_count_addr(count_addr_fn fn, int32_t expect)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	int32_t cnt;
	int i;

	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	assert_hb(fn(va(c.virt_addr), NULL), HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.a[i], &cnt), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(fn(va(c.virt_addr) + 5000, &cnt), HB_MEM_ERR_INVALID_VADDR);

	/* good */
	cnt = -7;
	assert_ok(fn(va(c.virt_addr) + 4999, &cnt));
	g_assert_cmpint(cnt, ==, expect);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_get_share_info(const struct handles *h)
{
	int32_t cnt;

	assert_hb(hb_mem_get_share_info(h->com.fd, &cnt),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_share_info(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_share_info(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_get_share_info);
	check_count_fd(hb_mem_get_share_info, 1);
}

static void closed_hb_mem_get_share_info_with_vaddr(const struct handles *h)
{
	int32_t cnt;

	assert_hb(hb_mem_get_share_info_with_vaddr(va(h->com.virt_addr), &cnt),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_share_info_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_share_info_with_vaddr(TestModule *m,
						  gconstpointer d)
{
	CHECK_CLOSED(hb_mem_get_share_info_with_vaddr);
	check_count_addr(hb_mem_get_share_info_with_vaddr, 1);
}

static void closed_hb_mem_get_consume_info(const struct handles *h)
{
	int32_t cnt;

	assert_hb(hb_mem_get_consume_info(h->com.fd, &cnt),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_consume_info(-1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_consume_info(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_get_consume_info);
	check_count_fd(hb_mem_get_consume_info, 0);
}

static void closed_hb_mem_get_consume_info_with_vaddr(const struct handles *h)
{
	int32_t cnt;

	assert_hb(hb_mem_get_consume_info_with_vaddr(va(h->com.virt_addr),
						     &cnt),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_consume_info_with_vaddr(0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_consume_info_with_vaddr(TestModule *m,
						    gconstpointer d)
{
	CHECK_CLOSED(hb_mem_get_consume_info_with_vaddr);
	check_count_addr(hb_mem_get_consume_info_with_vaddr, 0);
}

typedef int32_t (*wait_fd_fn)(int32_t fd, int32_t target, int64_t timeout);
typedef int32_t (*wait_addr_fn)(uint64_t virt_addr, int32_t target,
				int64_t timeout);

/*
 * @c holds a count of 1 (one holder, or one consume): target 0 cannot be
 * reached, target 1 already is.
 */
static void check_wait_fd(wait_fd_fn fn, const hb_mem_common_buf_t *c)
{
	struct bad_fds b;
	int i;

	assert_hb(fn(c->fd, -1, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(c->fd, INT32_MIN, -1), HB_MEM_ERR_INVALID_PARAMS);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++) {
		assert_hb(fn(b.fd[i], 0, 0), HB_MEM_ERR_INVALID_FD);
		assert_hb(fn(b.fd[i], 0, -1), HB_MEM_ERR_INVALID_FD);
	}
	bad_fds_close(&b);
	/* unreachable target: timeouts of 0 and a few ms */
	assert_hb(fn(c->fd, 0, 0), HB_MEM_ERR_TIMEOUT);
	assert_hb(fn(c->fd, 0, 5), HB_MEM_ERR_TIMEOUT);

	/* good: a reached target returns at once, whatever the timeout */
	assert_ok(fn(c->fd, 1, 0));
	assert_ok(fn(c->fd, 1, -1));
	assert_ok(fn(c->fd, INT32_MAX, INT64_MAX));
	assert_ok(fn(c->fd, 1, INT64_MIN));
}

static void check_wait_addr(wait_addr_fn fn, const hb_mem_common_buf_t *c)
{
	uint64_t base = va(c->virt_addr);
	struct bad_addrs b;
	int i;

	assert_hb(fn(base, -1, 0), HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.a[i], 0, -1), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(fn(base + c->size, 0, -1), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(fn(base, 0, 0), HB_MEM_ERR_TIMEOUT);
	assert_hb(fn(base + 1, 0, 5), HB_MEM_ERR_TIMEOUT);

	/* good */
	assert_ok(fn(base, 1, 0));
	assert_ok(fn(base + 1, 1, -1));
	assert_ok(fn(base, INT32_MAX, INT64_MAX));
}

static void closed_hb_mem_wait_share_status(const struct handles *h)
{
	assert_hb(hb_mem_wait_share_status(h->com.fd, 0, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_wait_share_status(-1, -1, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_wait_share_status(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;

	CHECK_CLOSED(hb_mem_wait_share_status);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	check_wait_fd(hb_mem_wait_share_status, &c);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(hb_mem_wait_share_status(c.fd, 0, -1), HB_MEM_ERR_INVALID_FD);
}

static void closed_hb_mem_wait_share_status_with_vaddr(const struct handles *h)
{
	assert_hb(hb_mem_wait_share_status_with_vaddr(va(h->com.virt_addr), 0,
						      -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_wait_share_status_with_vaddr(0, -1, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_wait_share_status_with_vaddr(TestModule *m,
						     gconstpointer d)
{
	hb_mem_common_buf_t c;

	CHECK_CLOSED(hb_mem_wait_share_status_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	check_wait_addr(hb_mem_wait_share_status_with_vaddr, &c);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_wait_consume_status(const struct handles *h)
{
	assert_hb(hb_mem_wait_consume_status(h->com.fd, 0, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_wait_consume_status(-1, -1, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_wait_consume_status(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;

	CHECK_CLOSED(hb_mem_wait_consume_status);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	check_wait_fd(hb_mem_wait_consume_status, &c);
	assert_ok(hb_mem_dec_consume_cnt(c.fd));
	assert_ok(hb_mem_wait_consume_status(c.fd, 0, 0));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_wait_consume_status_with_vaddr(
	const struct handles *h)
{
	assert_hb(hb_mem_wait_consume_status_with_vaddr(va(h->com.virt_addr), 0,
							-1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_wait_consume_status_with_vaddr(0, -1, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_wait_consume_status_with_vaddr(TestModule *m,
						       gconstpointer d)
{
	hb_mem_common_buf_t c;

	CHECK_CLOSED(hb_mem_wait_consume_status_with_vaddr);
	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	check_wait_addr(hb_mem_wait_consume_status_with_vaddr, &c);
	assert_ok(hb_mem_free_buf(c.fd));
}

static int32_t consume_of(int32_t fd)
{
	int32_t cnt = -1;

	assert_ok(hb_mem_get_consume_info(fd, &cnt));
	return cnt;
}

static void closed_hb_mem_inc_com_buf_consume_cnt(const struct handles *h)
{
	hb_mem_common_buf_t c = h->com;

	assert_hb(hb_mem_inc_com_buf_consume_cnt(&c),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_inc_com_buf_consume_cnt(NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_inc_com_buf_consume_cnt(TestModule *m,
						gconstpointer d)
{
	hb_mem_common_buf_t c, other, in, gone;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_inc_com_buf_consume_cnt);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &other));
	alloc_nv12(HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, &g);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &gone));
	assert_ok(hb_mem_free_buf(gone.fd));
	assert_hb(hb_mem_inc_com_buf_consume_cnt(NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a stale descriptor, one whose share id is another buffer's */
	assert_hb(hb_mem_inc_com_buf_consume_cnt(&gone), HB_MEM_ERR_INVALID_FD);
	in = c;
	in.share_id = other.share_id;
	assert_hb(hb_mem_inc_com_buf_consume_cnt(&in), HB_MEM_ERR_INVALID_FD);
	in.share_id = 0;
	assert_hb(hb_mem_inc_com_buf_consume_cnt(&in), HB_MEM_ERR_INVALID_FD);
	/* a graphic buffer's fd */
	in = c;
	in.fd = g.fd[0];
	in.share_id = g.share_id[0];
	assert_hb(hb_mem_inc_com_buf_consume_cnt(&in), HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++) {
		in = c;
		in.fd = b.fd[i];
		assert_hb(hb_mem_inc_com_buf_consume_cnt(&in),
			  HB_MEM_ERR_INVALID_FD);
	}
	bad_fds_close(&b);
	g_assert_cmpint(consume_of(c.fd), ==, 0);
	g_assert_cmpint(consume_of(other.fd), ==, 0);
	g_assert_cmpint(consume_of(g.fd[0]), ==, 0);
	assert_ok(hb_mem_free_buf(other.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));

	/* good */
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	g_assert_cmpint(consume_of(c.fd), ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_inc_graph_buf_consume_cnt(const struct handles *h)
{
	hb_mem_graphic_buf_t g = h->graph;

	assert_hb(hb_mem_inc_graph_buf_consume_cnt(&g),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_inc_graph_buf_consume_cnt(NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_inc_graph_buf_consume_cnt(TestModule *m,
						  gconstpointer d)
{
	hb_mem_graphic_buf_t g, in, gone;
	hb_mem_common_buf_t c;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_inc_graph_buf_consume_cnt);
	alloc_nv12(0, &g);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	/* freed last, so that no live buffer reuses its fds */
	alloc_nv12(0, &gone);
	assert_ok(hb_mem_free_buf(gone.fd[0]));
	assert_hb(hb_mem_inc_graph_buf_consume_cnt(NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_inc_graph_buf_consume_cnt(&gone),
		  HB_MEM_ERR_INVALID_FD);
	in = g;
	in.share_id[0] = g.share_id[1];
	assert_hb(hb_mem_inc_graph_buf_consume_cnt(&in), HB_MEM_ERR_INVALID_FD);
	in = g;
	in.fd[0] = c.fd;
	in.share_id[0] = c.share_id;
	assert_hb(hb_mem_inc_graph_buf_consume_cnt(&in), HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++) {
		in = g;
		in.fd[0] = b.fd[i];
		assert_hb(hb_mem_inc_graph_buf_consume_cnt(&in),
			  HB_MEM_ERR_INVALID_FD);
	}
	bad_fds_close(&b);
	g_assert_cmpint(consume_of(g.fd[0]), ==, 0);
	g_assert_cmpint(consume_of(c.fd), ==, 0);
	assert_ok(hb_mem_free_buf(c.fd));

	/* good: every plane counts */
	assert_ok(hb_mem_inc_graph_buf_consume_cnt(&g));
	g_assert_cmpint(consume_of(g.fd[0]), ==, 1);
	g_assert_cmpint(consume_of(g.fd[1]), ==, 1);
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_inc_graph_buf_group_consume_cnt(
	const struct handles *h)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 1);

	*grp = h->group;
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(grp),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	g_free(grp);
}

static void test_hb_mem_inc_graph_buf_group_consume_cnt(TestModule *m,
							gconstpointer d)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 3);
	hb_mem_graphic_buf_group_t *in = grp + 1, *gone = grp + 2;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i;

	CHECK_CLOSED(hb_mem_inc_graph_buf_group_consume_cnt);
	alloc_group(0x3, grp);
	alloc_nv12(0, &g);
	alloc_group(0x1, gone);
	assert_ok(hb_mem_free_buf(gone->graph_group[0].fd[0]));
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* bitmaps: empty, beyond the eighth member */
	*in = *grp;
	in->bit_map = 0;
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(in),
		  HB_MEM_ERR_INVALID_PARAMS);
	in->bit_map = 0x100;
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(in),
		  HB_MEM_ERR_INVALID_PARAMS);
	in->bit_map = 0x103;
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(in),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* stale group; a graphic buffer that is in no group */
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(gone),
		  HB_MEM_ERR_INVALID_FD);
	*in = *grp;
	in->graph_group[0] = g;
	assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(in),
		  HB_MEM_ERR_INVALID_FD);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++) {
		*in = *grp;
		in->graph_group[0].fd[0] = b.fd[i];
		assert_hb(hb_mem_inc_graph_buf_group_consume_cnt(in),
			  HB_MEM_ERR_INVALID_FD);
	}
	bad_fds_close(&b);
	g_assert_cmpint(consume_of(grp->graph_group[0].fd[0]), ==, 0);
	g_assert_cmpint(consume_of(g.fd[0]), ==, 0);
	assert_ok(hb_mem_free_buf(g.fd[0]));

	/* good: every member */
	assert_ok(hb_mem_inc_graph_buf_group_consume_cnt(grp));
	g_assert_cmpint(consume_of(grp->graph_group[0].fd[1]), ==, 1);
	g_assert_cmpint(consume_of(grp->graph_group[1].fd[0]), ==, 1);
	assert_ok(hb_mem_free_buf(grp->graph_group[0].fd[0]));
	g_free(grp);
}

typedef int32_t (*change_fd_fn)(int32_t fd);
typedef int32_t (*change_addr_fn)(uint64_t virt_addr);

/*
 * A consume-count change by fd: bad fds fail, a group member fails for the
 * user variants (@user), and the good call moves the count by @delta.
 */
static void check_change_fd(change_fd_fn fn, bool user, int delta)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_common_buf_t c;
	struct bad_fds b;
	int i;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_group(0x1, grp);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.fd[i]), HB_MEM_ERR_INVALID_FD);
	bad_fds_close(&b);
	if (user)
		assert_hb(fn(grp->graph_group[0].fd[0]), HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_free_buf(grp->graph_group[0].fd[0]));
	assert_hb(fn(grp->graph_group[0].fd[0]), HB_MEM_ERR_INVALID_FD);
	g_free(grp);

	/* good; a decrement at 0 stays at 0 */
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	assert_ok(fn(c.fd));
	g_assert_cmpint(consume_of(c.fd), ==, 1 + delta);
	assert_ok(fn(c.fd));
	assert_ok(fn(c.fd));
	g_assert_cmpint(consume_of(c.fd), ==, delta > 0 ? 4 : 0);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(fn(c.fd), HB_MEM_ERR_INVALID_FD);
}

static void check_change_addr(change_addr_fn fn, bool user, int delta)
{
	hb_mem_graphic_buf_group_t *grp = g_new(hb_mem_graphic_buf_group_t, 1);
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	uint64_t base;
	int i;

	assert_ok(hb_mem_alloc_com_buf(5000, 0, &c));
	base = va(c.virt_addr);
	alloc_group(0x1, grp);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(fn(b.a[i]), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	assert_hb(fn(base + 5000), HB_MEM_ERR_INVALID_VADDR);
	if (user)
		assert_hb(fn(va(grp->graph_group[0].virt_addr[0])),
			  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(grp->graph_group[0].fd[0]));
	g_free(grp);

	/* good */
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	assert_ok(fn(base + 4999));
	g_assert_cmpint(consume_of(c.fd), ==, 1 + delta);
	assert_ok(fn(base));
	assert_ok(fn(base));
	g_assert_cmpint(consume_of(c.fd), ==, delta > 0 ? 4 : 0);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_hb(fn(base), HB_MEM_ERR_INVALID_VADDR);
}

#define CLOSED_CHANGE_FD(fn)                                              \
	static void closed_##fn(const struct handles *h)                  \
	{                                                                 \
		assert_hb(fn(h->com.fd), HB_MEM_ERR_MODULE_NOT_FOUND);    \
		assert_hb(fn(-1), HB_MEM_ERR_MODULE_NOT_FOUND);           \
	}
#define CLOSED_CHANGE_ADDR(fn)                                            \
	static void closed_##fn(const struct handles *h)                  \
	{                                                                 \
		assert_hb(fn(va(h->com.virt_addr)),                       \
			  HB_MEM_ERR_MODULE_NOT_FOUND);                   \
		assert_hb(fn(0), HB_MEM_ERR_MODULE_NOT_FOUND);            \
	}

CLOSED_CHANGE_FD(hb_mem_dec_consume_cnt)
CLOSED_CHANGE_ADDR(hb_mem_dec_consume_cnt_with_vaddr)
CLOSED_CHANGE_FD(hb_mem_inc_user_consume_cnt)
CLOSED_CHANGE_FD(hb_mem_dec_user_consume_cnt)
CLOSED_CHANGE_ADDR(hb_mem_inc_user_consume_cnt_with_vaddr)
CLOSED_CHANGE_ADDR(hb_mem_dec_user_consume_cnt_with_vaddr)

static void test_hb_mem_dec_consume_cnt(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_dec_consume_cnt);
	check_change_fd(hb_mem_dec_consume_cnt, false, -1);
}

static void test_hb_mem_dec_consume_cnt_with_vaddr(TestModule *m,
						   gconstpointer d)
{
	CHECK_CLOSED(hb_mem_dec_consume_cnt_with_vaddr);
	check_change_addr(hb_mem_dec_consume_cnt_with_vaddr, false, -1);
}

static void test_hb_mem_inc_user_consume_cnt(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_inc_user_consume_cnt);
	check_change_fd(hb_mem_inc_user_consume_cnt, true, 1);
}

static void test_hb_mem_dec_user_consume_cnt(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_dec_user_consume_cnt);
	check_change_fd(hb_mem_dec_user_consume_cnt, true, -1);
}

static void test_hb_mem_inc_user_consume_cnt_with_vaddr(TestModule *m,
							gconstpointer d)
{
	CHECK_CLOSED(hb_mem_inc_user_consume_cnt_with_vaddr);
	check_change_addr(hb_mem_inc_user_consume_cnt_with_vaddr, true, 1);
}

static void test_hb_mem_dec_user_consume_cnt_with_vaddr(TestModule *m,
							gconstpointer d)
{
	CHECK_CLOSED(hb_mem_dec_user_consume_cnt_with_vaddr);
	check_change_addr(hb_mem_dec_user_consume_cnt_with_vaddr, true, -1);
}

/* ==== process information ================================================ */

static void closed_hb_mem_get_buffer_process_info(const struct handles *h)
{
	int32_t pid[4], n;

	assert_hb(hb_mem_get_buffer_process_info(va(h->com.virt_addr), pid, 4,
						 &n),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buffer_process_info(0, NULL, -1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buffer_process_info(TestModule *m,
						gconstpointer d)
{
	hb_mem_common_buf_t c;
	struct bad_addrs b;
	int32_t pid[4], n;
	uint64_t base;
	int i;

	CHECK_CLOSED(hb_mem_get_buffer_process_info);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	base = va(c.virt_addr);
	assert_hb(hb_mem_get_buffer_process_info(base, pid, 4, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info(base, NULL, 4, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info(base, pid, -1, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info(base, pid, INT32_MIN, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_get_buffer_process_info(b.a[i], pid, 4, &n),
			  HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);

	/* good: num 0 only counts */
	assert_ok(hb_mem_get_buffer_process_info(base, NULL, 0, &n));
	g_assert_cmpint(n, ==, 1);
	assert_ok(hb_mem_get_buffer_process_info(base + 4095, pid, 4, &n));
	g_assert_cmpint(pid[0], ==, getpid());
	assert_ok(hb_mem_free_buf(c.fd));
}

/* Share ids that name nothing: none, negative, freed, made up. */
static void bad_share_ids(int32_t ids[4])
{
	hb_mem_common_buf_t gone;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &gone));
	assert_ok(hb_mem_free_buf(gone.fd));
	ids[0] = 0;
	ids[1] = -1;
	ids[2] = gone.share_id;
	ids[3] = INT32_MAX;
}

static void closed_hb_mem_get_buffer_process_info_with_share_id(
	const struct handles *h)
{
	int32_t pid[4], n;

	assert_hb(hb_mem_get_buffer_process_info_with_share_id(h->com.share_id,
							       pid, 4, &n),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buffer_process_info_with_share_id(0, NULL, -1,
							       NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buffer_process_info_with_share_id(TestModule *m,
							      gconstpointer d)
{
	hb_mem_common_buf_t c;
	int32_t pid[4], ids[4], n;
	int i;

	CHECK_CLOSED(hb_mem_get_buffer_process_info_with_share_id);
	bad_share_ids(ids);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_buffer_process_info_with_share_id(c.share_id, pid,
							       4, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info_with_share_id(c.share_id, NULL,
							       4, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_info_with_share_id(c.share_id, pid,
							       -1, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	for (i = 0; i < 4; i++)
		assert_hb(hb_mem_get_buffer_process_info_with_share_id(
				  ids[i], pid, 4, &n),
			  HB_MEM_ERR_INVALID_PARAMS);

	/* good */
	assert_ok(hb_mem_get_buffer_process_info_with_share_id(c.share_id, pid,
							       4, &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(pid[0], ==, getpid());
	assert_ok(hb_mem_free_buf(c.fd));
}

static void closed_hb_mem_get_buffer_process_cons_info_with_share_id(
	const struct handles *h)
{
	int32_t pid[4], cnt[4], n;

	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  h->com.share_id, pid, cnt, 4, &n),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  0, NULL, NULL, -1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buffer_process_cons_info_with_share_id(
	TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c;
	int32_t pid[4], cnt[4], ids[4], n;
	int i;

	CHECK_CLOSED(hb_mem_get_buffer_process_cons_info_with_share_id);
	bad_share_ids(ids);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  c.share_id, pid, cnt, 4, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  c.share_id, NULL, cnt, 4, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  c.share_id, pid, NULL, 4, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
			  c.share_id, pid, cnt, -1, &n),
		  HB_MEM_ERR_INVALID_PARAMS);
	for (i = 0; i < 4; i++)
		assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
				  ids[i], pid, cnt, 4, &n),
			  HB_MEM_ERR_INVALID_PARAMS);

	/* the kernel driver does not track consumers per process */
	if (backend_is("hbmem")) {
		assert_hb(hb_mem_get_buffer_process_cons_info_with_share_id(
				  c.share_id, pid, cnt, 4, &n),
			  HB_MEM_ERR_NOT_ALLOW);
		assert_ok(hb_mem_free_buf(c.fd));
		return;
	}
	/* good: nobody consumes, then this process twice */
	assert_ok(hb_mem_get_buffer_process_cons_info_with_share_id(
		c.share_id, pid, cnt, 4, &n));
	g_assert_cmpint(n, ==, 0);
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c));
	assert_ok(hb_mem_get_buffer_process_cons_info_with_share_id(
		c.share_id, pid, cnt, 4, &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(pid[0], ==, getpid());
	g_assert_cmpint(cnt[0], ==, 2);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ==== extensions: backend and heaps ====================================== */

static void closed_hb_mem_get_backend(const struct handles *h)
{
	char name[32];
	uint32_t caps;

	assert_hb(hb_mem_get_backend(name, sizeof(name), &caps),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_backend(NULL, 0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_backend(TestModule *m, gconstpointer d)
{
	char name[32];
	uint32_t caps = 0xDEAD;

	CHECK_CLOSED(hb_mem_get_backend);
	assert_hb(hb_mem_get_backend(NULL, sizeof(name), &caps),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_backend(name, 0, &caps), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmphex(caps, ==, 0xDEAD);

	/* good: caps may be NULL; a short buffer truncates */
	memset(name, 'x', sizeof(name));
	assert_ok(hb_mem_get_backend(name, 1, NULL));
	g_assert_cmpint(name[0], ==, '\0');
	g_assert_cmpint(name[1], ==, 'x');
	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	g_assert_cmpuint(strlen(name), >, 0);
	g_assert_cmphex(caps & ~(HB_MEM_BACKEND_CAP_DMABUF |
				 HB_MEM_BACKEND_CAP_PHYS |
				 HB_MEM_BACKEND_CAP_COHERENT), ==, 0);
}

static void closed_hb_mem_get_heap_count(const struct handles *h)
{
	int32_t n;

	assert_hb(hb_mem_get_heap_count(&n), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_count(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_count(TestModule *m, gconstpointer d)
{
	int32_t n = -1;

	CHECK_CLOSED(hb_mem_get_heap_count);
	assert_hb(hb_mem_get_heap_count(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_heap_count(&n));
	g_assert_cmpint(n, >, 0);
}

static void closed_hb_mem_get_heap_info(const struct handles *h)
{
	hb_mem_heap_info_t info;

	assert_hb(hb_mem_get_heap_info(0, &info), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_heap_info(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_heap_info(TestModule *m, gconstpointer d)
{
	hb_mem_heap_info_t info;
	int32_t n;

	CHECK_CLOSED(hb_mem_get_heap_info);
	assert_ok(hb_mem_get_heap_count(&n));
	assert_hb(hb_mem_get_heap_info(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(-1, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(INT32_MIN, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(n, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(INT32_MAX, &info),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good: the last heap */
	assert_ok(hb_mem_get_heap_info(n - 1, &info));
	g_assert_cmpuint(strnlen(info.name, sizeof(info.name)), <,
			 sizeof(info.name));
	g_assert_cmpuint(info.used, <=, info.capacity);
}

/* ==== hb_mem_err.h ======================================================= */

static void closed_hb_mem_strerror(const struct handles *h)
{
	char buf[HB_MEM_ERR_MAX_STR_SIZE];

	/* needs no module */
	assert_ok(hb_mem_strerror(HB_MEM_ERR_MODULE_NOT_FOUND, buf,
				  sizeof(buf)));
	assert_hb(hb_mem_strerror(0, NULL, 0), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_hb_mem_strerror(TestModule *m, gconstpointer d)
{
	static const int32_t unknown[] = {
		1, -1, 22, -22, INT32_MAX, INT32_MIN, (int32_t)0xFF000000,
		(int32_t)0xFF000017, (int32_t)0xFF0000FF, (int32_t)0xFE000002,
	};
	char buf[HB_MEM_ERR_MAX_STR_SIZE];
	size_t i;

	CHECK_CLOSED(hb_mem_strerror);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, NULL, sizeof(buf)),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* unknown codes still get a text */
	for (i = 0; i < G_N_ELEMENTS(unknown); i++) {
		buf[0] = '\0';
		assert_hb(hb_mem_strerror(unknown[i], buf, sizeof(buf)),
			  HB_MEM_ERR_UNKNOWN);
		g_assert_cmpuint(strlen(buf), >, 0);
	}
	/* a one-byte buffer holds the terminator only */
	buf[0] = 'x';
	assert_ok(hb_mem_strerror(HB_MEM_ERR_TIMEOUT, buf, 1));
	g_assert_cmpint(buf[0], ==, '\0');

	/* good: every code has its own text */
	for (i = 1; i <= 0x16; i++) {
		assert_ok(hb_mem_strerror((int32_t)(0xFF000000u | i), buf,
					  sizeof(buf)));
		g_assert_cmpuint(strlen(buf), >, 0);
		g_assert_null(strstr(buf, "unknown error code"));
	}
}

/* ==== local pool ========================================================= */

/* fds that name no pool: the bad fds, plus a common and a graphic buffer. */
static void check_not_a_pool(int32_t (*call)(int32_t fd, void *arg), void *arg)
{
	hb_mem_common_buf_t c;
	hb_mem_graphic_buf_t g;
	struct bad_fds b;
	int i;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	alloc_nv12(0, &g);
	assert_hb(call(c.fd, arg), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(call(g.fd[1], arg), HB_MEM_ERR_POOL_NOT_FOUND);
	bad_fds_open(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(call(b.fd[i], arg), HB_MEM_ERR_POOL_NOT_FOUND);
	bad_fds_close(&b);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void closed_hb_mem_pool_create(const struct handles *h)
{
	hb_mem_pool_t pool;

	assert_hb(hb_mem_pool_create(64 * KiB, 0, &pool),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_create(0, 0, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_create(TestModule *m, gconstpointer d)
{
	hb_mem_pool_t pool;
	int fds;

	CHECK_CLOSED(hb_mem_pool_create);
	fds = test_count_fds();
	assert_hb(hb_mem_pool_create(64 * KiB, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_create(0, 0, &pool), HB_MEM_ERR_INVALID_PARAMS);
	/* page rounding would wrap; more than any heap or page count */
	assert_hb(hb_mem_pool_create(UINT64_MAX, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(1ull << 63, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(64ull << 30, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(64 * KiB, HB_MEM_USAGE_PRIV_HEAP_SRAM,
				     &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(test_count_fds(), ==, fds);
	heaps_are_empty();

	/* good: a size that is not a page multiple */
	assert_ok(hb_mem_pool_create(10000, HB_MEM_USAGE_CACHED, &pool));
	g_assert_cmpint(pool.fd, >=, 0);
	g_assert_cmpint(pool.page_size, >, 0);
	g_assert_cmpuint(pool.size, >=, 10000);
	g_assert_cmpint(pool.avail_page_cnt, ==, pool.total_page_cnt);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static int32_t call_pool_destroy(int32_t fd, void *arg)
{
	return hb_mem_pool_destroy(fd);
}

static void closed_hb_mem_pool_destroy(const struct handles *h)
{
	assert_hb(hb_mem_pool_destroy(h->pool.fd), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_destroy(-1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_destroy(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t sub;
	hb_mem_pool_t pool;

	CHECK_CLOSED(hb_mem_pool_destroy);
	check_not_a_pool(call_pool_destroy, NULL);
	/* busy while a sub-allocation lives, and still usable */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &sub));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_BUSY);
	sub.virt_addr[99] = 1;
	assert_ok(hb_mem_pool_free_buf(va(sub.virt_addr)));
	/* destroyed twice; a pool freed through hb_mem_free_buf */
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_free_buf(pool.fd));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	heaps_are_empty();

	/* good */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	heaps_are_empty();
}

static int32_t call_pool_alloc(int32_t fd, void *arg)
{
	return hb_mem_pool_alloc_buf(fd, 100, arg);
}

static void closed_hb_mem_pool_alloc_buf(const struct handles *h)
{
	hb_mem_common_buf_t c;

	assert_hb(hb_mem_pool_alloc_buf(h->pool.fd, 100, &c),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_alloc_buf(-1, 0, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_alloc_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, sub[2];
	hb_mem_pool_t pool, gone, info;

	CHECK_CLOSED(hb_mem_pool_alloc_buf);
	check_not_a_pool(call_pool_alloc, &c);
	/* a destroyed pool (made second, so the live one cannot reuse its fd) */
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &gone));
	assert_ok(hb_mem_pool_destroy(gone.fd));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 100, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 0, &c),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_alloc_buf(gone.fd, 100, &c),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	/* bigger than the pool; sizes whose page rounding would wrap */
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 64 * KiB + 1, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX - 4094, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	/* exhausted */
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64 * KiB, &sub[0]));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 1, &c),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpint(info.cur_client_cnt, ==, 1);
	assert_ok(hb_mem_pool_free_buf(va(sub[0].virt_addr)));

	/* good */
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 1, &sub[0]));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 5000, &sub[1]));
	g_assert_cmpuint(sub[1].size, ==, 5000);
	memset(sub[1].virt_addr, 0x11, 5000);
	assert_ok(hb_mem_pool_free_buf(va(sub[0].virt_addr)));
	assert_ok(hb_mem_pool_free_buf(va(sub[1].virt_addr)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void closed_hb_mem_pool_free_buf(const struct handles *h)
{
	assert_hb(hb_mem_pool_free_buf(va(foreign_page)),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_free_buf(0), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_free_buf(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t c, sub, other;
	hb_mem_pool_t pool, info;
	struct bad_addrs b;
	int i;

	CHECK_CLOSED(hb_mem_pool_free_buf);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 10000, &sub));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &other));
	bad_addrs_init(&b);
	for (i = 0; i < b.n; i++)
		assert_hb(hb_mem_pool_free_buf(b.a[i]), HB_MEM_ERR_INVALID_VADDR);
	bad_addrs_free(&b);
	/* a common buffer; inside a sub-allocation; free pool pages */
	assert_hb(hb_mem_pool_free_buf(va(c.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 1),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 8192),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr) + 9999),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr) + 8192),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr) + 40 * KiB),
		  HB_MEM_ERR_INVALID_VADDR);
	/* double free */
	assert_ok(hb_mem_pool_free_buf(va(other.virt_addr)));
	assert_hb(hb_mem_pool_free_buf(va(other.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpint(info.cur_client_cnt, ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));

	/* good; then the pool is gone and so is the address */
	assert_ok(hb_mem_pool_free_buf(va(sub.virt_addr)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_free_buf(va(sub.virt_addr)),
		  HB_MEM_ERR_INVALID_VADDR);
}

static int32_t call_pool_get_info(int32_t fd, void *arg)
{
	return hb_mem_pool_get_info(fd, arg);
}

static void closed_hb_mem_pool_get_info(const struct handles *h)
{
	hb_mem_pool_t info;

	assert_hb(hb_mem_pool_get_info(h->pool.fd, &info),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_get_info(-1, NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_pool_get_info(TestModule *m, gconstpointer d)
{
	hb_mem_pool_t pool, info;

	CHECK_CLOSED(hb_mem_pool_get_info);
	check_not_a_pool(call_pool_get_info, &info);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &pool));
	assert_hb(hb_mem_pool_get_info(pool.fd, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);

	/* good */
	assert_ok(hb_mem_pool_get_info(pool.fd, &info));
	g_assert_cmpmem(&info, sizeof(info), &pool, sizeof(pool));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_get_info(pool.fd, &info),
		  HB_MEM_ERR_POOL_NOT_FOUND);
}

/* ==== queue ============================================================== */

/* A 4-slot queue of 8-byte items. */
static void queue_new(hb_mem_buf_queue_t *q)
{
	memset(q, 0, sizeof(*q));
	q->count = 4;
	q->item_size = 8;
	assert_ok(hb_mem_create_buf_queue(q));
}

/* A queue id that names no live queue: made up, or destroyed. */
static void queue_gone(hb_mem_buf_queue_t *q)
{
	queue_new(q);
	assert_ok(hb_mem_destroy_buf_queue(q));
}

static void check_queue_create(int32_t (*create)(hb_mem_buf_queue_t *q))
{
	static const uint32_t bad[][2] = {
		{ 0, 8 }, { 4, 0 }, { 0, 0 },
		/* more slots, or more bytes, than a queue may have */
		{ UINT32_MAX, 1 }, { (1u << 20) + 1, 1 },
		{ 1, UINT32_MAX }, { 65536, 65536 }, { UINT32_MAX, UINT32_MAX },
	};
	hb_mem_buf_queue_t q, again;
	size_t i;

	assert_hb(create(NULL), HB_MEM_ERR_INVALID_PARAMS);
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		memset(&q, 0, sizeof(q));
		q.count = bad[i][0];
		q.item_size = bad[i][1];
		assert_hb(create(&q), HB_MEM_ERR_INVALID_PARAMS);
		g_assert_cmpuint(q.unique_id, ==, 0);
	}
	/* the struct of a live queue */
	queue_new(&q);
	again = q;
	assert_hb(create(&again), HB_MEM_ERR_QUEUE_ALREADY_EXIST);
	g_assert_cmpuint(again.unique_id, ==, q.unique_id);
	assert_ok(hb_mem_destroy_buf_queue(&q));

	/* good: a destroyed queue's struct, and a made-up id, are reusable */
	assert_ok(create(&q));
	assert_ok(hb_mem_destroy_buf_queue(&q));
	q.unique_id = 0x123456789abcdefull;
	assert_ok(create(&q));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_create_buf_queue(const struct handles *h)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	assert_hb(hb_mem_create_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_create_buf_queue(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static int32_t create_plain(hb_mem_buf_queue_t *q)
{
	return hb_mem_create_buf_queue(q);
}

static void test_hb_mem_create_buf_queue(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_create_buf_queue);
	check_queue_create(create_plain);
}

static void closed_hb_mem_create_buf_queue_ex(const struct handles *h)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	assert_hb(hb_mem_create_buf_queue_ex(&q, HB_MEM_QUEUE_FLAG_OVERWRITE),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_create_buf_queue_ex(NULL, ~0u),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static int32_t create_overwrite(hb_mem_buf_queue_t *q)
{
	return hb_mem_create_buf_queue_ex(q, HB_MEM_QUEUE_FLAG_OVERWRITE);
}

static void test_hb_mem_create_buf_queue_ex(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q = { 0, 4, 8 };

	CHECK_CLOSED(hb_mem_create_buf_queue_ex);
	/* unknown flags */
	assert_hb(hb_mem_create_buf_queue_ex(&q, 1u << 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_create_buf_queue_ex(&q, ~0u),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpuint(q.unique_id, ==, 0);
	check_queue_create(create_overwrite);
	/* good, without flags too */
	assert_ok(hb_mem_create_buf_queue_ex(&q, 0));
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_destroy_buf_queue(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(NULL), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_destroy_buf_queue(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q, gone, fake = { 0, 4, 8 };

	CHECK_CLOSED(hb_mem_destroy_buf_queue);
	queue_gone(&gone);
	assert_hb(hb_mem_destroy_buf_queue(NULL), HB_MEM_ERR_INVALID_PARAMS);
	/* never created, made up, destroyed twice */
	assert_hb(hb_mem_destroy_buf_queue(&fake), HB_MEM_ERR_QUEUE_NOT_FOUND);
	fake.unique_id = UINT64_MAX;
	assert_hb(hb_mem_destroy_buf_queue(&fake), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_destroy_buf_queue(&gone), HB_MEM_ERR_QUEUE_NOT_FOUND);

	/* good */
	queue_new(&q);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	assert_hb(hb_mem_destroy_buf_queue(&q), HB_MEM_ERR_QUEUE_NOT_FOUND);
}

typedef int32_t (*take_fn)(hb_mem_buf_queue_t *queue, int32_t *slot,
			   void *buf, int64_t timeout);

/* Bad input to dequeue or request: @q has nothing to take. */
static void check_take(take_fn fn, hb_mem_buf_queue_t *q)
{
	hb_mem_buf_queue_t gone, fake = { 0x5151, 4, 8 };
	uint64_t item;
	int32_t slot = -7;

	queue_gone(&gone);
	assert_hb(fn(NULL, &slot, &item, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(q, NULL, &item, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(fn(&fake, &slot, &item, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(fn(&gone, &slot, &item, -1), HB_MEM_ERR_QUEUE_NOT_FOUND);
	/* nothing to take: at once, after a wait */
	assert_hb(fn(q, &slot, &item, 0), HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT);
	assert_hb(fn(q, &slot, &item, 5), HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(slot, ==, -7);
}

static void closed_hb_mem_dequeue_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item;
	int32_t slot;

	assert_hb(hb_mem_dequeue_buf(&q, &slot, &item, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_dequeue_buf(NULL, NULL, NULL, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_dequeue_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	int32_t slot[4], s;
	uint64_t item = 42;
	int i;

	CHECK_CLOSED(hb_mem_dequeue_buf);
	queue_new(&q);
	for (i = 0; i < 4; i++)
		assert_ok(hb_mem_dequeue_buf(&q, &slot[i], NULL, 0));
	check_take(hb_mem_dequeue_buf, &q);

	/* good, once a slot is free again; buf may be NULL */
	assert_ok(hb_mem_cancel_buf(&q, slot[2]));
	assert_ok(hb_mem_dequeue_buf(&q, &s, &item, -1));
	g_assert_cmpint(s, ==, slot[2]);
	g_assert_cmpuint(item, ==, 0);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

static void closed_hb_mem_request_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item;
	int32_t slot;

	assert_hb(hb_mem_request_buf(&q, &slot, &item, 0),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_request_buf(NULL, NULL, NULL, -1),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_request_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	uint64_t item = 0x1122334455667788ull, out = 0;
	int32_t s, r;

	CHECK_CLOSED(hb_mem_request_buf);
	queue_new(&q);
	/* a dequeued slot is not yet queued */
	assert_ok(hb_mem_dequeue_buf(&q, &s, NULL, 0));
	check_take(hb_mem_request_buf, &q);

	/* good */
	assert_ok(hb_mem_queue_buf(&q, s, &item));
	assert_ok(hb_mem_request_buf(&q, &r, &out, -1));
	g_assert_cmpint(r, ==, s);
	g_assert_cmphex(out, ==, item);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/*
 * Bad slots for the calls that name one: negative, past the end, and in
 * each wrong state. @ok_state says which of DEQUEUE, QUEUE, REQUEST the
 * call accepts (bit 0, 1, 2); FREE never is.
 */
static void check_slot_call(int32_t (*call)(hb_mem_buf_queue_t *q, int32_t s),
			    unsigned int ok_state)
{
	hb_mem_buf_queue_t q, gone, fake = { 0x5151, 4, 8 };
	int32_t dq, qd, rq, s;
	uint64_t item = 7;

	queue_gone(&gone);
	queue_new(&q);
	assert_hb(call(NULL, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, -1), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, INT32_MIN), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, 4), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&q, INT32_MAX), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(call(&fake, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(call(&gone, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
	/* one slot in each state; slot 3 stays FREE */
	assert_ok(hb_mem_dequeue_buf(&q, &rq, NULL, 0));
	assert_ok(hb_mem_queue_buf(&q, rq, &item));
	assert_ok(hb_mem_request_buf(&q, &s, NULL, 0));
	g_assert_cmpint(s, ==, rq);
	assert_ok(hb_mem_dequeue_buf(&q, &qd, NULL, 0));
	assert_ok(hb_mem_queue_buf(&q, qd, &item));
	assert_ok(hb_mem_dequeue_buf(&q, &dq, NULL, 0));
	assert_hb(call(&q, 3), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 1))
		assert_hb(call(&q, dq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 2))
		assert_hb(call(&q, qd), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	if (!(ok_state & 4))
		assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);

	/* good: each accepted state, once; twice is a wrong slot */
	if (ok_state & 1) {
		assert_ok(call(&q, dq));
		assert_hb(call(&q, dq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	}
	if (ok_state & 4) {
		assert_ok(call(&q, rq));
		if (ok_state & 2)	/* cancel: REQUEST went back to QUEUE */
			assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
		else
			assert_hb(call(&q, rq), HB_MEM_ERR_QUEUE_WRONG_SLOT);
	}
	assert_ok(hb_mem_destroy_buf_queue(&q));
	assert_hb(call(&q, 0), HB_MEM_ERR_QUEUE_NOT_FOUND);
}

static int32_t queue_with_item(hb_mem_buf_queue_t *q, int32_t s)
{
	uint64_t item = 9;

	return hb_mem_queue_buf(q, s, &item);
}

static void closed_hb_mem_queue_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t item = 0;

	assert_hb(hb_mem_queue_buf(&q, 0, &item), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_queue_buf(NULL, -1, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_queue_buf(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q;
	int32_t s;

	CHECK_CLOSED(hb_mem_queue_buf);
	queue_new(&q);
	assert_ok(hb_mem_dequeue_buf(&q, &s, NULL, 0));
	assert_hb(hb_mem_queue_buf(&q, s, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_destroy_buf_queue(&q));
	check_slot_call(queue_with_item, 1);
}

static void closed_hb_mem_release_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_release_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_release_buf(NULL, -1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_release_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_release_buf);
	check_slot_call(hb_mem_release_buf, 4);
}

static void closed_hb_mem_cancel_buf(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;

	assert_hb(hb_mem_cancel_buf(&q, 0), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_cancel_buf(NULL, -1), HB_MEM_ERR_MODULE_NOT_FOUND);
}

/* cancel accepts DEQUEUE and REQUEST, but not a QUEUE slot. */
static void test_hb_mem_cancel_buf(TestModule *m, gconstpointer d)
{
	CHECK_CLOSED(hb_mem_cancel_buf);
	check_slot_call(hb_mem_cancel_buf, 1 | 4);
}

static void closed_hb_mem_get_buf_queue_drops(const struct handles *h)
{
	hb_mem_buf_queue_t q = h->queue;
	uint64_t drops;

	assert_hb(hb_mem_get_buf_queue_drops(&q, &drops),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(NULL, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_hb_mem_get_buf_queue_drops(TestModule *m, gconstpointer d)
{
	hb_mem_buf_queue_t q, gone, fake = { 0x5151, 4, 8 };
	uint64_t drops = 77;

	CHECK_CLOSED(hb_mem_get_buf_queue_drops);
	queue_gone(&gone);
	queue_new(&q);
	assert_hb(hb_mem_get_buf_queue_drops(NULL, &drops),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(&q, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_queue_drops(&fake, &drops),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	assert_hb(hb_mem_get_buf_queue_drops(&gone, &drops),
		  HB_MEM_ERR_QUEUE_NOT_FOUND);
	g_assert_cmpuint(drops, ==, 77);

	/* good */
	assert_ok(hb_mem_get_buf_queue_drops(&q, &drops));
	g_assert_cmpuint(drops, ==, 0);
	assert_ok(hb_mem_destroy_buf_queue(&q));
}

/* ==== registration ======================================================= */

/* The module fixture's teardown (no fd left open), after empty heaps. */
static void badinput_teardown(TestModule *m, gconstpointer d)
{
	heaps_are_empty();
	test_module_teardown(m, d);
}

/* add_module_test(), with the stricter teardown */
#define add_badinput_test(path, fn)                                        \
	g_test_add(path, TestModule, NULL, test_module_setup, fn,          \
		   badinput_teardown)

#define ADD(fn)                                                            \
	do {                                                               \
		static const closed_fn c_ = closed_##fn;                   \
		add_badinput_test("/badinput/" #fn, test_##fn);            \
		g_test_add_data_func("/badinput/" #fn                      \
				     "/subprocess/before-open",            \
				     &c_, before_open);                    \
	} while (0)

int main(int argc, char **argv)
{
	test_argv0 = argv[0];
	g_test_init(&argc, &argv, NULL);
	/* hb_mem_mgr.h: module */
	ADD(hb_mem_get_version);
	ADD(hb_mem_module_open);
	ADD(hb_mem_module_close);
	/* allocation and lookup */
	ADD(hb_mem_alloc_com_buf);
	ADD(hb_mem_get_com_buf);
	ADD(hb_mem_alloc_graph_buf);
	ADD(hb_mem_get_graph_buf);
	ADD(hb_mem_alloc_graph_buf_group);
	ADD(hb_mem_get_graph_buf_group);
	ADD(hb_mem_free_buf);
	ADD(hb_mem_invalidate_buf);
	ADD(hb_mem_flush_buf);
	ADD(hb_mem_is_valid_buf);
	ADD(hb_mem_get_phys_addr);
	ADD(hb_mem_get_buf_info);
	ADD(hb_mem_invalidate_buf_with_vaddr);
	ADD(hb_mem_flush_buf_with_vaddr);
	ADD(hb_mem_get_com_buf_with_vaddr);
	ADD(hb_mem_get_graph_buf_with_vaddr);
	ADD(hb_mem_get_graph_buf_group_with_vaddr);
	ADD(hb_mem_free_buf_with_vaddr);
	/* types and views */
	ADD(hb_mem_get_buf_type_with_vaddr);
	ADD(hb_mem_get_buf_type_and_buf_with_vaddr);
	ADD(hb_mem_get_buf_and_type_with_vaddr);
	ADD(hb_mem_get_heap_size);
	ADD(hb_mem_dma_copy);
	/* import, share and consume counts */
	ADD(hb_mem_import_com_buf);
	ADD(hb_mem_import_graph_buf);
	ADD(hb_mem_import_graph_buf_group);
	ADD(hb_mem_get_share_info);
	ADD(hb_mem_get_share_info_with_vaddr);
	ADD(hb_mem_wait_share_status);
	ADD(hb_mem_wait_share_status_with_vaddr);
	ADD(hb_mem_get_consume_info);
	ADD(hb_mem_get_consume_info_with_vaddr);
	ADD(hb_mem_wait_consume_status);
	ADD(hb_mem_wait_consume_status_with_vaddr);
	ADD(hb_mem_inc_com_buf_consume_cnt);
	ADD(hb_mem_inc_graph_buf_consume_cnt);
	ADD(hb_mem_inc_graph_buf_group_consume_cnt);
	ADD(hb_mem_dec_consume_cnt);
	ADD(hb_mem_dec_consume_cnt_with_vaddr);
	ADD(hb_mem_inc_user_consume_cnt);
	ADD(hb_mem_dec_user_consume_cnt);
	ADD(hb_mem_inc_user_consume_cnt_with_vaddr);
	ADD(hb_mem_dec_user_consume_cnt_with_vaddr);
	ADD(hb_mem_get_buffer_process_info);
	ADD(hb_mem_get_buffer_process_info_with_share_id);
	ADD(hb_mem_get_buffer_process_cons_info_with_share_id);
	/* local pool */
	ADD(hb_mem_pool_create);
	ADD(hb_mem_pool_destroy);
	ADD(hb_mem_pool_alloc_buf);
	ADD(hb_mem_pool_free_buf);
	ADD(hb_mem_pool_get_info);
	/* queue */
	ADD(hb_mem_create_buf_queue);
	ADD(hb_mem_destroy_buf_queue);
	ADD(hb_mem_dequeue_buf);
	ADD(hb_mem_queue_buf);
	ADD(hb_mem_request_buf);
	ADD(hb_mem_release_buf);
	ADD(hb_mem_cancel_buf);
	/* hb_mem_ext.h */
	ADD(hb_mem_get_backend);
	ADD(hb_mem_get_heap_count);
	ADD(hb_mem_get_heap_info);
	ADD(hb_mem_create_buf_queue_ex);
	ADD(hb_mem_get_buf_queue_drops);
	/* hb_mem_err.h */
	ADD(hb_mem_strerror);
	return g_test_run();
}
