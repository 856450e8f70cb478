// SPDX-License-Identifier: MIT
/*
 * Cache maintenance and copies: ranges are validated, uncached buffers only
 * warn, copies are checked against the buffers they touch.
 */
#include "test-util.h"

#define A(p) ((uint64_t)(uintptr_t)(p))

static void test_flush_and_invalidate_validate_the_range(TestModule *m,
							 gconstpointer d)
{
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_com_buf(8192, HB_MEM_USAGE_CACHED, &c));
	assert_ok(hb_mem_flush_buf(c.fd, 0, 8192));
	assert_ok(hb_mem_invalidate_buf(c.fd, 4096, 4096));
	assert_hb(hb_mem_flush_buf(c.fd, 4096, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_invalidate_buf(c.fd, 0, 0), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_flush_buf(c.fd, UINT64_MAX, 2),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_flush_buf(-1, 0, 1), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_invalidate_buf(12345, 0, 1), HB_MEM_ERR_INVALID_FD);
	assert_ok(hb_mem_flush_buf_with_vaddr(A(c.virt_addr) + 100, 8092));
	assert_hb(hb_mem_flush_buf_with_vaddr(A(c.virt_addr) + 100, 8093),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_invalidate_buf_with_vaddr(A(c.virt_addr) + 8191, 1));
	assert_hb(hb_mem_invalidate_buf_with_vaddr(A(c.virt_addr) + 8192, 1),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_sync_on_uncached_buffer_only_warns(TestModule *m,
						    gconstpointer d)
{
	hb_mem_common_buf_t c;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	assert_ok(hb_mem_flush_buf(c.fd, 0, 4096));
	assert_ok(hb_mem_invalidate_buf(c.fd, 0, 4096));
	/* the range is still checked */
	assert_hb(hb_mem_flush_buf(c.fd, 0, 4097), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_free_buf(c.fd));
}

static void test_flush_by_plane_address_of_graph(TestModule *m,
						 gconstpointer d)
{
	hb_mem_graphic_buf_t g;
	int i;

	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_NV12,
					 HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF |
						 HB_MEM_USAGE_CACHED,
					 0, 0, &g));
	for (i = 0; i < g.plane_cnt; i++) {
		memset(g.virt_addr[i], 0x40 + i, g.size[i]);
		assert_ok(hb_mem_flush_buf_with_vaddr(A(g.virt_addr[i]),
						      g.size[i]));
	}
	assert_ok(hb_mem_flush_buf(g.fd[1], 0x1FA400, 0xFD200));
	assert_ok(hb_mem_free_buf(g.fd[0]));
}

static void test_dma_copy_moves_bytes_between_buffers(TestModule *m,
						      gconstpointer d)
{
	hb_mem_common_buf_t a, b;
	char local[64];

	assert_ok(hb_mem_alloc_com_buf(1 << 20, 0, &a));
	assert_ok(hb_mem_alloc_com_buf(1 << 20, 0, &b));
	memset(a.virt_addr, 0x33, a.size);
	assert_ok(hb_mem_dma_copy(A(b.virt_addr) + 10, A(a.virt_addr), 1000));
	g_assert_cmpuint(b.virt_addr[9], ==, 0);
	g_assert_cmpuint(b.virt_addr[10], ==, 0x33);
	g_assert_cmpuint(b.virt_addr[1009], ==, 0x33);
	g_assert_cmpuint(b.virt_addr[1010], ==, 0);
	/* one side may be ordinary memory, as on the board */
	memset(local, 0x77, sizeof(local));
	assert_ok(hb_mem_dma_copy(A(a.virt_addr), A(local), sizeof(local)));
	g_assert_cmpuint(a.virt_addr[63], ==, 0x77);
	/* bad input */
	assert_hb(hb_mem_dma_copy(A(b.virt_addr), A(a.virt_addr), 0),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(0, A(a.virt_addr), 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(A(b.virt_addr) + 10, A(a.virt_addr),
				  1 << 20),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_dma_copy(A(local), A(local) + 8, 8),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_module_test("/cache/flush-and-invalidate-validate-the-range",
			test_flush_and_invalidate_validate_the_range);
	add_module_test("/cache/sync-on-uncached-buffer-only-warns",
			test_sync_on_uncached_buffer_only_warns);
	add_module_test("/cache/flush-by-plane-address-of-graph",
			test_flush_by_plane_address_of_graph);
	add_module_test("/cache/dma-copy-moves-bytes-between-buffers",
			test_dma_copy_moves_bytes_between_buffers);
	return g_test_run();
}
