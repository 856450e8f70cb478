// SPDX-License-Identifier: MIT
/*
 * Two-level segregated fit over page indices (see tlsf.h for the model).
 *
 * Size classes, for a run of n pages:
 *   n < 16:   first level 0, second level n (one exact class per size)
 *   n >= 16:  f = floor(log2 n); first level f - 3, second level the four
 *             bits of n below its top bit
 * so a class spans at most 1/16 of its size. A request is rounded up to the
 * next class boundary before searching, so that any run on a list found by
 * the bitmaps fits without looking at it; the head of the request's own
 * class is also tried, so that a run of exactly the right size (the whole
 * range after everything is freed, say) is found even when it sits below
 * the boundary.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsf.h"

#define SL_LOG2 HBMEM_TLSF_SL_LOG2
#define SL_COUNT HBMEM_TLSF_SL_COUNT
#define NONE HBMEM_TLSF_NONE
#define SIZE_MASK HBMEM_TLSF_SIZE_MASK

static inline uint32_t log2_floor(uint32_t n)
{
	return 31u - (uint32_t)__builtin_clz(n);
}

static inline void mapping(uint32_t n, uint32_t *fl, uint32_t *sl)
{
	uint32_t f;

	if (n < SL_COUNT) {
		*fl = 0;
		*sl = n;
		return;
	}
	f = log2_floor(n);
	*fl = f - SL_LOG2 + 1;
	*sl = (n >> (f - SL_LOG2)) - SL_COUNT;
}

/* Round @n up to the smallest size of the next class (n < 2^30: no wrap). */
static inline uint32_t round_to_class(uint32_t n)
{
	if (n < SL_COUNT)
		return n;
	return n + (1u << (log2_floor(n) - SL_LOG2)) - 1;
}

static void list_insert(struct hbmem_tlsf *t, uint32_t b, uint32_t pages)
{
	struct hbmem_tlsf_block *blk = t->blk;
	uint32_t fl, sl, h;

	mapping(pages, &fl, &sl);
	h = t->head[fl][sl];
	blk[b].u.link.next = h;
	blk[b].u.link.prev = NONE;
	if (h != NONE)
		blk[h].u.link.prev = b;
	t->head[fl][sl] = b;
	t->fl_bitmap |= 1u << fl;
	t->sl_bitmap[fl] |= 1u << sl;
}

static void list_remove(struct hbmem_tlsf *t, uint32_t b, uint32_t pages)
{
	struct hbmem_tlsf_block *blk = t->blk;
	uint32_t next = blk[b].u.link.next, prev = blk[b].u.link.prev;
	uint32_t fl, sl;

	if (next != NONE)
		blk[next].u.link.prev = prev;
	if (prev != NONE) {
		blk[prev].u.link.next = next;
		return;
	}
	mapping(pages, &fl, &sl);
	t->head[fl][sl] = next;
	if (next == NONE) {
		t->sl_bitmap[fl] &= ~(1u << sl);
		if (!t->sl_bitmap[fl])
			t->fl_bitmap &= ~(1u << fl);
	}
}

/* Head of the first non-empty list of class (fl, sl) or above, or NONE. */
static inline uint32_t find_list(const struct hbmem_tlsf *t, uint32_t fl,
				 uint32_t sl)
{
	uint32_t map = t->sl_bitmap[fl] & (~0u << sl);

	if (!map) {
		map = fl + 1 < HBMEM_TLSF_FL_COUNT
			      ? t->fl_bitmap & (~0u << (fl + 1)) : 0;
		if (!map)
			return NONE;
		fl = (uint32_t)__builtin_ctz(map);
		map = t->sl_bitmap[fl];
	}
	return t->head[fl][__builtin_ctz(map)];
}

int _hbmem_tlsf_init(struct hbmem_tlsf *t, uint32_t npages)
{
	uint32_t fl, sl;

	memset(t, 0, sizeof(*t));
	if (npages == 0 || npages > HBMEM_TLSF_MAX_PAGES)
		return -EINVAL;
	/* calloc: every entry starts as "not a run start" */
	t->blk = calloc(npages, sizeof(*t->blk));
	if (!t->blk)
		return -ENOMEM;
	for (fl = 0; fl < HBMEM_TLSF_FL_COUNT; fl++)
		for (sl = 0; sl < SL_COUNT; sl++)
			t->head[fl][sl] = NONE;
	t->npages = npages;
	t->free_pages = npages;
	t->blk[0].size = npages | HBMEM_TLSF_FREE;
	t->blk[0].prev_phys = NONE;
	list_insert(t, 0, npages);
	return 0;
}

void _hbmem_tlsf_fini(struct hbmem_tlsf *t)
{
	free(t->blk);
	memset(t, 0, sizeof(*t));
}

uint32_t _hbmem_tlsf_alloc(struct hbmem_tlsf *t, uint32_t pages)
{
	struct hbmem_tlsf_block *blk = t->blk;
	uint32_t fl, sl, b, have, rest, after;

	if (pages == 0 || pages > t->free_pages)
		return NONE;
	mapping(round_to_class(pages), &fl, &sl);
	b = find_list(t, fl, sl);
	if (b == NONE) {
		/* the own class may still hold a run that is big enough */
		mapping(pages, &fl, &sl);
		b = t->head[fl][sl];
		if (b == NONE || (blk[b].size & SIZE_MASK) < pages)
			return NONE;
	}
	have = blk[b].size & SIZE_MASK;
	list_remove(t, b, have);
	if (have > pages) {
		/* split: the tail goes back to a free list */
		rest = b + pages;
		blk[rest].size = (have - pages) | HBMEM_TLSF_FREE;
		blk[rest].prev_phys = b;
		after = b + have;
		if (after < t->npages)
			blk[after].prev_phys = rest;
		list_insert(t, rest, have - pages);
	}
	blk[b].size = pages;
	blk[b].u.tag = 0;
	t->free_pages -= pages;
	t->used_runs++;
	return b;
}

int _hbmem_tlsf_free(struct hbmem_tlsf *t, uint32_t start)
{
	struct hbmem_tlsf_block *blk = t->blk;
	uint32_t pages, b, n, prev, next, after;

	if (!_hbmem_tlsf_is_used(t, start))
		return -EFAULT;
	pages = blk[start].size & SIZE_MASK;
	b = start;
	n = pages;
	t->free_pages += pages;
	t->used_runs--;

	prev = blk[start].prev_phys;
	if (prev != NONE && (blk[prev].size & HBMEM_TLSF_FREE)) {
		uint32_t pn = blk[prev].size & SIZE_MASK;

		list_remove(t, prev, pn);
		blk[start].size = 0;	/* now inside the previous run */
		b = prev;
		n += pn;
	}
	next = start + pages;
	if (next < t->npages && (blk[next].size & HBMEM_TLSF_FREE)) {
		uint32_t nn = blk[next].size & SIZE_MASK;

		list_remove(t, next, nn);
		blk[next].size = 0;
		n += nn;
	}
	blk[b].size = n | HBMEM_TLSF_FREE;
	after = b + n;
	if (after < t->npages)
		blk[after].prev_phys = b;
	list_insert(t, b, n);
	return 0;
}

uint32_t _hbmem_tlsf_run_of(const struct hbmem_tlsf *t, uint32_t page)
{
	/* start entries are the only non-zero sizes; page 0 always is one */
	while (t->blk[page].size == 0)
		page--;
	return page;
}

/* ---- validation -------------------------------------------------------- */

static int fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -EUCLEAN;
}

int _hbmem_tlsf_check(const struct hbmem_tlsf *t, char *why, size_t why_len)
{
	const struct hbmem_tlsf_block *blk = t->blk;
	uint32_t i, j, prev = NONE, free_pages = 0, free_runs = 0, used = 0;
	uint32_t listed = 0, fl, sl;
	bool prev_free = false;

	/* the physical walk */
	for (i = 0; i < t->npages; i += blk[i].size & SIZE_MASK) {
		uint32_t s = blk[i].size, n = s & SIZE_MASK;
		bool is_free = s & HBMEM_TLSF_FREE;

		if (n == 0)
			return fail(why, why_len, "run at page %u has no size",
				    i);
		if (n > t->npages - i)
			return fail(why, why_len,
				    "run %u+%u overruns the %u pages", i, n,
				    t->npages);
		if ((s & HBMEM_TLSF_FREE) && (s & HBMEM_TLSF_MARK))
			return fail(why, why_len, "free run %u is marked", i);
		if (blk[i].prev_phys != prev)
			return fail(why, why_len,
				    "run %u: prev is %u, expected %u", i,
				    blk[i].prev_phys, prev);
		for (j = i + 1; j < i + n; j++)
			if (blk[j].size != 0)
				return fail(why, why_len,
					    "page %u inside run %u has a size",
					    j, i);
		if (is_free && prev_free)
			return fail(why, why_len,
				    "free runs %u and %u are adjacent", prev,
				    i);
		if (is_free) {
			free_pages += n;
			free_runs++;
		} else {
			used++;
		}
		prev_free = is_free;
		prev = i;
	}
	if (free_pages != t->free_pages)
		return fail(why, why_len, "%u free pages counted, %u recorded",
			    free_pages, t->free_pages);
	if (used != t->used_runs)
		return fail(why, why_len, "%u used runs counted, %u recorded",
			    used, t->used_runs);

	/* the lists and bitmaps */
	for (fl = 0; fl < HBMEM_TLSF_FL_COUNT; fl++) {
		bool fl_set = t->fl_bitmap & (1u << fl);

		if (fl_set != (t->sl_bitmap[fl] != 0))
			return fail(why, why_len,
				    "first-level bit %u disagrees with its "
				    "second-level map", fl);
		for (sl = 0; sl < SL_COUNT; sl++) {
			uint32_t b = t->head[fl][sl], back = NONE;
			bool sl_set = t->sl_bitmap[fl] & (1u << sl);

			if (sl_set != (b != NONE))
				return fail(why, why_len,
					    "bit (%u,%u) disagrees with its "
					    "list", fl, sl);
			for (; b != NONE; back = b, b = blk[b].u.link.next) {
				uint32_t f2, s2;

				if (b >= t->npages || !(blk[b].size &
							HBMEM_TLSF_FREE))
					return fail(why, why_len,
						    "list (%u,%u) holds %u, "
						    "not a free run", fl, sl,
						    b);
				if (blk[b].u.link.prev != back)
					return fail(why, why_len,
						    "run %u: back link %u, "
						    "expected %u", b,
						    blk[b].u.link.prev, back);
				mapping(blk[b].size & SIZE_MASK, &f2, &s2);
				if (f2 != fl || s2 != sl)
					return fail(why, why_len,
						    "run %u on list (%u,%u), "
						    "belongs on (%u,%u)", b,
						    fl, sl, f2, s2);
				if (++listed > free_runs)
					return fail(why, why_len,
						    "more listed runs than "
						    "free runs (a cycle?)");
			}
		}
	}
	if (listed != free_runs)
		return fail(why, why_len, "%u free runs, %u on lists",
			    free_runs, listed);
	return 0;
}
