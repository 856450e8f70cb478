// SPDX-License-Identifier: MIT
/*
 * The share pool (hb_mem_share_pool_*): bad input first, then the
 * behaviour in one process (exhaustion, counts, busy destroy, holds by
 * imports, timed allocation woken by another thread), then across real
 * processes:
 *
 *   - "forked" tests: the child keeps the library state fork gave it and
 *     imports through the memfd it inherited. No broker is needed; the
 *     pool's shared state (holder bits, slots, the futex word) is really
 *     shared between the two processes.
 *   - "fresh" tests: the child closes the module and opens it anew, so
 *     it knows nothing but the descriptor's bytes, as a separate program
 *     would; "exec" tests: the child is this program executed anew
 *     (--spool-child), reading the descriptors from its stdin. On the
 *     memfd backend both need the broker: without one, the child says so
 *     and the test is skipped.
 *
 * Children run under alarm(); the parent waits on pipes with poll(), so
 * nothing hangs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"

#define KiB 1024u
#define WAIT_MS 5000
#define CHILD_SECONDS 20
#define CHILD_SKIP 77

/* ---- helpers ------------------------------------------------------------ */

static int32_t avail(int32_t fd)
{
	hb_mem_share_pool_t info;

	assert_ok(hb_mem_share_pool_get_info(fd, &info));
	return info.avail_buf_cnt;
}

/* Poll get_info until avail is @want (a dead holder is seen lazily). */
static void wait_avail(int32_t fd, int32_t want)
{
	int i;

	for (i = 0; i < WAIT_MS / 10 && avail(fd) != want; i++)
		g_usleep(10000);
	g_assert_cmpint(avail(fd), ==, want);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A descriptor as another process receives it: fd and address mean nothing. */
static hb_mem_common_buf_t wire(const hb_mem_common_buf_t *b)
{
	hb_mem_common_buf_t w = *b;

	w.fd = -1;
	w.virt_addr = NULL;
	return w;
}

struct peer {
	pid_t pid;
	int to;		/* parent -> child */
	int from;	/* child -> parent */
};

/* Fork a child running @fn(@to_child read end, @from_child write end). */
static void peer_start(struct peer *pr, int (*fn)(int in, int out, void *),
		       void *arg)
{
	int down[2], up[2];

	g_assert_cmpint(pipe2(down, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(up, O_CLOEXEC), ==, 0);
	pr->pid = fork();
	g_assert_cmpint(pr->pid, >=, 0);
	if (pr->pid == 0) {
		close(down[1]);
		close(up[0]);
		alarm(CHILD_SECONDS);
		_exit(fn(down[0], up[1], arg));
	}
	close(down[0]);
	close(up[1]);
	pr->to = down[1];
	pr->from = up[0];
}

static void peer_put(struct peer *pr, char b)
{
	g_assert_cmpint(write(pr->to, &b, 1), ==, 1);
}

/* The child's next byte; 0 if it exited instead (its status in *status). */
static char peer_get(struct peer *pr, int *status)
{
	struct pollfd pfd = { .fd = pr->from, .events = POLLIN };
	char b = 0;

	g_assert_cmpint(poll(&pfd, 1, WAIT_MS * 2), ==, 1);
	if (read(pr->from, &b, 1) == 1)
		return b;
	g_assert_cmpint(waitpid(pr->pid, status, 0), ==, pr->pid);
	pr->pid = 0;
	return 0;
}

/* The child's exit status (waiting for it), pipes closed. */
static int peer_end(struct peer *pr)
{
	int status = 0;

	close(pr->to);
	close(pr->from);
	if (pr->pid)
		g_assert_cmpint(waitpid(pr->pid, &status, 0), ==, pr->pid);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* In a child: wait for the parent's byte (0 when the parent went away). */
static char child_get(int in)
{
	char b = 0;

	return read(in, &b, 1) == 1 ? b : 0;
}

static int child_put(int out, char b)
{
	return write(out, &b, 1) == 1 ? 0 : 1;
}

/* ==== bad input ============================================================ */

static void test_calls_before_open_fail(void)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b;

	assert_hb(hb_mem_share_pool_create(4, 4096, 0, &info),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_destroy(3), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_alloc_buf(3, &b),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_alloc_buf(3, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_alloc_buf_timeout(3, &b, 10),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_free_buf(4096),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_get_info(3, &info),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_share_pool_get_info(3, NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_create_rejects_bad_input(TestModule *m, gconstpointer d)
{
	hb_mem_share_pool_t info;

	assert_hb(hb_mem_share_pool_create(4, 4096, 0, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_create(0, 4096, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_create(4, 0, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* the info struct's size is 32-bit */
	assert_hb(hb_mem_share_pool_create(1, 1ull << 32, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_create(4, UINT64_MAX, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_create(65537, 4096, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_create(UINT32_MAX, UINT32_MAX, 0, &info),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* num * size that no heap holds (2^48 bytes) */
	assert_hb(hb_mem_share_pool_create(65536, UINT32_MAX, 0, &info),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_calls_reject_fds_that_are_no_share_pool(TestModule *m,
							gconstpointer d)
{
	int32_t bad[] = { -1, INT32_MIN, 0, 1, 2, 9999, INT32_MAX };
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t c, b;
	hb_mem_pool_t local;
	size_t i;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &local));
	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		assert_hb(hb_mem_share_pool_alloc_buf(bad[i], &b),
			  HB_MEM_ERR_POOL_NOT_FOUND);
		assert_hb(hb_mem_share_pool_get_info(bad[i], &info),
			  HB_MEM_ERR_POOL_NOT_FOUND);
		assert_hb(hb_mem_share_pool_destroy(bad[i]),
			  HB_MEM_ERR_POOL_NOT_FOUND);
	}
	/* foreign fds: a common buffer, a local pool */
	assert_hb(hb_mem_share_pool_alloc_buf(c.fd, &b),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_share_pool_destroy(c.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_share_pool_get_info(local.fd, &info),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_share_pool_alloc_buf(local.fd, &b),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_share_pool_destroy(local.fd),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	/* and the other way round: the local pool calls refuse ours */
	assert_hb(hb_mem_pool_alloc_buf(info.fd, 4096, &b),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_pool_destroy(info.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	/* NULL out-pointers */
	assert_hb(hb_mem_share_pool_alloc_buf(info.fd, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_alloc_buf_timeout(info.fd, NULL, -1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_share_pool_get_info(info.fd, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
	assert_hb(hb_mem_share_pool_get_info(info.fd, &info),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_ok(hb_mem_pool_destroy(local.fd));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_free_rejects_what_is_no_held_block(TestModule *m,
						    gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t c, b, lb;
	hb_mem_pool_t local;
	uint64_t a;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &local));
	assert_ok(hb_mem_pool_alloc_buf(local.fd, 4096, &lb));
	assert_ok(hb_mem_share_pool_create(3, 10000, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	a = (uint64_t)(uintptr_t)b.virt_addr;

	assert_hb(hb_mem_share_pool_free_buf(0), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf(UINT64_MAX),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)&info),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)c.virt_addr),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)lb.virt_addr),
		  HB_MEM_ERR_INVALID_VADDR);
	/* inside a held block, and the control region before the blocks */
	assert_hb(hb_mem_share_pool_free_buf(a + 1), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf(a + 4096),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_share_pool_free_buf(a - 4096),
		  HB_MEM_ERR_INVALID_VADDR);
	/* a block that is free: never allocated, then freed twice */
	assert_hb(hb_mem_share_pool_free_buf(a + 3 * 4096),
		  HB_MEM_ERR_INVALID_VADDR);
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_share_pool_free_buf(a));
	assert_hb(hb_mem_share_pool_free_buf(a), HB_MEM_ERR_INVALID_VADDR);
	g_assert_cmpint(avail(info.fd), ==, 3);

	/* the local pool's free refuses our blocks */
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	assert_hb(hb_mem_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	assert_ok(hb_mem_share_pool_destroy(info.fd));
	/* a destroyed pool's blocks are nobody's */
	assert_hb(hb_mem_share_pool_free_buf(a), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_pool_free_buf((uint64_t)(uintptr_t)lb.virt_addr));
	assert_ok(hb_mem_pool_destroy(local.fd));
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_import_rejects_what_is_no_held_block(TestModule *m,
						      gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t c, b, w, out;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	/* inside the block */
	w = wire(&b);
	w.phys_addr += 16;
	w.size = 16;
	assert_hb(hb_mem_import_com_buf(&w, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* larger than a block */
	w = wire(&b);
	w.size = 8192;
	assert_hb(hb_mem_import_com_buf(&w, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* the control region */
	w = wire(&b);
	w.phys_addr -= 4096;
	assert_hb(hb_mem_import_com_buf(&w, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* a block nobody holds (a stale descriptor) */
	w = wire(&b);
	w.phys_addr += 4096;
	assert_hb(hb_mem_import_com_buf(&w, &out), HB_MEM_ERR_INVALID_PARAMS);
	/* the flag on a buffer that is no share pool */
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	w = wire(&c);
	w.flags |= HB_MEM_USAGE_MEM_SHARE_POOL;
	assert_hb(hb_mem_import_com_buf(&w, &out), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
	/* none of that took a hold */
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/* ==== one process ========================================================== */

static void test_blocks_are_distinct_aligned_and_usable(TestModule *m,
							gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b[5], c;
	int i, j;

	assert_ok(hb_mem_share_pool_create(5, 128 * KiB, HB_MEM_USAGE_CACHED,
					   &info));
	g_assert_cmpint(info.fd, >=, 0);
	g_assert_cmpuint(info.size, ==, 128 * KiB);
	g_assert_cmpint(info.total_buf_cnt, ==, 5);
	g_assert_cmpint(info.avail_buf_cnt, ==, 5);
	g_assert_cmphex(info.flags, ==, HB_MEM_USAGE_CACHED);
	for (i = 0; i < 5; i++) {
		assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[i]));
		g_assert_cmpint(b[i].fd, ==, info.fd);
		g_assert_cmpuint(b[i].size, ==, 128 * KiB);
		g_assert_cmphex(b[i].flags, ==,
				HB_MEM_USAGE_CACHED |
					HB_MEM_USAGE_MEM_SHARE_POOL);
		g_assert_cmpuint((uintptr_t)b[i].virt_addr % 4096, ==, 0);
		g_assert_cmpuint(b[i].phys_addr % 4096, ==, 0);
		g_assert_cmpuint(b[i].offset, ==, 0);
		g_assert_cmpint(b[i].share_id, ==, b[0].share_id);
		memset(b[i].virt_addr, 'a' + i, b[i].size);
		for (j = 0; j < i; j++) {
			int64_t dv = b[i].virt_addr - b[j].virt_addr;
			int64_t dp = (int64_t)(b[i].phys_addr - b[j].phys_addr);

			/* device addresses keep the mapping's offsets */
			g_assert_cmpint(dv, ==, dp);
			g_assert_cmpint(dv >= 128 * KiB || dv <= -128 * (int)KiB,
					==, 1);
		}
	}
	for (i = 0; i < 5; i++) {
		g_assert_cmpint(b[i].virt_addr[0], ==, 'a' + i);
		g_assert_cmpint(b[i].virt_addr[128 * KiB - 1], ==, 'a' + i);
	}
	/* the lookups see the pool's buffer */
	assert_ok(hb_mem_get_com_buf_with_vaddr(
		(uint64_t)(uintptr_t)b[2].virt_addr, &c));
	g_assert_cmpint(c.fd, ==, info.fd);
	g_assert_cmpint(avail(info.fd), ==, 0);
	for (i = 0; i < 5; i++)
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)b[i].virt_addr));
	assert_ok(hb_mem_share_pool_destroy(info.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_exhaustion_then_free_refills(TestModule *m, gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b[3], x;
	int round, i;

	assert_ok(hb_mem_share_pool_create(3, 100, 0, &info));
	for (round = 0; round < 50; round++) {
		for (i = 0; i < 3; i++)
			assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[i]));
		assert_hb(hb_mem_share_pool_alloc_buf(info.fd, &x),
			  HB_MEM_ERR_INSUFFICIENT_MEM);
		assert_hb(hb_mem_share_pool_alloc_buf_timeout(info.fd, &x, 0),
			  HB_MEM_ERR_INSUFFICIENT_MEM);
		g_assert_true(b[0].virt_addr != b[1].virt_addr &&
			      b[1].virt_addr != b[2].virt_addr &&
			      b[0].virt_addr != b[2].virt_addr);
		/* free in a different order each round */
		for (i = 0; i < 3; i++)
			assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)
				b[(i + round) % 3].virt_addr));
		g_assert_cmpint(avail(info.fd), ==, 3);
	}
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

static void test_get_info_counts_blocks_out(TestModule *m, gconstpointer d)
{
	hb_mem_share_pool_t info, again;
	hb_mem_common_buf_t b[4];
	int i;

	assert_ok(hb_mem_share_pool_create(4, 4096, 0, &info));
	for (i = 0; i < 4; i++) {
		assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[i]));
		assert_ok(hb_mem_share_pool_get_info(info.fd, &again));
		g_assert_cmpint(again.avail_buf_cnt, ==, 3 - i);
		g_assert_cmpint(again.total_buf_cnt, ==, 4);
		g_assert_cmpint(again.fd, ==, info.fd);
		g_assert_cmpuint(again.size, ==, 4096);
		g_assert_cmpint(again.reserved, ==, 0);
	}
	for (i = 0; i < 4; i++) {
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)b[i].virt_addr));
		g_assert_cmpint(avail(info.fd), ==, i + 1);
	}
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

static void test_destroy_is_busy_while_a_block_is_held(TestModule *m,
						       gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b, w, out;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	assert_hb(hb_mem_share_pool_destroy(info.fd), HB_MEM_ERR_POOL_BUSY);
	/* hb_mem_free_buf() on the pool's fd is a destroy too */
	assert_hb(hb_mem_free_buf(info.fd), HB_MEM_ERR_POOL_BUSY);
	/* an import is a holder too */
	w = wire(&b);
	assert_ok(hb_mem_import_com_buf(&w, &out));
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	assert_hb(hb_mem_share_pool_destroy(info.fd), HB_MEM_ERR_POOL_BUSY);
	assert_ok(hb_mem_free_buf(out.fd));
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_free_buf(info.fd));
	assert_hb(hb_mem_share_pool_destroy(info.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

/* The board's rule, in one process: the block waits for its last holder. */
static void test_block_returns_after_last_holder_in_process(TestModule *m,
							    gconstpointer d)
{
	hb_mem_share_pool_t info, view;
	hb_mem_common_buf_t b[5], w, in1, in2;
	int i;

	assert_ok(hb_mem_share_pool_create(5, 128 * KiB, 0, &info));
	for (i = 0; i < 5; i++)
		assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[i]));
	memset(b[3].virt_addr, 0x5A, 128 * KiB);
	w = wire(&b[3]);
	assert_ok(hb_mem_import_com_buf(&w, &in1));
	assert_ok(hb_mem_import_com_buf(&w, &in2));
	g_assert_true(in1.virt_addr != b[3].virt_addr);
	g_assert_cmpint(in1.virt_addr[128 * KiB - 1], ==, 0x5A);
	g_assert_cmphex(in1.flags & HB_MEM_USAGE_MEM_SHARE_POOL, !=, 0);
	/* no user consume count on share-pool buffers (vendor header) */
	assert_hb(hb_mem_inc_user_consume_cnt(in1.fd), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_inc_user_consume_cnt(info.fd), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_inc_user_consume_cnt_with_vaddr(
			  (uint64_t)(uintptr_t)in1.virt_addr),
		  HB_MEM_ERR_INVALID_VADDR);
	/* the importer's view through its own fd */
	assert_ok(hb_mem_share_pool_get_info(in1.fd, &view));
	g_assert_cmpint(view.total_buf_cnt, ==, 5);
	g_assert_cmpint(view.avail_buf_cnt, ==, 0);
	g_assert_cmpint(view.fd, ==, in1.fd);
	g_assert_cmpuint(view.size, ==, 128 * KiB);
	for (i = 0; i < 5; i++)
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)b[i].virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 4);
	g_assert_cmpint(avail(in2.fd), ==, 4);
	assert_ok(hb_mem_free_buf(in1.fd));
	g_assert_cmpint(avail(info.fd), ==, 4);
	assert_ok(hb_mem_free_buf_with_vaddr((uint64_t)(uintptr_t)in2.virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 5);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/* The last module close takes pools and imports with it, blocks out or not. */
static void test_close_tears_down_with_blocks_out(void)
{
	int fds = test_count_fds();
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b, w, out;

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_share_pool_create(3, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	w = wire(&b);
	assert_ok(hb_mem_import_com_buf(&w, &out));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
	assert_hb(hb_mem_share_pool_alloc_buf(info.fd, &b),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	/* and it all works again after a new open */
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_share_pool_create(3, 4096, 0, &info));
	g_assert_cmpint(avail(info.fd), ==, 3);
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
}

/* ---- timed allocation ----------------------------------------------------- */

struct freer {
	uint64_t addr;
	int32_t import_fd;	/* >= 0: free this import instead */
	unsigned int delay_ms;
};

static gpointer freer_thread(gpointer data)
{
	struct freer *f = data;

	g_usleep(f->delay_ms * 1000);
	if (f->import_fd >= 0)
		assert_ok(hb_mem_free_buf(f->import_fd));
	else
		assert_ok(hb_mem_share_pool_free_buf(f->addr));
	return NULL;
}

static void test_timed_alloc_waits_for_a_free(TestModule *m, gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b[2], x, w, out;
	struct freer f = { .import_fd = -1, .delay_ms = 50 };
	GThread *t;
	int64_t t0;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[0]));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[1]));

	/* 0: no wait; > 0 runs out */
	assert_hb(hb_mem_share_pool_alloc_buf_timeout(info.fd, &x, 0),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	t0 = now_ms();
	assert_hb(hb_mem_share_pool_alloc_buf_timeout(info.fd, &x, 80),
		  HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(now_ms() - t0, >=, 80);
	g_assert_cmpint(now_ms() - t0, <, WAIT_MS);

	/* > 0: another thread's free wakes it, and it gets that block */
	f.addr = (uint64_t)(uintptr_t)b[0].virt_addr;
	t = g_thread_new("freer", freer_thread, &f);
	assert_ok(hb_mem_share_pool_alloc_buf_timeout(info.fd, &x, WAIT_MS));
	g_thread_join(t);
	g_assert_true(x.virt_addr == b[0].virt_addr);

	/* < 0: forever, woken by the last importer's free */
	w = wire(&b[1]);
	assert_ok(hb_mem_import_com_buf(&w, &out));
	assert_ok(hb_mem_share_pool_free_buf(
		(uint64_t)(uintptr_t)b[1].virt_addr));
	f.import_fd = out.fd;
	t0 = now_ms();
	t = g_thread_new("freer", freer_thread, &f);
	assert_ok(hb_mem_share_pool_alloc_buf_timeout(info.fd, &b[1], -1));
	g_thread_join(t);
	g_assert_cmpint(now_ms() - t0, >=, 40);
	g_assert_cmpint(avail(info.fd), ==, 0);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)x.virt_addr));
	assert_ok(hb_mem_share_pool_free_buf(
		(uint64_t)(uintptr_t)b[1].virt_addr));
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/* Threads of the owner allocate and free at once: nothing lost, no block
 * handed out twice (each thread stamps its block and checks the stamp). */
struct churn {
	int32_t fd;
	int id;
};

static gpointer churn_thread(gpointer data)
{
	struct churn *c = data;
	hb_mem_common_buf_t b;
	int i;

	for (i = 0; i < 20000; i++) {
		assert_ok(hb_mem_share_pool_alloc_buf_timeout(c->fd, &b, -1));
		*(volatile int *)b.virt_addr = c->id;
		g_assert_cmpint(*(volatile int *)b.virt_addr, ==, c->id);
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)b.virt_addr));
	}
	return NULL;
}

static void test_threads_churn_without_loss(TestModule *m, gconstpointer d)
{
	struct churn c[4];
	hb_mem_share_pool_t info;
	GThread *t[4];
	int i;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	for (i = 0; i < 4; i++) {
		c[i].fd = info.fd;
		c[i].id = i + 1;
		t[i] = g_thread_new("churn", churn_thread, &c[i]);
	}
	for (i = 0; i < 4; i++)
		g_thread_join(t[i]);
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/* ==== across processes: forked children ==================================== */

struct scenario {
	hb_mem_common_buf_t plain;	/* a plain buffer, to probe imports */
	hb_mem_common_buf_t desc[5];
	int nimport;		/* the child imports desc[pick[0 .. nimport)] */
	int pick[5];
	int32_t total;		/* blocks in the pool */
	enum { CHILD_FORKED, CHILD_FRESH, CHILD_EXEC } mode;
	unsigned char fill;	/* what the blocks hold */
};

/* This program, for the exec tests. */
static gchar *self_exe;

/* Start this program anew as a child importing what @s says. */
static void peer_exec(struct peer *pr, const struct scenario *s)
{
	int down[2], up[2];

	g_assert_cmpint(pipe2(down, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(up, O_CLOEXEC), ==, 0);
	pr->pid = fork();
	g_assert_cmpint(pr->pid, >=, 0);
	if (pr->pid == 0) {
		if (dup2(down[0], 0) < 0 || dup2(up[1], 1) < 0)
			_exit(2);
		execl(self_exe, self_exe, "--spool-child", (char *)NULL);
		_exit(2);
	}
	close(down[0]);
	close(up[1]);
	pr->to = down[1];
	pr->from = up[0];
	g_assert_cmpint(write(pr->to, s, sizeof(*s)), ==, sizeof(*s));
}

/*
 * The child: import the blocks, check their bytes, say 'y' (or 's' when
 * imports cannot work here), then wait: 'f' frees them and says 'd'; the
 * parent's going away ends it.
 */
static int child_importer(int in, int out, void *arg)
{
	struct scenario *s = arg;
	hb_mem_common_buf_t got[5], w;
	hb_mem_share_pool_t info;
	int i;

	if (s->mode != CHILD_FORKED) {
		hb_mem_common_buf_t probe;

		if (s->mode == CHILD_FRESH && (hb_mem_module_close() != 0 ||
					       hb_mem_module_open() != 0))
			return 3;
		/* can a process import another's plain buffer here at all? */
		w = wire(&s->plain);
		if (hb_mem_import_com_buf(&w, &probe) != 0) {
			child_put(out, 's');
			return CHILD_SKIP;
		}
		if (probe.virt_addr[0] != s->fill ||
		    hb_mem_free_buf(probe.fd) != 0)
			return 4;
	}
	for (i = 0; i < s->nimport; i++) {
		w = wire(&s->desc[s->pick[i]]);
		if (hb_mem_import_com_buf(&w, &got[i]) != 0)
			return 10 + i;
		if (got[i].virt_addr[0] != s->fill ||
		    got[i].virt_addr[got[i].size - 1] != s->fill)
			return 20 + i;
		/* the child's writes are the parent's to see */
		got[i].virt_addr[1] = (uint8_t)(s->fill + 1);
	}
	/* an importer sees the pool's state, but does not manage it */
	if (hb_mem_share_pool_get_info(got[0].fd, &info) != 0 ||
	    info.total_buf_cnt != s->total || info.avail_buf_cnt < 0 ||
	    info.avail_buf_cnt >= s->total || info.fd != got[0].fd ||
	    info.size != s->desc[0].size)
		return 40;
	if (hb_mem_share_pool_alloc_buf(got[0].fd, &w) !=
		    HB_MEM_ERR_NOT_ALLOW ||
	    hb_mem_share_pool_destroy(got[0].fd) != HB_MEM_ERR_NOT_ALLOW ||
	    hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)got[0].virt_addr) !=
		    HB_MEM_ERR_INVALID_VADDR)
		return 41;
	if (child_put(out, 'y'))
		return 5;
	while (child_get(in) == 'f') {
		for (i = 0; i < s->nimport; i++)
			if (hb_mem_free_buf(got[i].fd) != 0)
				return 30 + i;
		s->nimport = 0;
		if (child_put(out, 'd'))
			return 6;
	}
	return 0;
}

/* Skip when the child said imports by share id cannot work here. */
static bool child_skipped(struct peer *pr, char got)
{
	if (got != 's')
		return false;
	g_assert_cmpint(peer_end(pr), ==, CHILD_SKIP);
	g_test_skip("no cross-process import on this backend (memfd without "
		    "the broker)");
	return true;
}

/*
 * The board's observed behaviour: 5 blocks, the owner frees all five while
 * a child holds one import: avail goes to 4, then 5 once the child frees.
 */
static void run_five_blocks(int mode)
{
	struct scenario s = { .nimport = 1, .total = 5, .mode = mode,
			      .fill = 0x3C };
	hb_mem_share_pool_t info;
	struct peer pr;
	int i, status = 0;
	char got;

	assert_ok(hb_mem_share_pool_create(5, 128 * KiB, 0, &info));
	for (i = 0; i < 5; i++) {
		assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &s.desc[i]));
		memset(s.desc[i].virt_addr, s.fill, 128 * KiB);
	}
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &s.plain));
	memset(s.plain.virt_addr, s.fill, 4096);
	if (mode == CHILD_EXEC)
		peer_exec(&pr, &s);
	else
		peer_start(&pr, child_importer, &s);
	got = peer_get(&pr, &status);
	if (child_skipped(&pr, got)) {
		for (i = 0; i < 5; i++)
			assert_ok(hb_mem_share_pool_free_buf(
				(uint64_t)(uintptr_t)s.desc[i].virt_addr));
		assert_ok(hb_mem_share_pool_destroy(info.fd));
		assert_ok(hb_mem_free_buf(s.plain.fd));
		return;
	}
	if (got != 'y')
		g_error("child failed: status %d", WEXITSTATUS(status));
	g_assert_cmpint(s.desc[0].virt_addr[1], ==, s.fill + 1);
	for (i = 0; i < 5; i++)
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)s.desc[i].virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 4);
	assert_hb(hb_mem_share_pool_destroy(info.fd), HB_MEM_ERR_POOL_BUSY);
	peer_put(&pr, 'f');
	g_assert_cmpint(peer_get(&pr, &status), ==, 'd');
	g_assert_cmpint(avail(info.fd), ==, 5);
	g_assert_cmpint(peer_end(&pr), ==, 0);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
	assert_ok(hb_mem_free_buf(s.plain.fd));
}

static void test_forked_block_returns_after_child_frees(TestModule *m,
							gconstpointer d)
{
	run_five_blocks(CHILD_FORKED);
}

static void test_fresh_block_returns_after_child_frees(TestModule *m,
						       gconstpointer d)
{
	run_five_blocks(CHILD_FRESH);
}

static void test_exec_block_returns_after_child_frees(TestModule *m,
						      gconstpointer d)
{
	run_five_blocks(CHILD_EXEC);
}

/* A holder killed with SIGKILL gives its blocks back. */
static void run_killed_holder(int mode)
{
	/* block 0 imported twice: both holds go with the child */
	struct scenario s = { .nimport = 3, .pick = { 0, 1, 0 }, .total = 5,
			      .mode = mode, .fill = 0x7E };
	hb_mem_share_pool_t info;
	struct peer pr;
	int i, status = 0;
	char got;

	assert_ok(hb_mem_share_pool_create(5, 8192, 0, &info));
	for (i = 0; i < 5; i++) {
		assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &s.desc[i]));
		memset(s.desc[i].virt_addr, s.fill, 8192);
	}
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &s.plain));
	memset(s.plain.virt_addr, s.fill, 4096);
	if (mode == CHILD_EXEC)
		peer_exec(&pr, &s);
	else
		peer_start(&pr, child_importer, &s);
	got = peer_get(&pr, &status);
	if (child_skipped(&pr, got)) {
		for (i = 0; i < 5; i++)
			assert_ok(hb_mem_share_pool_free_buf(
				(uint64_t)(uintptr_t)s.desc[i].virt_addr));
		assert_ok(hb_mem_share_pool_destroy(info.fd));
		assert_ok(hb_mem_free_buf(s.plain.fd));
		return;
	}
	if (got != 'y')
		g_error("child failed: status %d", WEXITSTATUS(status));
	for (i = 0; i < 5; i++)
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)s.desc[i].virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 3);
	g_assert_cmpint(kill(pr.pid, SIGKILL), ==, 0);
	/* seen dead while still a zombie (not waited for yet) */
	wait_avail(info.fd, 5);
	g_assert_cmpint(peer_end(&pr), ==, 128 + SIGKILL);
	g_assert_cmpint(avail(info.fd), ==, 5);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
	assert_ok(hb_mem_free_buf(s.plain.fd));
}

static void test_forked_killed_holder_gives_blocks_back(TestModule *m,
							gconstpointer d)
{
	run_killed_holder(CHILD_FORKED);
}

static void test_fresh_killed_holder_gives_blocks_back(TestModule *m,
						       gconstpointer d)
{
	run_killed_holder(CHILD_FRESH);
}

static void test_exec_killed_holder_gives_blocks_back(TestModule *m,
						      gconstpointer d)
{
	run_killed_holder(CHILD_EXEC);
}

/* The owner waits on an empty pool; a free in the child wakes it. */
static void test_forked_free_wakes_waiting_owner(TestModule *m,
						 gconstpointer d)
{
	struct scenario s = { .nimport = 1, .total = 1, .fill = 0x11 };
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t x;
	struct peer pr;
	int status = 0;
	int64_t t0;

	assert_ok(hb_mem_share_pool_create(1, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &s.desc[0]));
	memset(s.desc[0].virt_addr, s.fill, 4096);
	peer_start(&pr, child_importer, &s);
	g_assert_cmpint(peer_get(&pr, &status), ==, 'y');
	assert_ok(hb_mem_share_pool_free_buf(
		(uint64_t)(uintptr_t)s.desc[0].virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 0);
	/* the child frees while the owner sleeps in the futex */
	peer_put(&pr, 'f');
	t0 = now_ms();
	assert_ok(hb_mem_share_pool_alloc_buf_timeout(info.fd, &x, WAIT_MS));
	g_assert_cmpint(now_ms() - t0, <, WAIT_MS);
	g_assert_true(x.virt_addr == s.desc[0].virt_addr);
	g_assert_cmpint(peer_get(&pr, &status), ==, 'd');
	g_assert_cmpint(peer_end(&pr), ==, 0);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)x.virt_addr));
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/*
 * Only the owner manages the pool: a forked child's copy of the library
 * refuses alloc, free, info and destroy, and leaves the pool as it was.
 */
static int child_tries_to_manage(int in, int out, void *arg)
{
	hb_mem_common_buf_t *b = arg, x;
	hb_mem_share_pool_t info;

	if (hb_mem_share_pool_alloc_buf(b->fd, &x) != HB_MEM_ERR_NOT_ALLOW)
		return 10;
	if (hb_mem_share_pool_alloc_buf_timeout(b->fd, &x, -1) !=
	    HB_MEM_ERR_NOT_ALLOW)
		return 11;
	if (hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b->virt_addr) !=
	    HB_MEM_ERR_NOT_ALLOW)
		return 12;
	if (hb_mem_share_pool_get_info(b->fd, &info) != HB_MEM_ERR_NOT_ALLOW)
		return 13;
	if (hb_mem_share_pool_destroy(b->fd) != HB_MEM_ERR_NOT_ALLOW)
		return 14;
	if (hb_mem_free_buf(b->fd) != HB_MEM_ERR_NOT_ALLOW)
		return 15;
	/* its own pools are its own */
	if (hb_mem_share_pool_create(1, 4096, 0, &info) != 0 ||
	    hb_mem_share_pool_alloc_buf(info.fd, &x) != 0 ||
	    hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)x.virt_addr) != 0 ||
	    hb_mem_share_pool_destroy(info.fd) != 0)
		return 16;
	/* closing drops the copies without touching the parent's pool */
	if (hb_mem_module_close() != 0)
		return 17;
	return child_put(out, 'y');
}

static void test_forked_child_cannot_manage_the_pool(TestModule *m,
						     gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b;
	struct peer pr;
	int status = 0;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	peer_start(&pr, child_tries_to_manage, &b);
	if (peer_get(&pr, &status) != 'y')
		g_error("child failed: status %d", WEXITSTATUS(status));
	g_assert_cmpint(peer_end(&pr), ==, 0);
	g_assert_cmpint(avail(info.fd), ==, 1);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/*
 * Blocks handed from owner to child and back, pipelined, on a pool small
 * enough that the owner waits (in the futex) for the child's frees. Each
 * block carries its sequence number in the descriptor's offset field (the
 * vendor's pass-through) and in its first bytes: a block handed out again
 * while the child still held it would show another number.
 */
#define CHURN_ROUNDS 2000
#define CHURN_KEEP 2

static int child_churn(int in, int out, void *arg)
{
	hb_mem_common_buf_t held[CHURN_KEEP + 1], d, w;
	int n = 0, i, round;

	for (round = 0; round < CHURN_ROUNDS; round++) {
		if (read(in, &d, sizeof(d)) != (ssize_t)sizeof(d))
			return 3;
		w = wire(&d);
		if (hb_mem_import_com_buf(&w, &held[n]) != 0)
			return 4;
		if (child_put(out, 'a'))
			return 5;
		n++;
		if (n > CHURN_KEEP) {
			if (*(uint64_t *)held[0].virt_addr != held[0].offset)
				return 6;
			if (hb_mem_free_buf(held[0].fd) != 0)
				return 7;
			memmove(&held[0], &held[1], CHURN_KEEP * sizeof(held[0]));
			n--;
		}
	}
	for (i = 0; i < n; i++)
		if (*(uint64_t *)held[i].virt_addr != held[i].offset ||
		    hb_mem_free_buf(held[i].fd) != 0)
			return 8;
	return 0;
}

static void test_forked_handover_churn_loses_nothing(TestModule *m,
						     gconstpointer d)
{
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b;
	struct peer pr;
	int status = 0;
	uint64_t seq;

	assert_ok(hb_mem_share_pool_create(CHURN_KEEP + 1, 4096, 0, &info));
	peer_start(&pr, child_churn, NULL);
	for (seq = 1; seq <= CHURN_ROUNDS; seq++) {
		assert_ok(hb_mem_share_pool_alloc_buf_timeout(info.fd, &b,
							      WAIT_MS));
		*(uint64_t *)b.virt_addr = seq;
		b.offset = seq;
		g_assert_cmpint(write(pr.to, &b, sizeof(b)), ==, sizeof(b));
		if (peer_get(&pr, &status) != 'a')
			g_error("child failed: status %d", WEXITSTATUS(status));
		assert_ok(hb_mem_share_pool_free_buf(
			(uint64_t)(uintptr_t)b.virt_addr));
	}
	g_assert_cmpint(peer_end(&pr), ==, 0);
	g_assert_cmpint(avail(info.fd), ==, CHURN_KEEP + 1);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/*
 * 63 processes besides the owner can hold blocks of a pool; the 64th
 * import is refused. Killing them all gives every block and slot back.
 */
#define SLOT_PROCS 63

static int child_hold_one(int in, int out, void *arg)
{
	hb_mem_common_buf_t *b = arg, w = wire(b), got;
	int32_t ret = hb_mem_import_com_buf(&w, &got);

	if (child_put(out, ret == 0 ? 'y' : ret == HB_MEM_ERR_INSUFFICIENT_MEM
							? 'n' : 'e'))
		return 1;
	child_get(in);	/* hold until killed or told */
	return 0;
}

static void test_forked_holder_slots_run_out_and_come_back(TestModule *m,
							   gconstpointer d)
{
	struct peer pr[SLOT_PROCS + 1];
	hb_mem_share_pool_t info;
	hb_mem_common_buf_t b;
	int i, status = 0;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	for (i = 0; i < SLOT_PROCS; i++) {
		peer_start(&pr[i], child_hold_one, &b);
		g_assert_cmpint(peer_get(&pr[i], &status), ==, 'y');
	}
	peer_start(&pr[SLOT_PROCS], child_hold_one, &b);
	g_assert_cmpint(peer_get(&pr[SLOT_PROCS], &status), ==, 'n');
	g_assert_cmpint(peer_end(&pr[SLOT_PROCS]), ==, 0);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 1);
	for (i = 0; i < SLOT_PROCS; i++)
		g_assert_cmpint(kill(pr[i].pid, SIGKILL), ==, 0);
	wait_avail(info.fd, 2);
	for (i = 0; i < SLOT_PROCS; i++)
		g_assert_cmpint(peer_end(&pr[i]), ==, 128 + SIGKILL);
	/* the slots are free again: a new holder gets one */
	assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b));
	peer_start(&pr[0], child_hold_one, &b);
	g_assert_cmpint(peer_get(&pr[0], &status), ==, 'y');
	peer_put(&pr[0], 'q');
	g_assert_cmpint(peer_end(&pr[0]), ==, 0);
	assert_ok(hb_mem_share_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	g_assert_cmpint(avail(info.fd), ==, 2);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/*
 * A holder killed at a random point of its import/free loop: whatever step
 * it was at, every block comes back exactly once (all four allocate again,
 * at four different addresses, and a fifth does not).
 */
#define KILL_ROUNDS 30

static int child_import_loop(int in, int out, void *arg)
{
	hb_mem_common_buf_t *b = arg, w, got;
	unsigned int i;

	if (child_put(out, 'y'))
		return 1;
	for (i = 0;; i++) {
		w = wire(&b[i % 4]);
		if (hb_mem_import_com_buf(&w, &got) != 0 ||
		    hb_mem_free_buf(got.fd) != 0)
			return 2;
	}
	return 0;
}

static void test_forked_killed_at_random_points_loses_nothing(TestModule *m,
							      gconstpointer d)
{
	hb_mem_common_buf_t b[4], x;
	hb_mem_share_pool_t info;
	struct peer pr;
	int round, i, j, status = 0;

	assert_ok(hb_mem_share_pool_create(4, 4096, 0, &info));
	for (round = 0; round < KILL_ROUNDS; round++) {
		for (i = 0; i < 4; i++)
			assert_ok(hb_mem_share_pool_alloc_buf(info.fd, &b[i]));
		for (i = 0; i < 4; i++)
			for (j = 0; j < i; j++)
				g_assert_true(b[i].virt_addr != b[j].virt_addr);
		assert_hb(hb_mem_share_pool_alloc_buf(info.fd, &x),
			  HB_MEM_ERR_INSUFFICIENT_MEM);
		peer_start(&pr, child_import_loop, b);
		g_assert_cmpint(peer_get(&pr, &status), ==, 'y');
		g_usleep(g_random_int_range(100, 5000));
		g_assert_cmpint(kill(pr.pid, SIGKILL), ==, 0);
		g_assert_cmpint(peer_end(&pr), ==, 128 + SIGKILL);
		for (i = 0; i < 4; i++)
			assert_ok(hb_mem_share_pool_free_buf(
				(uint64_t)(uintptr_t)b[i].virt_addr));
		wait_avail(info.fd, 4);
	}
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

/* The exec'd child: the scenario on stdin, answers on stdout. */
static int exec_child_main(void)
{
	struct scenario s;

	alarm(CHILD_SECONDS);
	if (read(0, &s, sizeof(s)) != (ssize_t)sizeof(s))
		return 2;
	if (hb_mem_module_open() != 0)
		return 3;
	s.mode = CHILD_EXEC;
	return child_importer(0, 1, &s);
}

/*
 * A slot's pid of INT32_MIN, written into the shared control region by a
 * broken or hostile importer, names no process: the owner reaps the slot
 * (get_info does) without negating it (undefined; UBSan stops it there).
 */
static void test_slot_pid_int32_min_is_reaped(TestModule *m,
					      gconstpointer d)
{
	enum { SLOT = 5, SLOTS_AT = 128, SLOT_SIZE = 16 };
	hb_mem_share_pool_t info;
	uint8_t *ctl;
	int32_t *pid;

	assert_ok(hb_mem_share_pool_create(2, 4096, 0, &info));
	/* the pool's memory starts with the control region */
	ctl = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, info.fd, 0);
	g_assert_true(ctl != MAP_FAILED);
	pid = (int32_t *)(void *)(ctl + SLOTS_AT + SLOT * SLOT_SIZE);
	g_assert_cmpint(__atomic_load_n(pid, __ATOMIC_RELAXED), ==, 0);
	__atomic_store_n(pid, INT32_MIN, __ATOMIC_RELEASE);
	assert_ok(hb_mem_share_pool_get_info(info.fd, &info));
	g_assert_cmpint(__atomic_load_n(pid, __ATOMIC_ACQUIRE), ==, 0);
	g_assert_cmpint(munmap(ctl, 4096), ==, 0);
	assert_ok(hb_mem_share_pool_destroy(info.fd));
}

int main(int argc, char **argv)
{
	gchar *dir = NULL, *sock = NULL;
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--spool-child"))
		return exec_child_main();
	self_exe = g_file_read_link("/proc/self/exe", NULL);
	g_assert_nonnull(self_exe);
	g_test_init(&argc, &argv, NULL);
	/*
	 * A broker socket of our own: a private broker when there is one to
	 * start (HBMEM_BROKER_PATH), else none at all, so that a broker some
	 * other program left running cannot change what is tested.
	 */
	if (!g_getenv("HBMEM_BROKER_SOCKET")) {
		dir = g_dir_make_tmp("hbmem-spool-XXXXXX", NULL);
		g_assert_nonnull(dir);
		sock = g_build_filename(dir, "broker.sock", NULL);
		g_setenv("HBMEM_BROKER_SOCKET", sock, TRUE);
		if (!g_getenv("HBMEM_BROKER_PATH"))
			g_setenv("HBMEM_AUTOSPAWN", "0", TRUE);
	}
	g_test_add_func("/sharepool/calls-before-open-fail",
			test_calls_before_open_fail);
	add_module_test("/sharepool/create-rejects-bad-input",
			test_create_rejects_bad_input);
	add_module_test("/sharepool/calls-reject-fds-that-are-no-share-pool",
			test_calls_reject_fds_that_are_no_share_pool);
	add_module_test("/sharepool/free-rejects-what-is-no-held-block",
			test_free_rejects_what_is_no_held_block);
	add_module_test("/sharepool/import-rejects-what-is-no-held-block",
			test_import_rejects_what_is_no_held_block);
	add_module_test("/sharepool/blocks-are-distinct-aligned-and-usable",
			test_blocks_are_distinct_aligned_and_usable);
	add_module_test("/sharepool/exhaustion-then-free-refills",
			test_exhaustion_then_free_refills);
	add_module_test("/sharepool/get-info-counts-blocks-out",
			test_get_info_counts_blocks_out);
	add_module_test("/sharepool/destroy-is-busy-while-a-block-is-held",
			test_destroy_is_busy_while_a_block_is_held);
	add_module_test("/sharepool/block-returns-after-last-holder-in-process",
			test_block_returns_after_last_holder_in_process);
	add_module_test("/sharepool/slot-pid-int32-min-is-reaped",
			test_slot_pid_int32_min_is_reaped);
	g_test_add_func("/sharepool/close-tears-down-with-blocks-out",
			test_close_tears_down_with_blocks_out);
	add_module_test("/sharepool/timed-alloc-waits-for-a-free",
			test_timed_alloc_waits_for_a_free);
	add_module_test("/sharepool/threads-churn-without-loss",
			test_threads_churn_without_loss);
	add_module_test("/sharepool/forked/block-returns-after-child-frees",
			test_forked_block_returns_after_child_frees);
	add_module_test("/sharepool/forked/killed-holder-gives-blocks-back",
			test_forked_killed_holder_gives_blocks_back);
	add_module_test("/sharepool/forked/free-wakes-waiting-owner",
			test_forked_free_wakes_waiting_owner);
	add_module_test("/sharepool/forked/child-cannot-manage-the-pool",
			test_forked_child_cannot_manage_the_pool);
	add_module_test("/sharepool/forked/handover-churn-loses-nothing",
			test_forked_handover_churn_loses_nothing);
	add_module_test("/sharepool/forked/holder-slots-run-out-and-come-back",
			test_forked_holder_slots_run_out_and_come_back);
	add_module_test("/sharepool/forked/killed-at-random-points-loses-nothing",
			test_forked_killed_at_random_points_loses_nothing);
	add_module_test("/sharepool/fresh/block-returns-after-child-frees",
			test_fresh_block_returns_after_child_frees);
	add_module_test("/sharepool/fresh/killed-holder-gives-blocks-back",
			test_fresh_killed_holder_gives_blocks_back);
	add_module_test("/sharepool/exec/block-returns-after-child-frees",
			test_exec_block_returns_after_child_frees);
	add_module_test("/sharepool/exec/killed-holder-gives-blocks-back",
			test_exec_killed_holder_gives_blocks_back);
	ret = g_test_run();
	if (dir) {
		/* the broker leaves when idle; its files may outlive us */
		GDir *gd = g_dir_open(dir, 0, NULL);
		const gchar *name;

		while (gd && (name = g_dir_read_name(gd)) != NULL) {
			gchar *path = g_build_filename(dir, name, NULL);

			unlink(path);
			g_free(path);
		}
		if (gd)
			g_dir_close(gd);
		rmdir(dir);
		g_free(sock);
		g_free(dir);
	}
	g_free(self_exe);
	return ret;
}
