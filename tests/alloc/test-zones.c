// SPDX-License-Identifier: MIT
/*
 * Zones (hb_mem_zones_*): configuration and request checks, per-CPU
 * system zones released whole, capability matching, runtime and buffer
 * zones under stress, shared-data commit.
 */
#include "alloc-test.h"

#define K 1024u

static hb_mem_zones_config_t config(void)
{
	hb_mem_zones_config_t c = {
		.ncpus = 4, .sys_first = 8 * K, .sys_other = 2 * K,
		.runtime = 64 * K, .buffer = 256 * K, .buffer_log2gran = 12,
		.caps = {
			[HB_MEM_ZONE_SYS] = HB_MEM_CAPS_RAM | HB_MEM_CAPS_CACHE,
			[HB_MEM_ZONE_RUNTIME] = HB_MEM_CAPS_RAM |
				HB_MEM_CAPS_CACHE | HB_MEM_CAPS_SHARED,
			[HB_MEM_ZONE_BUFFER] = HB_MEM_CAPS_RAM |
				HB_MEM_CAPS_DMA | HB_MEM_CAPS_CACHE,
		},
		.flags = HB_MEM_USAGE_CACHED,
	};
	return c;
}

static hb_mem_zones_t *zones_new(void)
{
	hb_mem_zones_config_t c = config();
	hb_mem_zones_t *z = NULL;

	assert_ok(hb_mem_zones_create(&c, &z));
	assert_ok(hb_mem_zones_check(z));
	return z;
}

static hb_mem_zone_info_t info_of(hb_mem_zones_t *z, enum hb_mem_zone zone,
				  uint32_t cpu)
{
	hb_mem_zone_info_t i;

	assert_ok(hb_mem_zone_info(z, zone, cpu, &i));
	return i;
}

static void test_zones_create_rejects_bad_config(int *f, gconstpointer d)
{
	hb_mem_zones_config_t c;
	hb_mem_zones_t *z = NULL;

	assert_hb(hb_mem_zones_create(NULL, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	assert_hb(hb_mem_zones_create(&c, NULL), HB_MEM_ERR_INVALID_PARAMS);
	c.ncpus = 0;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.ncpus = 65;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.sys_other = 0;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.runtime = 16;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.buffer = 100;		/* not one granule */
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.caps[0] = 1u << 20;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	c = config();
	c.buffer = UINT64_MAX;
	assert_hb(hb_mem_zones_create(&c, &z), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_zones_destroy(NULL), HB_MEM_ERR_INVALID_PARAMS);
	g_assert_null(z);
}

static void test_zones_alloc_rejects_bad_requests(int *f, gconstpointer d)
{
	hb_mem_zones_t *z = zones_new();
	int on_stack;

	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_COUNT, 0, 64, 0),
			  EINVAL);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, 0, 0, 0),
			  EINVAL);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, 1u << 20,
					    64, 0), EINVAL);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, 0, 64, 24),
			  EINVAL);
	assert_null_errno(hb_mem_zone_alloc(NULL, HB_MEM_ZONE_RUNTIME, 0, 64,
					    0), EINVAL);
	assert_null_errno(hb_mem_zone_sys_alloc(z, 4, 64, 0), EINVAL);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, 0,
					    SIZE_MAX, 0), ENOMEM);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_BUFFER, 0,
					    SIZE_MAX, 0), ENOMEM);
	assert_hb(hb_mem_zone_free(z, &on_stack), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_zone_sys_release(z, 4), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_zone_shared_commit(z, &on_stack, 4),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_zones_destroy(z));
}

static void test_zones_capabilities_must_all_match(int *f, gconstpointer d)
{
	hb_mem_zones_t *z = zones_new();
	void *p;

	/* DMA only in the buffer zone, SHARED only in the runtime zone */
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME,
					    HB_MEM_CAPS_DMA, 64, 0), ENOTSUP);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_BUFFER,
					    HB_MEM_CAPS_SHARED |
					    HB_MEM_CAPS_DMA, 64, 0), ENOTSUP);
	assert_null_errno(hb_mem_zone_alloc(z, HB_MEM_ZONE_SYS,
					    HB_MEM_CAPS_USER0, 64, 0), ENOTSUP);
	p = hb_mem_zone_alloc(z, HB_MEM_ZONE_BUFFER,
			      HB_MEM_CAPS_DMA | HB_MEM_CAPS_RAM, 100000, 0);
	g_assert_nonnull(p);
	g_assert_cmpuint((uintptr_t)p % 4096, ==, 0);
	assert_ok(hb_mem_zone_free(z, p));
	p = hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, HB_MEM_CAPS_SHARED, 64, 0);
	g_assert_nonnull(p);
	assert_ok(hb_mem_zone_free(z, p));
	assert_ok(hb_mem_zones_destroy(z));
}

static void test_zones_system_zone_bumps_per_cpu_and_releases_whole(
	int *f, gconstpointer d)
{
	hb_mem_zones_t *z = zones_new();
	uint8_t *a, *b, *c1;
	hb_mem_zone_info_t i0, i1;
	int n = 0;

	i0 = info_of(z, HB_MEM_ZONE_SYS, 0);
	i1 = info_of(z, HB_MEM_ZONE_SYS, 1);
	g_assert_cmpuint(i0.size, ==, 8 * K);	/* the first is larger */
	g_assert_cmpuint(i1.size, ==, 2 * K);
	a = hb_mem_zone_sys_alloc(z, 0, 100, 0);
	b = hb_mem_zone_sys_alloc(z, 0, 10, 0);
	g_assert_true(b == a + 128);		/* bump, cache-line aligned */
	c1 = hb_mem_zone_sys_alloc(z, 1, 1000, 256);
	g_assert_cmpuint((uintptr_t)c1 % 256, ==, 0);
	g_assert_true(c1 >= a + 8 * K);
	/* never freed one by one */
	assert_hb(hb_mem_zone_free(z, a), HB_MEM_ERR_NOT_ALLOW);
	/* CPU 1's zone fills up; CPU 0's is unaffected */
	while (hb_mem_zone_sys_alloc(z, 1, 256, 0))
		n++;
	g_assert_cmpint(errno, ==, ENOMEM);
	g_assert_cmpint(n, ==, 4);
	g_assert_nonnull(hb_mem_zone_sys_alloc(z, 0, 4096, 0));
	/* the owner goes away: the whole zone comes back at once */
	assert_ok(hb_mem_zone_sys_release(z, 1));
	i1 = info_of(z, HB_MEM_ZONE_SYS, 1);
	g_assert_cmpuint(i1.used, ==, 0);
	g_assert_cmpuint(i1.allocs, ==, 0);
	g_assert_true(hb_mem_zone_sys_alloc(z, 1, 2048, 0) == c1);
	g_assert_cmpuint(info_of(z, HB_MEM_ZONE_SYS, 0).allocs, ==, 3);
	/* by current CPU: lands in one of the system zones */
	assert_ok(hb_mem_zone_sys_release(z, 1));
	a = hb_mem_zone_alloc(z, HB_MEM_ZONE_SYS, HB_MEM_CAPS_RAM, 16, 0);
	g_assert_nonnull(a);
	assert_hb(hb_mem_zone_free(z, a), HB_MEM_ERR_NOT_ALLOW);
	assert_ok(hb_mem_zones_destroy(z));
}

static void test_zones_free_rejects_foreign_and_double_free(int *f,
							    gconstpointer d)
{
	hb_mem_zones_t *z = zones_new();
	uint8_t *r = hb_mem_zone_alloc(z, HB_MEM_ZONE_RUNTIME, 0, 100, 0);
	uint8_t *b = hb_mem_zone_alloc(z, HB_MEM_ZONE_BUFFER, 0, 100, 0);

	assert_hb(hb_mem_zone_free(z, r + 16), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_zone_free(z, b + 64), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_zone_free(z, r));
	assert_ok(hb_mem_zone_free(z, b));
	assert_hb(hb_mem_zone_free(z, r), HB_MEM_ERR_INVALID_VADDR);
	assert_hb(hb_mem_zone_free(z, b), HB_MEM_ERR_INVALID_VADDR);
	assert_ok(hb_mem_zones_check(z));
	assert_ok(hb_mem_zones_destroy(z));
}

struct shared {
	hb_mem_zones_t *z;
	uint32_t *data;
	gint ready;
};

static gpointer reader_main(gpointer p)
{
	struct shared *s = p;
	uint32_t i;

	while (!g_atomic_int_get(&s->ready))
		g_usleep(100);
	assert_ok(hb_mem_zone_shared_acquire(s->z, s->data, 1024 * 4));
	for (i = 0; i < 1024; i++)
		g_assert_cmpuint(s->data[i], ==, i * 3);
	return NULL;
}

/* A buffer-zone granule above the page size: whole zone, aligned runs. */
static void test_zones_buffer_granule_above_page_size(int *f,
						      gconstpointer d)
{
	hb_mem_zones_config_t c = config();
	hb_mem_zone_info_t i;
	hb_mem_zones_t *z;
	uint32_t lg;
	uint8_t *p;

	for (lg = 16; lg <= 20; lg += 2) {
		z = NULL;
		c.buffer_log2gran = lg;
		c.buffer = 2ull << lg;
		assert_ok(hb_mem_zones_create(&c, &z));
		i = info_of(z, HB_MEM_ZONE_BUFFER, 0);
		g_assert_cmpuint(i.size, ==, c.buffer);
		p = hb_mem_zone_alloc(z, HB_MEM_ZONE_BUFFER, 0, c.buffer, 0);
		g_assert_nonnull(p);
		g_assert_cmpuint((uintptr_t)p % (1u << lg), ==, 0);
		p[c.buffer - 1] = 1;
		assert_ok(hb_mem_zone_free(z, p));
		assert_ok(hb_mem_zones_check(z));
		assert_ok(hb_mem_zones_destroy(z));
	}
}

static void test_zones_shared_data_is_committed_and_acquired(int *f,
							     gconstpointer d)
{
	struct shared s = { zones_new(), NULL, 0 };
	hb_mem_common_buf_t buf;
	GThread *t;
	uint32_t i;

	s.data = hb_mem_zone_alloc(s.z, HB_MEM_ZONE_RUNTIME,
				   HB_MEM_CAPS_SHARED, 1024 * 4, 0);
	g_assert_nonnull(s.data);
	t = g_thread_new("reader", reader_main, &s);
	for (i = 0; i < 1024; i++)
		s.data[i] = i * 3;
	assert_ok(hb_mem_zone_shared_commit(s.z, s.data, 1024 * 4));
	g_atomic_int_set(&s.ready, 1);
	g_thread_join(t);
	/* other processes reach the zones through the buffer's share id */
	assert_ok(hb_mem_zones_get_buf(s.z, &buf));
	g_assert_cmpint(buf.fd, >=, 0);
	g_assert_true((uint8_t *)s.data > buf.virt_addr &&
		      (uint8_t *)s.data < buf.virt_addr + buf.size);
	assert_hb(hb_mem_zone_shared_commit(s.z, buf.virt_addr, buf.size + 1),
		  HB_MEM_ERR_INVALID_PARAMS);
	assert_ok(hb_mem_zone_free(s.z, s.data));
	assert_ok(hb_mem_zones_destroy(s.z));
}

/* ---- stress over the runtime and buffer zones ------------------------- */

struct zctx {
	hb_mem_zones_t *z;
	enum hb_mem_zone zone;
};

static void *ops_alloc(void *ctx, size_t size)
{
	struct zctx *c = ctx;

	return hb_mem_zone_alloc(c->z, c->zone, 0, size, 0);
}

static int32_t ops_free(void *ctx, void *p)
{
	return hb_mem_zone_free(((struct zctx *)ctx)->z, p);
}

static int32_t ops_check(void *ctx)
{
	return hb_mem_zones_check(((struct zctx *)ctx)->z);
}

static uint64_t ops_largest(void *ctx)
{
	struct zctx *c = ctx;

	return info_of(c->z, c->zone, 0).free;
}

static void stress_zone(enum hb_mem_zone zone, int target)
{
	struct zctx c = { zones_new(), zone };
	struct stress_ops ops = {
		.ctx = &c, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 64,
		.min_size = 1,
		.max_size = zone == HB_MEM_ZONE_BUFFER ? 16384 : 1024,
	};
	uint64_t cap = zone == HB_MEM_ZONE_BUFFER ? 256 * K : 64 * K;
	uint64_t before = ops_largest(&c);
	struct stress_result res;

	stress_fill(&ops, cap, target, 2048, 42, &res);
	if (target == 100)
		g_assert_cmpuint(res.allocs_ok, <, res.allocs_tried);
	g_assert_cmpuint(ops_largest(&c), ==, before);
	assert_ok(hb_mem_zones_destroy(c.z));
}

static void test_zones_stress_half_full_validated_every_op(int *f,
							   gconstpointer d)
{
	stress_zone(HB_MEM_ZONE_RUNTIME, 50);
	stress_zone(HB_MEM_ZONE_BUFFER, 50);
}

static void test_zones_stress_full_validated_every_op(int *f, gconstpointer d)
{
	stress_zone(HB_MEM_ZONE_RUNTIME, 100);
	stress_zone(HB_MEM_ZONE_BUFFER, 100);
}

static void test_zones_four_threads_keep_free_space(int *f, gconstpointer d)
{
	struct zctx rt = { zones_new(), HB_MEM_ZONE_RUNTIME };
	struct zctx bf = { rt.z, HB_MEM_ZONE_BUFFER };
	struct stress_ops ops = {
		.ctx = &rt, .alloc = ops_alloc, .free = ops_free,
		.check = ops_check, .largest = ops_largest, .align = 64,
		.min_size = 1, .max_size = 256,
	};

	stress_threads(&ops, 4, 20000);
	ops.ctx = &bf;
	ops.max_size = 8192;
	stress_threads(&ops, 4, 20000);
	assert_ok(hb_mem_zones_destroy(rt.z));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/zones/create/rejects-bad-config",
		 test_zones_create_rejects_bad_config);
	add_test("/zones/alloc/rejects-bad-requests",
		 test_zones_alloc_rejects_bad_requests);
	add_test("/zones/caps/must-all-match",
		 test_zones_capabilities_must_all_match);
	add_test("/zones/sys/bumps-per-cpu-and-releases-whole",
		 test_zones_system_zone_bumps_per_cpu_and_releases_whole);
	add_test("/zones/free/rejects-foreign-and-double-free",
		 test_zones_free_rejects_foreign_and_double_free);
	add_test("/zones/buffer/granule-above-page-size",
		 test_zones_buffer_granule_above_page_size);
	add_test("/zones/shared/committed-and-acquired",
		 test_zones_shared_data_is_committed_and_acquired);
	add_test("/zones/stress/half-full-validated-every-op",
		 test_zones_stress_half_full_validated_every_op);
	add_test("/zones/stress/full-validated-every-op",
		 test_zones_stress_full_validated_every_op);
	add_test("/zones/threads/four-threads-keep-free-space",
		 test_zones_four_threads_keep_free_space);
	return g_test_run();
}
