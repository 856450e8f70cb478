// SPDX-License-Identifier: MIT
/*
 * Heaps by attribute: regions registered at run time, each with an
 * attribute value; a request names an attribute and gets memory from a
 * region carrying exactly that attribute, or else from the regions of
 * the attribute's fallback chain, in order. A request is never split
 * across regions.
 *
 * Among the regions of one attribute the policy decides the order:
 * registration order (first fit across regions), most free bytes first,
 * or least free bytes that still fit. Free finds the owning region by a
 * binary search over the regions sorted by address.
 *
 * Each region runs a heap-instance core (mm.c) with its own lock; the
 * region table takes a read-write lock, written only when a region is
 * added, so allocations in different regions never contend.
 *
 * Capacity regions: a region may also be pure accounting, a capacity
 * with no address range (_hbmem_mheap_add_capacity). That is what the
 * vendor heaps of heap.c are: ion_cma, carveout, cma_reserved, sram and
 * uncache become capacity regions whose attribute is the heap, their
 * fallback orders become chains, and _hbmem_mheap_reserve() replaces
 * _hbmem_heap_reserve(). The two mechanisms are one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#define CHAIN_MAX 8

struct mh_region {
	struct hb_mem_mm heap;		/* unused for a capacity region */
	int id;
	uint32_t attr;
	bool capacity_only;
	uint64_t capacity, charged, charges;	/* capacity regions */
	uint64_t fallback_allocs;
	char name[32];
};

struct hb_mem_mheap {
	pthread_rwlock_t lock;
	enum hb_mem_mheap_policy policy;
	int nregions;
	struct mh_region *regions[HB_MEM_MHEAP_MAX_REGIONS];	/* by id */
	struct mh_region *by_addr[HB_MEM_MHEAP_MAX_REGIONS];	/* sorted */
	int naddr;
	int nattr[HB_MEM_MHEAP_ATTR_MAX];
	uint8_t attr_regions[HB_MEM_MHEAP_ATTR_MAX][HB_MEM_MHEAP_MAX_REGIONS];
	int chain_len[HB_MEM_MHEAP_ATTR_MAX];
	uint32_t chain[HB_MEM_MHEAP_ATTR_MAX][CHAIN_MAX];
};

static uint64_t region_free(const struct mh_region *r)
{
	if (r->capacity_only)
		return r->capacity - __atomic_load_n(&r->charged,
						     __ATOMIC_RELAXED);
	return __atomic_load_n(&r->heap.free_bytes, __ATOMIC_RELAXED);
}

/*
 * The regions of @attr in the order the policy tries them, into @out;
 * returns how many. Free-space figures are a snapshot: the allocation
 * itself decides. Read lock held.
 */
static int candidates(const struct hb_mem_mheap *mh, uint32_t attr,
		      uint64_t size, struct mh_region **out)
{
	uint64_t key[HB_MEM_MHEAP_MAX_REGIONS];
	int n = 0, i, j;

	for (i = 0; i < mh->nattr[attr]; i++) {
		struct mh_region *r = mh->regions[mh->attr_regions[attr][i]];
		uint64_t k = region_free(r);

		if (mh->policy == HB_MEM_MHEAP_BEST_FIT && k < size)
			continue;
		if (mh->policy == HB_MEM_MHEAP_MOST_FREE)
			k = UINT64_MAX - k;
		else if (mh->policy == HB_MEM_MHEAP_FIRST)
			k = (uint64_t)i;
		/* insertion sort: a handful of regions at most */
		for (j = n; j > 0 && key[j - 1] > k; j--) {
			key[j] = key[j - 1];
			out[j] = out[j - 1];
		}
		key[j] = k;
		out[j] = r;
		n++;
	}
	return n;
}

static void *mheap_alloc(struct hb_mem_mheap *mh, uint32_t attr,
			 size_t align, size_t size, const char *file, int line)
{
	struct mh_region *cand[HB_MEM_MHEAP_MAX_REGIONS];
	bool any = false;
	uint32_t a;
	void *p;
	int step, i, n;

	if (!mh || size == 0 || attr >= HB_MEM_MHEAP_ATTR_MAX ||
	    (align && !_hbmem_is_pow2(align)))
		return _hbmem_null_errno(-EINVAL);
	pthread_rwlock_rdlock(&mh->lock);
	for (step = -1; step < mh->chain_len[attr]; step++) {
		a = step < 0 ? attr : mh->chain[attr][step];
		n = candidates(mh, a, size, cand);
		for (i = 0; i < n; i++) {
			if (cand[i]->capacity_only)
				continue;
			any = true;
			p = _hbmem_mm_alloc(&cand[i]->heap, align, size, file,
					    line);
			if (!p)
				continue;
			if (step >= 0)
				__atomic_add_fetch(&cand[i]->fallback_allocs, 1,
						   __ATOMIC_RELAXED);
			pthread_rwlock_unlock(&mh->lock);
			return p;
		}
		/* a region too full for best-fit still counts as existing */
		any = any || mh->nattr[a] > 0;
	}
	pthread_rwlock_unlock(&mh->lock);
	return _hbmem_null_errno(any ? -ENOMEM : -ENOENT);
}

/* The address-range region containing @p, or NULL. Lock held. */
static struct mh_region *region_by_addr(const struct hb_mem_mheap *mh,
					const void *p)
{
	int lo = 0, hi = mh->naddr - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		struct mh_region *r = mh->by_addr[mid];

		if ((const uint8_t *)p < r->heap.region.base)
			hi = mid - 1;
		else if (_hbmem_region_has(&r->heap.region, p))
			return r;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int region_add(struct hb_mem_mheap *mh, struct mh_region *r)
{
	int i;

	if (mh->nregions == HB_MEM_MHEAP_MAX_REGIONS)
		return -ENOMEM;
	if (!r->capacity_only) {
		const struct hbmem_region *nr = &r->heap.region;

		for (i = 0; i < mh->naddr; i++) {
			const struct hbmem_region *o = &mh->by_addr[i]->heap.region;

			if (nr->base < o->base + o->size &&
			    o->base < nr->base + nr->size)
				return -EINVAL;
		}
		for (i = mh->naddr; i > 0 &&
		     mh->by_addr[i - 1]->heap.region.base > nr->base; i--)
			mh->by_addr[i] = mh->by_addr[i - 1];
		mh->by_addr[i] = r;
		mh->naddr++;
	}
	r->id = mh->nregions;
	mh->regions[mh->nregions++] = r;
	mh->attr_regions[r->attr][mh->nattr[r->attr]++] = (uint8_t)r->id;
	return 0;
}

static void region_destroy(struct mh_region *r)
{
	if (!r->capacity_only) {
		_hbmem_mm_fini(&r->heap);
		_hbmem_region_free(&r->heap.region);
	}
	free(r);
}

/* ---- capacity regions: the vendor-heap form --------------------------- */

int _hbmem_mheap_add_capacity(struct hb_mem_mheap *mh, const char *name,
			      uint32_t attr, uint64_t capacity, int *id)
{
	struct mh_region *r;
	int ret;

	if (attr >= HB_MEM_MHEAP_ATTR_MAX)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->attr = attr;
	r->capacity_only = true;
	r->capacity = capacity;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	pthread_rwlock_wrlock(&mh->lock);
	ret = region_add(mh, r);
	pthread_rwlock_unlock(&mh->lock);
	if (ret < 0) {
		free(r);
		return ret;
	}
	if (id)
		*id = r->id;
	return 0;
}

int _hbmem_mheap_reserve_try(struct hb_mem_mheap *mh, uint32_t attr,
			     uint64_t len, int (*try_fn)(int id, void *ctx),
			     void *ctx, int *id)
{
	struct mh_region *cand[HB_MEM_MHEAP_MAX_REGIONS];
	int step, i, n, ret = -ENOENT;
	uint32_t a;

	if (attr >= HB_MEM_MHEAP_ATTR_MAX)
		return -EINVAL;
	/* the write lock makes check-and-charge atomic across regions */
	pthread_rwlock_wrlock(&mh->lock);
	for (step = -1; step < mh->chain_len[attr]; step++) {
		a = step < 0 ? attr : mh->chain[attr][step];
		n = candidates(mh, a, len, cand);
		for (i = 0; i < n; i++) {
			struct mh_region *r = cand[i];
			int tried;

			if (!r->capacity_only)
				continue;
			ret = -ENOMEM;
			if (r->capacity - r->charged < len ||
			    r->charged > r->capacity)
				continue;
			/* what the capacity stands for may be full too */
			tried = try_fn ? try_fn(r->id, ctx) : 0;
			if (tried == -ENOMEM)
				continue;
			if (tried < 0) {
				ret = tried;
				goto out;
			}
			r->charged += len;
			r->charges++;
			if (step >= 0)
				r->fallback_allocs++;
			*id = r->id;
			ret = 0;
			goto out;
		}
	}
out:
	pthread_rwlock_unlock(&mh->lock);
	return ret;
}

int _hbmem_mheap_reserve(struct hb_mem_mheap *mh, uint32_t attr, uint64_t len,
			 int *id)
{
	return _hbmem_mheap_reserve_try(mh, attr, len, NULL, NULL, id);
}

void _hbmem_mheap_unreserve(struct hb_mem_mheap *mh, int id, uint64_t len)
{
	pthread_rwlock_wrlock(&mh->lock);
	if (id >= 0 && id < mh->nregions && mh->regions[id]->capacity_only) {
		mh->regions[id]->charged -= len;
		mh->regions[id]->charges--;
	}
	pthread_rwlock_unlock(&mh->lock);
}

/* ---- public API ------------------------------------------------------- */

HBMEM_EXPORT int32_t hb_mem_mheap_create(enum hb_mem_mheap_policy policy,
					 hb_mem_mheap_t **mheap)
{
	struct hb_mem_mheap *mh;

	if (!mheap || (unsigned)policy > HB_MEM_MHEAP_BEST_FIT)
		return HB_MEM_ERR_INVALID_PARAMS;
	mh = calloc(1, sizeof(*mh));
	if (!mh)
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	pthread_rwlock_init(&mh->lock, NULL);
	mh->policy = policy;
	*mheap = mh;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mheap_destroy(hb_mem_mheap_t *mheap)
{
	int i;

	if (!mheap)
		return HB_MEM_ERR_INVALID_PARAMS;
	for (i = 0; i < mheap->nregions; i++)
		region_destroy(mheap->regions[i]);
	pthread_rwlock_destroy(&mheap->lock);
	free(mheap);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mheap_add_region(hb_mem_mheap_t *mheap,
					     const char *name, uint32_t attr,
					     void *start, uint64_t size,
					     int64_t flags, int32_t *region_id)
{
	struct hbmem_region reg;
	struct mh_region *r;
	int ret;

	if (!mheap || attr >= HB_MEM_MHEAP_ATTR_MAX || size == 0)
		return HB_MEM_ERR_INVALID_PARAMS;
	r = calloc(1, sizeof(*r));
	if (!r)
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	if (start) {
		_hbmem_region_wrap(start, size, &reg);
	} else {
		ret = _hbmem_region_alloc(size, flags, &reg);
		if (ret < 0)
			goto err_free;
	}
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	ret = _hbmem_mm_init(&r->heap, r->name, reg.base, reg.size);
	if (ret < 0)
		goto err_region;
	r->heap.region = reg;
	r->attr = attr;
	pthread_rwlock_wrlock(&mheap->lock);
	ret = region_add(mheap, r);
	pthread_rwlock_unlock(&mheap->lock);
	if (ret < 0)
		goto err_heap;
	if (region_id)
		*region_id = r->id;
	return 0;

err_heap:
	_hbmem_mm_fini(&r->heap);
err_region:
	_hbmem_region_free(&reg);
err_free:
	free(r);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_mheap_set_fallback(hb_mem_mheap_t *mheap,
					       uint32_t attr,
					       const uint32_t *chain, int n)
{
	int i;

	if (!mheap || attr >= HB_MEM_MHEAP_ATTR_MAX || n < 0 ||
	    n > CHAIN_MAX || (n && !chain))
		return HB_MEM_ERR_INVALID_PARAMS;
	for (i = 0; i < n; i++)
		if (chain[i] >= HB_MEM_MHEAP_ATTR_MAX || chain[i] == attr)
			return HB_MEM_ERR_INVALID_PARAMS;
	pthread_rwlock_wrlock(&mheap->lock);
	if (n)
		memcpy(mheap->chain[attr], chain, (size_t)n * sizeof(*chain));
	mheap->chain_len[attr] = n;
	pthread_rwlock_unlock(&mheap->lock);
	return 0;
}

HBMEM_EXPORT void *hb_mem_mheap_aligned_alloc_at(hb_mem_mheap_t *mheap,
						 uint32_t attr, size_t align,
						 size_t size, const char *file,
						 int line)
{
	return mheap_alloc(mheap, attr, align, size, file, line);
}

HBMEM_EXPORT void *(hb_mem_mheap_alloc)(hb_mem_mheap_t *mheap, uint32_t attr,
					size_t size)
{
	return mheap_alloc(mheap, attr, 0, size, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_mheap_aligned_alloc)(hb_mem_mheap_t *mheap,
						uint32_t attr, size_t align,
						size_t size)
{
	if (!_hbmem_is_pow2(align))
		return _hbmem_null_errno(-EINVAL);
	return mheap_alloc(mheap, attr, align, size, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_mheap_free(hb_mem_mheap_t *mheap, void *ptr)
{
	struct mh_region *r;
	int ret;

	if (!mheap)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (!ptr)
		return 0;
	pthread_rwlock_rdlock(&mheap->lock);
	r = region_by_addr(mheap, ptr);
	ret = r ? _hbmem_mm_free(&r->heap, ptr) : -EFAULT;
	pthread_rwlock_unlock(&mheap->lock);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_mheap_region_of(hb_mem_mheap_t *mheap,
					    const void *ptr)
{
	struct mh_region *r;
	int32_t id;

	if (!mheap || !ptr)
		return -1;
	pthread_rwlock_rdlock(&mheap->lock);
	r = region_by_addr(mheap, ptr);
	id = r ? r->id : -1;
	pthread_rwlock_unlock(&mheap->lock);
	return id;
}

HBMEM_EXPORT int32_t hb_mem_mheap_region_count(hb_mem_mheap_t *mheap,
					       int32_t *count)
{
	if (!mheap || !count)
		return HB_MEM_ERR_INVALID_PARAMS;
	pthread_rwlock_rdlock(&mheap->lock);
	*count = mheap->nregions;
	pthread_rwlock_unlock(&mheap->lock);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mheap_region_info(hb_mem_mheap_t *mheap,
					      int32_t region_id,
					      hb_mem_mheap_region_info_t *info)
{
	struct mh_region *r;
	hb_mem_mm_info_t mi;

	if (!mheap || !info)
		return HB_MEM_ERR_INVALID_PARAMS;
	pthread_rwlock_rdlock(&mheap->lock);
	if (region_id < 0 || region_id >= mheap->nregions) {
		pthread_rwlock_unlock(&mheap->lock);
		return HB_MEM_ERR_INVALID_PARAMS;
	}
	r = mheap->regions[region_id];
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%s", r->name);
	info->attr = r->attr;
	info->fallback_allocs = __atomic_load_n(&r->fallback_allocs,
						__ATOMIC_RELAXED);
	if (r->capacity_only) {
		info->size = r->capacity;
		info->used = r->charged;
		info->free = r->capacity - r->charged;
		info->largest_free = info->free;
		info->allocs = r->charges;
	} else {
		_hbmem_mm_stats(&r->heap, &mi);
		info->base = r->heap.region.base;
		info->size = r->heap.region.size;
		info->used = mi.used;
		info->free = mi.free;
		info->largest_free = mi.largest_free;
		info->allocs = mi.allocs;
	}
	pthread_rwlock_unlock(&mheap->lock);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mheap_check(hb_mem_mheap_t *mheap)
{
	int i, ret = 0;

	if (!mheap)
		return HB_MEM_ERR_INVALID_PARAMS;
	pthread_rwlock_rdlock(&mheap->lock);
	for (i = 0; i < mheap->nregions && !ret; i++)
		if (!mheap->regions[i]->capacity_only)
			ret = _hbmem_mm_validate(&mheap->regions[i]->heap);
	pthread_rwlock_unlock(&mheap->lock);
	return _hbmem_err(ret);
}
