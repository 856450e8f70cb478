// SPDX-License-Identifier: MIT
/*
 * Debug hooks over the core buffers: a common or graphic buffer or a local
 * pool sub-allocation the process never frees is reported at the last
 * hb_mem_module_close() with the file and line that allocated it; a freed
 * one is not, and nothing stale is left once the close has freed it all.
 */
#define HB_MEM_ALLOC_TRACE_SITES
#include <glib.h>
#include <string.h>

#include "hb_mem_mgr.h"
#include "hb_mem_alloc.h"

static GString *report;

static void capture(const char *line, void *data)
{
	(void)data;
	g_string_append(report, line);
	g_string_append_c(report, '\n');
}

static void test_leaked_core_buffers_are_reported_at_close(void)
{
	hb_mem_common_buf_t com, freed, sub, sub_freed;
	hb_mem_graphic_buf_t graph;
	hb_mem_pool_t pool;
	char site_com[64], site_graph[64], site_freed[64], site_sub[64];
	char site_sub_freed[64];
	int line_com, line_graph, line_freed, line_sub, line_sub_freed;

	report = g_string_new(NULL);
	g_assert_cmpint(hb_mem_alloc_debug_set_report(capture, NULL), ==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES), ==, 0);
	g_assert_cmpint(hb_mem_module_open(), ==, 0);

	line_com = __LINE__ + 1;
	g_assert_cmpint(hb_mem_alloc_com_buf(4096, 0, &com), ==, 0);
	line_graph = __LINE__ + 1;
	g_assert_cmpint(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0, &graph), ==, 0);
	line_freed = __LINE__ + 1;
	g_assert_cmpint(hb_mem_alloc_com_buf(8192, 0, &freed), ==, 0);
	g_assert_cmpint(hb_mem_free_buf(freed.fd), ==, 0);
	/* a pool sub-allocation left live, and one freed */
	g_assert_cmpint(hb_mem_pool_create(1 << 20, 0, &pool), ==, 0);
	line_sub = __LINE__ + 1;
	g_assert_cmpint(hb_mem_pool_alloc_buf(pool.fd, 100, &sub), ==, 0);
	line_sub_freed = __LINE__ + 1;
	g_assert_cmpint(hb_mem_pool_alloc_buf(pool.fd, 200, &sub_freed), ==, 0);
	g_assert_cmpint(hb_mem_pool_free_buf((uint64_t)(uintptr_t)sub_freed.virt_addr),
			==, 0);

	g_assert_cmpint(hb_mem_module_close(), ==, 0);
	g_snprintf(site_sub, sizeof(site_sub), "test-debug-core.c:%d", line_sub);
	g_snprintf(site_sub_freed, sizeof(site_sub_freed), "test-debug-core.c:%d",
		   line_sub_freed);
	g_assert_nonnull(strstr(report->str, site_sub));
	g_assert_null(strstr(report->str, site_sub_freed));
	g_snprintf(site_com, sizeof(site_com), "test-debug-core.c:%d", line_com);
	g_snprintf(site_graph, sizeof(site_graph), "test-debug-core.c:%d",
		   line_graph);
	g_snprintf(site_freed, sizeof(site_freed), "test-debug-core.c:%d",
		   line_freed);
	g_test_message("report:\n%s", report->str);
	g_assert_nonnull(strstr(report->str, site_com));
	g_assert_nonnull(strstr(report->str, site_graph));
	g_assert_null(strstr(report->str, site_freed));

	/* nothing is left to report afterwards */
	g_string_truncate(report, 0);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 0);
	hb_mem_alloc_debug_set(0);
	g_string_free(report, TRUE);
}

/*
 * The pool calls the hooks only while they are on, or once they recorded
 * one of its blocks: switched on after the pool was made, a sub-allocation
 * is still recorded, and its free still drops the record after they were
 * switched off again.
 */
static void test_pool_hooks_follow_options_switched_at_runtime(void)
{
	hb_mem_common_buf_t quiet, sub;
	hb_mem_pool_t pool;

	report = g_string_new(NULL);
	g_assert_cmpint(hb_mem_alloc_debug_set_report(capture, NULL), ==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_set(0), ==, 0);
	g_assert_cmpint(hb_mem_module_open(), ==, 0);
	g_assert_cmpint(hb_mem_pool_create(1 << 20, 0, &pool), ==, 0);
	/* off: nothing recorded */
	g_assert_cmpint(hb_mem_pool_alloc_buf(pool.fd, 64, &quiet), ==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 0);

	g_assert_cmpint(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES), ==, 0);
	g_assert_cmpint(hb_mem_pool_alloc_buf(pool.fd, 64, &sub), ==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_set(0), ==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 1);
	g_assert_cmpint(hb_mem_pool_free_buf((uint64_t)(uintptr_t)sub.virt_addr),
			==, 0);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 0);
	g_assert_cmpint(hb_mem_pool_free_buf((uint64_t)(uintptr_t)quiet.virt_addr),
			==, 0);
	g_assert_cmpint(hb_mem_pool_destroy(pool.fd), ==, 0);
	g_assert_cmpint(hb_mem_module_close(), ==, 0);
	g_string_free(report, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/debug-core/leaked-buffers-reported-at-close",
			test_leaked_core_buffers_are_reported_at_close);
	g_test_add_func("/debug-core/pool-hooks-follow-options-switched-at-runtime",
			test_pool_hooks_follow_options_switched_at_runtime);
	return g_test_run();
}
