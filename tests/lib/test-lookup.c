// SPDX-License-Identifier: MIT
/*
 * Lookups by address: info, validity, type and views, physical address.
 */
#include "test-util.h"

#define A(p) ((uint64_t)(uintptr_t)(p))

static void test_buf_info_from_any_inner_address(TestModule *m,
						 gconstpointer d)
{
	hb_mem_common_buf_t buf;
	uint64_t start, size;
	int64_t flags;

	assert_ok(hb_mem_alloc_com_buf(10000, HB_MEM_USAGE_CACHED | 0x11, &buf));
	assert_ok(hb_mem_get_buf_info(A(buf.virt_addr) + 9999, &start, &size,
				      &flags));
	g_assert_cmphex(start, ==, A(buf.virt_addr));
	g_assert_cmpuint(size, ==, 10000);
	g_assert_cmphex(flags, ==, HB_MEM_USAGE_CACHED | 0x11);
	assert_hb(hb_mem_get_buf_info(A(buf.virt_addr) + 10000, &start, &size,
				      &flags),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_get_buf_info(A(buf.virt_addr), NULL, &size, &flags),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void test_is_valid_buf_checks_the_whole_range(TestModule *m,
						     gconstpointer d)
{
	hb_mem_common_buf_t buf;
	int32_t valid = -1;
	int stack;

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &buf));
	assert_ok(hb_mem_is_valid_buf(A(buf.virt_addr), 8192, &valid));
	g_assert_cmpint(valid, ==, 1);
	assert_ok(hb_mem_is_valid_buf(A(buf.virt_addr) + 100, 8092, &valid));
	g_assert_cmpint(valid, ==, 1);
	assert_ok(hb_mem_is_valid_buf(A(buf.virt_addr) + 100, 8093, &valid));
	g_assert_cmpint(valid, ==, 0);
	assert_ok(hb_mem_is_valid_buf(A(&stack), 4, &valid));
	g_assert_cmpint(valid, ==, 0);
	assert_hb(hb_mem_is_valid_buf(A(buf.virt_addr), 0, &valid),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_is_valid_buf(UINT64_MAX - 4, 16, &valid),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_is_valid_buf(A(buf.virt_addr), 1, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(buf.fd));
}

static void test_com_and_graph_lookups_by_address(TestModule *m,
						  gconstpointer d)
{
	hb_mem_common_buf_t c, c2;
	hb_mem_graphic_buf_t g, g2;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_alloc_graph_buf(320, 240, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g));
	assert_ok(hb_mem_get_com_buf_with_vaddr(A(c.virt_addr) + 7, &c2));
	g_assert_cmpmem(&c, sizeof(c), &c2, sizeof(c2));
	assert_ok(hb_mem_get_graph_buf_with_vaddr(A(g.virt_addr[1]) + 7, &g2));
	g_assert_cmpmem(&g, sizeof(g), &g2, sizeof(g2));
	/* the wrong kind is not found */
	assert_hb(hb_mem_get_com_buf_with_vaddr(A(g.virt_addr[0]), &c2),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_get_graph_buf_with_vaddr(A(c.virt_addr), &g2),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_contiguous_graph_converts_to_com_view(TestModule *m,
						       gconstpointer d)
{
	hb_mem_buffer_type_t type;
	hb_mem_graphic_buf_t g, g2;
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_NV12,
					 HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF,
					 0, 0, &g));
	assert_ok(hb_mem_get_buf_type_and_buf_with_vaddr(A(g.virt_addr[0]),
							 &type, &c, &g2));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
	g_assert_cmphex(c.size, ==, 0x2F7600);
	g_assert_cmpint(c.fd, ==, g.fd[0]);
	g_assert_cmpint(c.share_id, ==, g.share_id[0]);
	g_assert_true(c.virt_addr == g.virt_addr[0]);
	g_assert_cmphex(c.phys_addr, ==, g.phys_addr[0]);
	g_assert_cmpmem(&g, sizeof(g), &g2, sizeof(g2));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_planar_graph_has_no_com_view(TestModule *m, gconstpointer d)
{
	hb_mem_buffer_type_t type;
	hb_mem_graphic_buf_t g, g2;
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g));
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(A(g.virt_addr[0]),
							 &type, &c, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_buf_type_and_buf_with_vaddr(A(g.virt_addr[0]),
							 &type, NULL, &g2));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(A(g.virt_addr[0]),
							 &type, NULL, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_buf_type_and_buf_with_vaddr(A(g.virt_addr[0]),
							 NULL, &c, &g2),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_com_converts_to_one_plane_graph_view(TestModule *m,
						      gconstpointer d)
{
	hb_mem_buffer_type_t type;
	hb_mem_graphic_buf_t g;
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_com_buf(0x10000, 0x11, &c));
	assert_ok(hb_mem_get_buf_type_and_buf_with_vaddr(A(c.virt_addr) + 5,
							 &type, NULL, &g));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_COMMON);
	g_assert_cmpint(g.plane_cnt, ==, 1);
	g_assert_cmphex(g.size[0], ==, 0x10000);
	g_assert_cmpint(g.fd[0], ==, c.fd);
	g_assert_cmpint(g.share_id[0], ==, c.share_id);
	g_assert_true(g.virt_addr[0] == c.virt_addr);
	g_assert_cmphex(g.phys_addr[0], ==, c.phys_addr);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_buf_and_type_returns_without_conversion(TestModule *m,
							 gconstpointer d)
{
	hb_mem_graphic_buf_group_t grp;
	hb_mem_buffer_type_t type;
	hb_mem_graphic_buf_t g;
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(A(c.virt_addr), &type,
						     NULL, &g, &grp),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_buf_and_type_with_vaddr(A(c.virt_addr), &type, &c,
						     NULL, NULL));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_COMMON);
	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_RGBA, 0, 0, 0,
					 &g));
	assert_ok(hb_mem_get_buf_and_type_with_vaddr(A(g.virt_addr[0]), &type,
						     NULL, &g, NULL));
	g_assert_cmpint(type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
	assert_hb(hb_mem_get_buf_and_type_with_vaddr(0, &type, &c, &g, &grp),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(c.fd));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_phys_addr_is_refused_without_physical_memory(TestModule *m,
							      gconstpointer d)
{
	hb_mem_common_buf_t c;
	uint32_t caps;
	uint64_t pa = 0;
	char name[16];

	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	assert_hb(hb_mem_get_phys_addr(A(c.virt_addr), NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_phys_addr(A(name), &pa), HB_MEM_ERR_INVALID_VADDR);
	/* a unit without a physical address carries a synthetic one (bit 63) */
	if ((caps & HB_MEM_BACKEND_CAP_PHYS) && !(c.phys_addr >> 63)) {
		assert_ok(hb_mem_get_phys_addr(A(c.virt_addr) + 4100, &pa));
		g_assert_cmphex(pa, ==, c.phys_addr + 4100);
	} else {
		assert_hb(hb_mem_get_phys_addr(A(c.virt_addr) + 4100, &pa),
			  HB_MEM_ERR_NOT_ALLOW);
	}
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_many_buffers_are_all_found(TestModule *m, gconstpointer d)
{
	enum { N = 500 };
	hb_mem_common_buf_t *b = g_new(hb_mem_common_buf_t, N), c;
	int i;

	for (i = 0; i < N; i++)
		assert_ok(hb_mem_alloc_com_buf(4096 * (1 + i % 3), 0, &b[i]));
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_get_com_buf_with_vaddr(
			A(b[i].virt_addr) + b[i].size - 1, &c));
		g_assert_cmpint(c.fd, ==, b[i].fd);
	}
	for (i = 0; i < N; i += 2)
		assert_ok(hb_mem_free_buf(b[i].fd));
	for (i = 1; i < N; i += 2) {
		assert_ok(hb_mem_get_com_buf_with_vaddr(A(b[i].virt_addr), &c));
		g_assert_cmpint(c.share_id, ==, b[i].share_id);
		assert_ok(hb_mem_free_buf_with_vaddr(A(b[i].virt_addr)));
	}
	g_free(b);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/lookup/buf-info-from-any-inner-address",
			test_buf_info_from_any_inner_address);
	add_module_test("/lookup/is-valid-buf-checks-the-whole-range",
			test_is_valid_buf_checks_the_whole_range);
	add_module_test("/lookup/com-and-graph-lookups-by-address",
			test_com_and_graph_lookups_by_address);
	add_module_test("/lookup/contiguous-graph-converts-to-com-view",
			test_contiguous_graph_converts_to_com_view);
	add_module_test("/lookup/planar-graph-has-no-com-view",
			test_planar_graph_has_no_com_view);
	add_module_test("/lookup/com-converts-to-one-plane-graph-view",
			test_com_converts_to_one_plane_graph_view);
	add_module_test("/lookup/buf-and-type-returns-without-conversion",
			test_buf_and_type_returns_without_conversion);
	add_module_test("/lookup/phys-addr-refused-without-physical-memory",
			test_phys_addr_is_refused_without_physical_memory);
	add_module_test("/lookup/many-buffers-are-all-found",
			test_many_buffers_are_all_found);
	return g_test_run();
}
