// SPDX-License-Identifier: MIT
/*
 * Debug hooks (hb_mem_alloc_debug_*): red-zone overruns and leaks are
 * reported with the allocation's file and line, fill patterns,
 * quarantine, double frees, backtraces, dumps (on demand and on a
 * signal), and the record-only interface the core buffers will use.
 */
#define HB_MEM_ALLOC_TRACE_SITES	/* allocation calls pass file/line */
#include <signal.h>
#include <stdlib.h>

#include "alloc-test.h"
#include "alloc/debug.h"

static GString *reports;

static void capture(const char *line, void *ctx)
{
	(void)ctx;
	g_string_append(reports, line);
	g_string_append_c(reports, '\n');
}

static void setup(int *f, gconstpointer d)
{
	alloc_test_module_setup(f, d);
	reports = g_string_new(NULL);
	assert_ok(hb_mem_alloc_debug_set_report(capture, NULL));
}

static void teardown(int *f, gconstpointer d)
{
	assert_ok(hb_mem_alloc_debug_set(0));
	assert_ok(hb_mem_alloc_debug_set_report(NULL, NULL));
	g_string_free(reports, TRUE);
	alloc_test_module_teardown(f, d);
}

#define add_dbg_test(path, fn) g_test_add(path, int, NULL, setup, fn, teardown)

/* "test-debug.c:<line>" appears in the reports, after @what. */
static void assert_reported(const char *what, int line)
{
	char *site = g_strdup_printf("test-debug.c:%d", line);
	const char *at = strstr(reports->str, what);

	if (!at || !strstr(at, site))
		g_error("expected \"%s\" ... \"%s\" in the reports:\n%s", what,
			site, reports->str);
	g_free(site);
}

static hb_mem_mm_t *heap_new(void)
{
	hb_mem_mm_t *h = NULL;

	assert_ok(hb_mem_mm_create("dbgheap", 1 << 20, 0, &h));
	return h;
}

static void test_debug_rejects_unknown_options(int *f, gconstpointer d)
{
	assert_hb(hb_mem_alloc_debug_set(1u << 31), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_debug_dump_on_signal(SIGKILL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_alloc_debug_dump_on_signal(-1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_REDZONE |
					 HB_MEM_DEBUG_SITES));
	g_assert_cmpuint(hb_mem_alloc_debug_get(), ==,
			 HB_MEM_DEBUG_REDZONE | HB_MEM_DEBUG_SITES);
}

static void test_debug_heap_overrun_reported_with_site(int *f,
						       gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	uint64_t errors = hb_mem_alloc_debug_errors();
	uint8_t *p;
	int line;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_REDZONE |
					 HB_MEM_DEBUG_SITES));
	line = __LINE__; p = hb_mem_mm_malloc(h, 24);
	g_assert_nonnull(p);
	g_assert_cmpuint((uintptr_t)p % 16, ==, 0);
	memset(p, 1, 24);		/* in bounds: silent */
	p[24] = 'x';			/* one past the end */
	assert_ok(hb_mem_mm_free(h, p));
	assert_reported("red zone overrun", line);
	g_assert_cmpuint(hb_mem_alloc_debug_errors(), ==, errors + 1);
	/* underrun too, on an aligned block */
	line = __LINE__; p = hb_mem_mm_memalign(h, 256, 10);
	g_assert_cmpuint((uintptr_t)p % 256, ==, 0);
	p[-1] = 0;
	assert_ok(hb_mem_mm_free(h, p));
	assert_reported("red zone underrun", line);
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_debug_overruns_caught_in_every_allocator(int *f,
							  gconstpointer d)
{
	hb_mem_zones_config_t c = {
		.ncpus = 1, .sys_first = 4096, .runtime = 65536,
		.buffer = 65536, .caps = { 1, 1, 1 },
	};
	hb_mem_gran_t *g = NULL;
	hb_mem_iob_pool_t *pool = NULL;
	hb_mem_zones_t *z = NULL;
	uint8_t *p;
	int line;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_REDZONE |
					 HB_MEM_DEBUG_SITES));
	assert_ok(hb_mem_gran_create(65536, 0, 6, 4, &g));
	line = __LINE__; p = hb_mem_gran_alloc(g, 100);
	p[100] = 1;
	assert_ok(hb_mem_gran_free(g, p));
	assert_reported("red zone overrun", line);
	assert_ok(hb_mem_gran_check(g));

	assert_ok(hb_mem_iob_pool_create(4, 64, 0, 0, 0, &pool));
	line = __LINE__; p = hb_mem_iob_alloc(pool, 0, -1);
	p[64] = 1;
	assert_ok(hb_mem_iob_free(pool, p));
	assert_reported("red zone overrun", line);

	/* system-zone blocks are never freed: checked at release */
	assert_ok(hb_mem_zones_create(&c, &z));
	line = __LINE__; p = hb_mem_zone_alloc(z, HB_MEM_ZONE_SYS, 1, 40, 0);
	p[40] = 1;
	assert_ok(hb_mem_zone_sys_release(z, 0));
	assert_reported("red zone overrun", line);
	assert_ok(hb_mem_zones_destroy(z));
	assert_ok(hb_mem_iob_pool_destroy(pool));
	assert_ok(hb_mem_gran_destroy(g));
}

static void test_debug_leak_reported_with_site(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	void *kept;
	int line;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES));
	line = __LINE__; kept = hb_mem_mm_malloc(h, 333);
	g_assert_nonnull(kept);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 1);
	assert_reported("leak: 333-byte block", line);
	g_assert_nonnull(strstr(reports->str, "'dbgheap'"));
	/* destroying the heap with the block still live reports it too */
	g_string_truncate(reports, 0);
	assert_ok(hb_mem_mm_destroy(h));
	assert_reported("leak (owner destroyed)", line);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 0);
}

static void test_debug_fill_patterns_fresh_and_freed(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	uint8_t *p;
	int i;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_FILL |
					 HB_MEM_DEBUG_QUARANTINE));
	p = hb_mem_mm_malloc(h, 64);
	for (i = 0; i < 64; i++)
		g_assert_cmpint(p[i], ==, 0xAA);
	assert_ok(hb_mem_mm_free(h, p));
	/* quarantined, so still mapped and ours to inspect */
	for (i = 0; i < 64; i++)
		g_assert_cmpint(p[i], ==, 0x55);
	/* zalloc still zeroes */
	p = hb_mem_mm_zalloc(h, 64);
	for (i = 0; i < 64; i++)
		g_assert_cmpint(p[i], ==, 0);
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_debug_quarantine_delays_reuse_and_catches_late_writes(
	int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	uint64_t errors = hb_mem_alloc_debug_errors();
	uint8_t *p, *q;
	int i, line;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_QUARANTINE |
					 HB_MEM_DEBUG_SITES));
	line = __LINE__; p = hb_mem_mm_malloc(h, 48);
	assert_ok(hb_mem_mm_free(h, p));
	q = hb_mem_mm_malloc(h, 48);
	g_assert_true(q != p);		/* not handed out again at once */
	assert_ok(hb_mem_mm_free(h, q));
	p[5] = 7;			/* write after free */
	for (i = 0; i < 70; i++)	/* push it out of quarantine */
		assert_ok(hb_mem_mm_free(h, hb_mem_mm_malloc(h, 16)));
	assert_reported("write after free", line);
	g_assert_cmpuint(hb_mem_alloc_debug_errors(), >, errors);
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_debug_double_free_reported(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	void *p;
	int line;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_ALL));
	line = __LINE__; p = hb_mem_mm_malloc(h, 80);
	assert_ok(hb_mem_mm_free(h, p));
	assert_hb(hb_mem_mm_free(h, p), HB_MEM_ERR_INVALID_VADDR);
	assert_reported("double free", line);
	assert_ok(hb_mem_mm_destroy(h));
}

/* A quarantined block is not live: no usable size, no realloc. */
static void test_debug_quarantined_block_is_not_live(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	uint64_t errors = hb_mem_alloc_debug_errors();
	void *p;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_QUARANTINE));
	p = hb_mem_mm_malloc(h, 48);
	g_assert_cmpuint(hb_mem_mm_usable_size(h, p), >=, 48);
	assert_ok(hb_mem_mm_free(h, p));
	g_assert_cmpuint(hb_mem_mm_usable_size(h, p), ==, 0);
	assert_null_errno(hb_mem_mm_realloc(h, p, 100), EFAULT);
	g_assert_cmpuint(hb_mem_alloc_debug_errors(), ==, errors);
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_mm_destroy(h));
}

static hb_mem_mm_t *cb_heap;

/* A report callback that allocates from a tracked heap itself. */
static void reentrant_capture(const char *line, void *ctx)
{
	void *q = hb_mem_mm_malloc(cb_heap, 32);

	(void)ctx;
	g_assert_nonnull(q);
	assert_ok(hb_mem_mm_free(cb_heap, q));
	(void)hb_mem_alloc_debug_errors();
	capture(line, NULL);
}

/*
 * The report callback runs without the hooks' lock held, so it may use
 * the allocators (with the hooks on) and the debug API. Run in a child:
 * a deadlock there is a timeout, not a hung suite.
 */
static void test_debug_report_callback_may_use_the_allocators(
	int *f, gconstpointer d)
{
	hb_mem_mm_t *h;
	void *p;
	int line;

	if (!g_test_subprocess()) {
		g_test_trap_subprocess(NULL, 20 * G_USEC_PER_SEC,
				       G_TEST_SUBPROCESS_DEFAULT);
		g_test_trap_assert_passed();
		return;
	}
	h = heap_new();
	cb_heap = heap_new();
	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES |
					 HB_MEM_DEBUG_QUARANTINE));
	assert_ok(hb_mem_alloc_debug_set_report(reentrant_capture, NULL));
	line = __LINE__; p = hb_mem_mm_malloc(h, 333);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 1);
	assert_reported("leak: 333-byte block", line);
	assert_ok(hb_mem_mm_free(h, p));
	assert_hb(hb_mem_mm_free(h, p), HB_MEM_ERR_INVALID_VADDR);
	assert_reported("double free", line);
	g_string_truncate(reports, 0);
	line = __LINE__; p = hb_mem_mm_malloc(h, 77);
	assert_ok(hb_mem_mm_destroy(h));
	assert_reported("leak (owner destroyed)", line);
	assert_ok(hb_mem_alloc_debug_set_report(capture, NULL));
	assert_ok(hb_mem_mm_destroy(cb_heap));
}

/*
 * With red zones a block's raw start lies before the user pointer and is
 * allocated underneath: freeing it is a foreign pointer, not a free.
 */
static void test_debug_free_of_red_zone_start_rejected(int *f,
							gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	uint64_t errors = hb_mem_alloc_debug_errors();
	hb_mem_mm_info_t mi;
	hb_mem_gran_info_t gi;
	hb_mem_gran_t *g = NULL;
	uint8_t *p, *q, *r;

	assert_ok(hb_mem_gran_create(1 << 20, 0, 6, 6, &g));
	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_REDZONE));
	p = hb_mem_mm_malloc(h, 100);
	q = hb_mem_mm_memalign(h, 4096, 100);
	r = hb_mem_gran_alloc(g, 100);
	assert_hb(hb_mem_mm_free(h, p - 32), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_mm_free(h, q - 4096), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_gran_free(g, r - 64), HB_MEM_ERR_INVALID_VADDR);
	g_assert_nonnull(strstr(reports->str, "free of the red zone"));
	g_assert_cmpuint(hb_mem_alloc_debug_errors(), ==, errors + 3);
	assert_ok(hb_mem_mm_info(h, &mi));
	g_assert_cmpuint(mi.allocs, ==, 2);
	assert_ok(hb_mem_gran_info(g, &gi));
	g_assert_cmpuint(gi.allocs, ==, 1);
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_free(h, q));
	assert_ok(hb_mem_gran_free(g, r));
	g_assert_cmpuint(hb_mem_alloc_debug_errors(), ==, errors + 3);
	assert_ok(hb_mem_mm_check(h));
	assert_ok(hb_mem_gran_check(g));
	assert_ok(hb_mem_gran_destroy(g));
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_debug_backtrace_and_dump(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	void *p, *q;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES |
					 HB_MEM_DEBUG_BACKTRACE));
	p = hb_mem_mm_malloc(h, 10);
	q = hb_mem_mm_realloc(h, NULL, 20);
	g_assert_cmpint(hb_mem_alloc_debug_dump(), ==, 2);
	g_assert_nonnull(strstr(reports->str, "live: 10-byte block"));
	g_assert_nonnull(strstr(reports->str, "live: 20-byte block"));
	g_assert_nonnull(strstr(reports->str, "#0 "));
	g_assert_nonnull(strstr(reports->str, "2 live tracked allocations"));
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_free(h, q));
	g_assert_cmpint(hb_mem_alloc_debug_dump(), ==, 0);
	assert_ok(hb_mem_mm_destroy(h));
}

static void test_debug_signal_dumps_live_allocations(int *f, gconstpointer d)
{
	hb_mem_mm_t *h = heap_new();
	void *p;
	int i;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES));
	p = hb_mem_mm_malloc(h, 4321);
	assert_ok(hb_mem_alloc_debug_dump_on_signal(SIGUSR1));
	raise(SIGUSR1);
	for (i = 0; i < 2000 && !strstr(reports->str, "4321-byte"); i++)
		g_usleep(1000);
	g_assert_nonnull(strstr(reports->str, "live: 4321-byte block"));
	assert_ok(hb_mem_alloc_debug_dump_on_signal(0));
	assert_ok(hb_mem_mm_free(h, p));
	assert_ok(hb_mem_mm_destroy(h));
}

/* What buffer.c / pool.c will call: record-only hooks. */
static void test_debug_record_only_hooks_for_core_buffers(int *f,
							  gconstpointer d)
{
	static char fake[64];
	int line = __LINE__;

	assert_ok(hb_mem_alloc_debug_set(HB_MEM_DEBUG_SITES));
	_hbmem_dbg_on_alloc(HBMEM_DBG_COM, fake, sizeof(fake), __FILE__, line);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 1);
	assert_reported("(com_buf '-')", line);
	g_assert_cmpint(_hbmem_dbg_on_free(HBMEM_DBG_COM, fake), ==, 0);
	g_assert_cmpint(_hbmem_dbg_on_free(HBMEM_DBG_COM, fake), ==, -ENOENT);
	g_assert_cmpint(hb_mem_alloc_debug_report_leaks(), ==, 0);
}

static void test_debug_options_from_environment(void)
{
	if (!getenv("HBMEM_ALLOC_DEBUG")) {
		g_test_skip("run by the test-debug-env entry");
		return;
	}
	g_assert_cmpuint(hb_mem_alloc_debug_get(), ==,
			 HB_MEM_DEBUG_REDZONE | HB_MEM_DEBUG_FILL);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/debug/env/options-from-environment",
			test_debug_options_from_environment);
	add_dbg_test("/debug/options/rejects-unknown-options",
		     test_debug_rejects_unknown_options);
	add_dbg_test("/debug/redzone/heap-overrun-reported-with-site",
		     test_debug_heap_overrun_reported_with_site);
	add_dbg_test("/debug/redzone/overruns-caught-in-every-allocator",
		     test_debug_overruns_caught_in_every_allocator);
	add_dbg_test("/debug/leak/reported-with-site",
		     test_debug_leak_reported_with_site);
	add_dbg_test("/debug/fill/fresh-and-freed-patterns",
		     test_debug_fill_patterns_fresh_and_freed);
	add_dbg_test("/debug/redzone/free-of-red-zone-start-rejected",
		     test_debug_free_of_red_zone_start_rejected);
	add_dbg_test("/debug/quarantine/freed-block-is-not-live",
		     test_debug_quarantined_block_is_not_live);
	add_dbg_test("/debug/report/callback-may-use-the-allocators",
		     test_debug_report_callback_may_use_the_allocators);
	add_dbg_test("/debug/quarantine/delays-reuse-and-catches-late-writes",
		     test_debug_quarantine_delays_reuse_and_catches_late_writes);
	add_dbg_test("/debug/double-free/reported",
		     test_debug_double_free_reported);
	add_dbg_test("/debug/dump/backtraces-and-live-list",
		     test_debug_backtrace_and_dump);
	add_dbg_test("/debug/dump/on-signal",
		     test_debug_signal_dumps_live_allocations);
	add_dbg_test("/debug/core/record-only-hooks",
		     test_debug_record_only_hooks_for_core_buffers);
	return g_test_run();
}
