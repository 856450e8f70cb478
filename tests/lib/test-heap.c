// SPDX-License-Identifier: MIT
/*
 * Heaps: capacities, the board's choice and fallback order, accounting,
 * and configuration from the environment and a file.
 */
#include <stdio.h>
#include <unistd.h>

#include "test-util.h"

#define MiB (1024ull * 1024ull)

/*
 * Open the module with $HBMEM_HEAPS = @spec, every heap @spec does not
 * name removed but ion_cma, carveout and cma_reserved (so a backend's own
 * sram or uncache heap does not change the rules under test).
 */
static void open_with_heaps(const char *spec)
{
	char *full = g_strdup_printf("%s%s%s", strstr(spec, "sram") ? "" : "sram=0,",
				     strstr(spec, "uncache") ? "" : "uncache=0,",
				     spec);

	g_setenv("HBMEM_HEAPS", full, TRUE);
	g_free(full);
	assert_ok(hb_mem_module_open());
	g_unsetenv("HBMEM_HEAPS");
}

static const hb_mem_heap_info_t *heap_named(const char *name)
{
	static hb_mem_heap_info_t info;
	int32_t n, i;

	assert_ok(hb_mem_get_heap_count(&n));
	for (i = 0; i < n; i++) {
		assert_ok(hb_mem_get_heap_info(i, &info));
		if (!strcmp(info.name, name))
			return &info;
	}
	g_error("no heap %s", name);
	return NULL;
}

static void test_default_heaps_are_board_like(void)
{
	uint64_t size;
	char name[16];

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	if (!strcmp(name, "hbmem")) {
		/* the kernel driver's heaps set the capacities */
		g_assert_cmpuint(heap_named("ion_cma")->capacity, >, 0);
		assert_ok(hb_mem_module_close());
		g_test_skip("capacities come from the kernel driver");
		return;
	}
	g_assert_cmpuint(heap_named("ion_cma")->capacity, ==, 512 * MiB);
	g_assert_cmpuint(heap_named("carveout")->capacity, ==, 768 * MiB);
	g_assert_cmpuint(heap_named("cma_reserved")->capacity, ==, 384 * MiB);
	g_assert_cmpuint(heap_named("sram")->capacity, ==, 0);
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_DMA, &size));
	g_assert_cmpuint(size, ==, 512 * MiB);
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_RESERVED, &size));
	g_assert_cmpuint(size, ==, 768 * MiB);
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_PRIV_HEAP_2_RESERVED, &size));
	g_assert_cmpuint(size, ==, 384 * MiB);
	/* HW bits never pick a heap */
	assert_ok(hb_mem_get_heap_size(HB_MEM_USAGE_HW_BPU, &size));
	g_assert_cmpuint(size, ==, 512 * MiB);
	assert_hb(hb_mem_get_heap_size(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_module_close());
}

static void test_heap_flags_pick_the_heap(void)
{
	hb_mem_common_buf_t a, b, c;

	open_with_heaps("ion_cma=8M,carveout=8M,cma_reserved=8M");
	assert_ok(hb_mem_alloc_com_buf(1 * MiB, HB_MEM_USAGE_PRIV_HEAP_DMA, &a));
	assert_ok(hb_mem_alloc_com_buf(2 * MiB,
				       HB_MEM_USAGE_PRIV_HEAP_RESERVED, &b));
	assert_ok(hb_mem_alloc_com_buf(3 * MiB,
				       HB_MEM_USAGE_PRIV_HEAP_2_RESERVED, &c));
	g_assert_cmpuint(heap_named("ion_cma")->used, ==, 1 * MiB);
	g_assert_cmpuint(heap_named("carveout")->used, ==, 2 * MiB);
	g_assert_cmpuint(heap_named("cma_reserved")->used, ==, 3 * MiB);
	g_assert_cmpuint(heap_named("cma_reserved")->buffers, ==, 1);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
	assert_ok(hb_mem_free_buf(c.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
	assert_ok(hb_mem_module_close());
}

static void test_full_heap_falls_back_in_board_order(void)
{
	hb_mem_common_buf_t a, b, c, d;

	open_with_heaps("ion_cma=4M,carveout=2M,cma_reserved=1M");
	/* cma_reserved -> carveout -> ion_cma */
	assert_ok(hb_mem_alloc_com_buf(2 * MiB,
				       HB_MEM_USAGE_PRIV_HEAP_2_RESERVED, &a));
	g_assert_cmpuint(heap_named("carveout")->used, ==, 2 * MiB);
	assert_ok(hb_mem_alloc_com_buf(3 * MiB,
				       HB_MEM_USAGE_PRIV_HEAP_2_RESERVED, &b));
	g_assert_cmpuint(heap_named("ion_cma")->used, ==, 3 * MiB);
	/* ion_cma -> cma_reserved, never carveout */
	assert_ok(hb_mem_alloc_com_buf(1 * MiB, 0, &c));
	g_assert_cmpuint(heap_named("ion_cma")->used, ==, 4 * MiB);
	assert_ok(hb_mem_alloc_com_buf(1 * MiB, 0, &d));
	g_assert_cmpuint(heap_named("cma_reserved")->used, ==, 1 * MiB);
	/* every heap is full now: nothing is split across heaps */
	assert_hb(hb_mem_alloc_com_buf(4096, 0, &d),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_PRIV_HEAP_RESERVED,
				       &d),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_module_close());
}

static void test_uncache_heap_serves_uncached_requests_alone(void)
{
	hb_mem_common_buf_t a, b;

	open_with_heaps("uncache=1M");
	assert_ok(hb_mem_alloc_com_buf(512 * 1024, 0x11, &a));
	g_assert_cmpuint(heap_named("uncache")->used, ==, 512 * 1024);
	/* no fallback to ion_cma for an uncached request */
	assert_hb(hb_mem_alloc_com_buf(2 * MiB, 0x11, &b),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	/* cached requests use the ordinary heaps */
	assert_ok(hb_mem_alloc_com_buf(2 * MiB, 0x11 | HB_MEM_USAGE_CACHED, &b));
	g_assert_cmpuint(heap_named("ion_cma")->used, ==, 2 * MiB);
	assert_ok(hb_mem_free_buf(a.fd));
	assert_ok(hb_mem_free_buf(b.fd));
	assert_ok(hb_mem_module_close());
}

static void test_absent_sram_heap_has_no_fallback(void)
{
	hb_mem_common_buf_t a;
	char name[16];

	assert_ok(hb_mem_module_open());
	assert_hb(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_PRIV_HEAP_SRAM, &a),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	assert_ok(hb_mem_module_close());
	if (strcmp(name, "memfd"))
		return;	/* the system decides whether there is sram memory */
	open_with_heaps("sram=64K");
	assert_ok(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_PRIV_HEAP_SRAM, &a));
	g_assert_cmpuint(heap_named("sram")->used, ==, 4096);
	assert_ok(hb_mem_module_close());
}

static void test_accounting_is_page_rounded_and_exact(void)
{
	hb_mem_graphic_buf_t g;
	hb_mem_common_buf_t a;
	long page = sysconf(_SC_PAGESIZE);

	open_with_heaps("ion_cma=16M");
	assert_ok(hb_mem_alloc_com_buf(1, 0, &a));
	g_assert_cmpuint(heap_named("ion_cma")->used, ==, (uint64_t)page);
	assert_ok(hb_mem_alloc_graph_buf(100, 100, MEM_PIX_FMT_NV12, 0, 0, 0,
					 &g));
	/* Y 10000 B and UV 5000 B, each its own unit, each page-rounded */
	g_assert_cmpuint(heap_named("ion_cma")->used, ==,
			 (uint64_t)page + 12288 + 8192);
	g_assert_cmpuint(heap_named("ion_cma")->buffers, ==, 3);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(a.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
	assert_ok(hb_mem_module_close());
}

static void test_bad_heap_config_fails_to_open(void)
{
	g_setenv("HBMEM_HEAPS", "ion_cma=lots", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	g_setenv("HBMEM_HEAPS", "no_such_heap=1M", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	g_setenv("HBMEM_HEAPS", "ion_cma", TRUE);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	g_unsetenv("HBMEM_HEAPS");
	assert_hb(hb_mem_module_close(), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_config_file_sets_capacities(void)
{
	char *path = g_build_filename(g_get_tmp_dir(), "hbmem-test-XXXXXX",
				      NULL);
	int fd = g_mkstemp(path);
	const char *text = "# board layout\n ion_cma = 16M \ncarveout=0\n"
			   "\n  cma_reserved = 1G # comment\nuncache=0\n";
	hb_mem_common_buf_t a;
	const char *old = g_getenv("HBMEM_CONFIG");
	char *saved = g_strdup(old);

	g_assert_cmpint(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	close(fd);
	g_setenv("HBMEM_CONFIG", path, TRUE);
	assert_ok(hb_mem_module_open());
	g_assert_cmpuint(heap_named("ion_cma")->capacity, ==, 16 * MiB);
	g_assert_cmpuint(heap_named("carveout")->capacity, ==, 0);
	g_assert_cmpuint(heap_named("cma_reserved")->capacity, ==, 1024 * MiB);
	/* carveout removed: its requests fall back to cma_reserved */
	assert_ok(hb_mem_alloc_com_buf(4096, HB_MEM_USAGE_PRIV_HEAP_RESERVED,
				       &a));
	g_assert_cmpuint(heap_named("cma_reserved")->used, ==, 4096);
	assert_ok(hb_mem_module_close());
	/* the environment wins over the file */
	open_with_heaps("ion_cma=32M");
	g_assert_cmpuint(heap_named("ion_cma")->capacity, ==, 32 * MiB);
	assert_ok(hb_mem_module_close());
	/* a named file that is missing is an error */
	unlink(path);
	assert_hb(hb_mem_module_open(), HB_MEM_ERR_MODULE_OPEN_FAIL);
	if (saved)
		g_setenv("HBMEM_CONFIG", saved, TRUE);
	else
		g_unsetenv("HBMEM_CONFIG");
	g_free(saved);
	g_free(path);
}

static void test_heap_info_rejects_bad_index(void)
{
	hb_mem_heap_info_t info;
	int32_t n;

	assert_hb(hb_mem_get_heap_count(&n), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_ok(hb_mem_module_open());
	assert_hb(hb_mem_get_heap_count(NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_get_heap_count(&n));
	assert_hb(hb_mem_get_heap_info(-1, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(n, &info), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_get_heap_info(0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_module_close());
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/heap/info-rejects-bad-index",
			test_heap_info_rejects_bad_index);
	g_test_add_func("/heap/bad-config-fails-to-open",
			test_bad_heap_config_fails_to_open);
	g_test_add_func("/heap/defaults-are-board-like",
			test_default_heaps_are_board_like);
	g_test_add_func("/heap/flags-pick-the-heap",
			test_heap_flags_pick_the_heap);
	g_test_add_func("/heap/full-heap-falls-back-in-board-order",
			test_full_heap_falls_back_in_board_order);
	g_test_add_func("/heap/uncache-heap-serves-uncached-alone",
			test_uncache_heap_serves_uncached_requests_alone);
	g_test_add_func("/heap/absent-sram-heap-has-no-fallback",
			test_absent_sram_heap_has_no_fallback);
	g_test_add_func("/heap/accounting-is-page-rounded-and-exact",
			test_accounting_is_page_rounded_and_exact);
	g_test_add_func("/heap/config-file-sets-capacities",
			test_config_file_sets_capacities);
	return g_test_run();
}
