// SPDX-License-Identifier: MIT
/*
 * Module life: version, counted open/close, what close releases, the
 * backend choice.
 */
#include <stdlib.h>

#include "test-util.h"

static void test_version_needs_all_pointers(void)
{
	uint32_t a, b, c;

	assert_hb(hb_mem_get_version(NULL, &b, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, NULL, &c), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_version(&a, &b, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_version(&a, &b, &c));
	g_assert_cmpuint(a, ==, 1);
}

static void test_calls_before_open_report_module_not_found(void)
{
	hb_mem_common_buf_t buf;
	char name[16];

	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_alloc_com_buf(4096, 0, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_free_buf(3), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_get_backend(name, sizeof(name), NULL),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_open_is_counted_until_last_close(void)
{
	hb_mem_common_buf_t buf;

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &buf));
	assert_ok(hb_mem_module_close());
	/* still open: the buffer is still there */
	assert_ok(hb_mem_get_com_buf(buf.fd, &buf));
	assert_ok(hb_mem_module_close());
	assert_hb(hb_mem_get_com_buf(buf.fd, &buf), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_last_close_releases_every_buffer(void)
{
	int fds = test_count_fds(), maps = test_count_maps();
	int32_t w[8] = { 64, 64 }, h[8] = { 48, 48 };
	int32_t f[8] = { MEM_PIX_FMT_NV12, MEM_PIX_FMT_YUV420P };
	int64_t fl[8] = { 0 };
	int32_t s[8] = { 0 }, vs[8] = { 0 };
	hb_mem_graphic_buf_group_t group;
	hb_mem_graphic_buf_t graph, imp;
	hb_mem_common_buf_t com;
	int i;

	assert_ok(hb_mem_module_open());
	for (i = 0; i < 10; i++)
		assert_ok(hb_mem_alloc_com_buf(100000, 0, &com));
	assert_ok(hb_mem_alloc_graph_buf(640, 480, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &graph));
	assert_ok(hb_mem_import_graph_buf(&graph, &imp));
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, &group, 3));
	g_assert_cmpint(test_count_fds(), >, fds);
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
#if !defined(__SANITIZE_THREAD__)
	/* (TSan keeps shadow mappings of what was unmapped) */
	g_assert_cmpint(test_count_maps(), ==, maps);
#else
	(void)maps;
#endif

	/* and the heaps are empty again on the next open */
	assert_ok(hb_mem_module_open());
	g_assert_cmpuint(test_heaps_used(), ==, 0);
	assert_ok(hb_mem_module_close());
}

static void test_backend_is_queryable(void)
{
	char name[32];
	uint32_t caps = 0;

	assert_ok(hb_mem_module_open());
	assert_hb(hb_mem_get_backend(NULL, 8, &caps), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_backend(name, 0, &caps), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_backend(name, sizeof(name), &caps));
	g_assert_true(!strcmp(name, "memfd") || !strcmp(name, "udmabuf") ||
		      !strcmp(name, "dma-heap") || !strcmp(name, "hbmem"));
	if (!strcmp(name, "memfd"))
		g_assert_cmphex(caps, ==, HB_MEM_BACKEND_CAP_COHERENT);
	else
		g_assert_true(caps & HB_MEM_BACKEND_CAP_DMABUF);
	assert_ok(hb_mem_module_close());
}

static void test_backend_override_picks_memfd(void)
{
	char name[32];

	g_setenv("HBMEM_BACKEND", "memfd", TRUE);
	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	g_assert_cmpstr(name, ==, "memfd");
	assert_ok(hb_mem_module_close());
	g_unsetenv("HBMEM_BACKEND");
}

static void test_unknown_backend_override_fails_to_open(void)
{
	g_setenv("HBMEM_BACKEND", "no-such-backend", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
	g_unsetenv("HBMEM_BACKEND");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/module/version-needs-all-pointers",
			test_version_needs_all_pointers);
	g_test_add_func("/module/calls-before-open-report-module-not-found",
			test_calls_before_open_report_module_not_found);
	g_test_add_func("/module/open-is-counted-until-last-close",
			test_open_is_counted_until_last_close);
	g_test_add_func("/module/last-close-releases-every-buffer",
			test_last_close_releases_every_buffer);
	g_test_add_func("/module/backend-is-queryable",
			test_backend_is_queryable);
	g_test_add_func("/module/backend-override-picks-memfd",
			test_backend_override_picks_memfd);
	g_test_add_func("/module/unknown-backend-override-fails-to-open",
			test_unknown_backend_override_fails_to_open);
	return g_test_run();
}
