// SPDX-License-Identifier: MIT
/*
 * Graphic buffers: plane counts and sizes for every format, stride rules,
 * contiguous versus per-plane allocation, and "any plane fd" semantics.
 */
#include "test-util.h"

/* Expected plane sizes of a W x H image, from the board's helper. */
struct expect {
	int32_t format;
	int planes;
	uint64_t num[3], den[3];	/* plane size = luma * num / den */
	uint64_t bpp;			/* bytes per pixel of plane 0 */
};

static const struct expect expects[] = {
	{ MEM_PIX_FMT_RGB565, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_RGB24, 1, { 1 }, { 1 }, 3 },
	{ MEM_PIX_FMT_BGR24, 1, { 1 }, { 1 }, 3 },
	{ MEM_PIX_FMT_ARGB, 1, { 1 }, { 1 }, 4 },
	{ MEM_PIX_FMT_RGBA, 1, { 1 }, { 1 }, 4 },
	{ MEM_PIX_FMT_ABGR, 1, { 1 }, { 1 }, 4 },
	{ MEM_PIX_FMT_BGRA, 1, { 1 }, { 1 }, 4 },
	{ MEM_PIX_FMT_YUV420P, 3, { 1, 1, 1 }, { 1, 4, 4 }, 1 },
	{ MEM_PIX_FMT_NV12, 2, { 1, 1 }, { 1, 2 }, 1 },
	{ MEM_PIX_FMT_NV21, 2, { 1, 1 }, { 1, 2 }, 1 },
	{ MEM_PIX_FMT_YUV422P, 3, { 1, 1, 1 }, { 1, 2, 2 }, 1 },
	{ MEM_PIX_FMT_NV16, 2, { 1, 1 }, { 1, 1 }, 1 },
	{ MEM_PIX_FMT_NV61, 2, { 1, 1 }, { 1, 1 }, 1 },
	{ MEM_PIX_FMT_YUYV422, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_YVYU422, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_UYVY422, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_VYUY422, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_YUV444, 1, { 1 }, { 1 }, 3 },
	{ MEM_PIX_FMT_YUV444P, 3, { 1, 1, 1 }, { 1, 1, 1 }, 1 },
	{ MEM_PIX_FMT_NV24, 2, { 1, 2 }, { 1, 1 }, 1 },
	{ MEM_PIX_FMT_NV42, 2, { 1, 2 }, { 1, 1 }, 1 },
	{ MEM_PIX_FMT_YUV440P, 3, { 1, 1, 1 }, { 1, 2, 2 }, 1 },
	{ MEM_PIX_FMT_YUV400, 1, { 1 }, { 1 }, 1 },
	{ MEM_PIX_FMT_RAW8, 1, { 1 }, { 1 }, 1 },
	{ MEM_PIX_FMT_RAW10, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_RAW12, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_RAW14, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_RAW16, 1, { 1 }, { 1 }, 2 },
	{ MEM_PIX_FMT_RAW20, 1, { 1 }, { 1 }, 3 },
	{ MEM_PIX_FMT_RAW24, 1, { 1 }, { 1 }, 3 },
};

static void test_nv12_1080p_contiguous_matches_board(TestModule *m,
						     gconstpointer d)
{
	hb_mem_graphic_buf_t b;

	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_NV12,
					 HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF |
						 HB_MEM_USAGE_CACHED,
					 0, 0, &b));
	g_assert_cmpint(b.plane_cnt, ==, 2);
	g_assert_cmpint(b.format, ==, MEM_PIX_FMT_NV12);
	g_assert_cmphex(b.size[0], ==, 0x1FA400);
	g_assert_cmphex(b.size[1], ==, 0xFD200);
	g_assert_cmpint(b.is_contig, ==, 1);
	g_assert_cmpint(b.fd[1], ==, b.fd[0]);
	g_assert_cmpint(b.share_id[1], ==, b.share_id[0]);
	g_assert_true(b.virt_addr[1] == b.virt_addr[0] + 0x1FA400);
	g_assert_cmphex(b.phys_addr[1], ==, b.phys_addr[0] + 0x1FA400);
	/* stride and vstride are echoed as given: 0 */
	g_assert_cmpint(b.stride, ==, 0);
	g_assert_cmpint(b.vstride, ==, 0);
	g_assert_cmpint(b.width, ==, 1920);
	g_assert_cmpint(b.height, ==, 1080);
	assert_ok(hb_mem_free_buf(b.fd[1]));
	assert_hb(hb_mem_free_buf(b.fd[0]), HB_MEM_ERR_INVALID_FD);
}

static void test_nv12_720p_has_two_separate_planes(TestModule *m,
						   gconstpointer d)
{
	hb_mem_graphic_buf_t b, again;

	assert_ok(hb_mem_alloc_graph_buf(1280, 720, MEM_PIX_FMT_NV12, 0x11, 0,
					 0, &b));
	g_assert_cmpint(b.plane_cnt, ==, 2);
	g_assert_cmpint(b.is_contig, ==, 0);
	g_assert_cmpint(b.fd[0], !=, b.fd[1]);
	g_assert_cmpint(b.share_id[0], !=, b.share_id[1]);
	g_assert_cmpuint(b.size[0], ==, 1280 * 720);
	g_assert_cmpuint(b.size[1], ==, 1280 * 720 / 2);
	g_assert_cmphex(b.flags, ==, 0x11);
	memset(b.virt_addr[0], 16, b.size[0]);
	memset(b.virt_addr[1], 128, b.size[1]);
	/* any plane fd names the whole buffer */
	assert_ok(hb_mem_get_graph_buf(b.fd[1], &again));
	g_assert_cmpmem(&b, sizeof(b), &again, sizeof(again));
	assert_ok(hb_mem_free_buf(b.fd[1]));
	assert_hb(hb_mem_get_graph_buf(b.fd[0], &again), HB_MEM_ERR_INVALID_FD);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_every_format_has_board_plane_sizes(TestModule *m,
						    gconstpointer d)
{
	const int32_t w = 64, h = 32;
	const uint64_t luma = w * h;
	size_t i;
	int p;

	for (i = 0; i < G_N_ELEMENTS(expects); i++) {
		const struct expect *e = &expects[i];
		hb_mem_graphic_buf_t b;
		int contig;

		for (contig = 0; contig < 2; contig++) {
			assert_ok(hb_mem_alloc_graph_buf(
				w, h, e->format,
				contig ? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF
				       : 0,
				0, 0, &b));
			g_assert_cmpint(b.plane_cnt, ==, e->planes);
			g_assert_cmpuint(b.size[0], ==, luma * e->bpp);
			for (p = 1; p < e->planes; p++)
				g_assert_cmpuint(b.size[p], ==,
						 luma * e->num[p] / e->den[p]);
			for (p = e->planes; p < 3; p++)
				g_assert_cmpuint(b.size[p], ==, 0);
			g_assert_cmpint(b.is_contig, ==,
					contig || e->planes == 1);
			for (p = 0; p < e->planes; p++)
				memset(b.virt_addr[p], p + 1, b.size[p]);
			assert_ok(hb_mem_free_buf(b.fd[0]));
		}
	}
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_stride_and_vstride_enlarge_planes(TestModule *m,
						   gconstpointer d)
{
	hb_mem_graphic_buf_t b;

	/* larger than the image: used */
	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_NV12, 0, 2048,
					 1088, &b));
	g_assert_cmpuint(b.size[0], ==, 2048 * 1088);
	g_assert_cmpuint(b.size[1], ==, 2048 * 1088 / 2);
	g_assert_cmpint(b.stride, ==, 2048);
	g_assert_cmpint(b.vstride, ==, 1088);
	assert_ok(hb_mem_free_buf(b.fd[0]));
	/* smaller than the image: tight */
	assert_ok(hb_mem_alloc_graph_buf(640, 480, MEM_PIX_FMT_YUV420P, 0, 16,
					 16, &b));
	g_assert_cmpuint(b.size[0], ==, 640 * 480);
	g_assert_cmpuint(b.size[1], ==, 320 * 240);
	assert_ok(hb_mem_free_buf(b.fd[0]));
}

static void test_odd_sizes_round_chroma_up(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_t b;

	assert_ok(hb_mem_alloc_graph_buf(5, 3, MEM_PIX_FMT_NV12, 0, 0, 0, &b));
	g_assert_cmpuint(b.size[0], ==, 15);
	g_assert_cmpuint(b.size[1], ==, 6 * 2); /* 3 UV pairs x 2 lines */
	assert_ok(hb_mem_free_buf(b.fd[0]));
	assert_ok(hb_mem_alloc_graph_buf(7, 5, MEM_PIX_FMT_YUV420P, 0, 0, 0,
					 &b));
	g_assert_cmpuint(b.size[1], ==, 4 * 3);
	g_assert_cmpuint(b.size[2], ==, 4 * 3);
	assert_ok(hb_mem_free_buf(b.fd[2]));
}

/*
 * Packed 4:2:2 carries a chroma pair per two pixels: an odd width still
 * needs the last pixel's whole macropixel (4 bytes), as GStreamer's YUY2
 * stride does. W x 2 bytes per line cut the last column's chroma off.
 */
static void test_odd_width_packed_422_keeps_last_macropixel(TestModule *m,
							    gconstpointer d)
{
	static const int32_t fmts[] = {
		MEM_PIX_FMT_YUYV422, MEM_PIX_FMT_YVYU422,
		MEM_PIX_FMT_UYVY422, MEM_PIX_FMT_VYUY422,
	};
	hb_mem_graphic_buf_t b;
	int32_t valid;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(fmts); i++) {
		/* 5 x 3: 3 macropixels of 4 bytes per line */
		assert_ok(hb_mem_alloc_graph_buf(5, 3, fmts[i], 0, 0, 0, &b));
		g_assert_cmpuint(b.size[0], ==, 3 * 4 * 3);
		assert_ok(hb_mem_is_valid_buf((uint64_t)(uintptr_t)b.virt_addr[0],
					      3 * 4 * 3, &valid));
		g_assert_cmpint(valid, ==, 1);
		assert_ok(hb_mem_flush_buf(b.fd[0], 0, 3 * 4 * 3));
		assert_ok(hb_mem_free_buf(b.fd[0]));
		/* an odd stride widens the same way; even sizes are W x 2 */
		assert_ok(hb_mem_alloc_graph_buf(4, 2, fmts[i], 0, 7, 0, &b));
		g_assert_cmpuint(b.size[0], ==, 8 * 2 * 2);
		assert_ok(hb_mem_free_buf(b.fd[0]));
		assert_ok(hb_mem_alloc_graph_buf(6, 2, fmts[i], 0, 0, 0, &b));
		g_assert_cmpuint(b.size[0], ==, 6 * 2 * 2);
		assert_ok(hb_mem_free_buf(b.fd[0]));
	}
	/* other packed formats have no subsampling: odd widths stay exact */
	assert_ok(hb_mem_alloc_graph_buf(5, 3, MEM_PIX_FMT_RGB24, 0, 0, 0, &b));
	g_assert_cmpuint(b.size[0], ==, 5 * 3 * 3);
	assert_ok(hb_mem_free_buf(b.fd[0]));
	assert_ok(hb_mem_alloc_graph_buf(5, 3, MEM_PIX_FMT_RAW12, 0, 0, 0, &b));
	g_assert_cmpuint(b.size[0], ==, 5 * 3 * 2);
	assert_ok(hb_mem_free_buf(b.fd[0]));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_graph_bad_geometry_is_invalid_params(TestModule *m,
						      gconstpointer d)
{
	hb_mem_graphic_buf_t b;

	assert_hb(hb_mem_alloc_graph_buf(0, 16, MEM_PIX_FMT_NV12, 0, 0, 0, &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(16, -1, MEM_PIX_FMT_NV12, 0, 0, 0, &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(16, 16, MEM_PIX_FMT_NV12, 0, -2, 0,
					 &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(16, 16, MEM_PIX_FMT_TOTAL, 0, 0, 0,
					 &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(16, 16, MEM_PIX_FMT_NONE, 0, 0, 0, &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf(16, 16, MEM_PIX_FMT_NV12, 0, 0, 0,
					 NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* 2^31 x 2^31 x 4 overflows 64 bits */
	assert_hb(hb_mem_alloc_graph_buf(INT32_MAX, INT32_MAX, MEM_PIX_FMT_RGBA,
					 0, 0, 0, &b),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* big but representable: no heap holds it */
	assert_hb(hb_mem_alloc_graph_buf(65536, 65536, MEM_PIX_FMT_RGBA, 0, 0,
					 0, &b),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_graph_fd_is_not_a_com_buf(TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_t g;
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g));
	assert_hb(hb_mem_get_com_buf(g.fd[0], &c), HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_graph_buf(c.fd, &g), HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/graph/bad-geometry-is-invalid-params",
			test_graph_bad_geometry_is_invalid_params);
	add_module_test("/graph/nv12-1080p-contiguous-matches-board",
			test_nv12_1080p_contiguous_matches_board);
	add_module_test("/graph/nv12-720p-has-two-separate-planes",
			test_nv12_720p_has_two_separate_planes);
	add_module_test("/graph/every-format-has-board-plane-sizes",
			test_every_format_has_board_plane_sizes);
	add_module_test("/graph/stride-and-vstride-enlarge-planes",
			test_stride_and_vstride_enlarge_planes);
	add_module_test("/graph/odd-sizes-round-chroma-up",
			test_odd_sizes_round_chroma_up);
	add_module_test("/graph/odd-width-packed-422-keeps-last-macropixel",
			test_odd_width_packed_422_keeps_last_macropixel);
	add_module_test("/graph/graph-fd-is-not-a-com-buf",
			test_graph_fd_is_not_a_com_buf);
	return g_test_run();
}
