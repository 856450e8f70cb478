// SPDX-License-Identifier: MIT
/*
 * Sharing through the broker hbmemd, across real processes: the vendor
 * protocol (descriptor bytes over a pipe, import by share id) for common,
 * planar and contiguous graphic buffers and groups, partial sharing,
 * memory outliving its allocator's handle, holder and consume counts and
 * their waits seen from the other process, holder pids, a child's death
 * dropping its holds, the fork rule, the status request, and the
 * library without a broker.
 *
 * Each test has its own broker (private socket, started by the library),
 * every child runs under alarm(), every wait has a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-util.h"
#include "broker.h"

#define A(p) ((uint64_t)(uintptr_t)(p))

struct chan {
	int to_child[2];
	int to_parent[2];
};

static void chan_open(struct chan *c)
{
	g_assert_cmpint(pipe2(c->to_child, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(c->to_parent, O_CLOEXEC), ==, 0);
}

/* In the child: keep its ends. */
static void chan_child(struct chan *c)
{
	close(c->to_child[1]);
	close(c->to_parent[0]);
}

static void chan_parent(struct chan *c)
{
	close(c->to_child[0]);
	close(c->to_parent[1]);
}

static void chan_close_parent(struct chan *c)
{
	close(c->to_child[1]);
	close(c->to_parent[0]);
}

static void fill(uint8_t *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = pattern_at(i, seed);
}

static bool check(const uint8_t *p, size_t n, unsigned char seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != pattern_at(i, seed))
			return false;
	return true;
}

static void send_byte(int fd, char b)
{
	g_assert_true(write_full(fd, &b, 1));
}

static char recv_byte(int fd)
{
	char b = 0;

	g_assert_true(read_full(fd, &b, 1));
	return b;
}

/* ---- common buffers ----------------------------------------------------- */

struct com_child {
	struct chan *ch;
	bool consume;		/* inc the consume count after import */
	bool free_at_end;
};

/*
 * Import the descriptor read from the parent, check and mark the data,
 * report 'y', wait for the parent's word, then let go.
 */
static int com_child_fn(void *arg)
{
	struct com_child *cc = arg;
	hb_mem_common_buf_t in, out;
	char b = 'n';

	chan_child(cc->ch);
	if (hb_mem_module_open() != 0)
		return 10;
	if (!read_full(cc->ch->to_child[0], &in, sizeof(in)))
		return 11;
	in.fd = -1;
	in.virt_addr = NULL;
	if (hb_mem_import_com_buf(&in, &out) == 0 &&
	    check(out.virt_addr, out.size, 7) &&
	    (!cc->consume || hb_mem_inc_com_buf_consume_cnt(&out) == 0)) {
		out.virt_addr[0] = 0xEE;
		b = 'y';
	}
	if (!write_full(cc->ch->to_parent[1], &b, 1) || b != 'y')
		return 12;
	/* 'd': dec the consume count first; 'f': free; EOF: just exit */
	while (read_full(cc->ch->to_child[0], &b, 1)) {
		if (b == 'd' && hb_mem_dec_consume_cnt(out.fd) != 0)
			return 13;
		if (b == 'f' && hb_mem_free_buf(out.fd) != 0)
			return 14;
		if (!write_full(cc->ch->to_parent[1], &b, 1))
			return 15;
	}
	hb_mem_module_close();
	return 0;
}

static void test_com_import_in_child_sees_data_and_counts(BrokerFixture *f,
							   gconstpointer d)
{
	struct chan ch;
	struct com_child cc = { .ch = &ch, .consume = true };
	hb_mem_common_buf_t c;
	int32_t cnt, n, pids[4], cons[4];
	pid_t pid;

	assert_ok(hb_mem_alloc_com_buf(3 * 4096 + 100, 0, &c));
	fill(c.virt_addr, c.size, 7);
	chan_open(&ch);
	pid = spawn_child(com_child_fn, &cc);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &c, sizeof(c)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	/* the child's write is ours, its hold and consume count are seen */
	g_assert_cmpuint(c.virt_addr[0], ==, 0xEE);
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_get_buffer_process_info(A(c.virt_addr), pids, 4, &n));
	g_assert_cmpint(n, ==, 2);
	g_assert_true((pids[0] == pid && pids[1] == getpid()) ||
		      (pids[1] == pid && pids[0] == getpid()));
	assert_ok(hb_mem_get_buffer_process_cons_info_with_share_id(
		c.share_id, pids, cons, 4, &n));
	g_assert_cmpint(n, ==, 1);
	g_assert_cmpint(pids[0], ==, pid);
	g_assert_cmpint(cons[0], ==, 1);
	/* the child's dec and free are counted before our next question */
	send_byte(ch.to_child[1], 'd');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'd');
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	send_byte(ch.to_child[1], 'f');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'f');
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	chan_close_parent(&ch);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_free_buf(c.fd));
}

/*
 * A local pool's sub-buffer is importable elsewhere (the newest vendor
 * docs): the child maps just that range; only the owner manages the pool.
 */
static void test_local_pool_buffer_imports_in_child(BrokerFixture *f,
						    gconstpointer d)
{
	struct chan ch;
	struct com_child cc = { .ch = &ch, .consume = false };
	hb_mem_common_buf_t first, sub;
	hb_mem_pool_t pool;
	int32_t cnt;
	pid_t pid;

	assert_ok(hb_mem_pool_create(1 << 20, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 10000, &first));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 3 * 4096 + 100, &sub));
	fill(first.virt_addr, first.size, 1);
	fill(sub.virt_addr, sub.size, 7);
	chan_open(&ch);
	pid = spawn_child(com_child_fn, &cc);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &sub, sizeof(sub)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	/* the child wrote the first byte of its range: ours, not first's */
	g_assert_cmpuint(sub.virt_addr[0], ==, 0xEE);
	g_assert_true(check(first.virt_addr, first.size, 1));
	assert_ok(hb_mem_get_share_info(sub.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	send_byte(ch.to_child[1], 'f');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'f');
	assert_ok(hb_mem_get_share_info(sub.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	chan_close_parent(&ch);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_pool_free_buf(A(first.virt_addr)));
	assert_ok(hb_mem_pool_free_buf(A(sub.virt_addr)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void test_child_death_drops_its_holds_and_wakes_waiters(
	BrokerFixture *f, gconstpointer d)
{
	struct chan ch;
	struct com_child cc = { .ch = &ch, .consume = true };
	hb_mem_common_buf_t c;
	int32_t cnt;
	gint64 t0;
	pid_t pid;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	fill(c.virt_addr, c.size, 7);
	chan_open(&ch);
	pid = spawn_child(com_child_fn, &cc);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &c, sizeof(c)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	assert_hb(hb_mem_wait_share_status(c.fd, 1, 0), HB_MEM_ERR_TIMEOUT);
	t0 = g_get_monotonic_time();
	assert_hb(hb_mem_wait_consume_status(c.fd, 0, 30), HB_MEM_ERR_TIMEOUT);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 30 * 1000);
	/* SIGKILL while it holds the import and a consume count */
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	assert_ok(hb_mem_wait_share_status(c.fd, 1, 5000));
	assert_ok(hb_mem_wait_consume_status(c.fd, 0, 5000));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	g_assert_cmpint(reap_child(pid), ==, -SIGKILL);
	chan_close_parent(&ch);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* A thread-free waiter: the parent sleeps in the wait while the child frees. */
static void test_wait_share_status_wakes_when_child_frees(BrokerFixture *f,
							  gconstpointer d)
{
	struct chan ch;
	struct com_child cc = { .ch = &ch };
	hb_mem_common_buf_t c;
	pid_t pid, helper;
	gint64 t0;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	fill(c.virt_addr, c.size, 7);
	chan_open(&ch);
	pid = spawn_child(com_child_fn, &cc);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &c, sizeof(c)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	/* a second process tells the child to free 100 ms from now */
	helper = fork();
	g_assert_cmpint(helper, >=, 0);
	if (helper == 0) {
		char b = 'f';

		alarm(10);
		usleep(100 * 1000);
		_exit(write(ch.to_child[1], &b, 1) == 1 ? 0 : 1);
	}
	t0 = g_get_monotonic_time();
	assert_ok(hb_mem_wait_share_status(c.fd, 1, -1));
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 90 * 1000);
	g_assert_cmpint(reap_child(helper), ==, 0);
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'f');
	chan_close_parent(&ch);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ---- the allocator lets go first ---------------------------------------- */

static int survivor_fn(void *arg)
{
	struct chan *ch = arg;
	hb_mem_common_buf_t in, out;
	char b;

	chan_child(ch);
	if (hb_mem_module_open() != 0 ||
	    !read_full(ch->to_child[0], &in, sizeof(in)) ||
	    hb_mem_import_com_buf(&in, &out) != 0)
		return 10;
	b = 'i';
	if (!write_full(ch->to_parent[1], &b, 1) ||
	    !read_full(ch->to_child[0], &b, 1))
		return 11;
	/* the allocator freed its handle: the memory is still here */
	if (!check(out.virt_addr, out.size, 9))
		return 12;
	fill(out.virt_addr, out.size, 21);
	b = 'w';
	if (!write_full(ch->to_parent[1], &b, 1) ||
	    !read_full(ch->to_child[0], &b, 1))
		return 13;
	hb_mem_free_buf(out.fd);
	hb_mem_module_close();
	return 0;
}

static void test_memory_outlives_the_allocators_free(BrokerFixture *f,
						      gconstpointer d)
{
	hb_mem_common_buf_t c, again;
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	const struct hbmem_status_unit *u;
	struct chan ch;
	int32_t cnt;
	pid_t pid;

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	fill(c.virt_addr, c.size, 9);
	chan_open(&ch);
	pid = spawn_child(survivor_fn, &ch);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &c, sizeof(c)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'i');
	assert_ok(hb_mem_free_buf(c.fd));
	broker_units(st);
	u = status_find(st, c.share_id);
	g_assert_nonnull(u);
	g_assert_cmpint(u->clients, ==, 1);
	g_assert_cmpint(u->npids, ==, 1);
	g_assert_cmpint(u->pid[0], ==, pid);
	send_byte(ch.to_child[1], 'c');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'w');
	/* we can take it back by its share id, and see the child's data */
	c.fd = -1;
	c.virt_addr = NULL;
	assert_ok(hb_mem_import_com_buf(&c, &again));
	g_assert_true(check(again.virt_addr, again.size, 21));
	assert_ok(hb_mem_get_share_info(again.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	send_byte(ch.to_child[1], 'x');
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_get_share_info(again.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(again.fd));
	/* the last holder gone, the id names nothing */
	broker_wait_units(0);
	assert_hb(hb_mem_import_com_buf(&c, &again), HB_MEM_ERR_INVALID_PARAMS);
	chan_close_parent(&ch);
	g_free(st);
}

/* ---- partial sharing ---------------------------------------------------- */

static int partial_fn(void *arg)
{
	struct chan *ch = arg;
	hb_mem_common_buf_t in, out;
	char b = 'n';

	chan_child(ch);
	if (hb_mem_module_open() != 0 ||
	    !read_full(ch->to_child[0], &in, sizeof(in)))
		return 10;
	/* the last 4 KiB of 12 KiB, the vendor's way: phys and size */
	if (hb_mem_import_com_buf(&in, &out) == 0 && out.size == 4096 &&
	    out.phys_addr == in.phys_addr && out.virt_addr[0] == 0xA2 &&
	    out.virt_addr[4095] == 0xA3)
		b = 'y';
	if (!write_full(ch->to_parent[1], &b, 1))
		return 11;
	hb_mem_free_buf(out.fd);
	hb_mem_module_close();
	return b == 'y' ? 0 : 12;
}

static void test_partial_sharing_maps_just_the_range(BrokerFixture *f,
						      gconstpointer d)
{
	hb_mem_common_buf_t c, part;
	struct chan ch;
	pid_t pid;

	assert_ok(hb_mem_alloc_com_buf(3 * 4096, 0, &c));
	c.virt_addr[2 * 4096] = 0xA2;
	c.virt_addr[3 * 4096 - 1] = 0xA3;
	part = c;
	part.phys_addr = c.phys_addr + 2 * 4096;
	part.size = 4096;
	part.fd = -1;
	part.virt_addr = NULL;
	chan_open(&ch);
	pid = spawn_child(partial_fn, &ch);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &part, sizeof(part)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	g_assert_cmpint(reap_child(pid), ==, 0);
	chan_close_parent(&ch);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ---- graphic buffers and groups, in an exec'd helper --------------------- */

/*
 * Run the helper program (broker-helper, next to this test) with @mode;
 * send @len bytes of @desc, expect 'y', then end it.
 */
static void run_helper(const char *mode, const void *desc, size_t len,
		       int expect_clients, int32_t fd_for_count)
{
	const char *helper = g_getenv("HBMEM_TEST_HELPER");
	int in[2], out[2];
	int32_t cnt;
	pid_t pid;

	if (!helper)
		helper = "./broker-helper";
	g_assert_cmpint(pipe2(in, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(out, O_CLOEXEC), ==, 0);
	pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		alarm(20);
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(helper, helper, mode, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	g_assert_true(write_full(in[1], desc, len));
	g_assert_cmpint(recv_byte(out[0]), ==, 'y');
	assert_ok(hb_mem_get_share_info(fd_for_count, &cnt));
	g_assert_cmpint(cnt, ==, expect_clients);
	close(in[1]);	/* EOF: the helper frees and exits */
	g_assert_cmpint(reap_child(pid), ==, 0);
	close(out[0]);
	assert_ok(hb_mem_get_share_info(fd_for_count, &cnt));
	g_assert_cmpint(cnt, ==, 1);
}

static void fill_planes(const hb_mem_graphic_buf_t *g)
{
	int i;

	for (i = 0; i < g->plane_cnt; i++)
		fill(g->virt_addr[i], g->size[i], (unsigned char)(0x10 + i));
}

static void test_graph_planar_and_contiguous_import_in_exec_child(
	BrokerFixture *f, gconstpointer d)
{
	hb_mem_graphic_buf_t planar, contig;

	assert_ok(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &planar));
	g_assert_cmpint(planar.plane_cnt, ==, 2);
	g_assert_cmpint(planar.is_contig, ==, 0);
	assert_ok(hb_mem_alloc_graph_buf(
		64, 48, MEM_PIX_FMT_NV12,
		HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, 0, 0, &contig));
	g_assert_cmpint(contig.is_contig, ==, 1);
	fill_planes(&planar);
	fill_planes(&contig);
	run_helper("graph", &planar, sizeof(planar), 2, planar.fd[1]);
	run_helper("graph", &contig, sizeof(contig), 2, contig.fd[0]);
	assert_ok(hb_mem_free_buf(planar.fd[0]));
	assert_ok(hb_mem_free_buf(contig.fd[0]));
}

static void test_group_import_in_exec_child(BrokerFixture *f, gconstpointer d)
{
	int32_t w[HB_MEM_MAXIMUM_GRAPH_BUF] = { 32, 0, 64 };
	int32_t h[HB_MEM_MAXIMUM_GRAPH_BUF] = { 16, 0, 32 };
	int32_t fmt[HB_MEM_MAXIMUM_GRAPH_BUF] = { MEM_PIX_FMT_NV12, 0,
						  MEM_PIX_FMT_RGBA };
	int64_t fl[HB_MEM_MAXIMUM_GRAPH_BUF] = { 0 };
	int32_t zero[HB_MEM_MAXIMUM_GRAPH_BUF] = { 0 };
	hb_mem_graphic_buf_group_t g;

	assert_ok(hb_mem_alloc_graph_buf_group(w, h, fmt, fl, zero, zero, &g,
					       0x5));
	fill_planes(&g.graph_group[0]);
	fill_planes(&g.graph_group[2]);
	run_helper("group", &g, sizeof(g), 2, g.graph_group[2].fd[0]);
	assert_ok(hb_mem_free_buf(g.graph_group[0].fd[0]));
}

/* ---- fork rule ---------------------------------------------------------- */

static int forked_alloc_fn(void *arg)
{
	struct chan *ch = arg;
	hb_mem_common_buf_t c, mine;
	int32_t cnt;
	char b;

	chan_child(ch);
	if (!read_full(ch->to_child[0], &c, sizeof(c)))
		return 10;
	/* the inherited buffer works here, but is no hold of the child */
	if (hb_mem_module_open() != 0 || !check(c.virt_addr, c.size, 3) ||
	    hb_mem_get_share_info(c.fd, &cnt) != 0 || cnt != 1)
		return 11;
	/* a buffer of the child's own, which the parent imports */
	if (hb_mem_alloc_com_buf(4096, 0, &mine) != 0)
		return 12;
	fill(mine.virt_addr, mine.size, 4);
	if (!write_full(ch->to_parent[1], &mine, sizeof(mine)) ||
	    !read_full(ch->to_child[0], &b, 1))
		return 13;
	/* freeing the inherited handle drops no hold of the parent's */
	if (hb_mem_free_buf(c.fd) != 0 || hb_mem_free_buf(mine.fd) != 0)
		return 14;
	if (!write_full(ch->to_parent[1], &b, 1))
		return 15;
	hb_mem_module_close();
	return 0;
}

static void test_forked_child_has_its_own_connection_and_holds(
	BrokerFixture *f, gconstpointer d)
{
	hb_mem_common_buf_t c, theirs, out;
	struct chan ch;
	int32_t cnt;
	pid_t pid;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	fill(c.virt_addr, c.size, 3);
	chan_open(&ch);
	pid = spawn_child(forked_alloc_fn, &ch);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &c, sizeof(c)));
	g_assert_true(read_full(ch.to_parent[0], &theirs, sizeof(theirs)));
	g_assert_cmpint(theirs.share_id, !=, c.share_id);
	theirs.fd = -1;
	theirs.virt_addr = NULL;
	assert_ok(hb_mem_import_com_buf(&theirs, &out));
	g_assert_true(check(out.virt_addr, out.size, 4));
	send_byte(ch.to_child[1], 'g');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'g');
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_get_share_info(out.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	/* the parent's connection still works after the child's close */
	assert_ok(hb_mem_free_buf(out.fd));
	chan_close_parent(&ch);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ---- status ------------------------------------------------------------- */

static void test_status_lists_units_holders_and_heaps(BrokerFixture *f,
						       gconstpointer d)
{
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	const struct hbmem_status_unit *u;
	hb_mem_common_buf_t c[20];
	uint64_t used = 0;
	int32_t after = 0;
	unsigned int i, seen = 0;

	for (i = 0; i < G_N_ELEMENTS(c); i++)
		assert_ok(hb_mem_alloc_com_buf(4096 * (i + 1), 0, &c[i]));
	assert_ok(hb_mem_inc_com_buf_consume_cnt(&c[3]));
	g_assert_cmpint(broker_units(st), ==, 20);
	u = status_find(st, c[3].share_id);
	g_assert_nonnull(u);
	g_assert_cmpint(u->clients, ==, 1);
	g_assert_cmpint(u->consume, ==, 1);
	g_assert_cmpuint(u->size, ==, 4 * 4096);
	g_assert_cmpint(u->npids, ==, 1);
	g_assert_cmpint(u->pid[0], ==, getpid());
	g_assert_cmpuint(st->n_heaps, >=, 1);
	for (i = 0; i < st->n_heaps; i++)
		used += st->heap[i].used;
	g_assert_cmpuint(used, ==, 4096 * 20 * 21 / 2);
	/* pages: ascending ids, every unit once */
	do {
		g_assert_cmpint(_hbmem_broker_status(after, st), ==, 0);
		for (i = 0; i < st->n_units; i++) {
			g_assert_cmpint(st->unit[i].id, >, after);
			after = st->unit[i].id;
			seen++;
		}
	} while (st->more);
	g_assert_cmpuint(seen, ==, 20);
	for (i = 0; i < G_N_ELEMENTS(c); i++)
		assert_ok(hb_mem_free_buf(c[i].fd));
	g_assert_cmpint(_hbmem_broker_status(-1, st), ==, -EINVAL);
	g_free(st);
}

/* ---- lazy publication ----------------------------------------------------- */

static int broker_memfds(void)
{
	int sockets, memfds, total;

	proc_fd_kinds(broker_pid(), &sockets, &memfds, &total);
	return memfds;
}

static void test_unshared_buffers_cost_the_broker_nothing(BrokerFixture *f,
							  gconstpointer d)
{
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	hb_mem_common_buf_t c[3], sent;
	struct com_child cc;
	struct chan ch;
	int32_t cnt;
	pid_t pid;
	int i;

	for (i = 0; i < 3; i++) {
		assert_ok(hb_mem_alloc_com_buf(4096, 0, &c[i]));
		fill(c[i].virt_addr, c[i].size, 7);
	}
	/* the broker holds none of them, yet lists all three as ours */
	g_assert_cmpint(broker_memfds(), ==, 0);
	g_assert_cmpint(broker_units(st), ==, 3);
	for (i = 0; i < 3; i++) {
		const struct hbmem_status_unit *u = status_find(st,
							       c[i].share_id);

		g_assert_nonnull(u);
		g_assert_cmpint(u->clients, ==, 1);
		g_assert_cmpint(u->pid[0], ==, getpid());
	}
	/* a free of an unshared buffer says nothing and leaves nothing */
	assert_ok(hb_mem_free_buf(c[2].fd));
	g_assert_cmpint(broker_units(st), ==, 2);
	/* another process names one: the broker takes it over then */
	cc = (struct com_child){ .ch = &ch };
	sent = c[0];
	chan_open(&ch);
	pid = spawn_child(com_child_fn, &cc);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &sent, sizeof(sent)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	g_assert_cmpint(broker_memfds(), ==, 1);
	assert_ok(hb_mem_get_share_info(c[0].fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	/* our free of a published buffer is counted */
	assert_ok(hb_mem_free_buf(c[0].fd));
	send_byte(ch.to_child[1], 'f');
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'f');
	chan_close_parent(&ch);
	g_assert_cmpint(reap_child(pid), ==, 0);
	/* a count of our own unshared buffer publishes it too */
	assert_ok(hb_mem_get_consume_info(c[1].fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	g_assert_cmpint(broker_memfds(), ==, 1);
	assert_ok(hb_mem_free_buf(c[1].fd));
	broker_wait_units(0);
	g_assert_cmpint(broker_memfds(), ==, 0);
	g_free(st);
}

/* A process the broker may not look into registers every unit at once. */
static int non_dumpable_fn(void *arg)
{
	struct chan *ch = arg;
	hb_mem_common_buf_t c;
	char b;

	chan_child(ch);
	if (prctl(PR_SET_DUMPABLE, 0) != 0 || hb_mem_module_close() != 0 ||
	    hb_mem_module_open() != 0 || hb_mem_alloc_com_buf(4096, 0, &c) != 0)
		return 10;
	fill(c.virt_addr, c.size, 5);
	if (!write_full(ch->to_parent[1], &c, sizeof(c)) ||
	    !read_full(ch->to_child[0], &b, 1))
		return 11;
	hb_mem_free_buf(c.fd);
	hb_mem_module_close();
	return 0;
}

static void test_non_dumpable_process_registers_at_once(BrokerFixture *f,
							gconstpointer d)
{
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	hb_mem_common_buf_t theirs, out;
	struct chan ch;
	pid_t pid;

	chan_open(&ch);
	pid = spawn_child(non_dumpable_fn, &ch);
	chan_parent(&ch);
	g_assert_true(read_full(ch.to_parent[0], &theirs, sizeof(theirs)));
	/* registered with its fd already, before anyone asked for it (a
	 * status request first: the broker reads what was sent before) */
	g_assert_cmpint(broker_units(st), ==, 1);
	g_assert_cmpint(broker_memfds(), ==, 1);
	theirs.fd = -1;
	theirs.virt_addr = NULL;
	assert_ok(hb_mem_import_com_buf(&theirs, &out));
	g_assert_true(check(out.virt_addr, out.size, 5));
	assert_ok(hb_mem_free_buf(out.fd));
	send_byte(ch.to_child[1], 'x');
	g_assert_cmpint(reap_child(pid), ==, 0);
	chan_close_parent(&ch);
	g_free(st);
}

/* ---- threads --------------------------------------------------------------- */

#define THREADS 4
#define THREAD_ROUNDS 150

static gpointer churn_thread(gpointer data)
{
	int i, bad = 0;

	(void)data;
	for (i = 0; i < THREAD_ROUNDS; i++) {
		hb_mem_common_buf_t c, out;
		int32_t cnt = -1;

		if (hb_mem_alloc_com_buf(4096, 0, &c) != 0 ||
		    hb_mem_import_com_buf(&c, &out) != 0) {
			bad++;
			continue;
		}
		if (hb_mem_get_share_info(c.fd, &cnt) != 0 || cnt != 2)
			bad++;
		if (i % 3 == 0 &&
		    (hb_mem_inc_com_buf_consume_cnt(&out) != 0 ||
		     hb_mem_dec_consume_cnt(out.fd) != 0))
			bad++;
		if (hb_mem_free_buf(out.fd) != 0 ||
		    hb_mem_wait_share_status(c.fd, 1, 5000) != 0 ||
		    hb_mem_free_buf(c.fd) != 0)
			bad++;
	}
	return GINT_TO_POINTER(bad);
}

/* Threads share one connection for requests and open their own for waits. */
static void test_threads_share_the_connection(BrokerFixture *f,
					      gconstpointer d)
{
	GThread *t[THREADS];
	int i, bad = 0;

	for (i = 0; i < THREADS; i++)
		t[i] = g_thread_new("churn", churn_thread, NULL);
	for (i = 0; i < THREADS; i++)
		bad += GPOINTER_TO_INT(g_thread_join(t[i]));
	g_assert_cmpint(bad, ==, 0);
	broker_wait_units(0);
}

/* ---- without a broker --------------------------------------------------- */

static int no_broker_fn(void *arg)
{
	struct chan *ch = arg;
	hb_mem_common_buf_t in, out;
	char b;

	chan_child(ch);
	if (!read_full(ch->to_child[0], &in, sizeof(in)))
		return 10;
	/* start afresh: what the parent's module held is not ours */
	if (hb_mem_module_close() != 0 || hb_mem_module_open() != 0)
		return 11;
	b = hb_mem_import_com_buf(&in, &out) == HB_MEM_ERR_INVALID_PARAMS
		    ? 'y'
		    : 'n';
	return write_full(ch->to_parent[1], &b, 1) ? 0 : 11;
}

static void test_autospawn_off_keeps_sharing_in_the_process(void)
{
	/* static: still reachable from the forked child (valgrind) */
	static char *dir, *sock;
	hb_mem_common_buf_t c, out;
	struct chan ch;
	int fds = test_count_fds();
	pid_t pid;

	dir = g_dir_make_tmp("hbmem-nobroker-XXXXXX", NULL);
	sock = g_build_filename(dir, "none.sock", NULL);
	g_setenv("HBMEM_BROKER_SOCKET", sock, TRUE);
	g_setenv("HBMEM_AUTOSPAWN", "0", TRUE);
	assert_ok(hb_mem_module_open());
	g_assert_false(g_file_test(sock, G_FILE_TEST_EXISTS));
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_import_com_buf(&c, &out));	/* in-process: works */
	assert_ok(hb_mem_free_buf(out.fd));
	/* another process cannot import it */
	out = c;
	out.fd = -1;
	out.virt_addr = NULL;
	chan_open(&ch);
	pid = spawn_child(no_broker_fn, &ch);
	chan_parent(&ch);
	g_assert_true(write_full(ch.to_child[1], &out, sizeof(out)));
	g_assert_cmpint(recv_byte(ch.to_parent[0]), ==, 'y');
	g_assert_cmpint(reap_child(pid), ==, 0);
	chan_close_parent(&ch);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
	g_unsetenv("HBMEM_AUTOSPAWN");
	g_assert_cmpint(rmdir(dir), ==, 0);
	g_free(sock);
	g_free(dir);
}

/*
 * Without physical addresses a unit's device addresses are share_id << 32
 * plus the offset, so a unit gets 4 GiB of them: a bigger one would run
 * into the next id's. The limit holds with the broker as without it.
 */
static void test_unit_over_4_gib_is_refused(void)
{
	hb_mem_common_buf_t b;
	BrokerFixture f;

	g_setenv("HBMEM_HEAPS", "ion_cma=9G", TRUE);
	broker_setup(&f, NULL);
	assert_hb(hb_mem_alloc_com_buf((4ull << 30) + 4096, 0, &b),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_alloc_com_buf(4ull << 30, 0, &b));
	assert_ok(hb_mem_free_buf(b.fd));
	broker_teardown(&f, NULL);
	g_unsetenv("HBMEM_HEAPS");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!g_getenv("HBMEM_BROKER_PATH")) {
		g_print("1..0 # SKIP HBMEM_BROKER_PATH (the hbmemd to test) "
			"is not set\n");
		return 77;
	}
	g_test_add_func("/broker/unit-over-4-gib-is-refused",
			test_unit_over_4_gib_is_refused);
	add_broker_test("/broker/com-import-in-child-sees-data-and-counts",
			test_com_import_in_child_sees_data_and_counts);
	add_broker_test("/broker/local-pool-buffer-imports-in-child",
			test_local_pool_buffer_imports_in_child);
	add_broker_test("/broker/child-death-drops-its-holds-and-wakes-waiters",
			test_child_death_drops_its_holds_and_wakes_waiters);
	add_broker_test("/broker/wait-share-status-wakes-when-child-frees",
			test_wait_share_status_wakes_when_child_frees);
	add_broker_test("/broker/memory-outlives-the-allocators-free",
			test_memory_outlives_the_allocators_free);
	add_broker_test("/broker/partial-sharing-maps-just-the-range",
			test_partial_sharing_maps_just_the_range);
	add_broker_test("/broker/graph-planar-and-contiguous-import-in-exec-child",
			test_graph_planar_and_contiguous_import_in_exec_child);
	add_broker_test("/broker/group-import-in-exec-child",
			test_group_import_in_exec_child);
	add_broker_test("/broker/forked-child-has-its-own-connection-and-holds",
			test_forked_child_has_its_own_connection_and_holds);
	add_broker_test("/broker/status-lists-units-holders-and-heaps",
			test_status_lists_units_holders_and_heaps);
	add_broker_test("/broker/unshared-buffers-cost-the-broker-nothing",
			test_unshared_buffers_cost_the_broker_nothing);
	add_broker_test("/broker/non-dumpable-process-registers-at-once",
			test_non_dumpable_process_registers_at_once);
	add_broker_test("/broker/threads-share-the-connection",
			test_threads_share_the_connection);
	g_test_add_func("/broker/autospawn-off-keeps-sharing-in-the-process",
			test_autospawn_off_keeps_sharing_in_the_process);
	return g_test_run();
}
