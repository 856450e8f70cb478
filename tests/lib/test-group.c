// SPDX-License-Identifier: MIT
/*
 * Groups of graphic buffers: the bitmap, lookup by any member, free of the
 * whole group by any member fd.
 */
#include "test-util.h"

struct group_args {
	int32_t w[8], h[8], f[8], s[8], vs[8];
	int64_t fl[8];
};

static void group_args_fill(struct group_args *a)
{
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < 8; i++) {
		a->w[i] = 64 + 16 * i;
		a->h[i] = 48;
		a->f[i] = i % 2 ? MEM_PIX_FMT_NV12 : MEM_PIX_FMT_YUV420P;
		a->fl[i] = i == 3 ? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF : 0;
	}
}

static void test_group_rejects_bad_bitmap_and_nulls(TestModule *m,
						    gconstpointer d)
{
	hb_mem_graphic_buf_group_t g;
	struct group_args a;

	group_args_fill(&a);
	assert_hb(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0x100),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(NULL, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       NULL, 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* one bad member fails the whole group and leaves nothing behind */
	a.f[5] = 99;
	assert_hb(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0xFF),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_group_fills_only_bitmap_members(TestModule *m,
						 gconstpointer d)
{
	hb_mem_graphic_buf_group_t g, again;
	struct group_args a;
	int i;

	group_args_fill(&a);
	assert_ok(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0x2D));
	g_assert_cmphex(g.bit_map, ==, 0x2D);
	g_assert_cmpint(g.group_id, >, 0);
	for (i = 0; i < 8; i++) {
		if (g.bit_map & (1u << i)) {
			g_assert_cmpint(g.graph_group[i].width, ==, a.w[i]);
			g_assert_cmpint(g.graph_group[i].format, ==, a.f[i]);
			g_assert_cmpint(g.graph_group[i].share_id[0], >, 0);
		} else {
			g_assert_cmpint(g.graph_group[i].plane_cnt, ==, 0);
		}
	}
	g_assert_cmpint(g.graph_group[3].is_contig, ==, 1);
	/* every member fd of every plane finds the group */
	for (i = 0; i < 8; i++) {
		int p;

		if (!(g.bit_map & (1u << i)))
			continue;
		for (p = 0; p < g.graph_group[i].plane_cnt; p++) {
			assert_ok(hb_mem_get_graph_buf_group(
				g.graph_group[i].fd[p], &again));
			g_assert_cmpmem(&g, sizeof(g), &again, sizeof(again));
		}
	}
	assert_ok(hb_mem_free_buf(g.graph_group[2].fd[1]));
}

static void test_free_of_one_member_frees_the_group(TestModule *m,
						    gconstpointer d)
{
	hb_mem_graphic_buf_group_t g;
	struct group_args a;
	int i;

	group_args_fill(&a);
	assert_ok(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0xFF));
	g_assert_cmpuint(test_heaps_used(), >, 0);
	assert_ok(hb_mem_free_buf(g.graph_group[6].fd[0]));
	for (i = 0; i < 8; i++)
		assert_hb(hb_mem_free_buf(g.graph_group[i].fd[0]),
			  HB_MEM_ERR_INVALID_FD);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_group_found_by_member_address(TestModule *m,
					       gconstpointer d)
{
	hb_mem_graphic_buf_group_t g, again;
	hb_mem_buffer_type_t type;
	struct group_args a;

	group_args_fill(&a);
	assert_ok(hb_mem_alloc_graph_buf_group(a.w, a.h, a.f, a.fl, a.s, a.vs,
					       &g, 0x81));
	assert_ok(hb_mem_get_graph_buf_group_with_vaddr(
		(uint64_t)(uintptr_t)g.graph_group[7].virt_addr[1] + 10, &again));
	g_assert_cmpint(again.group_id, ==, g.group_id);
	assert_ok(hb_mem_get_buf_type_with_vaddr(
		(uint64_t)(uintptr_t)g.graph_group[0].virt_addr[0], &type));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC_GROUP);
	assert_ok(hb_mem_free_buf_with_vaddr(
		(uint64_t)(uintptr_t)g.graph_group[0].virt_addr[2]));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_plain_graph_buf_is_not_in_a_group(TestModule *m,
						   gconstpointer d)
{
	hb_mem_graphic_buf_group_t g;
	hb_mem_graphic_buf_t b;

	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &b));
	assert_hb(hb_mem_get_graph_buf_group(b.fd[0], &g), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_get_graph_buf_group_with_vaddr(
			  (uint64_t)(uintptr_t)b.virt_addr[0], &g),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(b.fd[0]));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/group/rejects-bad-bitmap-and-nulls",
			test_group_rejects_bad_bitmap_and_nulls);
	add_module_test("/group/fills-only-bitmap-members",
			test_group_fills_only_bitmap_members);
	add_module_test("/group/free-of-one-member-frees-the-group",
			test_free_of_one_member_frees_the_group);
	add_module_test("/group/found-by-member-address",
			test_group_found_by_member_address);
	add_module_test("/group/plain-graph-buf-is-not-in-a-group",
			test_plain_graph_buf_is_not_in_a_group);
	return g_test_run();
}
