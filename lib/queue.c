// SPDX-License-Identifier: MIT
/*
 * The memory queue: a fixed ring of @count slots of @item_size bytes that a
 * producer and a consumer in one process pass between them.
 *
 *                 dequeue                  queue_buf
 *      +------+ ------------> +---------+ ------------> +-------+
 *      | FREE |               | DEQUEUE |               | QUEUE |
 *      +------+ <------------ +---------+ <- - - - - -  +-------+
 *          ^       cancel                   dequeue      |    ^
 *          |                         (overwrite mode:    |    | cancel
 *          |                          the oldest only)   |    | (back to the
 *          |                                     request |    |  FIFO's head)
 *          |                release                      v    |
 *          +---------------------------------------- +---------+
 *                                                    | REQUEST |
 *                                                    +---------+
 *
 * Two rings of slot numbers make every step O(1): the FREE ring (in the
 * order slots were freed, so a producer that keeps pace sees 0..N-1 cycle as
 * on the board) and the QUEUE ring (the FIFO the consumer takes from). A
 * cancelled take goes back to the head of its ring: cancel undoes the take.
 *
 * Locking: one spinlock per queue (a word taken with an atomic exchange
 * and released with a plain store, spinning a little and then yielding the
 * CPU when it is held, as the pool's) guards all of it: an uncontended call
 * costs one atomic instruction. The lock is biased (spinlock.h) to the
 * thread that created the queue: until another thread first touches the
 * queue, that thread's calls take no atomic instruction at all (the hot
 * calls keep the lock's mode in a register). Nothing sleeps holding it.
 * Producers wait on the futex word take_seq, consumers on request_seq (in
 * place of condition variables): a waiter reads the word under the lock,
 * counts itself in producers_waiting or consumers_waiting, drops the lock
 * and sleeps with FUTEX_WAIT for as long as the word is unchanged, with a
 * relative timeout recomputed from its CLOCK_MONOTONIC deadline. A signal
 * bumps the word under the lock and wakes one sleeper, and is only sent
 * when the count of waiters says someone sleeps, so the uncontended path
 * makes no system call. A waiter first watches the ring it needs without
 * the lock for up to QUEUE_SPIN_NS (a producer and consumer on two CPUs
 * then never sleep), then sleeps. Items are copied under the lock: they
 * are usually small, and copying outside would race with a cancel from
 * the wrong thread.
 *
 * Lookup without a global lock: a queue's header (lock, futex words,
 * state) lives in a chunk that is never freed, and the unique id
 * names the header's index plus a sequence number that is never reused.
 * A call finds the header from the id with two loads, locks it and checks
 * the id is still the header's: a stale id simply does not match. The slots
 * and items are one allocation made at create and freed at destroy; a
 * header goes back to the free list only when its last waiter has left, so
 * a woken waiter never sees its header reused by a new queue.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "spinlock.h"

#define QUEUE_MAX_COUNT (1u << 20)
#define QUEUE_MAX_BYTES (1ull << 30)	/* count * item_size */

#define QUEUE_INDEX_BITS 14
#define QUEUE_MAX (1u << QUEUE_INDEX_BITS)
#define QUEUE_CHUNK 32			/* headers per chunk */
#define QUEUE_CHUNKS (QUEUE_MAX / QUEUE_CHUNK)

#define QUEUE_SPIN_NS 50000	/* how long a waiter spins before sleeping */

enum slot_state {
	SLOT_FREE,
	SLOT_DEQUEUE,
	SLOT_QUEUE,
	SLOT_REQUEST,
};

/*
 * A ring of slot numbers with room for every slot. @len is written under
 * the queue's lock but read without it by a waiter watching for work, so
 * its stores are atomic.
 */
struct slot_ring {
	uint32_t *slot;
	uint32_t head;
	uint32_t len;
};

struct hbmem_queue {
	/* first cache line: what every call touches */
	struct hbmem_block lock;	/* spinlock.h */
	uint32_t count;
	uint32_t item_size;
	uint64_t id;			/* 0: no live queue */
	uint32_t producers_waiting;
	uint32_t consumers_waiting;
	/* futex words, bumped under the lock when a waiter is to wake */
	uint32_t take_seq;		/* producers: a slot to dequeue */
	uint32_t request_seq;		/* consumers: a QUEUE slot */
	/* second: the state of the slots */
	struct slot_ring free;
	struct slot_ring queued;
	uint8_t *state;
	uint8_t *items;
	uint64_t drops;
	uint32_t flags;
	bool zombie;		/* destroyed; back to the free list when
				 * the last waiter leaves */
	/* then what only create and destroy need */
	void *storage;		/* rings, states and items, one allocation */
	uint32_t index;
	struct hbmem_queue *next_free;
} __attribute__((aligned(64)));

/* A wait with a millisecond timeout, armed when the wait starts. */
struct queue_wait {
	int64_t timeout;
	struct timespec deadline;
	bool armed;
	bool expired;
	bool spun;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hbmem_queue *chunks[QUEUE_CHUNKS];	/* set once each */
static uint32_t headers;				/* made so far */
static struct hbmem_queue *free_headers;
static uint64_t next_seq = 1;
static uint64_t id_key;
static pthread_once_t id_key_once = PTHREAD_ONCE_INIT;
static bool spin_allowed;	/* more than one CPU online */

/* ---- slot rings ------------------------------------------------------ */

static inline uint32_t ring_pop_head(struct slot_ring *r, uint32_t count)
{
	uint32_t s = r->slot[r->head];

	r->head = r->head + 1 == count ? 0 : r->head + 1;
	__atomic_store_n(&r->len, r->len - 1, __ATOMIC_RELAXED);
	return s;
}

static inline void ring_push_tail(struct slot_ring *r, uint32_t count,
				  uint32_t s)
{
	uint32_t at = r->head + r->len;

	r->slot[at >= count ? at - count : at] = s;
	__atomic_store_n(&r->len, r->len + 1, __ATOMIC_RELAXED);
}

static inline void ring_push_head(struct slot_ring *r, uint32_t count,
				  uint32_t s)
{
	r->head = r->head ? r->head - 1 : count - 1;
	r->slot[r->head] = s;
	__atomic_store_n(&r->len, r->len + 1, __ATOMIC_RELAXED);
}

static inline uint8_t *queue_item(struct hbmem_queue *q, uint32_t s)
{
	return q->items + (size_t)s * q->item_size;
}

/* ---- the lock and the futex words ------------------------------------ */

static inline void lock_take(struct hbmem_queue *q)
{
	hbmem_block_take(&q->lock);
}

static inline void lock_drop(struct hbmem_queue *q)
{
	hbmem_block_drop(&q->lock);
}

/*
 * Sleep while *@word is @seen, for at most @rel (NULL: no limit). Returns
 * -ETIMEDOUT when the time ran out; any other return (woken, the word
 * changed, a signal) means "look again".
 */
static int futex_wait(uint32_t *word, uint32_t seen,
		      const struct timespec *rel)
{
	int saved = errno, ret = 0;	/* the caller's errno is left as it was */

	if (syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, rel, NULL, 0) <
		    0 &&
	    errno == ETIMEDOUT)
		ret = -ETIMEDOUT;
	errno = saved;
	return ret;
}

/* Wake @n sleepers on @word (bumped under the lock first). */
static void futex_wake(uint32_t *word, int n)
{
	int saved = errno;

	__atomic_store_n(word, *word + 1, __ATOMIC_RELAXED);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
	errno = saved;
}

/* Copy one item: a constant size for the usual small ones. */
static inline void item_copy(void *dst, const void *src, uint32_t size)
{
	switch (size) {
	case 8:
		memcpy(dst, src, 8);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	case 32:
		memcpy(dst, src, 32);
		break;
	case 48:
		memcpy(dst, src, 48);
		break;
	case 64:
		memcpy(dst, src, 64);
		break;
	default:
		memcpy(dst, src, size);
	}
}

/* ---- ids and headers ------------------------------------------------- */

/*
 * Ids are (sequence << index bits | index) xor a per-process key, so they
 * do not look like small counters and an id from another run or a made-up
 * value is very unlikely to name a live queue.
 */
static void id_key_init(void)
{
	uint64_t key;

	if (getrandom(&key, sizeof(key), GRND_NONBLOCK) != sizeof(key)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		key = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
		      (uint64_t)(uintptr_t)&key;
	}
	__atomic_store_n(&id_key, key, __ATOMIC_RELAXED);
	spin_allowed = sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

static struct hbmem_queue *header_at(uint32_t index)
{
	struct hbmem_queue *chunk =
		__atomic_load_n(&chunks[index / QUEUE_CHUNK], __ATOMIC_ACQUIRE);

	return chunk ? &chunk[index % QUEUE_CHUNK] : NULL;
}

static int chunk_new(struct hbmem_queue **out)
{
	struct hbmem_queue *chunk;

	chunk = aligned_alloc(64, sizeof(*chunk) * QUEUE_CHUNK);
	if (!chunk)
		return -ENOMEM;
	memset(chunk, 0, sizeof(*chunk) * QUEUE_CHUNK);	/* locks free */
	*out = chunk;
	return 0;
}

/* A header not in use, and the id its next queue will have. */
static int header_get(struct hbmem_queue **out, uint64_t *id)
{
	struct hbmem_queue *q, *chunk;
	int ret = 0;

	pthread_once(&id_key_once, id_key_init);
	pthread_mutex_lock(&table_lock);
	if (free_headers) {
		q = free_headers;
		free_headers = q->next_free;
	} else if (headers == QUEUE_MAX) {
		ret = -ENOMEM;
		goto out;
	} else {
		if (headers % QUEUE_CHUNK == 0) {
			ret = chunk_new(&chunk);
			if (ret < 0)
				goto out;
			__atomic_store_n(&chunks[headers / QUEUE_CHUNK], chunk,
					 __ATOMIC_RELEASE);
		}
		q = header_at(headers);
		q->index = headers++;
	}
	do {
		*id = (next_seq++ << QUEUE_INDEX_BITS | q->index) ^ id_key;
	} while (*id == 0);
	*out = q;
out:
	pthread_mutex_unlock(&table_lock);
	return ret;
}

static void header_put(struct hbmem_queue *q)
{
	pthread_mutex_lock(&table_lock);
	q->next_free = free_headers;
	free_headers = q;
	pthread_mutex_unlock(&table_lock);
}

/* Lock the live queue named @id: 0, or -ENOENT. */
static inline __attribute__((always_inline)) int
queue_lock(uint64_t id, struct hbmem_queue **out)
{
	uint64_t bits = id ^ __atomic_load_n(&id_key, __ATOMIC_RELAXED);
	struct hbmem_queue *q;

	if (id == 0)
		return -ENOENT;
	q = header_at((uint32_t)(bits & (QUEUE_MAX - 1)));
	if (!q)
		return -ENOENT;
	lock_take(q);
	if (__builtin_expect(q->id != id, 0)) {
		lock_drop(q);
		return -ENOENT;
	}
	*out = q;
	return 0;
}

/*
 * queue_lock() for the hot calls: the lock's mode stays in *@biased (a
 * register) instead of the header; it is parked in the header
 * (park()/unpark()) around anything that drops and retakes the lock.
 */
static inline __attribute__((always_inline)) int
queue_enter(uint64_t id, struct hbmem_queue **out, bool *biased)
{
	uint64_t bits = id ^ __atomic_load_n(&id_key, __ATOMIC_RELAXED);
	struct hbmem_queue *q;

	if (id == 0)
		return -ENOENT;
	q = header_at((uint32_t)(bits & (QUEUE_MAX - 1)));
	if (!q)
		return -ENOENT;
	*biased = hbmem_block_enter(&q->lock);
	if (__builtin_expect(q->id != id, 0)) {
		hbmem_block_leave(&q->lock, *biased);
		return -ENOENT;
	}
	*out = q;
	return 0;
}

static inline void queue_leave(struct hbmem_queue *q, bool biased)
{
	hbmem_block_leave(&q->lock, biased);
}

static inline void park(struct hbmem_queue *q, bool biased)
{
	q->lock.held_biased = biased;
}

static inline bool unpark(struct hbmem_queue *q)
{
	return q->lock.held_biased;
}

/*
 * Unlock @q; the thread that finds a destroyed queue's header with no
 * waiter left puts it back on the free list.
 */
static inline __attribute__((always_inline)) void
queue_unlock(struct hbmem_queue *q)
{
	bool recycle = q->zombie && q->producers_waiting == 0 &&
		       q->consumers_waiting == 0;

	if (__builtin_expect(recycle, 0))
		q->zombie = false;
	lock_drop(q);
	if (__builtin_expect(recycle, 0))
		header_put(q);
}

/*
 * Watch the ring lengths @a and @b (may be NULL) without the lock for up to
 * QUEUE_SPIN_NS. When the other side runs on another CPU, work arrives in
 * far less than that, and a sleep would cost a futex wait, a futex wake and
 * two context switches (tens of microseconds on a virtual machine). Between
 * short bursts of polling the CPU is yielded, so that on a busy machine the
 * spin gives its time to the thread it waits for instead of burning it.
 */
static void queue_spin(const uint32_t *a, const uint32_t *b)
{
	struct timespec t0, t;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (i = 0; i < 64; i++) {
			if (__atomic_load_n(a, __ATOMIC_RELAXED) ||
			    (b && __atomic_load_n(b, __ATOMIC_RELAXED)))
				return;
			hbmem_cpu_relax();
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L +
		    (t.tv_nsec - t0.tv_nsec) > QUEUE_SPIN_NS)
			return;
		sched_yield();
	}
}

/*
 * Wait for work on @q (locked, id @id) within @w, watching the ring
 * lengths @a and @b: first a short spin without the lock, then a sleep on
 * the futex word @seq counted in @waiting. 0 when the caller should look again, -EAGAIN
 * when told not to wait, -ETIMEDOUT once the time is up, -EIDRM when the
 * queue went away meanwhile.
 */
static int queue_wait(struct hbmem_queue *q, uint64_t id,
		      uint32_t *seq, uint32_t *waiting,
		      const uint32_t *a, const uint32_t *b,
		      struct queue_wait *w)
{
	uint32_t seen;

	if (w->timeout == 0)
		return -EAGAIN;
	if (w->expired)
		return -ETIMEDOUT;
	if (w->timeout > 0 && !w->armed) {
		_hbmem_deadline(w->timeout, &w->deadline);
		w->armed = true;
	}
	if (!w->spun && spin_allowed) {
		/* headers are never freed: watching one is always safe */
		w->spun = true;
		lock_drop(q);
		queue_spin(a, b);
		lock_take(q);
		return q->id == id ? 0 : -EIDRM;
	}
	if (w->timeout > 0) {
		struct timespec now, rel;

		clock_gettime(CLOCK_MONOTONIC, &now);
		rel.tv_sec = w->deadline.tv_sec - now.tv_sec;
		rel.tv_nsec = w->deadline.tv_nsec - now.tv_nsec;
		if (rel.tv_nsec < 0) {
			rel.tv_sec--;
			rel.tv_nsec += 1000000000L;
		}
		if (rel.tv_sec < 0) {
			/* look once more, as after a timed-out wait */
			w->expired = true;
			return 0;
		}
		seen = __atomic_load_n(seq, __ATOMIC_RELAXED);
		(*waiting)++;
		lock_drop(q);
		if (futex_wait(seq, seen, &rel) == -ETIMEDOUT)
			w->expired = true;
	} else {
		seen = __atomic_load_n(seq, __ATOMIC_RELAXED);
		(*waiting)++;
		lock_drop(q);
		futex_wait(seq, seen, NULL);
	}
	lock_take(q);
	(*waiting)--;
	return q->id == id ? 0 : -EIDRM;
}

/* Tear down the live queue @q (locked): waiters wake and leave. */
static void queue_destroy_locked(struct hbmem_queue *q)
{
	q->id = 0;
	q->zombie = true;
	free(q->storage);
	q->storage = NULL;
	q->state = NULL;
	q->items = NULL;
	q->free.slot = NULL;
	q->queued.slot = NULL;
	if (q->producers_waiting)
		futex_wake(&q->take_seq, INT_MAX);
	if (q->consumers_waiting)
		futex_wake(&q->request_seq, INT_MAX);
}

/* ---- the API --------------------------------------------------------- */

static inline int32_t queue_err(int e)
{
	if (__builtin_expect(e == 0, 1))
		return 0;
	switch (e) {
	case -ENOENT:
		return HB_MEM_ERR_QUEUE_NOT_FOUND;
	case -EIDRM:
		return HB_MEM_ERR_QUEUE_DESTROYED;
	case -EBADSLT:
		return HB_MEM_ERR_QUEUE_WRONG_SLOT;
	case -EAGAIN:
		return HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT;
	case -EEXIST:
		return HB_MEM_ERR_QUEUE_ALREADY_EXIST;
	default:
		return _hbmem_err(e);
	}
}

static int queue_create(hb_mem_buf_queue_t *queue, uint32_t flags)
{
	size_t rings, items, total;
	struct hbmem_queue *q;
	uint64_t id;
	uint8_t *p;
	uint32_t i;
	int ret;

	if (!_hbmem_is_open())
		return -ENODEV;
	if (!queue || flags & ~HB_MEM_QUEUE_FLAG_OVERWRITE)
		return -EINVAL;
	if (queue->count == 0 || queue->count > QUEUE_MAX_COUNT ||
	    queue->item_size == 0)
		return -EINVAL;
	if (__builtin_mul_overflow((size_t)queue->count,
				   (size_t)queue->item_size, &items) ||
	    items > QUEUE_MAX_BYTES)
		return -EINVAL;
	ret = queue_lock(queue->unique_id, &q);
	if (ret == 0) {
		queue_unlock(q);
		return -EEXIST;
	}

	/* two rings of u32, the states, then the items on 16 bytes */
	rings = 2 * sizeof(uint32_t) * (size_t)queue->count;
	total = (rings + queue->count + 15) & ~(size_t)15;
	p = calloc(1, total + items);
	if (!p)
		return -ENOMEM;
	ret = header_get(&q, &id);
	if (ret < 0) {
		free(p);
		return ret;
	}

	lock_take(q);
	q->storage = p;
	q->free.slot = (uint32_t *)p;
	q->queued.slot = q->free.slot + queue->count;
	q->state = p + rings;
	q->items = p + total;
	q->count = queue->count;
	q->item_size = queue->item_size;
	q->flags = flags;
	q->free.head = 0;
	__atomic_store_n(&q->free.len, q->count, __ATOMIC_RELAXED);
	q->queued.head = 0;
	__atomic_store_n(&q->queued.len, 0, __ATOMIC_RELAXED);
	for (i = 0; i < q->count; i++)
		q->free.slot[i] = i;	/* states are SLOT_FREE (0) */
	q->drops = 0;
	q->id = id;
	/* until another thread uses it, the creator locks with no atomics */
	hbmem_block_bias(&q->lock);
	lock_drop(q);
	queue->unique_id = id;
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_create_buf_queue(hb_mem_buf_queue_t *queue)
{
	return queue_err(queue_create(queue, 0));
}

HBMEM_EXPORT int32_t hb_mem_create_buf_queue_ex(hb_mem_buf_queue_t *queue,
						uint32_t flags)
{
	return queue_err(queue_create(queue, flags));
}

HBMEM_EXPORT int32_t hb_mem_destroy_buf_queue(hb_mem_buf_queue_t *queue)
{
	struct hbmem_queue *q;
	int ret;

	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (!queue)
		return HB_MEM_ERR_INVALID_PARAMS;
	ret = queue_lock(queue->unique_id, &q);
	if (ret < 0)
		return queue_err(ret);
	queue_destroy_locked(q);
	queue_unlock(q);
	return 0;
}

/*
 * The hot calls ask whether the module is open only when they fail: a live
 * queue implies an open module, since the last close destroys every queue.
 * Errors come out in the same order as if they had asked first.
 */
static __attribute__((noinline)) int32_t closed_or(int e)
{
	return _hbmem_is_open() ? queue_err(e) : HB_MEM_ERR_MODULE_NOT_FOUND;
}

/*
 * No free slot on @q (locked, id @id) at the first look: wait for one
 * within @timeout. 0 with the slot in *@s, else an error; either way @q is
 * still locked (and may be a destroyed queue's header now).
 */
static __attribute__((noinline)) int dequeue_slow(struct hbmem_queue *q,
						  uint64_t id, int64_t timeout,
						  uint32_t *s)
{
	struct queue_wait w = { .timeout = timeout };
	int ret;

	for (;;) {
		ret = queue_wait(q, id, &q->take_seq, &q->producers_waiting,
				 &q->free.len,
				 q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE ?
					 &q->queued.len : NULL,
				 &w);
		if (ret < 0)
			return ret;
		if (q->free.len) {
			*s = ring_pop_head(&q->free, q->count);
			return 0;
		}
		if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE && q->queued.len) {
			*s = ring_pop_head(&q->queued, q->count);
			q->drops++;
			return 0;
		}
	}
}

HBMEM_EXPORT int32_t hb_mem_dequeue_buf(hb_mem_buf_queue_t *queue,
					int32_t *slot, void *buf,
					int64_t timeout)
{
	struct hbmem_queue *q;
	bool biased;
	uint64_t id;
	uint32_t s;
	int ret;

	if (!queue || !slot)
		return closed_or(-EINVAL);
	id = queue->unique_id;
	ret = queue_enter(id, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if (__builtin_expect(q->free.len != 0, 1)) {
		s = ring_pop_head(&q->free, q->count);
	} else if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE && q->queued.len) {
		s = ring_pop_head(&q->queued, q->count);
		q->drops++;
	} else {
		park(q, biased);
		ret = dequeue_slow(q, id, timeout, &s);
		biased = unpark(q);
		if (ret < 0) {
			queue_unlock(q);	/* parked; recycles */
			return queue_err(ret);
		}
	}
	q->state[s] = SLOT_DEQUEUE;
	if (buf)
		item_copy(buf, queue_item(q, s), q->item_size);
	*slot = (int32_t)s;
	/* live all along (or again, after a wait): nothing to recycle */
	queue_leave(q, biased);
	return 0;
}

/* A slot of @q (locked) was queued and someone waits: wake who needs it. */
static __attribute__((noinline)) void queued_wake(struct hbmem_queue *q)
{
	if (q->consumers_waiting)
		futex_wake(&q->request_seq, 1);
	/* overwrite mode: a producer may take the queued slot */
	if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE && q->producers_waiting)
		futex_wake(&q->take_seq, 1);
}

HBMEM_EXPORT int32_t hb_mem_queue_buf(hb_mem_buf_queue_t *queue,
				      int32_t slot, const void *buf)
{
	struct hbmem_queue *q;
	bool biased;
	int ret;

	if (!queue || !buf || slot < 0)
		return closed_or(-EINVAL);
	ret = queue_enter(queue->unique_id, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if ((uint32_t)slot >= q->count) {
		ret = -EINVAL;
	} else if (q->state[slot] != SLOT_DEQUEUE) {
		ret = -EBADSLT;
	} else {
		item_copy(queue_item(q, (uint32_t)slot), buf, q->item_size);
		q->state[slot] = SLOT_QUEUE;
		ring_push_tail(&q->queued, q->count, (uint32_t)slot);
		if (__builtin_expect(q->consumers_waiting | q->producers_waiting,
				     0))
			queued_wake(q);
	}
	/* the lock was held since the id matched: not destroyed */
	queue_leave(q, biased);
	return queue_err(ret);
}

/* Nothing queued on @q at the first look: as dequeue_slow(). */
static __attribute__((noinline)) int request_slow(struct hbmem_queue *q,
						  uint64_t id, int64_t timeout)
{
	struct queue_wait w = { .timeout = timeout };
	int ret;

	while (q->queued.len == 0) {
		ret = queue_wait(q, id, &q->request_seq,
				 &q->consumers_waiting, &q->queued.len, NULL,
				 &w);
		if (ret < 0)
			return ret;
	}
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_request_buf(hb_mem_buf_queue_t *queue,
					int32_t *slot, void *buf,
					int64_t timeout)
{
	struct hbmem_queue *q;
	bool biased;
	uint64_t id;
	uint32_t s;
	int ret;

	if (!queue || !slot)
		return closed_or(-EINVAL);
	id = queue->unique_id;
	ret = queue_enter(id, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if (__builtin_expect(q->queued.len == 0, 0)) {
		park(q, biased);
		ret = request_slow(q, id, timeout);
		biased = unpark(q);
		if (ret < 0) {
			queue_unlock(q);	/* parked; recycles */
			return queue_err(ret);
		}
	}
	s = ring_pop_head(&q->queued, q->count);
	q->state[s] = SLOT_REQUEST;
	if (buf)
		item_copy(buf, queue_item(q, s), q->item_size);
	*slot = (int32_t)s;
	queue_leave(q, biased);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_release_buf(hb_mem_buf_queue_t *queue,
					int32_t slot)
{
	struct hbmem_queue *q;
	bool biased;
	int ret;

	if (!queue || slot < 0)
		return closed_or(-EINVAL);
	ret = queue_enter(queue->unique_id, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if ((uint32_t)slot >= q->count) {
		ret = -EINVAL;
	} else if (q->state[slot] != SLOT_REQUEST) {
		ret = -EBADSLT;
	} else {
		q->state[slot] = SLOT_FREE;
		ring_push_tail(&q->free, q->count, (uint32_t)slot);
		if (q->producers_waiting)
			futex_wake(&q->take_seq, 1);
	}
	queue_leave(q, biased);
	return queue_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_cancel_buf(hb_mem_buf_queue_t *queue,
				       int32_t slot)
{
	struct hbmem_queue *q;
	int ret;

	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (!queue || slot < 0)
		return HB_MEM_ERR_INVALID_PARAMS;
	ret = queue_lock(queue->unique_id, &q);
	if (ret < 0)
		return queue_err(ret);
	if ((uint32_t)slot >= q->count) {
		ret = -EINVAL;
	} else if (q->state[slot] == SLOT_DEQUEUE) {
		q->state[slot] = SLOT_FREE;
		ring_push_head(&q->free, q->count, (uint32_t)slot);
		if (q->producers_waiting)
			futex_wake(&q->take_seq, 1);
	} else if (q->state[slot] == SLOT_REQUEST) {
		q->state[slot] = SLOT_QUEUE;
		ring_push_head(&q->queued, q->count, (uint32_t)slot);
		if (q->consumers_waiting)
			futex_wake(&q->request_seq, 1);
		if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE &&
		    q->producers_waiting)
			futex_wake(&q->take_seq, 1);
	} else {
		ret = -EBADSLT;
	}
	queue_unlock(q);
	return queue_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_queue_drops(hb_mem_buf_queue_t *queue,
						uint64_t *drops)
{
	struct hbmem_queue *q;
	int ret;

	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (!queue || !drops)
		return HB_MEM_ERR_INVALID_PARAMS;
	ret = queue_lock(queue->unique_id, &q);
	if (ret < 0)
		return queue_err(ret);
	*drops = q->drops;
	queue_unlock(q);
	return 0;
}

void _hbmem_queues_cleanup(void)
{
	struct hbmem_queue *q;
	uint32_t i, n;

	pthread_mutex_lock(&table_lock);
	n = headers;
	pthread_mutex_unlock(&table_lock);
	for (i = 0; i < n; i++) {
		q = header_at(i);
		lock_take(q);
		if (q->id)
			queue_destroy_locked(q);
		queue_unlock(q);
	}
}
