// SPDX-License-Identifier: MIT
#include "alloc-test.h"

void alloc_test_module_setup(int *f, gconstpointer data)
{
	(void)f;
	(void)data;
	assert_ok(hb_mem_module_open());
}

void alloc_test_module_teardown(int *f, gconstpointer data)
{
	(void)f;
	(void)data;
	assert_ok(hb_mem_module_close());
}

struct live {
	uint8_t *p;
	size_t size;
	uint8_t tag;
};

static void fill(struct live *l)
{
	memset(l->p, l->tag, l->size);
}

static void verify(const struct live *l)
{
	size_t i;

	for (i = 0; i < l->size; i++)
		if (l->p[i] != l->tag)
			g_error("block %p (%zu bytes): byte %zu is 0x%02x, "
				"expected 0x%02x: blocks overlap", l->p,
				l->size, i, l->p[i], l->tag);
}

static void check_block(const struct stress_ops *ops, const uint8_t *p,
			size_t size)
{
	if ((uintptr_t)p % ops->align)
		g_error("%p is not %zu-byte aligned", p, ops->align);
	if (ops->lo && (p < ops->lo || p + size > ops->hi))
		g_error("block %p+%zu outside the region [%p, %p)", p, size,
			ops->lo, ops->hi);
}

void stress_fill(const struct stress_ops *ops, uint64_t capacity,
		 int target_pct, int nops, uint32_t seed,
		 struct stress_result *res)
{
	GRand *rng = g_rand_new_with_seed(seed);
	GArray *live = g_array_new(FALSE, FALSE, sizeof(struct live));
	uint64_t in_use = 0, fill_sum = 0;
	uint8_t tag = 1;
	int i;

	memset(res, 0, sizeof(*res));
	for (i = 0; i < nops; i++) {
		bool below = in_use * 100 < capacity * (uint64_t)target_pct;
		bool do_alloc = live->len == 0 ||
				(below ? g_rand_int_range(rng, 0, 4) != 0
				       : g_rand_int_range(rng, 0, 4) == 0);

		if (do_alloc) {
			struct live l;

			l.size = (size_t)g_rand_int_range(rng,
					(gint32)ops->min_size,
					(gint32)ops->max_size + 1);
			l.p = ops->alloc(ops->ctx, l.size);
			res->allocs_tried++;
			if (l.p) {
				check_block(ops, l.p, l.size);
				l.tag = tag++;
				if (!tag)
					tag = 1;
				fill(&l);
				g_array_append_val(live, l);
				in_use += l.size;
				res->allocs_ok++;
			} else if (errno != ENOMEM && errno != EAGAIN) {
				g_error("allocation of %zu failed with errno "
					"%d", l.size, errno);
			}
		} else {
			guint k = (guint)g_rand_int_range(rng, 0,
							  (gint32)live->len);
			struct live l = g_array_index(live, struct live, k);

			verify(&l);
			assert_ok(ops->free(ops->ctx, l.p));
			in_use -= l.size;
			g_array_remove_index_fast(live, k);
			res->frees++;
		}
		assert_ok(ops->check(ops->ctx));
		fill_sum += in_use * 100 / capacity;
	}
	res->avg_fill = (double)fill_sum / nops;
	while (live->len) {
		struct live l = g_array_index(live, struct live, 0);

		verify(&l);
		assert_ok(ops->free(ops->ctx, l.p));
		g_array_remove_index_fast(live, 0);
	}
	assert_ok(ops->check(ops->ctx));
	g_test_message("target %d%%: %llu/%llu allocations succeeded, "
		       "average fill %.1f%%", target_pct,
		       (unsigned long long)res->allocs_ok,
		       (unsigned long long)res->allocs_tried, res->avg_fill);
	g_array_free(live, TRUE);
	g_rand_free(rng);
}

struct thread_arg {
	const struct stress_ops *ops;
	int iters;
	uint32_t seed;
	uint64_t failures;
};

static gpointer thread_main(gpointer data)
{
	struct thread_arg *a = data;
	const struct stress_ops *ops = a->ops;
	GRand *rng = g_rand_new_with_seed(a->seed);
	struct live slot[4] = { { 0 } };
	int i, k;

	for (i = 0; i < a->iters; i++) {
		k = g_rand_int_range(rng, 0, 4);
		if (slot[k].p) {
			verify(&slot[k]);
			assert_ok(ops->free(ops->ctx, slot[k].p));
			slot[k].p = NULL;
			continue;
		}
		slot[k].size = (size_t)g_rand_int_range(rng,
				(gint32)ops->min_size,
				(gint32)ops->max_size + 1);
		slot[k].p = ops->alloc(ops->ctx, slot[k].size);
		if (!slot[k].p) {
			a->failures++;
			continue;
		}
		check_block(ops, slot[k].p, slot[k].size);
		slot[k].tag = (uint8_t)(a->seed * 16 + (uint32_t)k + 1);
		fill(&slot[k]);
	}
	for (k = 0; k < 4; k++)
		if (slot[k].p) {
			verify(&slot[k]);
			assert_ok(ops->free(ops->ctx, slot[k].p));
		}
	g_rand_free(rng);
	return NULL;
}

void stress_threads(const struct stress_ops *ops, int nthreads, int iters)
{
	struct thread_arg args[16];
	GThread *t[16];
	uint64_t before = ops->largest(ops->ctx);
	int i;

	g_assert_cmpint(nthreads, <=, 16);
	for (i = 0; i < nthreads; i++) {
		args[i] = (struct thread_arg){ ops, iters, (uint32_t)i + 1, 0 };
		t[i] = g_thread_new("stress", thread_main, &args[i]);
	}
	for (i = 0; i < nthreads; i++)
		g_thread_join(t[i]);
	assert_ok(ops->check(ops->ctx));
	g_assert_cmpuint(ops->largest(ops->ctx), ==, before);
}
