// SPDX-License-Identifier: MIT
/*
 * The share pool: fixed-size blocks that several processes hold, whose
 * state lives in the pool's own memory.
 *
 * One backing unit (one allocation, one share id) holds a control region
 * and the blocks, each block page-aligned:
 *
 *   unit offset 0                        ctl_len     ctl_len + stride
 *   +--------+--------------+-------------+-----------+-----------+--
 *   | header | holder slots | block table |  block 0  |  block 1  | ...
 *   +--------+--------------+-------------+-----------+-----------+--
 *   '------ control region (pages) -------'
 *
 *   header        magic, geometry, the free list head {tag, index + 1},
 *                 the waiter count and the futex word free_seq
 *   holder slots  64 x {pid, start time}: slot 63 is the owner, 0..62
 *                 are processes that import blocks (one slot each)
 *   block table   per block: the holder word (bit s set: slot s holds the
 *                 block) and the free-list link
 *
 * A block descriptor names the unit's share id with phys_addr = unit +
 * block offset: the partial-sharing form every import path understands.
 * Its flags carry HB_MEM_USAGE_MEM_SHARE_POOL; an importer's library sees
 * that, maps the control region from the unit's start and sets its slot's
 * bit in the block's holder word.
 *
 * A block is free exactly when its holder word is 0, and whoever clears
 * the last bit (one atomic fetch-and) pushes it on the free list. So a
 * block goes back only when the owner and every importer have let go,
 * however they interleave, and no step leaves a window where a crash
 * loses or frees a block twice: a holder's state is one bit, set and
 * cleared atomically. Counts of several imports of one block inside one
 * process are kept in that process (a dead process takes them along).
 *
 * Owner fast path: alloc pops the free list (one CAS) and stores the
 * owner bit; free clears it (one fetch-and) and, if it was the last,
 * pushes (one CAS) and wakes waiters only when there are any. A per-pool
 * spinlock, private to the process, keeps destroy from unmapping the pool
 * under a concurrent call (its cost is one exchange and a store). No
 * syscall unless the pool is empty or someone waits.
 *
 * Death. A slot records the holder's pid and its start time from
 * /proc/<pid>/stat, so a reused pid is not mistaken for the holder. The
 * owner reaps dead slots (clears their bits) when the pool looks empty,
 * on get_info and on destroy, and an importer does when no slot is free;
 * the reaper marks a slot it works on with -(its pid), so two reapers
 * never clear a slot a new holder took.
 *
 * Trust. Every process that imports a block can write the control region,
 * as it can write the blocks: it can lie about holds, but indices and
 * geometry read from shared memory are checked before use, so a lie
 * costs blocks, never a crash of another process.
 *
 * Free list: a Treiber stack of block indices, the head a {tag, index}
 * pair bumped by every change (no ABA). Only the owner pops (under its
 * spinlock); anyone pushes. A block comes back as its last holder left it.
 *
 * Only the process that created a pool manages it (alloc, free, destroy):
 * a forked child's copy of the library refuses those calls (NOT_ALLOW) and
 * leaves the shared state alone; the child imports blocks like any other
 * process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "spinlock.h"

#define SPOOL_MAGIC 0x50534248u		/* "HBSP" */
#define SPOOL_DEAD 0x44414544u		/* destroyed */
#define SPOOL_VERSION 1u
#define SPOOL_SLOTS 64
#define SPOOL_OWNER (SPOOL_SLOTS - 1)
#define SPOOL_OWNER_BIT (1ull << SPOOL_OWNER)
#define SPOOL_MAX_BLOCKS 65536u
#define SPOOL_NONE UINT32_MAX

/* ---- shared layout (every process must agree: SPOOL_VERSION) ----------- */

struct spool_slot {
	int32_t pid;		/* 0 free, > 0 holder, < 0 reaped by -pid */
	uint32_t pad;
	uint64_t start;		/* holder's start time in ticks, 0 unknown */
};

struct spool_hdr {
	uint32_t magic;
	uint32_t version;
	uint32_t num;
	uint32_t size;		/* block size as asked */
	uint64_t stride;	/* bytes from block to block */
	uint64_t ctl_len;	/* bytes of the control region */
	int64_t flags;
	/* touched by every free: a line of its own */
	uint64_t head __attribute__((aligned(64)));
	uint32_t waiters;	/* allocators asleep on free_seq */
	uint32_t free_seq;	/* futex word, bumped when waiters > 0 */
	struct spool_slot slot[SPOOL_SLOTS] __attribute__((aligned(64)));
};

struct spool_blk {
	uint64_t holders;	/* bit s: slot s holds the block */
	uint32_t next;		/* free list: index + 1 of the next, 0 end */
	uint32_t pad;
};

_Static_assert(sizeof(struct spool_slot) == 16, "slot layout");
_Static_assert(sizeof(struct spool_blk) == 16, "block entry layout");
_Static_assert(offsetof(struct spool_hdr, head) == 64, "header layout");
_Static_assert(offsetof(struct spool_hdr, slot) == 128, "header layout");
_Static_assert(sizeof(struct spool_hdr) == 128 + 16 * SPOOL_SLOTS,
	       "header size");

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define LOAD_ACQ(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define STORE_REL(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static uint64_t spool_ctl_len(uint32_t num)
{
	return hbmem_page_round(sizeof(struct spool_hdr) +
				(uint64_t)num * sizeof(struct spool_blk));
}

static inline struct spool_blk *spool_blocks(struct spool_hdr *h)
{
	return (struct spool_blk *)(h + 1);
}

/* ---- the free list and the holder words (shared memory) ---------------- */

static int futex_wait_shared(uint32_t *word, uint32_t seen,
			     const struct timespec *rel)
{
	int saved = errno, ret = 0;

	if (syscall(SYS_futex, word, FUTEX_WAIT, seen, rel, NULL, 0) < 0 &&
	    errno == ETIMEDOUT)
		ret = -ETIMEDOUT;
	errno = saved;
	return ret;
}

/* Wake every allocator asleep on @h, in any process. */
static void spool_wake(struct spool_hdr *h)
{
	int saved = errno;

	__atomic_fetch_add(&h->free_seq, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &h->free_seq, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	errno = saved;
}

static void spool_push(struct spool_hdr *h, struct spool_blk *blk, uint32_t b)
{
	uint64_t head = LOAD(h->head), next;

	do {
		STORE(blk[b].next, (uint32_t)head);
		next = (((head >> 32) + 1) << 32) | (b + 1);
	} while (!__atomic_compare_exchange_n(&h->head, &head, next, true,
					      __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	/* seq_cst both here and in the waiter: one of us sees the other */
	if (__builtin_expect(__atomic_load_n(&h->waiters, __ATOMIC_SEQ_CST),
			     0))
		spool_wake(h);
}

/* Pop a free block, or SPOOL_NONE (empty, or a link that makes no sense). */
static inline uint32_t spool_pop(struct spool_hdr *h, struct spool_blk *blk,
				 uint32_t num)
{
	uint64_t head = LOAD_ACQ(h->head), next;
	uint32_t b;

	do {
		b = (uint32_t)head;
		if (!b || b > num)
			return SPOOL_NONE;
		b--;
		next = (((head >> 32) + 1) << 32) | LOAD(blk[b].next);
	} while (!__atomic_compare_exchange_n(&h->head, &head, next, true,
					      __ATOMIC_ACQUIRE,
					      __ATOMIC_ACQUIRE));
	return b;
}

/* Clear @bit in block @b's holder word; the last holder frees it. */
static bool spool_drop(struct spool_hdr *h, struct spool_blk *blk,
		       uint32_t b, uint64_t bit)
{
	uint64_t old = __atomic_fetch_and(&blk[b].holders, ~bit,
					  __ATOMIC_ACQ_REL);

	if (!(old & bit))
		return false;
	if (!(old & ~bit))
		spool_push(h, blk, b);
	return true;
}

/* Set @bit in the holder word of block @b if the block is held at all. */
static int spool_hold(struct spool_blk *blk, uint32_t b, uint64_t bit)
{
	uint64_t w = LOAD_ACQ(blk[b].holders);

	do {
		if (!w)
			return -EINVAL;	/* a free block: a stale descriptor */
	} while (!__atomic_compare_exchange_n(&blk[b].holders, &w, w | bit,
					      true, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return 0;
}

/* ---- holders: who they are and whether they live ------------------------ */

/*
 * State and start time (field 22) of process @pid from /proc/<pid>/stat.
 * -ENOENT when there is no such process.
 */
static int proc_stat(int32_t pid, char *state, uint64_t *start)
{
	char path[32], buf[512], *p;
	int fd, i, saved = errno;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		n = errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
		errno = saved;
		return (int)n;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	errno = saved;
	if (n <= 0)
		return -ENOENT;	/* it went while we looked */
	buf[n] = '\0';
	/* the command name may hold anything: fields start after the last ) */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EIO;
	p += 2;
	*state = *p;
	for (i = 3; i < 22 && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	*start = p ? strtoull(p, NULL, 10) : 0;
	return 0;
}

/* Bumped in a forked child: pools made before belong to the parent. */
static unsigned int spool_gen;
static uint64_t self_start;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void spool_atfork_child(void)
{
	spool_gen++;
	self_start = 0;
}

static void spool_atfork_init(void)
{
	pthread_atfork(NULL, NULL, spool_atfork_child);
}

/* This process's start time (0 when /proc cannot say). hbmem_lock held. */
static uint64_t spool_self_start(void)
{
	char state;

	if (!self_start && proc_stat(getpid(), &state, &self_start) < 0)
		self_start = 0;
	return self_start;
}

/*
 * Whether @pid is still the process that took a slot at @start (0: any).
 * A zombie is dead. When /proc does not answer (hidepid), assume it lives:
 * a block kept too long is better than one handed out twice.
 */
static bool proc_alive(int32_t pid, uint64_t start)
{
	uint64_t now;
	char state;
	int ret = proc_stat(pid, &state, &now);

	if (ret == -ENOENT)
		return false;
	if (ret < 0)
		return true;
	if (state == 'Z' || state == 'X' || state == 'x')
		return false;
	return !start || !now || now == start;
}

/* Clear slot @s's bit from every block. The slot is ours to reap. */
static void spool_clear_slot(struct spool_hdr *h, uint32_t num, int s)
{
	struct spool_blk *blk = spool_blocks(h);
	uint64_t bit = 1ull << s;
	uint32_t b;

	for (b = 0; b < num; b++)
		if (LOAD(blk[b].holders) & bit)
			spool_drop(h, blk, b, bit);
}

/*
 * Give back what dead holders held. Clearing a bit twice is harmless, but
 * a slot is released only by the one reaper that claimed it.
 */
static void spool_reap(struct spool_hdr *h, uint32_t num)
{
	int32_t me = (int32_t)getpid(), pid;
	int s;

	for (s = 0; s < SPOOL_SLOTS; s++) {
		pid = LOAD_ACQ(h->slot[s].pid);
		if (pid == 0 || pid == -me)
			continue;
		if (pid > 0 && proc_alive(pid, LOAD(h->slot[s].start)))
			continue;
		/* INT32_MIN (written by a broken importer) names nobody */
		if (pid < 0 && pid != INT32_MIN && proc_alive(-pid, 0))
			continue;	/* another reaper is at it */
		if (!__atomic_compare_exchange_n(&h->slot[s].pid, &pid, -me,
						 false, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		hbmem_debug("slot %d: holder %lld is gone, reaping", s,
			    pid > 0 ? (long long)pid : -(long long)pid);
		spool_clear_slot(h, num, s);
		STORE(h->slot[s].start, 0);
		STORE_REL(h->slot[s].pid, 0);
	}
}

/* Take a free importer slot for this process, or -ENOSPC. */
static int spool_claim_slot(struct spool_hdr *h)
{
	int32_t me = (int32_t)getpid();
	int s;

	for (s = 0; s < SPOOL_OWNER; s++) {
		int32_t zero = 0;

		if (__atomic_compare_exchange_n(&h->slot[s].pid, &zero, me,
						false, __ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			STORE(h->slot[s].start, spool_self_start());
			return s;
		}
	}
	return -ENOSPC;
}

/* ---- the owner's pools ---------------------------------------------------- */

/*
 * The process-private side of a pool this process created. Structs are
 * never freed (a dead one is reused by the next create), so a lookup
 * without hbmem_lock always touches valid memory; it locks the struct
 * and then checks it is still the live pool it wanted. Fields read
 * without the lock are accessed atomically.
 */
struct spool {
	uint32_t lock;		/* spinlock.h */
	uint32_t busy;		/* slow paths running without the lock */
	bool live;
	unsigned int gen;	/* spool_gen at create */
	int32_t fd;
	int32_t share_id;
	uint32_t num;
	uint32_t size;
	uint64_t stride;
	uint64_t stride_inv;	/* 2^64 / stride, rounded up: no division */
	uint64_t ctl_len;
	uint8_t *base;		/* the unit's first byte: the header */
	uint8_t *blocks;	/* base + ctl_len */
	uint64_t seen_lo, seen_len;	/* block range, 0 when dead */
	uint64_t phys;		/* device address of the unit */
	int64_t flags;		/* as given to create */
	int64_t blk_flags;	/* flags | HB_MEM_USAGE_MEM_SHARE_POOL */
	struct spool_hdr *hdr;
	struct spool_blk *blk;
	struct hbmem_obj *obj;	/* the backing unit (hbmem_lock) */
	struct spool *next;	/* every struct ever made */
} __attribute__((aligned(64)));

static struct spool *spools;
static struct spool *hint;	/* the pool the last free went to */

static inline void spool_lock(struct spool *p)
{
	hbmem_spin_lock(&p->lock);
}

static inline void spool_unlock(struct spool *p)
{
	hbmem_spin_unlock(&p->lock);
}

static inline bool spool_mine(const struct spool *p)
{
	return LOAD(p->gen) == spool_gen;
}

/* The live pool @fd of this process, locked, or NULL. */
static inline struct spool *spool_get_fd(int32_t fd)
{
	struct spool *p;

	for (p = LOAD_ACQ(spools); p; p = p->next) {
		if (LOAD(p->fd) != fd || !LOAD(p->live) || !spool_mine(p))
			continue;
		spool_lock(p);
		if (__builtin_expect(p->live && p->fd == fd, 1))
			return p;
		spool_unlock(p);
	}
	return NULL;
}

static inline bool spool_has(const struct spool *p, uint64_t addr)
{
	return LOAD(p->live) &&
	       addr - (uint64_t)(uintptr_t)p->blocks <
		       (uint64_t)p->num * p->stride;
}

static __attribute__((noinline)) struct spool *
spool_get_addr_slow(uint64_t addr)
{
	struct spool *p;

	for (p = LOAD_ACQ(spools); p; p = p->next) {
		if (!spool_mine(p) ||
		    addr - LOAD(p->seen_lo) >= LOAD(p->seen_len))
			continue;
		spool_lock(p);
		if (spool_has(p, addr)) {
			STORE_REL(hint, p);
			return p;
		}
		spool_unlock(p);
	}
	return NULL;
}

/* The live pool whose blocks hold @addr, locked, or NULL. */
static inline struct spool *spool_get_addr(uint64_t addr)
{
	struct spool *p = LOAD_ACQ(hint);

	if (p && spool_mine(p) &&
	    addr - LOAD(p->seen_lo) < LOAD(p->seen_len)) {
		spool_lock(p);
		if (__builtin_expect(spool_has(p, addr), 1))
			return p;
		spool_unlock(p);
	}
	return spool_get_addr_slow(addr);
}

/* Whether a forked child's copy of a pool of the parent matches. */
static bool spool_inherited(int32_t fd, uint64_t addr, bool by_addr)
{
	struct spool *p;

	for (p = LOAD_ACQ(spools); p; p = p->next) {
		if (spool_mine(p) || !LOAD(p->live))
			continue;
		if (by_addr ? addr - LOAD(p->seen_lo) < LOAD(p->seen_len)
			    : LOAD(p->fd) == fd)
			return true;
	}
	return false;
}

struct spool_att;
static struct spool_att *att_of_fd_locked(int32_t fd);
static int spool_import_info(int32_t fd, hb_mem_share_pool_t *info);

/*
 * The code for a failed lookup. The fast paths ask whether the module is
 * open only here: a live pool implies an open module. A pool this process
 * only imports from (or a forked child's copy) is someone else's to manage.
 */
static int32_t spool_missing(int32_t fd, uint64_t addr, bool by_addr)
{
	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (spool_inherited(fd, addr, by_addr))
		return HB_MEM_ERR_NOT_ALLOW;
	if (by_addr)
		return HB_MEM_ERR_INVALID_VADDR;
	return spool_import_info(fd, NULL) == 0 ? HB_MEM_ERR_NOT_ALLOW
						: HB_MEM_ERR_POOL_NOT_FOUND;
}

static inline void spool_desc(const struct spool *p, uint32_t b,
			      hb_mem_common_buf_t *d)
{
	uint64_t off = p->ctl_len + (uint64_t)b * p->stride;

	d->fd = p->fd;
	d->share_id = p->share_id;
	d->flags = p->blk_flags;
	d->size = p->size;
	d->virt_addr = p->base + off;
	d->phys_addr = p->phys + off;
	d->offset = 0;
}

/* Hand out block @b, just popped. Pool locked. */
static inline void spool_take(struct spool *p, uint32_t b,
			      hb_mem_common_buf_t *buf)
{
	STORE_REL(p->blk[b].holders, SPOOL_OWNER_BIT);
	spool_desc(p, b, buf);
}

/* Free blocks, counted on the list. Pool locked: nobody else pops. */
static int32_t spool_avail(struct spool *p)
{
	uint64_t head = LOAD_ACQ(p->hdr->head);
	uint32_t b = (uint32_t)head, n = 0;

	while (b && b <= p->num && n < p->num) {
		n++;
		b = LOAD(p->blk[b - 1].next);
	}
	return (int32_t)n;
}

static bool spool_outstanding(struct spool *p)
{
	uint32_t b;

	for (b = 0; b < p->num; b++)
		if (LOAD(p->blk[b].holders))
			return true;
	return false;
}

static void spool_info(struct spool *p, hb_mem_share_pool_t *info)
{
	memset(info, 0, sizeof(*info));
	info->flags = p->flags;
	info->size = p->size;
	info->fd = p->fd;
	info->total_buf_cnt = (int32_t)p->num;
	info->avail_buf_cnt = spool_avail(p);
}

/* ---- create and destroy (hbmem_lock held) ---------------------------------- */

static struct spool *spool_slot_get(void)
{
	struct spool *p;

	for (p = spools; p; p = p->next)
		if (!LOAD(p->live) && spool_mine(p) && !LOAD(p->busy))
			return p;
	p = aligned_alloc(64, sizeof(*p));
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->gen = spool_gen;
	p->fd = -1;
	p->next = spools;
	STORE_REL(spools, p);
	return p;
}

/* Lay out a new pool's control region and chain every block as free. */
static void spool_format(struct spool_hdr *h, uint32_t num, uint32_t size,
			 uint64_t stride, uint64_t ctl_len, int64_t flags)
{
	struct spool_blk *blk = spool_blocks(h);
	uint32_t b;

	for (b = 0; b < num; b++) {
		blk[b].holders = 0;
		blk[b].next = b + 1 < num ? b + 2 : 0;
	}
	h->version = SPOOL_VERSION;
	h->num = num;
	h->size = size;
	h->stride = stride;
	h->ctl_len = ctl_len;
	h->flags = flags;
	h->head = 1;		/* tag 0, block 0 */
	h->slot[SPOOL_OWNER].pid = (int32_t)getpid();
	h->slot[SPOOL_OWNER].start = spool_self_start();
	/* an importer checks the magic first */
	STORE_REL(h->magic, SPOOL_MAGIC);
}

static int spool_create_locked(uint32_t num, uint64_t size, int64_t flags,
			       struct spool **out)
{
	uint64_t stride, ctl_len, blocks_len, total;
	struct hbmem_mem *mem;
	struct hbmem_obj *obj;
	struct spool *p;
	int ret;

	if (num == 0 || num > SPOOL_MAX_BLOCKS || size == 0 ||
	    size > UINT32_MAX)
		return -EINVAL;
	stride = hbmem_page_round(size);
	ctl_len = spool_ctl_len(num);
	if (__builtin_mul_overflow(stride, (uint64_t)num, &blocks_len) ||
	    __builtin_add_overflow(blocks_len, ctl_len, &total))
		return -EINVAL;
	pthread_once(&atfork_once, spool_atfork_init);
	p = spool_slot_get();
	if (!p)
		return -ENOMEM;
	obj = calloc(1, sizeof(*obj));
	if (!obj)
		return -ENOMEM;
	ret = _hbmem_mem_alloc(total, flags, "sharepool", &mem);
	if (ret < 0)
		goto err_free_obj;

	obj->kind = HBMEM_OBJ_SHARE_POOL;
	obj->nmem = 1;
	obj->mem[0] = mem;
	obj->priv = p;
	mem->obj = obj;
	_hbmem_com_desc_fill(&obj->u.com, mem, flags);
	_hbmem_obj_link(obj);
	spool_format((struct spool_hdr *)mem->vaddr, num, (uint32_t)size,
		     stride, ctl_len, flags);

	/* a stale reader may lock this struct at any time: fill it locked */
	spool_lock(p);
	STORE(p->fd, mem->fd);
	p->share_id = mem->share->id;
	p->num = num;
	p->size = (uint32_t)size;
	p->stride = stride;
	p->stride_inv = UINT64_MAX / stride + 1;
	p->ctl_len = ctl_len;
	p->base = mem->vaddr;
	p->blocks = mem->vaddr + ctl_len;
	p->phys = mem->phys;
	p->flags = flags;
	p->blk_flags = flags | HB_MEM_USAGE_MEM_SHARE_POOL;
	p->hdr = (struct spool_hdr *)mem->vaddr;
	p->blk = spool_blocks(p->hdr);
	p->obj = obj;
	STORE(p->seen_lo, (uint64_t)(uintptr_t)p->blocks);
	STORE(p->seen_len, blocks_len);
	STORE(p->live, true);
	spool_unlock(p);
	*out = p;
	return 0;

err_free_obj:
	free(obj);
	return ret;
}

/*
 * Take pool @p out of service: -EBUSY while any block is held (after the
 * dead holders are reaped), unless @force (the last module close). The
 * backing obj is left to the caller. A forked child's copy is only
 * forgotten: the pool is the parent's.
 */
static int spool_kill(struct spool *p, bool force)
{
	unsigned int spins = 0;
	uint32_t b;

	if (!spool_mine(p)) {
		if (!force)
			return -EPERM;
		STORE(p->live, false);
		STORE(p->seen_len, 0);
		goto out;
	}
	if (!force)
		spool_reap(p->hdr, p->num);
	spool_lock(p);
	if (!force && spool_outstanding(p)) {
		spool_unlock(p);
		return -EBUSY;
	}
	STORE(p->live, false);
	STORE(p->seen_len, 0);
	STORE_REL(p->hdr->magic, SPOOL_DEAD);
	/* blocks importers still hold stay theirs; ours go */
	for (b = 0; b < p->num; b++)
		__atomic_fetch_and(&p->blk[b].holders, ~SPOOL_OWNER_BIT,
				   __ATOMIC_ACQ_REL);
	STORE(p->hdr->slot[SPOOL_OWNER].start, 0);
	STORE_REL(p->hdr->slot[SPOOL_OWNER].pid, 0);
	spool_wake(p->hdr);
	spool_unlock(p);
	/* a woken waiter finds the pool dead and leaves */
	while (LOAD_ACQ(p->busy))
		hbmem_spin_wait(&spins);
out:
	p->obj->priv = NULL;
	p->obj = NULL;
	return 0;
}

/* The pool behind @fd in the registry, or NULL. hbmem_lock held. */
static struct spool *spool_of_fd_locked(int32_t fd)
{
	struct hbmem_mem *mem = _hbmem_mem_by_fd(fd);

	if (!mem || mem->obj->kind != HBMEM_OBJ_SHARE_POOL)
		return NULL;
	return mem->obj->priv;
}

/* ---- API ------------------------------------------------------------------ */

HBMEM_EXPORT int32_t hb_mem_share_pool_create(uint32_t num, uint64_t size,
					      int64_t flags,
					      hb_mem_share_pool_t *pool)
{
	struct spool *p;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	if (!pool) {
		ret = -EINVAL;
		goto out;
	}
	ret = spool_create_locked(num, size, flags, &p);
	if (ret == 0) {
		spool_lock(p);
		spool_info(p, pool);
		spool_unlock(p);
	}
out:
	_hbmem_leave();
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_share_pool_destroy(int32_t fd)
{
	struct hbmem_obj *obj;
	struct spool *p;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	p = spool_of_fd_locked(fd);
	if (!p) {
		ret = att_of_fd_locked(fd) ? HB_MEM_ERR_NOT_ALLOW
					   : HB_MEM_ERR_POOL_NOT_FOUND;
		_hbmem_leave();
		return ret;
	}
	obj = p->obj;
	ret = spool_kill(p, false);
	if (ret == 0)
		_hbmem_obj_free(obj);
	_hbmem_leave();
	return _hbmem_err(ret);
}

/* Time left until @deadline in @rel; false when it has passed. */
static bool spool_time_left(const struct timespec *deadline,
			    struct timespec *rel)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rel->tv_sec = deadline->tv_sec - now.tv_sec;
	rel->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (rel->tv_nsec < 0) {
		rel->tv_sec--;
		rel->tv_nsec += 1000000000L;
	}
	return rel->tv_sec >= 0;
}

/*
 * The pool is empty: reap dead holders once, then wait for a free if
 * @timeout_ms allows. Entered and left with the pool locked; while the
 * lock is dropped, busy keeps the mapping alive.
 */
static __attribute__((noinline)) int32_t
spool_alloc_slow(struct spool *p, hb_mem_common_buf_t *buf,
		 int64_t timeout_ms)
{
	struct spool_hdr *h = p->hdr;
	struct timespec deadline, rel;
	bool reaped = false;
	int32_t ret;
	uint32_t b, seq;
	int w;

	if (timeout_ms > 0)
		_hbmem_deadline(timeout_ms, &deadline);
	__atomic_fetch_add(&p->busy, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		b = spool_pop(h, p->blk, p->num);
		if (b != SPOOL_NONE) {
			spool_take(p, b, buf);
			ret = 0;
			break;
		}
		if (!reaped) {
			spool_unlock(p);
			spool_reap(h, p->num);
			reaped = true;
			spool_lock(p);
			if (!p->live) {
				ret = HB_MEM_ERR_POOL_DESTROYED;
				break;
			}
			continue;
		}
		if (timeout_ms == 0) {
			ret = HB_MEM_ERR_INSUFFICIENT_MEM;
			break;
		}
		if (timeout_ms > 0 && !spool_time_left(&deadline, &rel)) {
			ret = HB_MEM_ERR_TIMEOUT;
			break;
		}
		seq = LOAD_ACQ(h->free_seq);
		__atomic_fetch_add(&h->waiters, 1, __ATOMIC_SEQ_CST);
		b = spool_pop(h, p->blk, p->num);
		if (b != SPOOL_NONE) {
			__atomic_fetch_sub(&h->waiters, 1, __ATOMIC_SEQ_CST);
			spool_take(p, b, buf);
			ret = 0;
			break;
		}
		spool_unlock(p);
		w = futex_wait_shared(&h->free_seq, seq,
				      timeout_ms < 0 ? NULL : &rel);
		__atomic_fetch_sub(&h->waiters, 1, __ATOMIC_SEQ_CST);
		spool_lock(p);
		if (!p->live) {
			ret = HB_MEM_ERR_POOL_DESTROYED;
			break;
		}
		(void)w;	/* time is checked at the top, after a last try */
	}
	__atomic_fetch_sub(&p->busy, 1, __ATOMIC_ACQ_REL);
	return ret;
}

static inline int32_t spool_alloc(int32_t fd, hb_mem_common_buf_t *buf,
				  int64_t timeout_ms)
{
	struct spool *p;
	uint32_t b;
	int32_t ret;

	if (!buf)
		return _hbmem_is_open() ? HB_MEM_ERR_INVALID_PARAMS
					: HB_MEM_ERR_MODULE_NOT_FOUND;
	p = spool_get_fd(fd);
	if (!p)
		return spool_missing(fd, 0, false);
	b = spool_pop(p->hdr, p->blk, p->num);
	if (__builtin_expect(b == SPOOL_NONE, 0)) {
		ret = spool_alloc_slow(p, buf, timeout_ms);
		spool_unlock(p);
		return ret;
	}
	spool_take(p, b, buf);
	spool_unlock(p);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_share_pool_alloc_buf(int32_t fd,
						 hb_mem_common_buf_t *buf)
{
	return spool_alloc(fd, buf, 0);
}

HBMEM_EXPORT int32_t hb_mem_share_pool_alloc_buf_timeout(
	int32_t fd, hb_mem_common_buf_t *buf, int64_t timeout_ms)
{
	return spool_alloc(fd, buf, timeout_ms);
}

HBMEM_EXPORT int32_t hb_mem_share_pool_free_buf(uint64_t virt_addr)
{
	struct spool *p;
	uint64_t off;
	uint32_t b;

	p = spool_get_addr(virt_addr);
	if (!p)
		return spool_missing(-1, virt_addr, true);
	off = virt_addr - (uint64_t)(uintptr_t)p->blocks;
	/*
	 * off / stride by multiplication: exact for every multiple of the
	 * stride, since off < 2^48 keeps the rounding error below 2^-16, and
	 * off is checked to be one below.
	 */
	b = (uint32_t)(((unsigned __int128)off * p->stride_inv) >> 64);
	/* the start of a block the owner holds: not inside, not twice */
	if (off != (uint64_t)b * p->stride ||
	    !spool_drop(p->hdr, p->blk, b, SPOOL_OWNER_BIT)) {
		spool_unlock(p);
		return HB_MEM_ERR_INVALID_VADDR;
	}
	spool_unlock(p);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_share_pool_get_info(int32_t fd,
						hb_mem_share_pool_t *pool)
{
	struct spool *p;

	if (!pool)
		return _hbmem_is_open() ? HB_MEM_ERR_INVALID_PARAMS
					: HB_MEM_ERR_MODULE_NOT_FOUND;
	p = spool_get_fd(fd);
	if (!p) {
		/* an importer's view, through the fd of its import */
		int ret = spool_import_info(fd, pool);

		if (ret == -ESHUTDOWN)
			return HB_MEM_ERR_POOL_DESTROYED;
		if (ret != -ENOENT)
			return _hbmem_err(ret);
		return spool_missing(fd, 0, false);
	}
	/* the counts are honest only once the dead have given back */
	__atomic_fetch_add(&p->busy, 1, __ATOMIC_ACQ_REL);
	spool_unlock(p);
	spool_reap(p->hdr, p->num);
	spool_lock(p);
	__atomic_fetch_sub(&p->busy, 1, __ATOMIC_ACQ_REL);
	if (!p->live) {
		spool_unlock(p);
		return HB_MEM_ERR_POOL_DESTROYED;
	}
	spool_info(p, pool);
	spool_unlock(p);
	return 0;
}

/* ---- importers (hbmem_lock held) ----------------------------------------- */

/*
 * A process's hold on the control region of one pool it imported from:
 * its slot, its mapping of the control region, and how many of its live
 * imports hold each block.
 */
struct spool_att {
	int32_t id;		/* the unit's share id */
	int32_t pid;		/* the process that made it (fork) */
	int slot;
	uint32_t num;
	uint64_t stride, ctl_len;
	struct spool_hdr *hdr;
	uint32_t *nref;		/* per block */
	uint32_t users;		/* imports using it */
	struct spool_att *next;
};

static struct spool_att *atts;

static void att_free(struct spool_att *a)
{
	struct spool_att **pp;

	for (pp = &atts; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	/* every bit of ours is clear: give the slot back */
	if (a->slot >= 0 && a->pid == (int32_t)getpid()) {
		STORE(a->hdr->slot[a->slot].start, 0);
		STORE_REL(a->hdr->slot[a->slot].pid, 0);
	}
	munmap(a->hdr, a->ctl_len);
	free(a->nref);
	free(a);
}

/* Read and check the geometry a pool's header claims, in a unit of @len. */
static int att_geometry(const struct spool_hdr *h, uint64_t len,
			struct spool_att *a)
{
	uint64_t end;

	if (LOAD_ACQ(h->magic) != SPOOL_MAGIC ||
	    LOAD(h->version) != SPOOL_VERSION)
		return -EINVAL;
	a->num = LOAD(h->num);
	a->stride = LOAD(h->stride);
	a->ctl_len = LOAD(h->ctl_len);
	if (a->num == 0 || a->num > SPOOL_MAX_BLOCKS ||
	    a->ctl_len != spool_ctl_len(a->num) || a->stride == 0 ||
	    a->stride % hbmem_page_size ||
	    __builtin_mul_overflow(a->stride, (uint64_t)a->num, &end) ||
	    __builtin_add_overflow(end, a->ctl_len, &end) || end > len)
		return -EINVAL;
	return 0;
}

/* Map and check the control region of the pool behind @mem's unit. */
static int att_new(struct hbmem_mem *mem, struct spool_att **out)
{
	uint64_t len = hbmem_page_round(mem->share->len);
	struct spool_att *a;
	void *map;
	int ret;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->slot = -1;
	a->id = mem->share->id;
	a->pid = (int32_t)getpid();
	map = mmap(NULL, hbmem_page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   mem->fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	ret = att_geometry(map, len, a);
	munmap(map, hbmem_page_size);
	if (ret < 0)
		goto err_free;
	map = mmap(NULL, a->ctl_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		   mem->fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		goto err_free;
	}
	a->hdr = map;
	a->nref = calloc(a->num, sizeof(*a->nref));
	if (!a->nref) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	a->slot = spool_claim_slot(a->hdr);
	if (a->slot < 0) {
		/* maybe a dead importer still sits on one */
		spool_reap(a->hdr, a->num);
		a->slot = spool_claim_slot(a->hdr);
	}
	if (a->slot < 0) {
		hbmem_debug("share pool %d: no free holder slot", a->id);
		ret = a->slot;
		goto err_free_nref;
	}
	a->next = atts;
	atts = a;
	*out = a;
	return 0;

err_free_nref:
	free(a->nref);
err_unmap:
	munmap(map, a->ctl_len);
err_free:
	free(a);
	return ret;
}

/* Block index of @mem in the pool of @a, or SPOOL_NONE. */
static uint32_t att_block_of(const struct spool_att *a,
			     const struct hbmem_mem *mem)
{
	uint64_t off = mem->phys - mem->share->phys, b;

	if (mem->phys < mem->share->phys || off < a->ctl_len)
		return SPOOL_NONE;
	off -= a->ctl_len;
	b = off / a->stride;
	if (b >= a->num || off % a->stride)
		return SPOOL_NONE;
	return (uint32_t)b;
}

int _hbmem_spool_import(struct hbmem_obj *obj)
{
	struct hbmem_mem *mem = obj->mem[0];
	int32_t me = (int32_t)getpid();
	struct spool_att *a;
	uint32_t b;
	int ret;

	for (a = atts; a; a = a->next)
		if (a->id == mem->share->id && a->pid == me)
			break;
	if (!a) {
		ret = att_new(mem, &a);
		if (ret < 0)
			return ret;
	}
	b = att_block_of(a, mem);
	ret = -EINVAL;
	if (b == SPOOL_NONE || mem->size > LOAD(a->hdr->size) ||
	    LOAD_ACQ(a->hdr->magic) != SPOOL_MAGIC)
		goto err;
	if (a->nref[b] == UINT32_MAX) {
		ret = -EMFILE;
		goto err;
	}
	if (a->nref[b] == 0) {
		ret = spool_hold(spool_blocks(a->hdr), b, 1ull << a->slot);
		if (ret < 0)
			goto err;
	}
	a->nref[b]++;
	a->users++;
	obj->priv = a;
	return 0;

err:
	if (!a->users)
		att_free(a);
	return ret;
}

/* Let go of an imported block. */
static void spool_import_put(struct hbmem_obj *obj)
{
	struct spool_att *a = obj->priv;
	uint32_t b = att_block_of(a, obj->mem[0]);

	obj->priv = NULL;
	/* a forked child's copy of the parent's import: the parent's hold */
	if (a->pid == (int32_t)getpid() && b != SPOOL_NONE &&
	    a->nref[b] && --a->nref[b] == 0)
		spool_drop(a->hdr, spool_blocks(a->hdr), b, 1ull << a->slot);
	if (--a->users == 0)
		att_free(a);
}

/* The attachment of this process's import @fd of a block, or NULL. */
static struct spool_att *att_of_fd_locked(int32_t fd)
{
	struct hbmem_mem *mem = _hbmem_mem_by_fd(fd);

	if (!mem || mem->obj->kind != HBMEM_OBJ_COM || !mem->obj->priv)
		return NULL;
	return mem->obj->priv;
}

/*
 * Whether @fd is this process's import of a share-pool block (-ENOENT if
 * not); with @info, the pool's state as seen from here: avail counts the
 * blocks nobody holds, a snapshot while the owner works.
 */
static int spool_import_info(int32_t fd, hb_mem_share_pool_t *info)
{
	struct spool_blk *blk;
	struct spool_att *a;
	int32_t n = 0;
	uint32_t b;
	int ret;

	ret = _hbmem_enter();
	if (ret < 0)
		return ret;
	a = att_of_fd_locked(fd);
	if (!a) {
		ret = -ENOENT;
		goto out;
	}
	if (!info)
		goto out;
	if (LOAD_ACQ(a->hdr->magic) != SPOOL_MAGIC) {
		ret = -ESHUTDOWN;	/* the owner tore it down */
		goto out;
	}
	spool_reap(a->hdr, a->num);
	blk = spool_blocks(a->hdr);
	for (b = 0; b < a->num; b++)
		n += !LOAD_ACQ(blk[b].holders);
	memset(info, 0, sizeof(*info));
	info->flags = LOAD(a->hdr->flags);
	info->size = LOAD(a->hdr->size);
	info->fd = fd;
	info->total_buf_cnt = (int32_t)a->num;
	info->avail_buf_cnt = n;
out:
	_hbmem_leave();
	return ret;
}

/* ---- hooks for the core ---------------------------------------------------- */

int _hbmem_spool_release(struct hbmem_obj *obj)
{
	struct spool *p = obj->priv;

	return p ? spool_kill(p, false) : 0;
}

void _hbmem_spool_obj_free(struct hbmem_obj *obj)
{
	if (!obj->priv)
		return;
	if (obj->kind == HBMEM_OBJ_SHARE_POOL)
		spool_kill(obj->priv, true);
	else
		spool_import_put(obj);
}
