// SPDX-License-Identifier: MIT
/*
 * Bad input to import, the share and consume counts and their waits, and
 * the process information calls.
 *
 * One test per function, /badinput/<function>, plus its hidden
 * /badinput/<function>/subprocess/before-open; badinput-util.h says what
 * each runs. The helpers they share are in badinput-util.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "badinput-util.h"

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

/* ==== registration ======================================================= */

int main(int argc, char **argv)
{
	badinput_init(&argc, &argv);
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
	return g_test_run();
}
