// SPDX-License-Identifier: MIT
/*
 * Heap instances: independent malloc/free heaps over one region each,
 * with constant-time allocation and free (two-level segregated fit).
 *
 * Blocks tile the region; each starts with a 16-byte header, so payloads
 * are 16-byte aligned and a used block costs 16 bytes:
 *
 *   +-----------+-----------------+---------------------------------+
 *   | prev_size | size | P | F    | payload (free: next/prev links) |
 *   +-----------+-----------------+---------------------------------+
 *   F: this block is free.  P: the block before it is free, and then
 *   prev_size is that block's size (so free can merge backwards); when
 *   the block before is in use, prev_size holds a cookie derived from the
 *   block's address, which lets free() reject foreign pointers and double
 *   frees in O(1). A zero-size used sentinel ends the chain.
 *
 * Free blocks sit on one of FL x SL lists. Sizes below 256 B have exact
 * 16-byte classes (FL 0); above, FL is the power of two and SL splits it
 * into 16 equal ranges. A request is rounded up to the next list boundary
 * so that any block on the first non-empty list at or above it fits: two
 * bitmap scans (ffs) find it, whatever the number of blocks. Free merges
 * with both neighbours at once, so no two free blocks are ever adjacent.
 *
 * When the rounded search finds nothing, up to MM_EXACT_TRIES blocks of
 * the request's own list are tried as well, so a heap near exhaustion can
 * still hand out its largest block; the cost stays bounded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

struct hbmem_mm_blk {
	uintptr_t prev_size;
	uintptr_t size;
	struct hbmem_mm_blk *next_free, *prev_free;	/* free blocks only */
};

#define HDR 16u
#define MIN_BLOCK 32u
#define F_FREE ((uintptr_t)1)
#define F_PREV_FREE ((uintptr_t)2)
#define SIZE_MASK (~(uintptr_t)15)
#define SMALL_LIMIT (HBMEM_MM_SL_COUNT * HBMEM_MM_ALIGN)	/* 256 */
#define MM_MAX_REGION ((uint64_t)1 << 46)
#define MM_EXACT_TRIES 8

typedef struct hbmem_mm_blk blk_t;

static inline uintptr_t bsize(const blk_t *b)
{
	return b->size & SIZE_MASK;
}

static inline blk_t *blk_at(const void *p, uintptr_t off)
{
	return (blk_t *)((uint8_t *)p + off);
}

static inline blk_t *blk_next(const blk_t *b)
{
	return blk_at(b, bsize(b));
}

static inline uintptr_t cookie(const struct hb_mem_mm *h, const blk_t *b)
{
	return ((uintptr_t)b ^ h->salt) & SIZE_MASK;
}

static inline void set_prev_used(const struct hb_mem_mm *h, blk_t *b)
{
	b->size &= ~F_PREV_FREE;
	b->prev_size = cookie(h, b);
}

static inline void set_prev_free(blk_t *b, uintptr_t prev_size)
{
	b->size |= F_PREV_FREE;
	b->prev_size = prev_size;
}

static void mapping(uint64_t size, unsigned *fl, unsigned *sl)
{
	unsigned msb;

	if (size < SMALL_LIMIT) {
		*fl = 0;
		*sl = (unsigned)(size / HBMEM_MM_ALIGN);
		return;
	}
	msb = 63u - (unsigned)__builtin_clzll(size);
	*fl = msb - 7u;
	*sl = (unsigned)(size >> (msb - HBMEM_MM_SL_LOG2)) &
	      (HBMEM_MM_SL_COUNT - 1);
}

static void list_insert(struct hb_mem_mm *h, blk_t *b)
{
	unsigned fl, sl;
	blk_t *head;

	mapping(bsize(b), &fl, &sl);
	head = h->heads[fl][sl];
	b->next_free = head;
	b->prev_free = NULL;
	if (head)
		head->prev_free = b;
	h->heads[fl][sl] = b;
	h->sl_map[fl] |= 1u << sl;
	h->fl_map |= 1ull << fl;
	h->free_blocks++;
	h->free_bytes += bsize(b);
}

static void list_remove(struct hb_mem_mm *h, blk_t *b)
{
	unsigned fl, sl;

	mapping(bsize(b), &fl, &sl);
	if (b->prev_free)
		b->prev_free->next_free = b->next_free;
	else
		h->heads[fl][sl] = b->next_free;
	if (b->next_free)
		b->next_free->prev_free = b->prev_free;
	if (!h->heads[fl][sl]) {
		h->sl_map[fl] &= ~(1u << sl);
		if (!h->sl_map[fl])
			h->fl_map &= ~(1ull << fl);
	}
	h->free_blocks--;
	h->free_bytes -= bsize(b);
}

/* A free block of at least @need bytes, still on its list; or NULL. */
static blk_t *find_fit(struct hb_mem_mm *h, uint64_t need)
{
	uint64_t want = need, flm;
	unsigned fl, sl, tries;
	uint32_t slm;
	blk_t *b;

	if (want >= SMALL_LIMIT) {
		unsigned msb = 63u - (unsigned)__builtin_clzll(want);

		want += ((uint64_t)1 << (msb - HBMEM_MM_SL_LOG2)) - 1;
	}
	mapping(want, &fl, &sl);
	if (fl < HBMEM_MM_FL_COUNT) {
		slm = h->sl_map[fl] & (~0u << sl);
		if (slm)
			return h->heads[fl][__builtin_ctz(slm)];
		flm = fl + 1 < 64 ? h->fl_map & (~0ull << (fl + 1)) : 0;
		if (flm) {
			fl = (unsigned)__builtin_ctzll(flm);
			return h->heads[fl][__builtin_ctz(h->sl_map[fl])];
		}
	}
	/* the rounded search missed: blocks of the request's own list */
	mapping(need, &fl, &sl);
	if (fl >= HBMEM_MM_FL_COUNT)
		return NULL;
	for (b = h->heads[fl][sl], tries = 0; b && tries < MM_EXACT_TRIES;
	     b = b->next_free, tries++)
		if (bsize(b) >= need)
			return b;
	return NULL;
}

/* Cut @b (off the lists) down to @need bytes; the rest becomes free. */
static void split(struct hb_mem_mm *h, blk_t *b, uintptr_t need)
{
	uintptr_t total = bsize(b);
	blk_t *rest;

	if (total - need < MIN_BLOCK)
		return;
	rest = blk_at(b, need);
	rest->size = (total - need) | F_FREE;
	set_prev_used(h, rest);
	b->size = need | (b->size & ~SIZE_MASK);
	set_prev_free(blk_next(rest), total - need);
	list_insert(h, rest);
}

/* Take a block for @need bytes whose payload is @align aligned. Locked. */
static blk_t *take(struct hb_mem_mm *h, uintptr_t need, size_t align)
{
	blk_t *b;

	if (align <= HBMEM_MM_ALIGN) {
		b = find_fit(h, need);
		if (!b)
			return NULL;
		list_remove(h, b);
	} else {
		uintptr_t p, a, gap, total;
		blk_t *nb;

		if (need > MM_MAX_REGION)
			return NULL;
		b = find_fit(h, need + align + MIN_BLOCK);
		if (!b)
			return NULL;
		list_remove(h, b);
		p = (uintptr_t)b + HDR;
		a = (uintptr_t)_hbmem_align_up(p, align);
		if (a != p && a - p < MIN_BLOCK)
			a = (uintptr_t)_hbmem_align_up(p + MIN_BLOCK, align);
		gap = a - p;
		if (gap) {
			/* the leading gap goes back as a free block */
			total = bsize(b);
			nb = blk_at(b, gap);
			nb->size = (total - gap) | F_FREE;
			set_prev_free(nb, gap);
			b->size = gap | F_FREE;
			list_insert(h, b);
			b = nb;
		}
	}
	split(h, b, need);
	b->size &= ~F_FREE;
	set_prev_used(h, blk_next(b));
	h->used += bsize(b);
	h->allocs++;
	return b;
}

/* Return used block @b to the free lists, merging both ways. Locked. */
static void give_back(struct hb_mem_mm *h, blk_t *b)
{
	uintptr_t size = bsize(b);
	blk_t *next = blk_next(b), *prev;

	h->used -= size;
	h->allocs--;
	b->size |= F_FREE;	/* a stale header now reads as free */
	if (next->size & F_FREE) {
		list_remove(h, next);
		size += bsize(next);
	}
	if (b->size & F_PREV_FREE) {
		prev = blk_at(b, 0 - b->prev_size);
		list_remove(h, prev);
		size += bsize(prev);
		b = prev;
	}
	b->size = size | F_FREE;
	set_prev_free(blk_next(b), size);
	list_insert(h, b);
}

/* The used block whose payload is @ptr, or NULL. Locked. */
static blk_t *used_block(const struct hb_mem_mm *h, const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr, s, size;
	blk_t *b, *next, *prev;

	if ((p & (HBMEM_MM_ALIGN - 1)) || p < (uintptr_t)h->first + HDR ||
	    p >= (uintptr_t)h->sentinel)
		return NULL;
	b = (blk_t *)(p - HDR);
	s = b->size;
	size = s & SIZE_MASK;
	if ((s & F_FREE) || size < MIN_BLOCK ||
	    size > (uintptr_t)h->sentinel - (uintptr_t)b)
		return NULL;
	if (s & F_PREV_FREE) {
		if (b->prev_size > (uintptr_t)b - (uintptr_t)h->first)
			return NULL;
		prev = blk_at(b, 0 - b->prev_size);
		if (!(prev->size & F_FREE) || bsize(prev) != b->prev_size)
			return NULL;
	} else if (b->prev_size != cookie(h, b)) {
		return NULL;
	}
	next = blk_at(b, size);
	if ((next->size & F_PREV_FREE) || next->prev_size != cookie(h, next))
		return NULL;
	return b;
}

/* Bytes of block for a @size-byte request, or 0 if impossible. */
static uintptr_t block_need(size_t size)
{
	uintptr_t need;

	if (size == 0 || size > MM_MAX_REGION)
		return 0;
	need = (uintptr_t)_hbmem_align_up(size, HBMEM_MM_ALIGN) + HDR;
	return need < MIN_BLOCK ? MIN_BLOCK : need;
}

static void *raw_alloc(struct hb_mem_mm *h, size_t align, size_t size)
{
	uintptr_t need = block_need(size);
	blk_t *b;

	if (!need)
		return _hbmem_null_errno(-ENOMEM);
	pthread_mutex_lock(&h->lock);
	b = take(h, need, align);
	pthread_mutex_unlock(&h->lock);
	if (!b)
		return _hbmem_null_errno(-ENOMEM);
	return (uint8_t *)b + HDR;
}

static int raw_free(struct hb_mem_mm *h, void *ptr)
{
	blk_t *b;

	pthread_mutex_lock(&h->lock);
	b = used_block(h, ptr);
	if (b)
		give_back(h, b);
	pthread_mutex_unlock(&h->lock);
	return b ? 0 : -EFAULT;
}

static void mm_dbg_release(struct hbmem_dbg_owner *o, void *raw)
{
	struct hb_mem_mm *h = (struct hb_mem_mm *)((uint8_t *)o -
					offsetof(struct hb_mem_mm, dbg));

	raw_free(h, raw);
}

int _hbmem_mm_init(struct hb_mem_mm *h, const char *name, void *start,
		   uint64_t size)
{
	uintptr_t s = (uintptr_t)_hbmem_align_up((uintptr_t)start,
						  HBMEM_MM_ALIGN);
	uintptr_t e = ((uintptr_t)start + size) & ~(uintptr_t)(HBMEM_MM_ALIGN - 1);
	uintptr_t total;

	if (!start || size > MM_MAX_REGION || e <= s ||
	    e - s < MIN_BLOCK + HDR)
		return -EINVAL;
	memset(h, 0, offsetof(struct hb_mem_mm, region));
	pthread_mutex_init(&h->lock, NULL);
	snprintf(h->name, sizeof(h->name), "%s", name ? name : "");
	_hbmem_dbg_owner_init(&h->dbg, HBMEM_DBG_MM, h->name, mm_dbg_release);
	h->salt = (uintptr_t)0x9E3779B97F4A7C15ull ^ (uintptr_t)h;
	total = e - s - HDR;
	h->first = (blk_t *)s;
	h->sentinel = (blk_t *)(e - HDR);
	h->first->size = total | F_FREE;
	h->first->prev_size = cookie(h, h->first);
	h->sentinel->size = 0;
	set_prev_free(h->sentinel, total);
	h->arena = total;
	list_insert(h, h->first);
	return 0;
}

void _hbmem_mm_fini(struct hb_mem_mm *h)
{
	_hbmem_dbg_owner_fini(&h->dbg);
	pthread_mutex_destroy(&h->lock);
}

void *_hbmem_mm_alloc(struct hb_mem_mm *h, size_t align, size_t size,
		      const char *file, int line)
{
	uint32_t opts = _hbmem_dbg_options();
	size_t front, back, total;
	void *raw;

	if (size == 0 || (align && !_hbmem_is_pow2(align)))
		return _hbmem_null_errno(-EINVAL);
	if (align < HBMEM_MM_ALIGN)
		align = HBMEM_MM_ALIGN;
	if (!opts)
		return raw_alloc(h, align, size);
	front = _hbmem_dbg_front(opts, align);
	back = _hbmem_dbg_back(opts);
	if (__builtin_add_overflow(size, front + back, &total))
		return _hbmem_null_errno(-ENOMEM);
	raw = raw_alloc(h, align, total);
	if (!raw)
		return NULL;
	return _hbmem_dbg_alloc(&h->dbg, opts, raw, front, size, file, line);
}

int _hbmem_mm_free(struct hb_mem_mm *h, void *ptr)
{
	void *raw;
	int ret;

	if (!ptr)
		return 0;
	if (_hbmem_dbg_tracking(&h->dbg)) {
		ret = _hbmem_dbg_free(&h->dbg, ptr, &raw);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return raw ? raw_free(h, raw) : 0;
	}
	return raw_free(h, ptr);
}

static size_t usable(struct hb_mem_mm *h, void *ptr)
{
	size_t n = 0;
	blk_t *b;

	if (_hbmem_dbg_tracking(&h->dbg)) {
		bool freed;

		n = _hbmem_dbg_usable(&h->dbg, ptr, &freed);
		if (n || freed)
			return n;	/* a quarantined block is not live */
	}
	pthread_mutex_lock(&h->lock);
	b = used_block(h, ptr);
	if (b)
		n = bsize(b) - HDR;
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Resize block @b in place to @need bytes if possible. Locked. */
static bool resize_in_place(struct hb_mem_mm *h, blk_t *b, uintptr_t need)
{
	uintptr_t cur = bsize(b);
	blk_t *next = blk_next(b), *tail;

	if (need > cur) {
		if (!(next->size & F_FREE) || cur + bsize(next) < need)
			return false;
		list_remove(h, next);
		h->used += bsize(next);
		cur += bsize(next);
		b->size = cur | (b->size & F_PREV_FREE);
		set_prev_used(h, blk_next(b));
	}
	if (cur - need >= MIN_BLOCK) {
		/* cut the tail off as a used block, then free it */
		tail = blk_at(b, need);
		tail->size = cur - need;
		set_prev_used(h, tail);
		b->size = need | (b->size & F_PREV_FREE);
		h->allocs++;
		give_back(h, tail);
	}
	return true;
}

static void *mm_realloc(struct hb_mem_mm *h, void *ptr, size_t size,
			const char *file, int line)
{
	size_t old;
	void *np;
	blk_t *b;

	if (!ptr)
		return _hbmem_mm_alloc(h, 0, size, file, line);
	if (size == 0) {
		int ret = _hbmem_mm_free(h, ptr);

		return _hbmem_null_errno(ret ? ret : 0);
	}
	if (!_hbmem_dbg_options() && !_hbmem_dbg_tracking(&h->dbg)) {
		uintptr_t need = block_need(size);
		bool done = false;

		pthread_mutex_lock(&h->lock);
		b = used_block(h, ptr);
		if (b && need)
			done = resize_in_place(h, b, need);
		pthread_mutex_unlock(&h->lock);
		if (!b)
			return _hbmem_null_errno(-EFAULT);
		if (done)
			return ptr;
	}
	old = usable(h, ptr);
	if (!old)
		return _hbmem_null_errno(-EFAULT);
	np = _hbmem_mm_alloc(h, 0, size, file, line);
	if (!np)
		return NULL;
	memcpy(np, ptr, old < size ? old : size);
	_hbmem_mm_free(h, ptr);
	return np;
}

void _hbmem_mm_stats(struct hb_mem_mm *h, hb_mem_mm_info_t *info)
{
	uintptr_t largest = 0;
	unsigned fl, sl;
	blk_t *b;

	pthread_mutex_lock(&h->lock);
	info->arena = h->arena;
	info->used = h->used;
	info->free = h->free_bytes;
	info->allocs = h->allocs;
	info->free_blocks = h->free_blocks;
	if (h->fl_map) {
		fl = 63u - (unsigned)__builtin_clzll(h->fl_map);
		sl = 31u - (unsigned)__builtin_clz(h->sl_map[fl]);
		for (b = h->heads[fl][sl]; b; b = b->next_free)
			if (bsize(b) > largest)
				largest = bsize(b);
	}
	pthread_mutex_unlock(&h->lock);
	info->largest_free = largest ? largest - HDR : 0;
}

#define CHECK(cond, fmt, ...)                                              \
	do {                                                               \
		if (!(cond)) {                                             \
			hbmem_err_log("heap '%s': " fmt, h->name,          \
				      ##__VA_ARGS__);                      \
			return -EINVAL;                                    \
		}                                                          \
	} while (0)

static int validate_locked(struct hb_mem_mm *h)
{
	uint64_t used = 0, free_bytes = 0, allocs = 0, nfree = 0, listed = 0;
	blk_t *b, *prev = NULL;
	unsigned fl, sl, f, s;

	for (b = h->first; b != h->sentinel; prev = b, b = blk_next(b)) {
		uintptr_t size = bsize(b);

		CHECK(size >= MIN_BLOCK && size % HBMEM_MM_ALIGN == 0 &&
		      size <= (uintptr_t)h->sentinel - (uintptr_t)b,
		      "block %p: bad size %zu", (void *)b, (size_t)size);
		if (prev && (prev->size & F_FREE)) {
			CHECK(b->size & F_PREV_FREE, "block %p: P flag clear "
			      "after a free block", (void *)b);
			CHECK(b->prev_size == bsize(prev), "block %p: "
			      "prev_size mismatch", (void *)b);
			CHECK(!(b->size & F_FREE), "blocks %p and %p: two "
			      "adjacent free blocks", (void *)prev, (void *)b);
		} else {
			CHECK(!(b->size & F_PREV_FREE) &&
			      b->prev_size == cookie(h, b),
			      "block %p: bad used-prev header", (void *)b);
		}
		if (b->size & F_FREE) {
			nfree++;
			free_bytes += size;
		} else {
			allocs++;
			used += size;
		}
	}
	CHECK(bsize(h->sentinel) == 0 && !(h->sentinel->size & F_FREE),
	      "sentinel overwritten");
	CHECK(!!(h->sentinel->size & F_PREV_FREE) ==
	      (prev && (prev->size & F_FREE)), "sentinel P flag wrong");
	CHECK(used == h->used && free_bytes == h->free_bytes &&
	      allocs == h->allocs && nfree == h->free_blocks &&
	      used + free_bytes == h->arena,
	      "counters disagree with the block chain");
	for (fl = 0; fl < HBMEM_MM_FL_COUNT; fl++) {
		CHECK(!!(h->fl_map & (1ull << fl)) == !!h->sl_map[fl],
		      "first-level bitmap wrong at %u", fl);
		for (sl = 0; sl < HBMEM_MM_SL_COUNT; sl++) {
			blk_t *p = NULL;

			CHECK(!!(h->sl_map[fl] & (1u << sl)) ==
			      !!h->heads[fl][sl], "bitmap wrong at %u/%u",
			      fl, sl);
			for (b = h->heads[fl][sl]; b; p = b, b = b->next_free) {
				CHECK((b->size & F_FREE) && b->prev_free == p,
				      "list %u/%u: bad entry %p", fl, sl,
				      (void *)b);
				mapping(bsize(b), &f, &s);
				CHECK(f == fl && s == sl, "block %p on the "
				      "wrong list", (void *)b);
				CHECK(++listed <= nfree, "list %u/%u loops",
				      fl, sl);
			}
		}
	}
	CHECK(listed == nfree, "%llu free blocks, %llu listed",
	      (unsigned long long)nfree, (unsigned long long)listed);
	return 0;
}

int _hbmem_mm_validate(struct hb_mem_mm *h)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = validate_locked(h);
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* ---- public API ------------------------------------------------------- */

static int mm_new(const char *name, struct hbmem_region *r,
		  hb_mem_mm_t **out)
{
	struct hb_mem_mm *h = calloc(1, sizeof(*h));
	int ret;

	if (!h)
		return -ENOMEM;
	ret = _hbmem_mm_init(h, name, r->base, r->size);
	if (ret < 0) {
		free(h);
		return ret;
	}
	h->region = *r;
	*out = h;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mm_create(const char *name, uint64_t size,
				      int64_t flags, hb_mem_mm_t **heap)
{
	struct hbmem_region r;
	int ret;

	if (!heap || size < MIN_BLOCK + 2 * HDR || size > MM_MAX_REGION)
		return HB_MEM_ERR_INVALID_PARAMS;
	ret = _hbmem_region_alloc(size, flags, &r);
	if (ret < 0)
		return _hbmem_err(ret);
	ret = mm_new(name, &r, heap);
	if (ret < 0)
		_hbmem_region_free(&r);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_mm_create_in(const char *name, void *start,
					 uint64_t size, hb_mem_mm_t **heap)
{
	struct hbmem_region r;

	if (!heap || !start)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_region_wrap(start, size, &r);
	return _hbmem_err(mm_new(name, &r, heap));
}

HBMEM_EXPORT int32_t hb_mem_mm_destroy(hb_mem_mm_t *heap)
{
	if (!heap)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_mm_fini(heap);
	_hbmem_region_free(&heap->region);
	free(heap);
	return 0;
}

HBMEM_EXPORT void *hb_mem_mm_malloc_at(hb_mem_mm_t *heap, size_t size,
				       const char *file, int line)
{
	if (!heap)
		return _hbmem_null_errno(-EINVAL);
	return _hbmem_mm_alloc(heap, 0, size, file, line);
}

HBMEM_EXPORT void *hb_mem_mm_zalloc_at(hb_mem_mm_t *heap, size_t size,
				       const char *file, int line)
{
	void *p = hb_mem_mm_malloc_at(heap, size, file, line);

	if (p)
		memset(p, 0, size);
	return p;
}

HBMEM_EXPORT void *hb_mem_mm_memalign_at(hb_mem_mm_t *heap, size_t align,
					 size_t size, const char *file,
					 int line)
{
	if (!heap || !_hbmem_is_pow2(align))
		return _hbmem_null_errno(-EINVAL);
	return _hbmem_mm_alloc(heap, align, size, file, line);
}

HBMEM_EXPORT void *hb_mem_mm_realloc_at(hb_mem_mm_t *heap, void *ptr,
					size_t size, const char *file,
					int line)
{
	if (!heap)
		return _hbmem_null_errno(-EINVAL);
	return mm_realloc(heap, ptr, size, file, line);
}

HBMEM_EXPORT void *(hb_mem_mm_malloc)(hb_mem_mm_t *heap, size_t size)
{
	return hb_mem_mm_malloc_at(heap, size, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_mm_zalloc)(hb_mem_mm_t *heap, size_t size)
{
	return hb_mem_mm_zalloc_at(heap, size, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_mm_memalign)(hb_mem_mm_t *heap, size_t align,
					size_t size)
{
	return hb_mem_mm_memalign_at(heap, align, size, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_mm_realloc)(hb_mem_mm_t *heap, void *ptr,
				       size_t size)
{
	return hb_mem_mm_realloc_at(heap, ptr, size, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_mm_free(hb_mem_mm_t *heap, void *ptr)
{
	if (!heap)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(_hbmem_mm_free(heap, ptr));
}

HBMEM_EXPORT size_t hb_mem_mm_usable_size(hb_mem_mm_t *heap, void *ptr)
{
	return heap && ptr ? usable(heap, ptr) : 0;
}

HBMEM_EXPORT int32_t hb_mem_mm_info(hb_mem_mm_t *heap, hb_mem_mm_info_t *info)
{
	if (!heap || !info)
		return HB_MEM_ERR_INVALID_PARAMS;
	_hbmem_mm_stats(heap, info);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_mm_check(hb_mem_mm_t *heap)
{
	if (!heap)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(_hbmem_mm_validate(heap));
}
