// SPDX-License-Identifier: MIT
/*
 * The local pool: create, sub-allocate, free, destroy, accounting, the
 * lookups by address, module close, and the allocator's invariants under
 * random and concurrent use.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-util.h"
#include "tlsf.h"

#define PAGE 4096u
#define MIB (1024u * 1024u)

/* Check the pool's allocator and bookkeeping, failing with the reason. */
static void assert_pool_valid(int32_t fd)
{
	char why[256] = "";
	int ret = _hbmem_pool_check(fd, why, sizeof(why));

	if (ret != 0)
		g_error("pool %d is inconsistent (%d): %s", fd, ret, why);
}

static void assert_tlsf_valid(const struct hbmem_tlsf *t)
{
	char why[256] = "";

	if (_hbmem_tlsf_check(t, why, sizeof(why)) != 0)
		g_error("tlsf is inconsistent: %s", why);
}

static hb_mem_pool_t pool_info(int32_t fd)
{
	hb_mem_pool_t info;

	assert_ok(hb_mem_pool_get_info(fd, &info));
	return info;
}

static uint64_t addr_of(const hb_mem_common_buf_t *b)
{
	return (uint64_t)(uintptr_t)b->virt_addr;
}

/* ---- bad input ------------------------------------------------------------ */

static void test_pool_calls_before_module_open_are_module_not_found(void)
{
	hb_mem_common_buf_t buf;
	hb_mem_pool_t pool;

	assert_hb(hb_mem_pool_create(MIB, 0, &pool),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_alloc_buf(3, 64, &buf),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_free_buf(4096), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_get_info(3, &pool), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_pool_destroy(3), HB_MEM_ERR_MODULE_NOT_FOUND);
}

static void test_pool_create_rejects_zero_size_and_null(TestModule *m,
							gconstpointer d)
{
	hb_mem_pool_t pool;

	assert_hb(hb_mem_pool_create(0, 0, &pool), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_create(MIB, 0, NULL), HB_MEM_ERR_INVALID_PARAMS);
}

static void test_pool_create_too_big_is_insufficient_mem(TestModule *m,
							 gconstpointer d)
{
	hb_mem_pool_t pool;

	assert_hb(hb_mem_pool_create(UINT64_MAX, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_create(64ull << 30, 0, &pool),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_pool_alloc_rejects_zero_size_and_null(TestModule *m,
						       gconstpointer d)
{
	hb_mem_common_buf_t buf;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 0, &buf),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 64, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_pool_get_info(pool.fd, NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, 0);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void test_pool_unknown_fd_is_pool_not_found(TestModule *m,
						   gconstpointer d)
{
	hb_mem_common_buf_t buf, com;
	hb_mem_pool_t pool;
	const int32_t bad[] = { -1, 0, 2, 100000, INT32_MAX };
	size_t i;

	assert_ok(hb_mem_alloc_com_buf(PAGE, 0, &com));
	for (i = 0; i < G_N_ELEMENTS(bad); i++) {
		assert_hb(hb_mem_pool_alloc_buf(bad[i], 64, &buf),
			  HB_MEM_ERR_POOL_NOT_FOUND);
		assert_hb(hb_mem_pool_get_info(bad[i], &pool),
			  HB_MEM_ERR_POOL_NOT_FOUND);
		assert_hb(hb_mem_pool_destroy(bad[i]),
			  HB_MEM_ERR_POOL_NOT_FOUND);
	}
	/* an hbmem fd that is not a pool's */
	assert_hb(hb_mem_pool_alloc_buf(com.fd, 64, &buf),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_pool_get_info(com.fd, &pool),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_pool_destroy(com.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_ok(hb_mem_free_buf(com.fd));
}

static void test_pool_free_of_non_allocation_is_invalid_vaddr(TestModule *m,
							      gconstpointer d)
{
	hb_mem_common_buf_t a, b, com;
	hb_mem_pool_t pool;
	int on_stack;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 3 * PAGE, &a));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &b));
	assert_ok(hb_mem_alloc_com_buf(PAGE, 0, &com));

	/* inside a sub-allocation, on a page boundary or not */
	assert_hb(hb_mem_pool_free_buf(addr_of(&a) + 1),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(addr_of(&a) + PAGE),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(addr_of(&a) + 2 * PAGE + 7),
		  HB_MEM_ERR_INVALID_VADDR);
	/* free pool memory, past the end, outside every pool */
	assert_hb(hb_mem_pool_free_buf(addr_of(&b) + 8 * PAGE),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(addr_of(&a) + MIB),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(addr_of(&com)),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf((uint64_t)(uintptr_t)&on_stack),
		  HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_free_buf(0), HB_MEM_ERR_INVALID_VADDR);
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, 2);

	/* twice: the second is refused and changes nothing */
	assert_ok(hb_mem_pool_free_buf(addr_of(&b)));
	assert_hb(hb_mem_pool_free_buf(addr_of(&b)), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_hb(hb_mem_pool_free_buf(addr_of(&a)), HB_MEM_ERR_INVALID_VADDR);
	assert_pool_valid(pool.fd);
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, 0);
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, MIB / PAGE);

	assert_ok(hb_mem_free_buf(com.fd));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void test_pool_request_larger_than_pool_is_insufficient_mem(
	TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t buf;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, MIB + 1, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, UINT64_MAX - PAGE + 2, &buf),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, MIB / PAGE);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/* ---- create, info, descriptors --------------------------------------------- */

static void test_pool_create_fills_every_field(TestModule *m, gconstpointer d)
{
	const int64_t flags = HB_MEM_USAGE_CPU_READ_OFTEN |
			      HB_MEM_USAGE_CPU_WRITE_OFTEN |
			      HB_MEM_USAGE_CACHED;
	hb_mem_common_buf_t com;
	hb_mem_pool_t pool, info;

	memset(&pool, 0x5A, sizeof(pool));
	assert_ok(hb_mem_pool_create(10 * MIB, flags, &pool));
	g_assert_cmphex(pool.flags, ==, flags);
	g_assert_cmpuint(pool.size, ==, 10 * MIB);
	g_assert_cmpint(pool.fd, >=, 0);
	g_assert_cmpint(pool.page_size, ==, PAGE);
	g_assert_cmpint(pool.total_page_cnt, ==, 2560);
	g_assert_cmpint(pool.avail_page_cnt, ==, 2560);
	g_assert_cmpint(pool.cur_client_cnt, ==, 0);
	g_assert_cmpint(pool.reserved, ==, 0);
	info = pool_info(pool.fd);
	g_assert_cmpmem(&pool, sizeof(pool), &info, sizeof(info));

	/* the backing buffer is one ordinary buffer */
	assert_ok(hb_mem_get_com_buf(pool.fd, &com));
	g_assert_cmpint(com.fd, ==, pool.fd);
	g_assert_cmpuint(com.size, ==, 10 * MIB);
	g_assert_cmpint(com.share_id, >, 0);
	g_assert_cmpuint(test_heaps_used(), ==, 10 * MIB);
	assert_ok(hb_mem_pool_destroy(pool.fd));
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_pool_size_rounds_up_to_whole_pages(TestModule *m,
						    gconstpointer d)
{
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(1, 0, &pool));
	g_assert_cmpint(pool.total_page_cnt, ==, 1);
	g_assert_cmpuint(pool.size, ==, PAGE);
	assert_ok(hb_mem_pool_destroy(pool.fd));

	assert_ok(hb_mem_pool_create(2 * PAGE + 1, 0, &pool));
	g_assert_cmpint(pool.total_page_cnt, ==, 3);
	g_assert_cmpint(pool.avail_page_cnt, ==, 3);
	g_assert_cmpuint(pool.size, ==, 3 * PAGE);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void test_pool_alloc_descriptor_points_into_the_pool(TestModule *m,
							    gconstpointer d)
{
	const int64_t flags = HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_HW_CIM;
	hb_mem_common_buf_t com, a, b;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, flags, &pool));
	assert_ok(hb_mem_get_com_buf(pool.fd, &com));
	memset(&a, 0x5A, sizeof(a));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 1000, &a));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 5 * PAGE + 3, &b));

	g_assert_cmpint(a.fd, ==, pool.fd);
	g_assert_cmpint(a.share_id, ==, com.share_id);
	g_assert_cmphex(a.flags, ==, flags | HB_MEM_USAGE_MEM_POOL);
	g_assert_cmpuint(a.size, ==, 1000);
	g_assert_cmpuint(b.size, ==, 5 * PAGE + 3);
	g_assert_cmpuint(a.offset, ==, 0);
	g_assert_cmpuint(b.offset, ==, 0);
	g_assert_true(a.virt_addr >= com.virt_addr &&
		      a.virt_addr + PAGE <= com.virt_addr + com.size);
	g_assert_true(b.virt_addr >= com.virt_addr &&
		      b.virt_addr + 6 * PAGE <= com.virt_addr + com.size);
	g_assert_cmpuint((addr_of(&a) - addr_of(&com)) % PAGE, ==, 0);
	g_assert_cmphex(a.phys_addr, ==,
			com.phys_addr + (uint64_t)(a.virt_addr - com.virt_addr));
	g_assert_cmphex(b.phys_addr, ==,
			com.phys_addr + (uint64_t)(b.virt_addr - com.virt_addr));
	/* writable through the pool's mapping */
	memset(a.virt_addr, 0xA5, a.size);
	memset(b.virt_addr, 0x5A, b.size);
	g_assert_cmpuint(a.virt_addr[999], ==, 0xA5);

	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_pool_free_buf(addr_of(&b)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

static void test_pool_counts_pages_and_clients_honestly(TestModule *m,
							gconstpointer d)
{
	hb_mem_common_buf_t one, two, big;
	hb_mem_pool_t pool, info;

	assert_ok(hb_mem_pool_create(10 * MIB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 1, &one));
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 2559);
	g_assert_cmpint(info.cur_client_cnt, ==, 1);
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, PAGE + 1, &two));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, MIB, &big));
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 2559 - 2 - 256);
	g_assert_cmpint(info.cur_client_cnt, ==, 3);
	g_assert_cmpint(info.total_page_cnt, ==, 2560);

	assert_ok(hb_mem_pool_free_buf(addr_of(&two)));
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 2559 - 256);
	g_assert_cmpint(info.cur_client_cnt, ==, 2);
	assert_ok(hb_mem_pool_free_buf(addr_of(&one)));
	assert_ok(hb_mem_pool_free_buf(addr_of(&big)));
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 2560);
	g_assert_cmpint(info.cur_client_cnt, ==, 0);
	/* the pool's own buffer is charged once, not per sub-allocation */
	g_assert_cmpuint(test_heaps_used(), ==, 10 * MIB);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/* ---- destroy -------------------------------------------------------------- */

static void test_pool_destroy_while_allocated_is_pool_busy(TestModule *m,
							   gconstpointer d)
{
	hb_mem_common_buf_t a;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64, &a));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_BUSY);
	/* still fully usable */
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, 1);
	a.virt_addr[0] = 1;
	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_destroy(pool.fd), HB_MEM_ERR_POOL_NOT_FOUND);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_pool_free_buf_of_busy_pool_fd_is_pool_busy(TestModule *m,
							    gconstpointer d)
{
	hb_mem_common_buf_t a;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64, &a));
	assert_hb(hb_mem_free_buf(pool.fd), HB_MEM_ERR_POOL_BUSY);
	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_free_buf(pool.fd));
	assert_hb(hb_mem_pool_get_info(pool.fd, &pool),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

static void test_pool_destroyed_pool_is_gone(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t a, buf;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64, &a));
	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 64, &buf),
		  HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_pool_free_buf(addr_of(&a)), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_pool_get_info(pool.fd, &pool),
		  HB_MEM_ERR_POOL_NOT_FOUND);
}

static void test_module_close_destroys_busy_pools(void)
{
	int fds = test_count_fds();
	hb_mem_common_buf_t a, b;
	hb_mem_pool_t p1, p2;

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_pool_create(MIB, 0, &p1));
	assert_ok(hb_mem_pool_create(2 * MIB, 0, &p2));
	assert_ok(hb_mem_pool_alloc_buf(p1.fd, 64, &a));
	assert_ok(hb_mem_pool_alloc_buf(p2.fd, 3 * PAGE, &b));
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);

	assert_ok(hb_mem_module_open());
	g_assert_cmpuint(test_heaps_used(), ==, 0);
	assert_hb(hb_mem_pool_get_info(p1.fd, &p1), HB_MEM_ERR_POOL_NOT_FOUND);
	assert_hb(hb_mem_pool_free_buf(addr_of(&a)), HB_MEM_ERR_INVALID_VADDR);
	/* and pools work again after the reopen */
	assert_ok(hb_mem_pool_create(MIB, 0, &p1));
	assert_ok(hb_mem_pool_alloc_buf(p1.fd, 64, &a));
	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_pool_destroy(p1.fd));
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, fds);
}

/* ---- exhaustion and coalescing ---------------------------------------------- */

static void test_pool_exhaustion_is_insufficient_mem_then_recovers(
	TestModule *m, gconstpointer d)
{
	enum { PAGES = 64 };
	hb_mem_common_buf_t b[PAGES], extra;
	hb_mem_pool_t pool;
	int i;

	assert_ok(hb_mem_pool_create(PAGES * PAGE, 0, &pool));
	for (i = 0; i < PAGES; i++)
		assert_ok(hb_mem_pool_alloc_buf(pool.fd, PAGE, &b[i]));
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, 0);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 1, &extra),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, PAGES);

	/* two freed neighbours make room for a two-page request */
	assert_ok(hb_mem_pool_free_buf(addr_of(&b[10])));
	assert_ok(hb_mem_pool_free_buf(addr_of(&b[11])));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 2 * PAGE, &extra));
	g_assert_true(extra.virt_addr == b[10].virt_addr);
	assert_hb(hb_mem_pool_alloc_buf(pool.fd, 1, &b[10]),
		  HB_MEM_ERR_INSUFFICIENT_MEM);
	assert_ok(hb_mem_pool_free_buf(addr_of(&extra)));

	for (i = 0; i < PAGES; i++)
		if (i != 10 && i != 11)
			assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
	assert_pool_valid(pool.fd);
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, PAGES);
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, PAGES * PAGE, &extra));
	assert_ok(hb_mem_pool_free_buf(addr_of(&extra)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/* Freed one-page sub-allocations still merge into a run of any size. */
static void test_pool_freed_single_pages_merge_for_large_requests(
	TestModule *m, gconstpointer d)
{
	enum { PAGES = 40 };
	hb_mem_common_buf_t b[PAGES], all;
	hb_mem_pool_t pool;
	int i;

	assert_ok(hb_mem_pool_create(PAGES * PAGE, 0, &pool));
	for (i = 0; i < PAGES; i++)
		assert_ok(hb_mem_pool_alloc_buf(pool.fd, 64, &b[i]));
	for (i = 0; i < PAGES; i++) {
		assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
		assert_pool_valid(pool.fd);
	}
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, PAGES * PAGE, &all));
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, 0);
	assert_ok(hb_mem_pool_free_buf(addr_of(&all)));
	assert_pool_valid(pool.fd);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

struct live {
	hb_mem_common_buf_t buf;
	uint8_t pattern;
};

static void fill(struct live *l, uint8_t pattern)
{
	l->pattern = pattern;
	memset(l->buf.virt_addr, pattern, l->buf.size);
}

static void assert_intact(const struct live *l)
{
	uint64_t i;

	for (i = 0; i < l->buf.size; i++)
		if (l->buf.virt_addr[i] != l->pattern)
			g_error("byte %" G_GUINT64_FORMAT " of sub-allocation "
				"%p is 0x%02x, expected 0x%02x", i,
				(void *)l->buf.virt_addr, l->buf.virt_addr[i],
				l->pattern);
}

static void test_pool_live_allocations_never_overlap(TestModule *m,
						     gconstpointer d)
{
	enum { SLOTS = 200, ROUNDS = 3000 };
	struct live *live = g_new0(struct live, SLOTS);
	hb_mem_pool_t pool;
	int i, r;

	/* 16 MiB holds any 200 requests of up to 64 KiB */
	assert_ok(hb_mem_pool_create(16 * MIB, 0, &pool));
	for (r = 0; r < ROUNDS; r++) {
		struct live *l = &live[g_test_rand_int_range(0, SLOTS)];

		if (l->buf.virt_addr) {
			assert_intact(l);
			assert_ok(hb_mem_pool_free_buf(addr_of(&l->buf)));
			l->buf.virt_addr = NULL;
		} else {
			uint64_t size = (uint64_t)g_test_rand_int_range(
				1, 16 * PAGE);

			assert_ok(hb_mem_pool_alloc_buf(pool.fd, size,
							&l->buf));
			g_assert_cmpuint(l->buf.size, ==, size);
			fill(l, (uint8_t)(r | 1));
		}
	}
	for (i = 0; i < SLOTS; i++)
		if (live[i].buf.virt_addr) {
			assert_intact(&live[i]);
			assert_ok(hb_mem_pool_free_buf(
				addr_of(&live[i].buf)));
		}
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==,
			16 * MIB / PAGE);
	assert_ok(hb_mem_pool_destroy(pool.fd));
	g_free(live);
}

/*
 * Random requests (some failing for lack of room) with the allocator's
 * invariants checked after every one; once all is freed the pool is one
 * run again. 777 pages: the whole pool is not a size-class boundary.
 */
static void test_pool_random_ops_keep_allocator_valid_and_coalesce(
	TestModule *m, gconstpointer d)
{
	enum { PAGES = 777, SLOTS = 96, ROUNDS = 4000 };
	hb_mem_common_buf_t *b = g_new0(hb_mem_common_buf_t, SLOTS);
	hb_mem_common_buf_t all;
	hb_mem_pool_t pool;
	int i, r, clients = 0, pages = 0;

	assert_ok(hb_mem_pool_create(PAGES * PAGE, 0, &pool));
	for (r = 0; r < ROUNDS; r++) {
		i = g_test_rand_int_range(0, SLOTS);
		if (b[i].virt_addr) {
			assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
			pages -= (int)((b[i].size + PAGE - 1) / PAGE);
			clients--;
			b[i].virt_addr = NULL;
		} else {
			/* mostly small, sometimes large */
			uint64_t size = g_test_rand_int_range(0, 4)
				? (uint64_t)g_test_rand_int_range(1, 3 * PAGE)
				: (uint64_t)g_test_rand_int_range(1, 60 * PAGE);
			int32_t ret = hb_mem_pool_alloc_buf(pool.fd, size,
							    &b[i]);

			if (ret == 0) {
				pages += (int)((size + PAGE - 1) / PAGE);
				clients++;
			} else {
				assert_hb(ret, HB_MEM_ERR_INSUFFICIENT_MEM);
				b[i].virt_addr = NULL;
			}
		}
		assert_pool_valid(pool.fd);
		g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==,
				PAGES - pages);
		g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==,
				clients);
	}
	for (i = 0; i < SLOTS; i++)
		if (b[i].virt_addr) {
			assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
			assert_pool_valid(pool.fd);
		}
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, PAGES * PAGE, &all));
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, 0);
	assert_ok(hb_mem_pool_free_buf(addr_of(&all)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	g_free(b);
}

/* ---- the allocator on its own ------------------------------------------------ */

static void test_tlsf_random_ops_keep_invariants(void)
{
	enum { PAGES = 5000, SLOTS = 300, ROUNDS = 20000 };
	uint32_t *start = g_new(uint32_t, SLOTS);
	struct hbmem_tlsf t;
	uint32_t i;
	int r;

	assert_hb(_hbmem_tlsf_init(&t, 0), -EINVAL);
	assert_hb(_hbmem_tlsf_init(&t, HBMEM_TLSF_MAX_PAGES + 1), -EINVAL);
	assert_ok(_hbmem_tlsf_init(&t, PAGES));
	assert_tlsf_valid(&t);
	for (i = 0; i < SLOTS; i++)
		start[i] = HBMEM_TLSF_NONE;
	for (r = 0; r < ROUNDS; r++) {
		i = (uint32_t)g_test_rand_int_range(0, SLOTS);
		if (start[i] != HBMEM_TLSF_NONE) {
			/* a page inside a run is not a run */
			if (_hbmem_tlsf_pages(&t, start[i]) > 1)
				assert_hb(_hbmem_tlsf_free(&t, start[i] + 1),
					  -EFAULT);
			assert_ok(_hbmem_tlsf_free(&t, start[i]));
			assert_hb(_hbmem_tlsf_free(&t, start[i]), -EFAULT);
			start[i] = HBMEM_TLSF_NONE;
		} else {
			uint32_t n = g_test_rand_bit()
				? (uint32_t)g_test_rand_int_range(1, 20)
				: (uint32_t)g_test_rand_int_range(1, 400);

			start[i] = _hbmem_tlsf_alloc(&t, n);
			if (start[i] != HBMEM_TLSF_NONE) {
				g_assert_cmpuint(_hbmem_tlsf_pages(&t, start[i]),
						 ==, n);
				g_assert_cmpuint(_hbmem_tlsf_run_of(
					&t, start[i] + n - 1), ==, start[i]);
			}
		}
		assert_tlsf_valid(&t);
	}
	for (i = 0; i < SLOTS; i++)
		if (start[i] != HBMEM_TLSF_NONE)
			assert_ok(_hbmem_tlsf_free(&t, start[i]));
	assert_tlsf_valid(&t);
	g_assert_cmpuint(t.free_pages, ==, PAGES);
	g_assert_cmpuint(_hbmem_tlsf_alloc(&t, PAGES), ==, 0);
	g_assert_cmpuint(_hbmem_tlsf_alloc(&t, 1), ==, HBMEM_TLSF_NONE);
	_hbmem_tlsf_fini(&t);
	g_free(start);
}

/* The validator is only worth something if it sees breakage. */
static void test_tlsf_check_detects_corruption(void)
{
	struct hbmem_tlsf t;
	char why[256];
	uint32_t a, b, c, saved;

	assert_ok(_hbmem_tlsf_init(&t, 100));
	a = _hbmem_tlsf_alloc(&t, 10);
	b = _hbmem_tlsf_alloc(&t, 10);
	c = _hbmem_tlsf_alloc(&t, 10);
	assert_ok(_hbmem_tlsf_free(&t, b));
	assert_tlsf_valid(&t);

	t.blk[a + 3].size = 1;	/* a size inside a run */
	g_assert_cmpint(_hbmem_tlsf_check(&t, why, sizeof(why)), ==,
			-EUCLEAN);
	t.blk[a + 3].size = 0;
	saved = t.blk[c].prev_phys;
	t.blk[c].prev_phys = a;
	g_assert_cmpint(_hbmem_tlsf_check(&t, why, sizeof(why)), ==,
			-EUCLEAN);
	t.blk[c].prev_phys = saved;
	t.fl_bitmap ^= 1;	/* a bitmap bit without a list */
	g_assert_cmpint(_hbmem_tlsf_check(&t, why, sizeof(why)), ==,
			-EUCLEAN);
	t.fl_bitmap ^= 1;
	t.blk[b].size &= ~HBMEM_TLSF_FREE;	/* listed but not free */
	g_assert_cmpint(_hbmem_tlsf_check(&t, why, sizeof(why)), ==,
			-EUCLEAN);
	t.blk[b].size |= HBMEM_TLSF_FREE;
	t.free_pages++;
	g_assert_cmpint(_hbmem_tlsf_check(&t, why, sizeof(why)), ==,
			-EUCLEAN);
	t.free_pages--;
	assert_tlsf_valid(&t);
	_hbmem_tlsf_fini(&t);
}

/* ---- lookups ----------------------------------------------------------------- */

static void test_pool_lookup_by_address_finds_the_sub_allocation(
	TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t com, a, b, got;
	uint64_t start, size;
	int64_t flags;
	hb_mem_pool_t pool;

	assert_ok(hb_mem_pool_create(MIB, HB_MEM_USAGE_CPU_READ_OFTEN, &pool));
	assert_ok(hb_mem_get_com_buf(pool.fd, &com));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 100, &a));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 3 * PAGE + 5, &b));

	assert_ok(hb_mem_get_com_buf_with_vaddr(addr_of(&b), &got));
	g_assert_cmpmem(&got, sizeof(got), &b, sizeof(b));
	assert_ok(hb_mem_get_com_buf_with_vaddr(addr_of(&b) + 2 * PAGE + 9,
						&got));
	g_assert_cmpmem(&got, sizeof(got), &b, sizeof(b));
	assert_ok(hb_mem_get_com_buf_with_vaddr(addr_of(&a) + 99, &got));
	g_assert_cmpmem(&got, sizeof(got), &a, sizeof(a));

	assert_ok(hb_mem_get_buf_info(addr_of(&b) + 3 * PAGE, &start, &size,
				      &flags));
	g_assert_cmphex(start, ==, addr_of(&b));
	g_assert_cmpuint(size, ==, 3 * PAGE + 5);
	g_assert_cmphex(flags, ==, b.flags);

	/* free pool memory: the pool's own buffer */
	assert_ok(hb_mem_get_buf_info(addr_of(&com) + MIB - 1, &start, &size,
				      &flags));
	g_assert_cmphex(start, ==, addr_of(&com));
	g_assert_cmpuint(size, ==, MIB);
	assert_ok(hb_mem_pool_free_buf(addr_of(&b)));
	assert_ok(hb_mem_get_com_buf_with_vaddr(addr_of(&b), &got));
	g_assert_cmpmem(&got, sizeof(got), &com, sizeof(com));

	assert_ok(hb_mem_pool_free_buf(addr_of(&a)));
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/* Enough pools to grow the lookup tables, freed in a shuffled order. */
static void test_pool_many_pools_are_told_apart(TestModule *m,
						gconstpointer d)
{
	enum { N = 40 };
	hb_mem_pool_t pool[N];
	hb_mem_common_buf_t buf[N];
	int order[N], i, j, tmp;

	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_create((uint64_t)(i + 1) * PAGE, 0,
					     &pool[i]));
		order[i] = i;
	}
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_alloc_buf(pool[i].fd,
						(uint64_t)(i + 1) * PAGE,
						&buf[i]));
		g_assert_cmpint(buf[i].fd, ==, pool[i].fd);
	}
	for (i = N - 1; i > 0; i--) {
		j = g_test_rand_int_range(0, i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < N; i++) {
		int k = order[i];

		g_assert_cmpint(pool_info(pool[k].fd).avail_page_cnt, ==, 0);
		assert_ok(hb_mem_pool_free_buf(addr_of(&buf[k])));
		g_assert_cmpint(pool_info(pool[k].fd).avail_page_cnt, ==,
				k + 1);
		assert_ok(hb_mem_pool_destroy(pool[k].fd));
	}
}

/*
 * One-page blocks of two pools freed in turn: every free goes to the other
 * pool than the one before, and then to a pool whose neighbour was just
 * destroyed; each lands in its own pool and the counts follow.
 */
static void test_pool_one_page_frees_alternate_between_pools(
	TestModule *m, gconstpointer d)
{
	enum { N = 40 };	/* more than a pool's run cache holds */
	hb_mem_common_buf_t a[N], b[N];
	hb_mem_pool_t pa, pb;
	int i;

	assert_ok(hb_mem_pool_create(N * PAGE, 0, &pa));
	assert_ok(hb_mem_pool_create(N * PAGE, 0, &pb));
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_alloc_buf(pa.fd, 64, &a[i]));
		assert_ok(hb_mem_pool_alloc_buf(pb.fd, PAGE, &b[i]));
	}
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_free_buf(addr_of(&a[i])));
		assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
		g_assert_cmpint(pool_info(pa.fd).cur_client_cnt, ==, N - 1 - i);
		g_assert_cmpint(pool_info(pb.fd).cur_client_cnt, ==, N - 1 - i);
	}
	/* the cached runs come back out, each once */
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_alloc_buf(pa.fd, 1, &a[i]));
		assert_ok(hb_mem_pool_alloc_buf(pb.fd, 1, &b[i]));
	}
	g_assert_cmpint(pool_info(pa.fd).avail_page_cnt, ==, 0);
	g_assert_cmpint(pool_info(pb.fd).avail_page_cnt, ==, 0);
	for (i = 0; i < N; i++)
		assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
	assert_pool_valid(pb.fd);
	/* the last free went to pb; it dies; pa's frees find pa */
	assert_ok(hb_mem_pool_destroy(pb.fd));
	assert_hb(hb_mem_pool_free_buf(addr_of(&b[0])),
		  HB_MEM_ERR_INVALID_VADDR);
	for (i = 0; i < N; i++) {
		assert_ok(hb_mem_pool_free_buf(addr_of(&a[i])));
		assert_hb(hb_mem_pool_free_buf(addr_of(&a[i])),
			  HB_MEM_ERR_INVALID_VADDR);
	}
	assert_pool_valid(pa.fd);
	g_assert_cmpint(pool_info(pa.fd).cur_client_cnt, ==, 0);
	g_assert_cmpint(pool_info(pa.fd).avail_page_cnt, ==, N);
	assert_ok(hb_mem_pool_destroy(pa.fd));
}

/* ---- threads ------------------------------------------------------------------ */

struct worker {
	int32_t fd;
	int index;
	guint32 seed;
};

/* Mark the first byte of every page and the last byte with the pattern. */
static void mark_pages(struct live *l, uint8_t pattern)
{
	uint64_t o;

	l->pattern = pattern;
	for (o = 0; o < l->buf.size; o += PAGE)
		l->buf.virt_addr[o] = pattern;
	l->buf.virt_addr[l->buf.size - 1] = pattern;
}

static void assert_pages_marked(const struct live *l)
{
	uint64_t o;

	for (o = 0; o < l->buf.size; o += PAGE)
		g_assert_cmpuint(l->buf.virt_addr[o], ==, l->pattern);
	g_assert_cmpuint(l->buf.virt_addr[l->buf.size - 1], ==, l->pattern);
}

static void *worker_run(void *arg)
{
	enum { SLOTS = 64, ROUNDS = 20000 };
	struct worker *w = arg;
	GRand *rand = g_rand_new_with_seed(w->seed);
	struct live live[SLOTS];
	int i, r;

	memset(live, 0, sizeof(live));
	for (r = 0; r < ROUNDS; r++) {
		int slot = g_rand_int_range(rand, 0, SLOTS);
		struct live *l = &live[slot];

		if (l->buf.virt_addr) {
			assert_pages_marked(l);
			assert_ok(hb_mem_pool_free_buf(addr_of(&l->buf)));
			l->buf.virt_addr = NULL;
		} else {
			uint64_t size = (uint64_t)g_rand_int_range(rand, 1,
								   3 * PAGE);
			int32_t ret = hb_mem_pool_alloc_buf(w->fd, size,
							    &l->buf);

			if (ret == 0) {
				/* one pattern per live allocation */
				mark_pages(l, (uint8_t)(w->index * SLOTS +
							slot));
			} else {
				assert_hb(ret, HB_MEM_ERR_INSUFFICIENT_MEM);
				l->buf.virt_addr = NULL;
			}
		}
	}
	for (i = 0; i < SLOTS; i++)
		if (live[i].buf.virt_addr) {
			assert_pages_marked(&live[i]);
			assert_ok(hb_mem_pool_free_buf(addr_of(&live[i].buf)));
		}
	g_rand_free(rand);
	return NULL;
}

static void test_pool_threads_alloc_and_free_then_account_back(
	TestModule *m, gconstpointer d)
{
	enum { THREADS = 4 };
	pthread_t th[THREADS];
	struct worker w[THREADS];
	hb_mem_pool_t pool, info;
	int i;

	/* 400 pages for up to 4 x 64 x 3 live pages: some requests fail */
	assert_ok(hb_mem_pool_create(400 * PAGE, 0, &pool));
	for (i = 0; i < THREADS; i++) {
		w[i].fd = pool.fd;
		w[i].index = i;
		w[i].seed = g_test_rand_int();
		g_assert_cmpint(pthread_create(&th[i], NULL, worker_run, &w[i]),
				==, 0);
	}
	for (i = 0; i < THREADS; i++)
		g_assert_cmpint(pthread_join(th[i], NULL), ==, 0);
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 400);
	g_assert_cmpint(info.cur_client_cnt, ==, 0);
	assert_pool_valid(pool.fd);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/*
 * Frees and allocations on one pool stay right while other pools are
 * created and destroyed (the lookup tables change and grow under them).
 */
struct churn {
	int32_t fd;
};

static void *churn_user(void *arg)
{
	enum { ROUNDS = 2000 };
	struct churn *c = arg;
	hb_mem_common_buf_t b[8];
	int i, r;

	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < 8; i++)
			assert_ok(hb_mem_pool_alloc_buf(c->fd, 64, &b[i]));
		for (i = 0; i < 8; i++)
			assert_ok(hb_mem_pool_free_buf(addr_of(&b[i])));
	}
	return NULL;
}

static void test_pool_lookups_hold_while_other_pools_come_and_go(
	TestModule *m, gconstpointer d)
{
	enum { USERS = 2, ROUNDS = 60, OTHERS = 24 };
	hb_mem_pool_t pool, other[OTHERS];
	hb_mem_common_buf_t ob;
	struct churn c;
	pthread_t th[USERS];
	int i, r;

	assert_ok(hb_mem_pool_create(64 * PAGE, 0, &pool));
	c.fd = pool.fd;
	for (i = 0; i < USERS; i++)
		g_assert_cmpint(pthread_create(&th[i], NULL, churn_user, &c),
				==, 0);
	for (r = 0; r < ROUNDS; r++) {
		int n = 1 + r % OTHERS;

		for (i = 0; i < n; i++)
			assert_ok(hb_mem_pool_create(PAGE, 0, &other[i]));
		for (i = 0; i < n; i++) {
			assert_ok(hb_mem_pool_alloc_buf(other[i].fd, 1, &ob));
			assert_ok(hb_mem_pool_free_buf(addr_of(&ob)));
		}
		for (i = n - 1; i >= 0; i--)
			assert_ok(hb_mem_pool_destroy(other[i].fd));
	}
	for (i = 0; i < USERS; i++)
		g_assert_cmpint(pthread_join(th[i], NULL), ==, 0);
	g_assert_cmpint(pool_info(pool.fd).cur_client_cnt, ==, 0);
	g_assert_cmpint(pool_info(pool.fd).avail_page_cnt, ==, 64);
	assert_pool_valid(pool.fd);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/*
 * The pool's lock is biased to the thread that created it (no atomic
 * instruction while no other thread uses the pool). Here a second thread
 * starts using the pool while the creator is busy allocating and freeing,
 * both in tight loops so that their calls overlap: a block is never handed
 * to both (each holds two at a time, stamped with its own mark and checked
 * before the free), and the accounting comes back exactly.
 */
struct hammer {
	int32_t fd;
	uint64_t mark;
	int rounds;		/* at least this many pairs of pairs */
	gint64 until;		/* and until this monotonic time (0: no) */
	gint go;
	gint failures;
};

static void hammer_pool(struct hammer *h)
{
	hb_mem_common_buf_t a, b;
	int i;

	for (i = 0; i < h->rounds ||
		    (h->until && (i % 256 || g_get_monotonic_time() < h->until));
	     i++) {
		uint64_t ma = h->mark | (uint64_t)i << 8, mb = ma | 1;

		if (hb_mem_pool_alloc_buf(h->fd, 64, &a) != 0)
			goto fail;
		memcpy(a.virt_addr, &ma, sizeof(ma));
		if (hb_mem_pool_alloc_buf(h->fd, 64 + (uint64_t)i % PAGE,
					  &b) != 0)
			goto fail;
		memcpy(b.virt_addr, &mb, sizeof(mb));
		if (memcmp(a.virt_addr, &ma, sizeof(ma)) ||
		    hb_mem_pool_free_buf(addr_of(&a)) != 0 ||
		    memcmp(b.virt_addr, &mb, sizeof(mb)) ||
		    hb_mem_pool_free_buf(addr_of(&b)) != 0)
			goto fail;
	}
	return;
fail:
	g_atomic_int_inc(&h->failures);
}

static void *late_user_run(void *arg)
{
	struct hammer *h = arg;

	while (!g_atomic_int_get(&h->go))
		g_usleep(50);
	hammer_pool(h);
	return NULL;
}

static void test_pool_creator_busy_while_another_thread_joins(
	TestModule *m, gconstpointer d)
{
	enum { ROUNDS = 3, EARLY = 1000, PAIRS = 1000 };
	hb_mem_pool_t pool, info;
	struct hammer me, other;
	pthread_t th;
	int r;

	for (r = 0; r < ROUNDS; r++) {
		assert_ok(hb_mem_pool_create(64 * PAGE, 0, &pool));
		me = (struct hammer){ .fd = pool.fd, .mark = 0xa0,
				      .rounds = EARLY };
		other = (struct hammer){ .fd = pool.fd, .mark = 0xb0,
					 .rounds = PAIRS };
		g_assert_cmpint(pthread_create(&th, NULL, late_user_run,
					       &other), ==, 0);
		/* the creator alone first: biased calls */
		hammer_pool(&me);
		/* both for 200 ms, so that their calls overlap */
		me.until = other.until = g_get_monotonic_time() + 200000;
		g_atomic_int_set(&other.go, 1);
		me.rounds = PAIRS;
		hammer_pool(&me);
		g_assert_cmpint(pthread_join(th, NULL), ==, 0);
		g_assert_cmpint(me.failures, ==, 0);
		g_assert_cmpint(other.failures, ==, 0);
		info = pool_info(pool.fd);
		g_assert_cmpint(info.avail_page_cnt, ==, 64);
		g_assert_cmpint(info.cur_client_cnt, ==, 0);
		assert_pool_valid(pool.fd);
		assert_ok(hb_mem_pool_destroy(pool.fd));
	}
}

/* The creator (the lock's biased owner) has exited: others just use it. */
static void *create_pool_run(void *arg)
{
	assert_ok(hb_mem_pool_create(64 * PAGE, 0, arg));
	return NULL;
}

static void test_pool_outlives_its_creating_thread(TestModule *m,
						   gconstpointer d)
{
	struct hammer h = { .rounds = 1000 };
	hb_mem_pool_t pool, info;
	pthread_t th;

	g_assert_cmpint(pthread_create(&th, NULL, create_pool_run, &pool), ==,
			0);
	g_assert_cmpint(pthread_join(th, NULL), ==, 0);
	h.fd = pool.fd;
	hammer_pool(&h);
	g_assert_cmpint(h.failures, ==, 0);
	info = pool_info(pool.fd);
	g_assert_cmpint(info.avail_page_cnt, ==, 64);
	g_assert_cmpint(info.cur_client_cnt, ==, 0);
	assert_pool_valid(pool.fd);
	assert_ok(hb_mem_pool_destroy(pool.fd));
}

/* ---- fork: the child lacks the threads that own the locks ---------------- */

enum fork_loop { LOOP_POOL, LOOP_REGISTRY, LOOP_MODULE };

struct fork_looper {
	enum fork_loop what;	/* pool calls, com buffers (hbmem_lock), or
				 * module open + close (module_lock) */
	hb_mem_pool_t pool;	/* made by the looping thread: it owns the bias */
	gint ready, stop, failures;
};

/* One round of @l's calls: 0, or the failing call's result. */
static int32_t fork_loop_round(struct fork_looper *l)
{
	hb_mem_common_buf_t b;
	int32_t ret;

	switch (l->what) {
	case LOOP_POOL:
		ret = hb_mem_pool_alloc_buf(l->pool.fd, 64, &b);
		return ret ? ret : hb_mem_pool_free_buf(addr_of(&b));
	case LOOP_REGISTRY:
		ret = hb_mem_alloc_com_buf(PAGE, 0, &b);
		return ret ? ret : hb_mem_free_buf(b.fd);
	default:
		ret = hb_mem_module_open();
		return ret ? ret : hb_mem_module_close();
	}
}

static void *fork_loop_run(void *arg)
{
	struct fork_looper *l = arg;

	if (l->what == LOOP_POOL &&
	    hb_mem_pool_create(16 * PAGE, 0, &l->pool) != 0)
		g_atomic_int_inc(&l->failures);
	g_atomic_int_set(&l->ready, 1);
	while (!g_atomic_int_get(&l->stop)) {
		if (fork_loop_round(l) != 0) {
			g_atomic_int_inc(&l->failures);
			break;
		}
	}
	return NULL;
}

/*
 * The child: only this thread exists. Destroy the inherited pool (busy if
 * its owner held a block at the fork), use the library (the registry's
 * lock, a pool of its own), then close the module, which destroys what is
 * left. Exit status: 0 when all went as it should.
 */
static void __attribute__((noreturn)) fork_child_run(int32_t inherited)
{
	hb_mem_common_buf_t b;
	hb_mem_pool_t own;
	int32_t ret;

	alarm(20);	/* the parent gives up sooner; never linger */
	ret = hb_mem_pool_destroy(inherited);
	if (ret != 0 && ret != HB_MEM_ERR_POOL_BUSY)
		_exit(2);
	if (hb_mem_alloc_com_buf(PAGE, 0, &b) != 0 || hb_mem_free_buf(b.fd))
		_exit(3);
	if (hb_mem_pool_create(4 * PAGE, 0, &own) != 0 ||
	    hb_mem_pool_alloc_buf(own.fd, 64, &b) != 0 ||
	    hb_mem_pool_free_buf(addr_of(&b)) != 0 ||
	    hb_mem_pool_destroy(own.fd) != 0)
		_exit(4);
	if (hb_mem_module_close() != 0)
		_exit(5);
	_exit(0);
}

/*
 * Threads of the parent are inside pool calls (owning the pool's bias),
 * registry calls and module opens and closes at most forks: the child must
 * still be able to use the library, destroy the inherited pool and close
 * the module, none of which may wait for a thread the child does not have.
 */
static void test_pool_fork_child_uses_the_library_its_threads_were_in(
	TestModule *m, gconstpointer d)
{
	const int forks = (int)test_scaled(30, 2);
	struct fork_looper l[] = {
		{ .what = LOOP_POOL },
		{ .what = LOOP_REGISTRY },
		{ .what = LOOP_MODULE },
	};
	struct fork_looper *pl = &l[0];
	pthread_t th[G_N_ELEMENTS(l)];
	int status, i, k;
	gint64 end;
	pid_t pid, r;

	for (k = 0; k < (int)G_N_ELEMENTS(l); k++) {
		g_assert_cmpint(pthread_create(&th[k], NULL, fork_loop_run,
					       &l[k]), ==, 0);
		while (!g_atomic_int_get(&l[k].ready))
			g_usleep(100);
	}
	for (i = 0; i < forks; i++) {
		g_usleep(1000);
		pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0)
			fork_child_run(pl->pool.fd);
		end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
		while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
			if (g_get_monotonic_time() > end) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				g_error("fork %d: the child hung", i);
			}
			g_usleep(1000);
		}
		g_assert_cmpint(r, ==, pid);
		g_assert_true(WIFEXITED(status));
		g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	}
	for (k = 0; k < (int)G_N_ELEMENTS(l); k++) {
		g_atomic_int_set(&l[k].stop, 1);
		g_assert_cmpint(pthread_join(th[k], NULL), ==, 0);
		g_assert_cmpint(l[k].failures, ==, 0);
	}
	g_assert_cmpint(pool_info(pl->pool.fd).cur_client_cnt, ==, 0);
	assert_pool_valid(pl->pool.fd);
	assert_ok(hb_mem_pool_destroy(pl->pool.fd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pool/calls-before-module-open-are-module-not-found",
			test_pool_calls_before_module_open_are_module_not_found);
	add_module_test("/pool/create-rejects-zero-size-and-null",
			test_pool_create_rejects_zero_size_and_null);
	add_module_test("/pool/create-too-big-is-insufficient-mem",
			test_pool_create_too_big_is_insufficient_mem);
	add_module_test("/pool/alloc-rejects-zero-size-and-null",
			test_pool_alloc_rejects_zero_size_and_null);
	add_module_test("/pool/unknown-fd-is-pool-not-found",
			test_pool_unknown_fd_is_pool_not_found);
	add_module_test("/pool/free-of-non-allocation-is-invalid-vaddr",
			test_pool_free_of_non_allocation_is_invalid_vaddr);
	add_module_test("/pool/request-larger-than-pool-is-insufficient-mem",
			test_pool_request_larger_than_pool_is_insufficient_mem);
	add_module_test("/pool/create-fills-every-field",
			test_pool_create_fills_every_field);
	add_module_test("/pool/size-rounds-up-to-whole-pages",
			test_pool_size_rounds_up_to_whole_pages);
	add_module_test("/pool/alloc-descriptor-points-into-the-pool",
			test_pool_alloc_descriptor_points_into_the_pool);
	add_module_test("/pool/counts-pages-and-clients-honestly",
			test_pool_counts_pages_and_clients_honestly);
	add_module_test("/pool/destroy-while-allocated-is-pool-busy",
			test_pool_destroy_while_allocated_is_pool_busy);
	add_module_test("/pool/free-buf-of-busy-pool-fd-is-pool-busy",
			test_pool_free_buf_of_busy_pool_fd_is_pool_busy);
	add_module_test("/pool/destroyed-pool-is-gone",
			test_pool_destroyed_pool_is_gone);
	g_test_add_func("/pool/module-close-destroys-busy-pools",
			test_module_close_destroys_busy_pools);
	add_module_test("/pool/exhaustion-is-insufficient-mem-then-recovers",
			test_pool_exhaustion_is_insufficient_mem_then_recovers);
	add_module_test("/pool/freed-single-pages-merge-for-large-requests",
			test_pool_freed_single_pages_merge_for_large_requests);
	add_module_test("/pool/live-allocations-never-overlap",
			test_pool_live_allocations_never_overlap);
	add_module_test("/pool/random-ops-keep-allocator-valid-and-coalesce",
			test_pool_random_ops_keep_allocator_valid_and_coalesce);
	g_test_add_func("/pool/tlsf-random-ops-keep-invariants",
			test_tlsf_random_ops_keep_invariants);
	g_test_add_func("/pool/tlsf-check-detects-corruption",
			test_tlsf_check_detects_corruption);
	add_module_test("/pool/lookup-by-address-finds-the-sub-allocation",
			test_pool_lookup_by_address_finds_the_sub_allocation);
	add_module_test("/pool/many-pools-are-told-apart",
			test_pool_many_pools_are_told_apart);
	add_module_test("/pool/one-page-frees-alternate-between-pools",
			test_pool_one_page_frees_alternate_between_pools);
	add_module_test("/pool/threads-alloc-and-free-then-account-back",
			test_pool_threads_alloc_and_free_then_account_back);
	add_module_test("/pool/lookups-hold-while-other-pools-come-and-go",
			test_pool_lookups_hold_while_other_pools_come_and_go);
	add_module_test("/pool/creator-busy-while-another-thread-joins",
			test_pool_creator_busy_while_another_thread_joins);
	add_module_test("/pool/outlives-its-creating-thread",
			test_pool_outlives_its_creating_thread);
	add_module_test("/pool/fork-child-uses-the-library-its-threads-were-in",
			test_pool_fork_child_uses_the_library_its_threads_were_in);
	return g_test_run();
}
