// SPDX-License-Identifier: MIT
/*
 * The local pool: one buffer, sub-allocated in user space.
 *
 * A pool is one ordinary allocation (an obj of kind POOL in the registry,
 * so hb_mem_get_com_buf() and the lookups by address see it) plus a
 * struct hbmem_pool: a TLSF allocator over the buffer's pages (tlsf.c,
 * metadata out of band, since the buffer may be device memory) and a tiny
 * LIFO cache of freed one-page runs, which makes the commonest request
 * (anything up to a page) a pop and a push.
 *
 * Locking. hb_mem_pool_alloc_buf(), hb_mem_pool_free_buf() and
 * hb_mem_pool_get_info() never take hbmem_lock: they find the pool in two
 * tables of their own and take only that pool's lock: a biased spinlock
 * (spinlock.h), which the thread that created the pool takes without any
 * atomic instruction until another thread first uses the pool.
 *
 *   by_fd     array indexed by fd -> pool             one load
 *   by_addr   array of {base, end, pool} sorted by    bisection, read under
 *             base                                    a sequence counter
 *   hint      the pool the last free went to          tried first by frees
 *
 * Both are changed only under hbmem_lock (create, destroy, module close).
 * A table that has to grow is copied and the old copy is kept (on a
 * "retired" list, never freed: each copy is at most half the next one), so
 * a reader never touches freed memory. Pool structs are never freed either:
 * a destroyed one is marked dead under its own lock and kept for the next
 * create. A reader therefore always locks a valid struct and then checks,
 * under that lock, that it is live and is the pool it was looking for;
 * if not, it looks again. What a dead pool owned (its TLSF arrays) is freed
 * at destroy, so what is kept is a few hundred bytes per pool that was ever
 * live at the same time.
 *
 * Lock order: hbmem_lock, then a pool's lock. The fast path takes only the
 * latter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"
#include "spinlock.h"
#include "hb_mem_alloc.h"
#include "alloc/debug.h"
#include "hb_mem_err.h"
#include "tlsf.h"

/* Freed one-page runs kept back from TLSF (bounds the cost of a flush). */
#define POOL_CACHE 16

struct hbmem_pool {
	struct hbmem_block lock;	/* spinlock.h; guards all below */
	bool live;
	int32_t fd;
	unsigned int shift;	/* log2 of the page size */
	uint64_t page;		/* 1 << shift */
	uint8_t *base;
	uint64_t len;		/* bytes: npages << shift */
	/*
	 * base, len and fd while live; len 0 and fd -1 once dead, so that
	 * one comparison checks both that an address or fd is the pool's and
	 * that the pool is live. seen_* are read without the lock too.
	 */
	uint64_t seen_base, seen_len;
	int32_t live_fd;
	uint64_t phys_delta;	/* phys - base: a sub-allocation's phys - virt */
	uint64_t phys;
	int64_t flags;		/* as given to create */
	/*
	 * the first 16 bytes of every sub-allocation's descriptor (fd,
	 * share_id, flags | HB_MEM_USAGE_MEM_POOL), copied in one move
	 */
	struct {
		int32_t fd, share_id;
		int64_t flags;
	} desc_head;
	bool dbg_seen;		/* the debug hooks recorded a block of it */
	uint32_t ncache;
	/*
	 * addresses of cached runs: a free stores its argument and an alloc
	 * hands the address out, so neither converts on the way through
	 */
	uint8_t *cache[POOL_CACHE];
	struct hbmem_tlsf tlsf;
	struct hbmem_obj *obj;	/* the backing buffer (hbmem_lock) */
	struct hbmem_pool *next_spare;	/* (hbmem_lock) */
} __attribute__((aligned(64)));

static inline void pool_lock(struct hbmem_pool *p)
{
	hbmem_block_take(&p->lock);
}

static inline void pool_unlock(struct hbmem_pool *p)
{
	hbmem_block_drop(&p->lock);
}

/*
 * Live sub-allocations: the used runs but those parked in the cache
 * (marked). Derived, so the fast paths keep no count. Lock held.
 */
static inline uint32_t pool_clients(const struct hbmem_pool *p)
{
	return p->tlsf.used_runs - p->ncache;
}

/* ---- the tables ---------------------------------------------------------- */

struct retired {
	struct retired *next;
};

struct fd_index {
	struct retired r;
	uint32_t cap;
	struct hbmem_pool *slot[];
};

struct addr_entry {
	uint64_t base, end;
	struct hbmem_pool *pool;
};

struct addr_index {
	struct retired r;
	uint32_t cap;
	struct addr_entry e[];
};

/* an empty table to start from spares the fast path a NULL check */
static struct fd_index fd_none;
static struct fd_index *by_fd = &fd_none;
static struct addr_index *by_addr;
static uint32_t naddr;		/* live entries of by_addr */
static uint32_t addr_seq;	/* odd while by_addr changes */
static struct retired *retired;
static struct hbmem_pool *spare;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
/*
 * by_addr's sequence counter without fences (which TSan cannot model):
 * the writer stores the entries with release, readers load them with
 * acquire, so a reader that saw any new entry also sees the counter moved.
 * Both are plain moves on x86.
 */
#define LOAD_ACQ(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE_REL(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static void retire(struct retired *r)
{
	if (r) {
		r->next = retired;
		retired = r;
	}
}

static uint32_t cap_for(uint64_t need)
{
	uint64_t cap = 16;

	while (cap < need)
		cap *= 2;
	return cap > UINT32_MAX ? 0 : (uint32_t)cap;
}

/* Make by_fd[fd] exist. hbmem_lock held. */
static int fd_reserve(int fd)
{
	struct fd_index *old = by_fd, *n;
	uint32_t cap, i;

	if (fd < 0)
		return -EBADF;
	if ((uint32_t)fd < old->cap)
		return 0;
	cap = cap_for((uint64_t)fd + 1);
	if (!cap)
		return -ENOMEM;
	n = calloc(1, sizeof(*n) + cap * sizeof(n->slot[0]));
	if (!n)
		return -ENOMEM;
	n->cap = cap;
	for (i = 0; i < old->cap; i++)
		n->slot[i] = LOAD(old->slot[i]);
	__atomic_store_n(&by_fd, n, __ATOMIC_RELEASE);
	retire(old != &fd_none ? &old->r : NULL);
	return 0;
}

/* Room for one more by_addr entry. hbmem_lock held. */
static int addr_reserve(void)
{
	struct addr_index *old = by_addr, *n;
	uint32_t cap, i;

	if (old && naddr < old->cap)
		return 0;
	cap = cap_for((uint64_t)naddr + 1);
	if (!cap)
		return -ENOMEM;
	n = calloc(1, sizeof(*n) + cap * sizeof(n->e[0]));
	if (!n)
		return -ENOMEM;
	n->cap = cap;
	for (i = 0; i < naddr; i++) {
		n->e[i].base = LOAD(old->e[i].base);
		n->e[i].end = LOAD(old->e[i].end);
		n->e[i].pool = LOAD(old->e[i].pool);
	}
	/* readers holding the old copy still see a consistent table */
	__atomic_store_n(&by_addr, n, __ATOMIC_RELEASE);
	retire(old ? &old->r : NULL);
	return 0;
}

static void seq_begin(void)
{
	STORE(addr_seq, addr_seq + 1);	/* odd: readers retry */
}

static void seq_end(void)
{
	__atomic_store_n(&addr_seq, addr_seq + 1, __ATOMIC_RELEASE);
}

static void entry_copy(struct addr_entry *to, const struct addr_entry *from)
{
	STORE_REL(to->base, LOAD(from->base));
	STORE_REL(to->end, LOAD(from->end));
	STORE_REL(to->pool, LOAD(from->pool));
}

/* Publish live pool @p (room reserved). hbmem_lock held. */
static void table_insert(struct hbmem_pool *p)
{
	struct addr_index *a = by_addr;
	uint64_t base = (uint64_t)(uintptr_t)p->base;
	uint32_t pos = 0, i;

	while (pos < naddr && a->e[pos].base < base)
		pos++;
	seq_begin();
	for (i = naddr; i > pos; i--)
		entry_copy(&a->e[i], &a->e[i - 1]);
	STORE_REL(a->e[pos].base, base);
	STORE_REL(a->e[pos].end, base + p->len);
	STORE_REL(a->e[pos].pool, p);
	STORE_REL(naddr, naddr + 1);
	seq_end();
	__atomic_store_n(&by_fd->slot[p->fd], p, __ATOMIC_RELEASE);
}

static void table_remove(struct hbmem_pool *p)
{
	struct addr_index *a = by_addr;
	uint32_t pos, i;

	if ((uint32_t)p->fd < by_fd->cap &&
	    LOAD(by_fd->slot[p->fd]) == p)
		STORE(by_fd->slot[p->fd], NULL);
	for (pos = 0; pos < naddr; pos++)
		if (a->e[pos].pool == p)
			break;
	if (pos == naddr)
		return;
	seq_begin();
	for (i = pos; i + 1 < naddr; i++)
		entry_copy(&a->e[i], &a->e[i + 1]);
	STORE_REL(naddr, naddr - 1);
	seq_end();
}

static struct hbmem_pool *fd_lookup(int32_t fd)
{
	struct fd_index *t = __atomic_load_n(&by_fd, __ATOMIC_ACQUIRE);

	/* a negative fd wraps to a huge index */
	if ((uint32_t)fd >= t->cap)
		return NULL;
	return __atomic_load_n(&t->slot[fd], __ATOMIC_ACQUIRE);
}

static struct hbmem_pool *addr_lookup(uint64_t addr)
{
	unsigned int spins = 0;

	for (;;) {
		uint32_t s = __atomic_load_n(&addr_seq, __ATOMIC_ACQUIRE);
		struct hbmem_pool *hit = NULL;

		if (!(s & 1)) {
			struct addr_index *a =
				__atomic_load_n(&by_addr, __ATOMIC_ACQUIRE);
			uint32_t lo = 0, hi = a ? LOAD_ACQ(naddr) : 0;

			if (a && hi > a->cap)
				hi = a->cap;
			/* the last entry whose base is <= addr */
			while (lo < hi) {
				uint32_t mid = lo + (hi - lo) / 2;

				if (LOAD_ACQ(a->e[mid].base) <= addr)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo && addr < LOAD_ACQ(a->e[lo - 1].end))
				hit = LOAD_ACQ(a->e[lo - 1].pool);
			if (LOAD(addr_seq) == s)
				return hit;
		}
		hbmem_spin_wait(&spins);
	}
}

/*
 * The live pool @fd, locked, or NULL. A pool struct found in the table may
 * have died (or been reused) since: that is settled under its lock, and
 * the slow path looks again.
 */
static __attribute__((noinline)) struct hbmem_pool *
pool_get_fd_slow(int32_t fd, struct hbmem_pool *seen)
{
	struct hbmem_pool *p;

	while ((p = fd_lookup(fd)) != NULL && p != seen) {
		pool_lock(p);
		if (p->live && p->fd == fd)
			return p;
		pool_unlock(p);
		seen = p;
	}
	return NULL;	/* gone, or still the dead one: being destroyed */
}

static inline struct hbmem_pool *pool_get_fd(int32_t fd)
{
	struct hbmem_pool *p = fd_lookup(fd);

	if (!p)
		return NULL;
	pool_lock(p);
	if (__builtin_expect(p->live && p->fd == fd, 1))
		return p;
	pool_unlock(p);
	return pool_get_fd_slow(fd, p);
}

/*
 * The pool the last free went to: frees nearly always go to the same pool
 * as the one before, and checking it under its lock (which the free takes
 * anyway) costs less than the table. Any struct it points to stays valid.
 */
static struct hbmem_pool *hint;

static inline bool pool_has(const struct hbmem_pool *p, uint64_t addr)
{
	return p->live && addr - (uint64_t)(uintptr_t)p->base < p->len;
}

/*
 * The live pool holding @addr, locked, or NULL: the hint if it holds it,
 * else the one the table names.
 */
static __attribute__((noinline)) struct hbmem_pool *
pool_get_addr(uint64_t addr)
{
	struct hbmem_pool *p = __atomic_load_n(&hint, __ATOMIC_ACQUIRE),
			  *seen = NULL;

	/* a glance without the lock keeps frees off other pools' locks */
	if (p && addr - LOAD(p->seen_base) < LOAD(p->seen_len)) {
		pool_lock(p);
		if (pool_has(p, addr))
			return p;
		pool_unlock(p);
	}
	while ((p = addr_lookup(addr)) != NULL && p != seen) {
		pool_lock(p);
		if (pool_has(p, addr)) {
			__atomic_store_n(&hint, p, __ATOMIC_RELEASE);
			return p;
		}
		pool_unlock(p);
		seen = p;
	}
	return NULL;
}

/* ---- sub-allocation (pool lock held) ------------------------------------- */

static inline bool size_is_live(uint32_t s)
{
	return s != 0 && !(s & (HBMEM_TLSF_FREE | HBMEM_TLSF_MARK));
}

static inline bool run_is_live(const struct hbmem_pool *p, uint32_t b)
{
	return b < p->tlsf.npages && size_is_live(p->tlsf.blk[b].size);
}

/* The address of page @b. */
static inline uint8_t *run_addr(const struct hbmem_pool *p, uint32_t b)
{
	return p->base + ((uint64_t)b << p->shift);
}

/* The page where cached run @v starts. */
static inline uint32_t cache_page(const struct hbmem_pool *p, const uint8_t *v)
{
	return (uint32_t)((uint64_t)(v - p->base) >> p->shift);
}

static void cache_flush(struct hbmem_pool *p)
{
	while (p->ncache)
		_hbmem_tlsf_free(&p->tlsf,
				 cache_page(p, p->cache[--p->ncache]));
}

static __attribute__((noinline)) uint32_t pool_take_tlsf(struct hbmem_pool *p,
							 uint32_t pages)
{
	uint32_t b = _hbmem_tlsf_alloc(&p->tlsf, pages);

	if (b == HBMEM_TLSF_NONE && p->ncache) {
		/* the cached pages may be what keeps a run from forming */
		cache_flush(p);
		b = _hbmem_tlsf_alloc(&p->tlsf, pages);
	}
	return b;
}

static inline uint32_t pool_take(struct hbmem_pool *p, uint32_t pages)
{
	uint32_t b;

	if (pages == 1 && p->ncache) {
		b = cache_page(p, p->cache[--p->ncache]);
		p->tlsf.blk[b].size = 1;
		return b;
	}
	return pool_take_tlsf(p, pages);
}

/* Free live run @b, whose size entry is @s. */
static inline void pool_give(struct hbmem_pool *p, uint32_t b, uint32_t s)
{
	if (s == 1 && p->ncache < POOL_CACHE) {
		p->tlsf.blk[b].size = 1 | HBMEM_TLSF_MARK;
		p->cache[p->ncache++] = run_addr(p, b);
		return;
	}
	_hbmem_tlsf_free(&p->tlsf, b);
}

_Static_assert(offsetof(hb_mem_common_buf_t, fd) == 0 &&
		       offsetof(hb_mem_common_buf_t, share_id) == 4 &&
		       offsetof(hb_mem_common_buf_t, flags) == 8 &&
		       offsetof(hb_mem_common_buf_t, size) == 16,
	       "desc_head is the descriptor's first 16 bytes");

/* Describe the sub-allocation at @v, @size bytes, into @d. */
static inline void sub_desc(const struct hbmem_pool *p, uint8_t *v,
			    uint64_t size, hb_mem_common_buf_t *d)
{
	memcpy(d, &p->desc_head, sizeof(p->desc_head));
	d->size = size;
	d->virt_addr = v;
	d->phys_addr = (uint64_t)(uintptr_t)v + p->phys_delta;
	d->offset = 0;
}

static void pool_info(const struct hbmem_pool *p, hb_mem_pool_t *info)
{
	memset(info, 0, sizeof(*info));
	info->flags = p->flags;
	info->size = p->len;
	info->fd = p->fd;
	info->page_size = (int32_t)(1u << p->shift);
	info->total_page_cnt = (int32_t)p->tlsf.npages;
	info->avail_page_cnt = (int32_t)(p->tlsf.free_pages + p->ncache);
	info->cur_client_cnt = (int32_t)pool_clients(p);
}

/* ---- create and destroy (hbmem_lock held) -------------------------------- */

static struct hbmem_pool *slot_get(void)
{
	struct hbmem_pool *p = spare;

	if (p) {
		spare = p->next_spare;
		p->next_spare = NULL;
		return p;
	}
	p = aligned_alloc(64, sizeof(*p));
	if (p)
		memset(p, 0, sizeof(*p));
	return p;
}

static void slot_put(struct hbmem_pool *p)
{
	p->next_spare = spare;
	spare = p;
}

static int pool_create_locked(uint64_t size, int64_t flags,
			      struct hbmem_pool **out)
{
	unsigned int shift = (unsigned int)__builtin_ctzl(hbmem_page_size);
	uint64_t len = hbmem_page_round(size);
	struct hbmem_tlsf t;
	struct hbmem_pool *p;
	struct hbmem_mem *mem;
	struct hbmem_obj *obj;
	int ret;

	if (len < size || (len >> shift) > HBMEM_TLSF_MAX_PAGES)
		return -ENOMEM;
	ret = _hbmem_tlsf_init(&t, (uint32_t)(len >> shift));
	if (ret < 0)
		return ret;
	/* reads $HBMEM_ALLOC_DEBUG, so that pool_alloc() may just look */
	(void)_hbmem_dbg_options();
	ret = addr_reserve();
	if (ret < 0)
		goto err_fini;
	p = slot_get();
	if (!p) {
		ret = -ENOMEM;
		goto err_fini;
	}
	obj = calloc(1, sizeof(*obj));
	if (!obj) {
		ret = -ENOMEM;
		goto err_put_slot;
	}
	ret = _hbmem_mem_alloc(len, flags, "pool", &mem);
	if (ret < 0)
		goto err_free_obj;
	ret = fd_reserve(mem->fd);
	if (ret < 0)
		goto err_release_mem;

	obj->kind = HBMEM_OBJ_POOL;
	obj->nmem = 1;
	obj->mem[0] = mem;
	obj->priv = p;
	mem->obj = obj;
	_hbmem_com_desc_fill(&obj->u.com, mem, flags);
	_hbmem_obj_link(obj);

	/* a stale reader may lock this struct at any time: fill it locked */
	pool_lock(p);
	p->fd = mem->fd;
	p->shift = shift;
	p->page = (uint64_t)1 << shift;
	p->base = mem->vaddr;
	p->len = len;
	p->phys = mem->phys;
	p->flags = flags;
	p->desc_head.fd = p->fd;
	p->desc_head.share_id = mem->share->id;
	p->desc_head.flags = flags | HB_MEM_USAGE_MEM_POOL;
	p->ncache = 0;
	p->dbg_seen = false;
	p->tlsf = t;
	p->obj = obj;
	p->live = true;
	p->live_fd = p->fd;
	STORE(p->seen_base, (uint64_t)(uintptr_t)p->base);
	STORE(p->seen_len, len);
	p->phys_delta = p->phys - (uint64_t)(uintptr_t)p->base;
	/* the creating thread takes the pool's lock with no atomics */
	hbmem_block_bias(&p->lock);
	pool_unlock(p);
	table_insert(p);
	*out = p;
	return 0;

err_release_mem:
	_hbmem_mem_release(mem);
err_free_obj:
	free(obj);
err_put_slot:
	slot_put(p);
err_fini:
	_hbmem_tlsf_fini(&t);
	return ret;
}

/*
 * Take pool @p out of service: -EBUSY while it has sub-allocations, unless
 * @force. Its obj (the backing buffer) is left to the caller.
 */
static int pool_kill(struct hbmem_pool *p, bool force)
{
	struct hbmem_tlsf t;

	pool_lock(p);
	if (pool_clients(p) > 0 && !force) {
		pool_unlock(p);
		return -EBUSY;
	}
	p->live = false;
	p->live_fd = -1;
	STORE(p->seen_len, 0);
	t = p->tlsf;
	memset(&p->tlsf, 0, sizeof(p->tlsf));
	p->ncache = 0;
	pool_unlock(p);
	/* nobody reaches the arrays of a dead pool: free them unlocked */
	_hbmem_tlsf_fini(&t);
	/* a forced destroy: its live sub-allocations go with it */
	_hbmem_dbg_forget_range(HBMEM_DBG_POOL, p->base, p->len);
	table_remove(p);
	p->obj->priv = NULL;
	p->obj = NULL;
	slot_put(p);
	return 0;
}

/* ---- API ----------------------------------------------------------------- */

HBMEM_EXPORT int32_t hb_mem_pool_create(uint64_t size, int64_t flags,
					hb_mem_pool_t *pool)
{
	struct hbmem_pool *p;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!pool || size == 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = pool_create_locked(size, flags, &p);
	if (ret == 0) {
		pool_lock(p);
		pool_info(p, pool);
		pool_unlock(p);
	}
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* The pool behind @fd in the registry, or NULL. hbmem_lock held. */
static struct hbmem_pool *pool_of_fd_locked(int32_t fd)
{
	struct hbmem_mem *mem = _hbmem_mem_by_fd(fd);

	if (!mem || mem->obj->kind != HBMEM_OBJ_POOL)
		return NULL;
	return mem->obj->priv;
}

HBMEM_EXPORT int32_t hb_mem_pool_destroy(int32_t fd)
{
	struct hbmem_pool *p;
	struct hbmem_obj *obj;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	p = pool_of_fd_locked(fd);
	if (!p) {
		_hbmem_leave();
		return HB_MEM_ERR_POOL_NOT_FOUND;
	}
	obj = p->obj;
	ret = pool_kill(p, false);
	if (ret == 0)
		_hbmem_obj_free(obj);
	_hbmem_leave();
	return ret == -EBUSY ? HB_MEM_ERR_POOL_BUSY : _hbmem_err(ret);
}

/*
 * The fast paths ask whether the module is open only when they fail: a
 * live pool implies an open module, since the last close destroys every
 * pool before it closes.
 */
static int32_t closed_or(int32_t err)
{
	return _hbmem_is_open() ? err : HB_MEM_ERR_MODULE_NOT_FOUND;
}

/*
 * The rest of an allocation from @p, locked (its lock mode in
 * p->lock.held_biased); unlocks it.
 */
static int32_t pool_alloc_in(struct hbmem_pool *p, uint64_t size,
			     hb_mem_common_buf_t *buf, const char *file,
			     int line)
{
	bool record;
	uint32_t b;

	if (size > p->len) {
		pool_unlock(p);
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	}
	/* size <= len < 2^42: neither the rounding nor the page count wraps */
	b = pool_take(p, (uint32_t)((size + (1u << p->shift) - 1) >> p->shift));
	if (b == HBMEM_TLSF_NONE) {
		pool_unlock(p);
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	}
	p->tlsf.blk[b].u.tag = size;
	sub_desc(p, run_addr(p, b), size, buf);
	/*
	 * The environment was read at create: a load tells whether the
	 * hooks want this block, and the pool remembers that they saw one,
	 * so that its frees skip the hooks until then.
	 */
	record = __atomic_load_n(&_hbmem_dbg_opts, __ATOMIC_RELAXED) &
		 (HB_MEM_DEBUG_SITES | HB_MEM_DEBUG_BACKTRACE);
	if (__builtin_expect(record, 0))
		p->dbg_seen = true;
	pool_unlock(p);
	if (__builtin_expect(record, 0))
		_hbmem_dbg_on_alloc(HBMEM_DBG_POOL, buf->virt_addr, size,
				    file, line);
	return 0;
}

/* hb_mem_pool_alloc_buf(), telling the debug hooks the caller's site. */
static __attribute__((noinline)) int32_t
pool_alloc(int32_t fd, uint64_t size, hb_mem_common_buf_t *buf,
	   const char *file, int line)
{
	struct hbmem_pool *p;

	if (!buf || size == 0)
		return closed_or(HB_MEM_ERR_INVALID_PARAMS);
	p = pool_get_fd(fd);
	if (!p)
		return closed_or(HB_MEM_ERR_POOL_NOT_FOUND);
	return pool_alloc_in(p, size, buf, file, line);
}

/*
 * The fast path: one page, from the run cache, by the thread that owns the
 * pool's lock's bias, with the debug hooks off: the commonest request, in
 * straight-line code that needs no registers saved. Anything else takes
 * pool_alloc(), which locks the pool the general way.
 */
HBMEM_EXPORT int32_t hb_mem_pool_alloc_buf(int32_t fd, uint64_t size,
					   hb_mem_common_buf_t *buf)
{
	struct hbmem_pool *p = fd_lookup(fd);
	struct hbmem_tlsf_block *blk;
	uint8_t *v;
	uint32_t n;

	if (__builtin_expect(p && buf && hbmem_block_enter_biased(&p->lock),
			     1)) {
		n = p->ncache;
		/* size 0 wraps to a huge value: the general path refuses it */
		if (__builtin_expect(p->live_fd == fd && n != 0 &&
				     size - 1 < p->page &&
				     !(__atomic_load_n(&_hbmem_dbg_opts,
						       __ATOMIC_RELAXED) &
				       (HB_MEM_DEBUG_SITES |
					HB_MEM_DEBUG_BACKTRACE)),
				     1)) {
			v = p->cache[--n];
			p->ncache = n;
			blk = &p->tlsf.blk[cache_page(p, v)];
			blk->size = 1;
			blk->u.tag = size;
			sub_desc(p, v, size, buf);
			hbmem_block_leave(&p->lock, true);
			return 0;
		}
		hbmem_block_leave(&p->lock, true);
	}
	return pool_alloc(fd, size, buf, NULL, 0);
}

HBMEM_EXPORT int32_t hb_mem_pool_alloc_buf_at(int32_t fd, uint64_t size,
					      hb_mem_common_buf_t *buf,
					      const char *file, int line)
{
	return pool_alloc(fd, size, buf, file, line);
}

/*
 * The rest of freeing @virt_addr, at @off in @p, locked (its lock mode in
 * p->lock.held_biased); unlocks it.
 */
static int32_t pool_free_in(struct hbmem_pool *p, uint64_t virt_addr,
			    uint64_t off)
{
	uint32_t b = (uint32_t)(off >> p->shift), s;
	bool recorded;

	/* off < len: b is a page of the pool */
	s = p->tlsf.blk[b].size;
	/* only the start of a live sub-allocation: not inside, not twice */
	if ((off & ((1u << p->shift) - 1)) || !size_is_live(s)) {
		pool_unlock(p);
		return HB_MEM_ERR_INVALID_VADDR;
	}
	pool_give(p, b, s);
	recorded = p->dbg_seen;
	pool_unlock(p);
	if (__builtin_expect(recorded, 0))
		_hbmem_dbg_on_free(HBMEM_DBG_POOL,
				   (const void *)(uintptr_t)virt_addr);
	return 0;
}

/* Free @virt_addr, which the fast path did not take. */
static __attribute__((noinline)) int32_t pool_free(uint64_t virt_addr)
{
	struct hbmem_pool *p = pool_get_addr(virt_addr);

	if (!p)
		return closed_or(HB_MEM_ERR_INVALID_VADDR);
	return pool_free_in(p, virt_addr,
			    virt_addr - (uint64_t)(uintptr_t)p->base);
}

/*
 * The fast path: a one-page run of the pool the last free went to, back
 * into its cache, by the thread that owns the pool's lock's bias, with no
 * debug record to drop. Anything else takes pool_free(), which looks the
 * pool up and locks it the general way.
 */
HBMEM_EXPORT int32_t hb_mem_pool_free_buf(uint64_t virt_addr)
{
	struct hbmem_pool *p = __atomic_load_n(&hint, __ATOMIC_ACQUIRE);
	struct hbmem_tlsf_block *blk;
	uint64_t off;
	uint32_t n;

	if (__builtin_expect(p && hbmem_block_enter_biased(&p->lock), 1)) {
		off = virt_addr - (uint64_t)(uintptr_t)p->base;
		n = p->ncache;
		if (__builtin_expect(off < LOAD(p->seen_len) &&
				     !(off & (p->page - 1)) &&
				     n < POOL_CACHE && !p->dbg_seen,
				     1)) {
			blk = &p->tlsf.blk[off >> p->shift];
			if (__builtin_expect(blk->size == 1, 1)) {
				blk->size = 1 | HBMEM_TLSF_MARK;
				p->cache[n] = (uint8_t *)(uintptr_t)virt_addr;
				p->ncache = n + 1;
				hbmem_block_leave(&p->lock, true);
				return 0;
			}
		}
		hbmem_block_leave(&p->lock, true);
	}
	return pool_free(virt_addr);
}

HBMEM_EXPORT int32_t hb_mem_pool_get_info(int32_t fd, hb_mem_pool_t *pool)
{
	struct hbmem_pool *p;

	if (!pool)
		return closed_or(HB_MEM_ERR_INVALID_PARAMS);
	p = pool_get_fd(fd);
	if (!p)
		return closed_or(HB_MEM_ERR_POOL_NOT_FOUND);
	pool_info(p, pool);
	pool_unlock(p);
	return 0;
}

/* ---- hooks for the core -------------------------------------------------- */

int _hbmem_pool_release(struct hbmem_obj *obj)
{
	struct hbmem_pool *p = obj->priv;

	return p ? pool_kill(p, false) : 0;
}

int _hbmem_pool_find_buf(struct hbmem_obj *obj, uint64_t addr,
			 hb_mem_common_buf_t *out)
{
	struct hbmem_pool *p = obj->priv;
	uint64_t off;
	uint32_t b;
	int ret = -ENOENT;

	if (!p)
		return -ENOENT;
	pool_lock(p);
	off = addr - (uint64_t)(uintptr_t)p->base;
	if (p->live && off < p->len) {
		b = _hbmem_tlsf_run_of(&p->tlsf, (uint32_t)(off >> p->shift));
		if (run_is_live(p, b)) {
			sub_desc(p, run_addr(p, b), p->tlsf.blk[b].u.tag, out);
			ret = 0;
		}
	}
	pool_unlock(p);
	return ret;
}

/*
 * In a fork child, hbmem_lock held (module.c): every pool struct, live or
 * spare, forgets the threads the child lacks (spinlock.h).
 */
void _hbmem_pools_atfork_child(void)
{
	struct hbmem_pool *p;
	uint32_t i;

	for (i = 0; i < naddr; i++)
		hbmem_block_forget_threads(&by_addr->e[i].pool->lock);
	for (p = spare; p; p = p->next_spare)
		hbmem_block_forget_threads(&p->lock);
}

void _hbmem_pools_cleanup(void)
{
	pthread_mutex_lock(&hbmem_lock);
	while (naddr) {
		struct hbmem_pool *p = by_addr->e[0].pool;
		struct hbmem_obj *obj = p->obj;

		pool_kill(p, true);
		_hbmem_obj_free(obj);
	}
	pthread_mutex_unlock(&hbmem_lock);
}

int _hbmem_pool_check(int32_t fd, char *why, size_t why_len)
{
	struct hbmem_pool *p = pool_get_fd(fd);
	uint32_t i, marked = 0;
	int ret;

	if (!p)
		return -ENOENT;
	ret = _hbmem_tlsf_check(&p->tlsf, why, why_len);
	for (i = 0; ret == 0 && i < p->ncache; i++) {
		uint32_t b = cache_page(p, p->cache[i]);

		if (b >= p->tlsf.npages ||
		    p->tlsf.blk[b].size != (1 | HBMEM_TLSF_MARK)) {
			snprintf(why, why_len, "cached page %u is not a marked "
				 "one-page run", b);
			ret = -EUCLEAN;
		}
	}
	/* the cache holds every marked run: no page is lost in between */
	for (i = 0; ret == 0 && i < p->tlsf.npages;
	     i += p->tlsf.blk[i].size & ~(HBMEM_TLSF_FREE | HBMEM_TLSF_MARK))
		marked += !!(p->tlsf.blk[i].size & HBMEM_TLSF_MARK);
	if (ret == 0 && marked != p->ncache) {
		snprintf(why, why_len, "%u marked runs, %u cached", marked,
			 p->ncache);
		ret = -EUCLEAN;
	}
	pool_unlock(p);
	return ret;
}
