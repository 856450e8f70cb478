// SPDX-License-Identifier: MIT
/*
 * Bad input to the buffer calls: allocation, lookup by fd and by address,
 * free, cache maintenance, buffer types and views.
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

/* ==== registration ======================================================= */

int main(int argc, char **argv)
{
	badinput_init(&argc, &argv);
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
	return g_test_run();
}
