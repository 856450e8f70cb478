// SPDX-License-Identifier: MIT
/*
 * I/O buffer pool: a fixed number of fixed-size buffers in one region.
 *
 * Free buffers sit on a LIFO stack of indices (the most recently freed,
 * cache-warm buffer goes out first); a state byte per buffer, out of
 * band, catches double frees and foreign pointers.
 *
 * Throttling: a throttled request may take a buffer only while more than
 * `throttle` are free, so the last `throttle` buffers stay for unthrottled
 * requests (a network stack keeps its reserve for transmit that way).
 *
 * Waiting: a request that cannot be served queues a waiter (on its own
 * stack, with its own condition variable) in arrival order. free() gives
 * the buffer straight to the first waiter allowed to take it and wakes
 * only that thread, so a freed buffer cannot be stolen by a newcomer and
 * waiters are served first come, first served:
 *
 *   free(b) --> first eligible waiter? --yes--> w->buf = b, signal w
 *                        | no
 *                        v
 *                   push b on the free stack
 *
 * A waiter that times out leaves the queue under the lock; if a buffer
 * reached it first, it keeps the buffer and succeeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc/alloc.h"

struct iob_waiter {
	pthread_cond_t cond;
	void *buf;
	bool throttled;
	struct iob_waiter *next, *prev;
};

struct hb_mem_iob_pool {
	pthread_mutex_t lock;
	uint8_t *base;
	uint32_t nbufs, bufsize, slot, throttle;
	uint32_t front, back;		/* red zones laid out at create */
	uint32_t *stack, nfree;
	uint8_t *out;			/* 1 = allocated */
	struct iob_waiter *whead, *wtail;
	uint32_t nwaiters;
	uint64_t handoffs;
	struct hbmem_region region;
	struct hbmem_dbg_owner dbg;
};

/* The slot index of raw block @raw, or -1. */
static int64_t slot_of(const struct hb_mem_iob_pool *p, const void *raw)
{
	uint64_t off = (uint64_t)((const uint8_t *)raw - p->base);

	if ((const uint8_t *)raw < p->base || off % p->slot ||
	    off / p->slot >= p->nbufs)
		return -1;
	return (int64_t)(off / p->slot);
}

static void waiter_unlink(struct hb_mem_iob_pool *p, struct iob_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		p->whead = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		p->wtail = w->prev;
	p->nwaiters--;
}

static bool may_take(const struct hb_mem_iob_pool *p, bool throttled)
{
	return p->nfree > (throttled ? p->throttle : 0);
}

/* Give back raw slot @raw: to a waiter, or onto the stack. */
static int raw_free(struct hb_mem_iob_pool *p, void *raw)
{
	int64_t i = slot_of(p, raw);
	struct iob_waiter *w;

	if (i < 0)
		return -EFAULT;
	pthread_mutex_lock(&p->lock);
	if (!p->out[i]) {
		pthread_mutex_unlock(&p->lock);
		return -EFAULT;
	}
	/* a throttled waiter may take it if the reserve stays whole */
	for (w = p->whead; w; w = w->next)
		if (!w->throttled || p->nfree >= p->throttle)
			break;
	if (w) {
		waiter_unlink(p, w);
		w->buf = raw;
		p->handoffs++;
		pthread_cond_signal(&w->cond);
	} else {
		p->out[i] = 0;
		p->stack[p->nfree++] = (uint32_t)i;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void iob_dbg_release(struct hbmem_dbg_owner *o, void *raw)
{
	struct hb_mem_iob_pool *p = (struct hb_mem_iob_pool *)((uint8_t *)o -
					offsetof(struct hb_mem_iob_pool, dbg));

	raw_free(p, raw);
}

/* A raw slot, waiting up to @timeout_ms. NULL + errno. */
static void *raw_alloc(struct hb_mem_iob_pool *p, bool throttled,
		       int64_t timeout_ms)
{
	struct iob_waiter w = { .throttled = throttled };
	pthread_condattr_t attr;
	struct timespec deadline;
	uint32_t i;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (may_take(p, throttled)) {
		i = p->stack[--p->nfree];
		p->out[i] = 1;
		pthread_mutex_unlock(&p->lock);
		return p->base + (uint64_t)i * p->slot;
	}
	if (timeout_ms == 0) {
		pthread_mutex_unlock(&p->lock);
		return _hbmem_null_errno(-EAGAIN);
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &attr);
	pthread_condattr_destroy(&attr);
	if (timeout_ms > 0)
		_hbmem_deadline(timeout_ms, &deadline);
	w.prev = p->wtail;
	if (p->wtail)
		p->wtail->next = &w;
	else
		p->whead = &w;
	p->wtail = &w;
	p->nwaiters++;
	while (!w.buf && rc != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&w.cond, &p->lock);
		else
			rc = pthread_cond_timedwait(&w.cond, &p->lock,
						    &deadline);
	}
	if (!w.buf)
		waiter_unlink(p, &w);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&w.cond);
	return w.buf ? w.buf : _hbmem_null_errno(-ETIMEDOUT);
}

static void *iob_alloc(struct hb_mem_iob_pool *p, int throttled,
		       int64_t timeout_ms, const char *file, int line)
{
	uint32_t opts;
	void *raw;

	if (!p)
		return _hbmem_null_errno(-EINVAL);
	raw = raw_alloc(p, throttled != 0, timeout_ms);
	if (!raw)
		return NULL;
	/* a fixed pool has no spare blocks to hold back: no quarantine */
	opts = _hbmem_dbg_options() & ~(uint32_t)HB_MEM_DEBUG_QUARANTINE;
	if (!p->front)
		opts &= ~(uint32_t)HB_MEM_DEBUG_REDZONE;
	if (!opts)
		return (uint8_t *)raw + p->front;
	return _hbmem_dbg_alloc(&p->dbg, opts, raw, p->front, p->bufsize, file,
				line);
}

static int iob_free(struct hb_mem_iob_pool *p, void *buf)
{
	void *raw;
	int ret;

	if (_hbmem_dbg_tracking(&p->dbg)) {
		ret = _hbmem_dbg_free(&p->dbg, buf, &raw);
		if (ret < 0)
			return ret;
		if (ret > 0)
			return raw ? raw_free(p, raw) : 0;
	}
	if ((uint8_t *)buf < p->base + p->front)
		return -EFAULT;
	return raw_free(p, (uint8_t *)buf - p->front);
}

static int iob_validate(struct hb_mem_iob_pool *p)
{
	uint32_t i, out = 0, waiters = 0;
	struct iob_waiter *w;
	uint8_t *seen;
	int ret = 0;

	seen = calloc(p->nbufs, 1);
	if (!seen)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nbufs; i++)
		out += p->out[i];
	for (i = 0; i < p->nfree && !ret; i++) {
		uint32_t k = p->stack[i];

		if (k >= p->nbufs || p->out[k] || seen[k]++)
			ret = -EINVAL;
	}
	for (w = p->whead; w; w = w->next)
		waiters++;
	if (out + p->nfree != p->nbufs || waiters != p->nwaiters)
		ret = -EINVAL;
	/* nobody waits while a buffer they may take is free */
	for (w = p->whead; w && !ret; w = w->next)
		if (may_take(p, w->throttled))
			ret = -EINVAL;
	pthread_mutex_unlock(&p->lock);
	free(seen);
	if (ret)
		hbmem_err_log("iob pool %p: inconsistent free list", (void *)p);
	return ret;
}

/* ---- public API ------------------------------------------------------- */

HBMEM_EXPORT int32_t hb_mem_iob_pool_create(uint32_t nbuffers,
					    uint32_t bufsize, uint32_t align,
					    uint32_t throttle, int64_t flags,
					    hb_mem_iob_pool_t **pool)
{
	uint32_t opts = _hbmem_dbg_options();
	struct hb_mem_iob_pool *p;
	uint64_t slot, total, pad;
	uint32_t i;
	int ret;

	if (!pool || nbuffers == 0 || bufsize == 0 || throttle >= nbuffers ||
	    (align && (!_hbmem_is_pow2(align) || align > 65536)))
		return HB_MEM_ERR_INVALID_PARAMS;
	if (!align)
		align = 64;
	p = calloc(1, sizeof(*p));
	if (!p)
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	p->front = (uint32_t)_hbmem_dbg_front(opts, align);
	p->back = (uint32_t)_hbmem_dbg_back(opts);
	slot = _hbmem_align_up((uint64_t)p->front + bufsize + p->back, align);
	if (slot > UINT32_MAX || slot * nbuffers / nbuffers != slot) {
		ret = -EINVAL;
		goto err_free;
	}
	total = slot * nbuffers;
	p->stack = calloc(nbuffers, sizeof(*p->stack));
	p->out = calloc(nbuffers, 1);
	if (!p->stack || !p->out) {
		ret = -ENOMEM;
		goto err_free;
	}
	/* the buffer is only page aligned: room to align the first slot */
	pad = align > hbmem_page_size ? align - hbmem_page_size : 0;
	ret = _hbmem_region_alloc(total + pad, flags, &p->region);
	if (ret < 0)
		goto err_free;
	p->base = (uint8_t *)(uintptr_t)_hbmem_align_up(
		(uintptr_t)p->region.base, align);
	if ((uint64_t)(p->base - p->region.base) > pad) {
		/* a backend whose mappings are not page aligned */
		_hbmem_region_free(&p->region);
		ret = -ENOMEM;
		goto err_free;
	}
	pthread_mutex_init(&p->lock, NULL);
	_hbmem_dbg_owner_init(&p->dbg, HBMEM_DBG_IOB, "iob", iob_dbg_release);
	p->nbufs = nbuffers;
	p->bufsize = bufsize;
	p->slot = (uint32_t)slot;
	p->throttle = throttle;
	/* lowest addresses on top of the stack */
	for (i = 0; i < nbuffers; i++)
		p->stack[i] = nbuffers - 1 - i;
	p->nfree = nbuffers;
	*pool = p;
	return 0;

err_free:
	free(p->stack);
	free(p->out);
	free(p);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_iob_pool_destroy(hb_mem_iob_pool_t *pool)
{
	bool busy;

	if (!pool)
		return HB_MEM_ERR_INVALID_PARAMS;
	pthread_mutex_lock(&pool->lock);
	busy = pool->nfree != pool->nbufs || pool->nwaiters;
	pthread_mutex_unlock(&pool->lock);
	if (busy)
		return HB_MEM_ERR_POOL_BUSY;
	_hbmem_dbg_owner_fini(&pool->dbg);
	_hbmem_region_free(&pool->region);
	pthread_mutex_destroy(&pool->lock);
	free(pool->stack);
	free(pool->out);
	free(pool);
	return 0;
}

HBMEM_EXPORT void *hb_mem_iob_alloc_at(hb_mem_iob_pool_t *pool, int throttled,
				       int64_t timeout_ms, const char *file,
				       int line)
{
	return iob_alloc(pool, throttled, timeout_ms, file, line);
}

HBMEM_EXPORT void *(hb_mem_iob_alloc)(hb_mem_iob_pool_t *pool, int throttled,
				      int64_t timeout_ms)
{
	return iob_alloc(pool, throttled, timeout_ms, NULL, 0);
}

HBMEM_EXPORT void *(hb_mem_iob_tryalloc)(hb_mem_iob_pool_t *pool,
					 int throttled)
{
	return iob_alloc(pool, throttled, 0, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_iob_free(hb_mem_iob_pool_t *pool, void *buf)
{
	if (!pool)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (!buf)
		return HB_MEM_ERR_INVALID_VADDR;
	return _hbmem_err(iob_free(pool, buf));
}

HBMEM_EXPORT int32_t hb_mem_iob_info(hb_mem_iob_pool_t *pool,
				     hb_mem_iob_info_t *info)
{
	if (!pool || !info)
		return HB_MEM_ERR_INVALID_PARAMS;
	pthread_mutex_lock(&pool->lock);
	info->nbuffers = pool->nbufs;
	info->bufsize = pool->bufsize;
	info->throttle = pool->throttle;
	info->nfree = pool->nfree;
	info->waiters = pool->nwaiters;
	info->handoffs = pool->handoffs;
	pthread_mutex_unlock(&pool->lock);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_iob_check(hb_mem_iob_pool_t *pool)
{
	if (!pool)
		return HB_MEM_ERR_INVALID_PARAMS;
	return _hbmem_err(iob_validate(pool));
}
