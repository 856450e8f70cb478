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
 * Two sides, two locks. The producer side (dequeue_buf, queue_buf) and the
 * consumer side (request_buf, release_buf) each have a lock of their own,
 * and each ring is single-producer single-consumer between the two sides:
 *
 *              producer lock                   consumer lock
 *   FREE ring   pops at head  <------------   pushes at tail (release)
 *   QUEUE ring  pushes at tail (queue_buf) -> pops at head  (request)
 *
 * A ring's cells hold slot + 1, or 0 when empty; its head and tail are
 * free-running counters (cell = counter & mask over a power-of-two array
 * of at least @count cells), each written only by its side. A side pops
 * by reading the cell at its head (acquire) and emptying it, and pushes by
 * filling the cell at its tail (release), so on the hot path neither side
 * reads the other's counter; the counters serve the waiters, which watch
 * them without a lock. Each side's lock and private fields share a cache
 * line, and the tail it publishes for waiters has a line of its own, so
 * an item passed between two CPUs moves the item's record and the cells it
 * occupies. A record is the slot's state byte, padding and the item (64
 * bytes for a 48-byte item, one line), so the state check and the copy
 * touch one line. DEQUEUE is set and cleared only under the producer
 * lock, REQUEST only under the consumer lock, so queue_buf's and
 * release_buf's state checks are exact although the other side may be
 * changing the same byte between its own states. (Two side-private state
 * arrays instead, so that the consumer never writes an item's line,
 * measured slower: 45-50 ns per item across two threads against 35.)
 * Whatever a side does to the other side's ring end (an overwrite dequeue
 * popping the QUEUE ring, destroy) takes both locks, producer lock first;
 * a cancel pushes back onto the head of the ring its own side pops, so it
 * needs only that side's lock.
 *
 * The locks are biased (spinlock.h) and start claimable: the first thread
 * to take each becomes its owner and from then on takes it with no atomic
 * instruction, so a producer thread and a consumer thread, or one thread
 * doing both, run with no atomic read-modify-write and no fence at all. A
 * third thread revokes the bias of the side it uses (one membarrier(),
 * permanent: that lock is a plain spinlock from then on).
 *
 * Waiting. A waiter first watches the counters without a lock for up to
 * QUEUE_SPIN_NS (a producer and consumer on two CPUs then never sleep).
 * Then, under its side's lock, it reads its futex word (take_seq for
 * producers, request_seq for consumers), counts itself in its side's
 * waiting count, runs membarrier(PRIVATE_EXPEDITED), looks at the ring
 * once more and only then drops the lock and sleeps with FUTEX_WAIT. A
 * publisher stores its counter and then (a compiler barrier only) reads
 * the other side's waiting count; if it is not zero it bumps the word and
 * wakes one sleeper. This is Dekker's pattern made asymmetric, as the
 * biased lock's revoke: the membarrier() is a full barrier on every CPU
 * running our threads, so either the publisher's counter store is visible
 * to the waiter's second look, or the publisher's load of the count comes
 * after the barrier and sees the waiter. Where membarrier() does not work
 * the queue is "fenced": the publisher puts a full fence there instead.
 * The waiting counts change only under their side's lock.
 *
 * Lookup without a global lock: a queue's header (locks, counters, futex
 * words) lives in a chunk that is never freed, and the unique id names the
 * header's index plus a sequence number that is never reused. A call finds
 * the header from the id with two loads, takes its side's lock and checks
 * the id is still the header's: a stale id simply does not match. Rings
 * and records are one allocation made at create and freed by destroy under
 * both locks, so it is touched only under a side's lock after that check;
 * a spinning waiter reads only the header. A destroyed queue's header goes
 * back to the free list once no waiter is counted in it; a waiter woken by
 * destroy leaves through a path holding both locks, so that the last one
 * out recycles it with every count stable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
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

#define CACHE_LINE 64
#define REC_ITEM 16		/* a record: state byte, padding, the item */

enum slot_state {
	SLOT_FREE,
	SLOT_DEQUEUE,
	SLOT_QUEUE,
	SLOT_REQUEST,
};

enum queue_side {
	PRODUCER,
	CONSUMER,
};

struct hbmem_queue {
	/*
	 * Read by both sides on every call, written only by create, destroy
	 * and a waiter about to sleep.
	 */
	uint64_t id;			/* 0: no live queue */
	uint32_t *free_cell;		/* the FREE ring: slot + 1, or 0 */
	uint32_t *queued_cell;		/* the QUEUE ring's */
	uint8_t *recs;			/* records of rec_size bytes */
	uint32_t mask;			/* ring array size - 1 */
	uint32_t count;
	uint32_t item_size;
	uint32_t rec_size;
	uint32_t flags;
	uint32_t producers_waiting;	/* under the producer lock */
	uint32_t consumers_waiting;	/* under the consumer lock */
	bool fenced;			/* no membarrier(): publishers fence */

	/*
	 * Each side has a line of its own (its lock and its head) and a line
	 * for the tail it pushes at, which the other side's waiters watch: a
	 * polling waiter then does not take from its owner the line the
	 * owner writes on every call.
	 */
	struct hbmem_block plock __attribute__((aligned(CACHE_LINE)));
	uint32_t free_head;
	uint32_t take_seq;		/* futex word producers sleep on */
	uint64_t drops;			/* under both locks */

	uint32_t queued_tail __attribute__((aligned(CACHE_LINE)));
	/* then what only create, destroy and recycling need (both locks) */
	void *storage;
	uint32_t index;
	bool zombie;		/* destroyed; back to the free list when
				 * the last waiter leaves */
	struct hbmem_queue *next_free;	/* under table_lock */

	struct hbmem_block clock __attribute__((aligned(CACHE_LINE)));
	uint32_t queued_head;
	uint32_t request_seq;		/* futex word consumers sleep on */

	uint32_t free_tail __attribute__((aligned(CACHE_LINE)));
} __attribute__((aligned(CACHE_LINE)));

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

/* ---- records, counters, rings ----------------------------------------- */

static inline uint8_t *rec_at(const struct hbmem_queue *q, uint32_t s)
{
	return q->recs + (size_t)s * q->rec_size;
}

/* A state byte may be read by the other side while it is being changed. */
static inline uint8_t slot_state(const struct hbmem_queue *q, uint32_t s)
{
	return __atomic_load_n(rec_at(q, s), __ATOMIC_RELAXED);
}

static inline void slot_set(const struct hbmem_queue *q, uint32_t s,
			    uint8_t state)
{
	__atomic_store_n(rec_at(q, s), state, __ATOMIC_RELAXED);
}

/* Counters are read without a lock by spinning waiters: all atomic. */
static inline uint32_t ctr(const uint32_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

static inline void ctr_set(uint32_t *c, uint32_t v)
{
	__atomic_store_n(c, v, __ATOMIC_RELAXED);
}

static inline uint64_t queue_id(const struct hbmem_queue *q)
{
	return __atomic_load_n(&q->id, __ATOMIC_RELAXED);
}

static inline struct hbmem_block *side_lock(struct hbmem_queue *q,
					    enum queue_side side)
{
	return side == PRODUCER ? &q->plock : &q->clock;
}

/*
 * A ring cell holds slot + 1, or 0 when empty. The popping side reads the
 * cell at its head (acquire) and empties it; the pushing side fills the
 * cell at its tail (release). So on the hot path neither side reads a
 * counter of the other: the item's cell is the only thing the two sides
 * share per item besides the record. The counters are still kept, for
 * waiters (which watch them without a lock) and for the lengths. A cell
 * is never filled before its previous content was taken: a ring holds at
 * most @count entries and has at least @count cells, and whoever fills
 * cell i + size learned of a free or queued slot through the other ring,
 * after the pop that emptied cell i.
 */
static inline uint32_t cell_take(uint32_t *cell)
{
	uint32_t v = __atomic_load_n(cell, __ATOMIC_ACQUIRE);

	if (v)
		__atomic_store_n(cell, 0, __ATOMIC_RELAXED);
	return v;
}

static inline void cell_fill(uint32_t *cell, uint32_t s)
{
	__atomic_store_n(cell, s + 1, __ATOMIC_RELEASE);
}

/*
 * Pop the FREE ring's head (producer lock held): the slot, or -1 when
 * empty. Slots travel in return values, not through pointers, so the hot
 * calls keep them in registers.
 */
static inline int64_t free_pop(struct hbmem_queue *q)
{
	uint32_t h = ctr(&q->free_head);
	uint32_t v = cell_take(&q->free_cell[h & q->mask]);

	if (__builtin_expect(!v, 0))
		return -1;
	ctr_set(&q->free_head, h + 1);
	return v - 1;
}

/* Push onto the FREE ring's tail (consumer lock held). */
static inline void free_push(struct hbmem_queue *q, uint32_t s)
{
	uint32_t t = ctr(&q->free_tail);

	cell_fill(&q->free_cell[t & q->mask], s);
	__atomic_store_n(&q->free_tail, t + 1, __ATOMIC_RELEASE);
}

/* Pop the QUEUE ring's head (consumer lock held): as free_pop(). */
static inline int64_t queued_pop(struct hbmem_queue *q)
{
	uint32_t h = ctr(&q->queued_head);
	uint32_t v = cell_take(&q->queued_cell[h & q->mask]);

	if (__builtin_expect(!v, 0))
		return -1;
	ctr_set(&q->queued_head, h + 1);
	return v - 1;
}

/* Push onto the QUEUE ring's tail (producer lock held). */
static inline void queued_push(struct hbmem_queue *q, uint32_t s)
{
	uint32_t t = ctr(&q->queued_tail);

	cell_fill(&q->queued_cell[t & q->mask], s);
	__atomic_store_n(&q->queued_tail, t + 1, __ATOMIC_RELEASE);
}

/*
 * Whether @side has something to take, looking only at the header (safe
 * without a lock, on a destroyed queue too). @overwrite: a producer may
 * also take the oldest queued slot.
 */
static bool side_has_work(struct hbmem_queue *q, enum queue_side side,
			  bool overwrite)
{
	if (side == CONSUMER)
		return __atomic_load_n(&q->queued_tail, __ATOMIC_ACQUIRE) !=
		       ctr(&q->queued_head);
	return __atomic_load_n(&q->free_tail, __ATOMIC_ACQUIRE) !=
		       ctr(&q->free_head) ||
	       (overwrite && ctr(&q->queued_tail) != ctr(&q->queued_head));
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

/* ---- futex words ------------------------------------------------------ */

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

/*
 * Bump @word and wake @n of its sleepers. The word may be bumped from
 * either side (a release and an overwrite-mode queue_buf both wake
 * producers), hence the atomic add; it runs only when someone waits.
 */
static __attribute__((noinline)) void futex_wake(uint32_t *word, int n)
{
	int saved = errno;

	__atomic_fetch_add(word, 1, __ATOMIC_RELAXED);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
	errno = saved;
}

/*
 * A full fence. ThreadSanitizer does not model fences and GCC warns about
 * them under -fsanitize=thread (an error with werror); the fence is still
 * what the C memory model needs here, and the data an item carries is
 * ordered by acquire/release pairs that TSan does see, so the warning is
 * silenced for this one function.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
static inline void full_fence(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/*
 * Between a publisher's counter store and its load of the other side's
 * waiting count: nothing but the compiler's order when waiters run
 * membarrier() before they sleep, a full fence when they cannot.
 */
static inline void publish_barrier(const struct hbmem_queue *q)
{
	if (__builtin_expect(q->fenced, 0))
		full_fence();
	else
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* The waiter's half: between counting itself and its second look. */
static void sleep_barrier(const struct hbmem_queue *q)
{
	int saved = errno;

	if (q->fenced ||
	    hbmem_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0)
		full_fence();
	errno = saved;
}

/* ---- ids and headers -------------------------------------------------- */

/*
 * Fork. The child has only the forking thread, and a queue's sides may be
 * biased to threads it lacks, one of them perhaps inside a call at the
 * fork (its busy mark set for good), or spinlocked by one, or counted as
 * a waiter: the child's first take of such a lock (destroy, module close)
 * would wait forever, and a destroyed queue would wait for its waiters to
 * leave. So the child forgets those threads. The table lock is held
 * across the fork so that the header list is whole in the child. A queue
 * that another thread was using at the fork may be mid-call in the child:
 * the child can destroy it and use queues of its own. module.c's fork
 * handlers call these, in the library's lock order.
 */
void _hbmem_queues_atfork_prepare(void)
{
	pthread_mutex_lock(&table_lock);
}

void _hbmem_queues_atfork_parent(void)
{
	pthread_mutex_unlock(&table_lock);
}

static struct hbmem_queue *header_at(uint32_t index);

void _hbmem_queues_atfork_child(void)
{
	struct hbmem_queue *q;
	uint32_t i;

	for (i = 0; i < headers; i++) {
		q = header_at(i);
		hbmem_block_forget_threads(&q->plock);
		hbmem_block_forget_threads(&q->clock);
		ctr_set(&q->producers_waiting, 0);
		ctr_set(&q->consumers_waiting, 0);
		if (q->zombie) {
			/* its waiters were other threads: none is left */
			q->zombie = false;
			q->next_free = free_headers;
			free_headers = q;
		}
	}
	pthread_mutex_unlock(&table_lock);
}

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

/* The header @id would live in, or NULL (not whether it is live). */
static inline struct hbmem_queue *header_of(uint64_t id)
{
	uint64_t bits = id ^ __atomic_load_n(&id_key, __ATOMIC_RELAXED);

	if (id == 0)
		return NULL;
	return header_at((uint32_t)(bits & (QUEUE_MAX - 1)));
}

static int chunk_new(struct hbmem_queue **out)
{
	struct hbmem_queue *chunk;

	chunk = aligned_alloc(CACHE_LINE, sizeof(*chunk) * QUEUE_CHUNK);
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

/* ---- taking the locks ------------------------------------------------- */

/* Not the owner of @l (yet): the spinlock path, out of line. */
static __attribute__((noinline)) bool side_enter_slow(struct hbmem_block *l)
{
	return hbmem_block_enter_spin(l);
}

/*
 * hbmem_block_enter() with only the owner's path inline, so that the hot
 * calls have no call on their common path (see dequeue_finish()).
 */
static inline __attribute__((always_inline)) bool
side_enter(struct hbmem_block *l)
{
	return hbmem_block_enter_biased(l) || side_enter_slow(l);
}

/*
 * Take @side's lock of the live queue named @id: 0, or -ENOENT. The hot
 * calls keep the lock's mode in *@biased (a register) instead of the
 * header; it is parked in the lock's held_biased (park()/unpark()) around
 * anything that drops and retakes the lock.
 */
static inline __attribute__((always_inline)) int
queue_enter(uint64_t id, enum queue_side side, struct hbmem_queue **out,
	    bool *biased)
{
	struct hbmem_queue *q = header_of(id);
	struct hbmem_block *l;

	if (!q)
		return -ENOENT;
	l = side_lock(q, side);
	*biased = side_enter(l);
	if (__builtin_expect(queue_id(q) != id, 0)) {
		hbmem_block_leave(l, *biased);
		return -ENOENT;
	}
	*out = q;
	return 0;
}

static inline void park(struct hbmem_block *l, bool biased)
{
	l->held_biased = biased;
}

static inline bool unpark(struct hbmem_block *l)
{
	return l->held_biased;
}

/* Both locks, producer lock first. */
static void lock_both(struct hbmem_queue *q)
{
	hbmem_block_take(&q->plock);
	hbmem_block_take(&q->clock);
}

/*
 * Drop both locks; the thread that finds a destroyed queue's header with
 * no waiter left puts it back on the free list.
 */
static void unlock_both(struct hbmem_queue *q)
{
	bool recycle = q->zombie && ctr(&q->producers_waiting) == 0 &&
		       ctr(&q->consumers_waiting) == 0;

	if (recycle)
		q->zombie = false;
	hbmem_block_drop(&q->clock);
	hbmem_block_drop(&q->plock);
	if (recycle)
		header_put(q);
}

/* Both locks of the live queue named @id: 0, or -ENOENT. */
static int queue_lock_both(uint64_t id, struct hbmem_queue **out)
{
	struct hbmem_queue *q = header_of(id);

	if (!q)
		return -ENOENT;
	lock_both(q);
	if (queue_id(q) != id) {
		unlock_both(q);
		return -ENOENT;
	}
	*out = q;
	return 0;
}

/* ---- waiting ---------------------------------------------------------- */

/*
 * Watch @q's counters without a lock for up to QUEUE_SPIN_NS, or until
 * its id is no longer @id. When the other side runs on another CPU, work
 * arrives in far less than that, and a sleep would cost a futex wait, a
 * futex wake and two context switches (tens of microseconds on a virtual
 * machine). Between short bursts of polling the CPU is yielded, so that
 * on a busy machine the spin gives its time to the thread it waits for.
 */
static void queue_spin(struct hbmem_queue *q, uint64_t id,
		       enum queue_side side, bool overwrite)
{
	struct timespec t0 = { 0, 0 }, t;
	bool timing = false;
	int i;

	for (;;) {
		for (i = 0; i < 64; i++) {
			if (side_has_work(q, side, overwrite) ||
			    queue_id(q) != id)
				return;
			hbmem_cpu_relax();
		}
		/* the clock only once the first burst found nothing */
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (!timing) {
			t0 = t;
			timing = true;
		} else if ((t.tv_sec - t0.tv_sec) * 1000000000L +
				   (t.tv_nsec - t0.tv_nsec) >
			   QUEUE_SPIN_NS) {
			return;
		}
		sched_yield();
	}
}

/* The time left until @w's deadline in *@rel: false once none is left. */
static bool wait_left(const struct queue_wait *w, struct timespec *rel)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rel->tv_sec = w->deadline.tv_sec - now.tv_sec;
	rel->tv_nsec = w->deadline.tv_nsec - now.tv_nsec;
	if (rel->tv_nsec < 0) {
		rel->tv_sec--;
		rel->tv_nsec += 1000000000L;
	}
	return rel->tv_sec >= 0;
}

/*
 * Sleep on @side's futex word, counted as a waiter, until woken, the time
 * @rel (NULL: none) runs out or work shows at the second look. Called and
 * returns with @side's lock held. True when the sleep timed out.
 */
static bool side_sleep(struct hbmem_queue *q, enum queue_side side,
		       bool overwrite, const struct timespec *rel)
{
	struct hbmem_block *l = side_lock(q, side);
	uint32_t *seq = side == PRODUCER ? &q->take_seq : &q->request_seq;
	uint32_t *waiting = side == PRODUCER ? &q->producers_waiting :
					       &q->consumers_waiting;
	bool timed_out = false;
	uint32_t seen;

	seen = __atomic_load_n(seq, __ATOMIC_RELAXED);
	ctr_set(waiting, ctr(waiting) + 1);
	sleep_barrier(q);
	if (!side_has_work(q, side, overwrite)) {
		hbmem_block_drop(l);
		timed_out = futex_wait(seq, seen, rel) == -ETIMEDOUT;
		hbmem_block_take(l);
	}
	ctr_set(waiting, ctr(waiting) - 1);
	return timed_out;
}

/*
 * Wait for work for @side on @q (id @id, @side's lock held) within @w:
 * first a spin without the lock, then sleeps. 0 when the caller should
 * look again, -EAGAIN when told not to wait, -ETIMEDOUT once the time is
 * up; all three with the lock held. -EIDRM when the queue went away
 * meanwhile, with the lock dropped (the header may be another queue's by
 * now, or recycled by this call).
 */
static int queue_wait(struct hbmem_queue *q, uint64_t id,
		      enum queue_side side, struct queue_wait *w)
{
	struct hbmem_block *l = side_lock(q, side);
	bool overwrite = q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE;
	struct timespec rel;

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
		hbmem_block_drop(l);
		queue_spin(q, id, side, overwrite);
		hbmem_block_take(l);
		if (queue_id(q) != id) {
			/* not counted as a waiter: nothing to recycle */
			hbmem_block_drop(l);
			return -EIDRM;
		}
		return 0;
	}
	if (w->timeout > 0) {
		if (!wait_left(w, &rel)) {
			/* look once more, as after a timed-out sleep */
			w->expired = true;
			return 0;
		}
		if (side_sleep(q, side, overwrite, &rel))
			w->expired = true;
	} else {
		side_sleep(q, side, overwrite, NULL);
	}
	if (queue_id(q) != id) {
		/* woken by destroy: the last waiter out recycles */
		hbmem_block_drop(l);
		lock_both(q);
		unlock_both(q);
		return -EIDRM;
	}
	return 0;
}

/* Tear down the live queue @q (both locks held): waiters wake and leave. */
static void queue_destroy_locked(struct hbmem_queue *q)
{
	__atomic_store_n(&q->id, 0, __ATOMIC_RELAXED);
	q->zombie = true;
	free(q->storage);
	q->storage = NULL;
	q->recs = NULL;
	q->free_cell = NULL;
	q->queued_cell = NULL;
	if (ctr(&q->producers_waiting))
		futex_wake(&q->take_seq, INT_MAX);
	if (ctr(&q->consumers_waiting))
		futex_wake(&q->request_seq, INT_MAX);
}

/* ---- the API ---------------------------------------------------------- */

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

/* The smallest power of two >= @n (n <= QUEUE_MAX_COUNT). */
static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/*
 * One allocation for a queue of @count items of @item_size: the two rings
 * (each on cache lines of its own), then the records, 64-byte aligned, of
 * REC_ITEM bytes of state and padding and the item rounded up to 16.
 */
static int queue_storage(struct hbmem_queue *q, uint32_t count,
			 uint32_t item_size)
{
	size_t ring, rec, recs, total;
	uint8_t *raw, *p;

	ring = ((size_t)pow2_at_least(count) * sizeof(uint32_t) +
		CACHE_LINE - 1) & ~(size_t)(CACHE_LINE - 1);
	rec = REC_ITEM + (((size_t)item_size + 15) & ~(size_t)15);
	if (rec > UINT32_MAX ||
	    __builtin_mul_overflow(rec, (size_t)count, &recs) ||
	    __builtin_add_overflow(recs, 2 * ring + CACHE_LINE, &total))
		return -EINVAL;
	raw = calloc(1, total);		/* zeroed: every slot FREE */
	if (!raw)
		return -ENOMEM;
	p = (uint8_t *)(((uintptr_t)raw + CACHE_LINE - 1) &
			~(uintptr_t)(CACHE_LINE - 1));
	q->storage = raw;
	q->free_cell = (uint32_t *)p;
	q->queued_cell = (uint32_t *)(p + ring);
	q->recs = p + 2 * ring;
	q->mask = pow2_at_least(count) - 1;
	q->rec_size = (uint32_t)rec;
	return 0;
}

static int queue_create(hb_mem_buf_queue_t *queue, uint32_t flags)
{
	struct hbmem_queue *q, *old;
	size_t items;
	uint64_t id;
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
	old = header_of(queue->unique_id);
	if (old && queue_id(old) == queue->unique_id)
		return -EEXIST;

	ret = header_get(&q, &id);
	if (ret < 0)
		return ret;
	/* plain spinlocks while setting up, whoever owned them before */
	hbmem_block_lock_unbiased(&q->plock);
	hbmem_block_lock_unbiased(&q->clock);
	ret = queue_storage(q, queue->count, queue->item_size);
	if (ret < 0) {
		hbmem_spin_unlock(&q->clock.lock);
		hbmem_spin_unlock(&q->plock.lock);
		header_put(q);
		return ret;
	}
	q->count = queue->count;
	q->item_size = queue->item_size;
	q->flags = flags;
	q->fenced = !hbmem_block_can_bias();
	for (i = 0; i < q->count; i++)
		cell_fill(&q->free_cell[i], i);	/* records: SLOT_FREE (0) */
	ctr_set(&q->free_head, 0);
	ctr_set(&q->free_tail, q->count);
	ctr_set(&q->queued_head, 0);
	ctr_set(&q->queued_tail, 0);
	__atomic_store_n(&q->drops, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&q->id, id, __ATOMIC_RELEASE);
	/* the first producer and the first consumer each claim their side */
	hbmem_block_unlock_claimable(&q->clock);
	hbmem_block_unlock_claimable(&q->plock);
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
	ret = queue_lock_both(queue->unique_id, &q);
	if (ret < 0)
		return queue_err(ret);
	queue_destroy_locked(q);
	unlock_both(q);
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
 * Overwrite mode, the FREE ring empty at the producer's look (producer
 * lock held): with the consumer lock too, take a free slot if one came
 * back meanwhile, else the oldest queued one, counted as a drop.
 */
static int64_t overwrite_take(struct hbmem_queue *q)
{
	int64_t s;

	if (ctr(&q->queued_tail) == ctr(&q->queued_head))
		return -1;	/* a cancel wakes us if it refills it */
	hbmem_block_take(&q->clock);
	s = free_pop(q);	/* a release may have come in first */
	if (s < 0) {
		s = queued_pop(q);
		if (s >= 0)
			__atomic_store_n(&q->drops, q->drops + 1,
					 __ATOMIC_RELAXED);
	}
	hbmem_block_drop(&q->clock);
	return s;
}

/*
 * The hot calls are written so that their common path calls nothing:
 * whatever may wait, wake or fail is a tail call to a function of its own,
 * so the compiler need not save registers for it on every call.
 */

/*
 * Hand slot @s of @q to the side whose lock @l is held in mode @biased:
 * the slot goes to @state (DEQUEUE or REQUEST), its item to @buf.
 */
static inline __attribute__((always_inline)) int32_t
slot_hand_out(struct hbmem_queue *q, struct hbmem_block *l, bool biased,
	      uint8_t state, int64_t s, int32_t *slot, void *buf)
{
	uint8_t *rec = rec_at(q, (uint32_t)s);

	__atomic_store_n(rec, state, __ATOMIC_RELAXED);
	if (buf)
		item_copy(buf, rec + REC_ITEM, q->item_size);
	*slot = (int32_t)s;
	hbmem_block_leave(l, biased);
	return 0;
}

/* Hand slot @s of @q to the producer (lock held in mode @biased). */
static inline __attribute__((always_inline)) int32_t
dequeue_finish(struct hbmem_queue *q, bool biased, int64_t s, int32_t *slot,
	       void *buf)
{
	return slot_hand_out(q, &q->plock, biased, SLOT_DEQUEUE, s, slot, buf);
}

/*
 * No free slot on @q (producer lock held, id @id) at the first look: wait
 * for one within @timeout, then finish as hb_mem_dequeue_buf().
 */
static __attribute__((noinline)) int32_t
dequeue_slow(struct hbmem_queue *q, bool biased, uint64_t id,
	     int32_t *slot, void *buf, int64_t timeout)
{
	struct queue_wait w = { .timeout = timeout };
	int64_t s;
	int ret;

	park(&q->plock, biased);
	for (;;) {
		s = free_pop(q);
		if (s >= 0)
			break;
		if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE) {
			s = overwrite_take(q);
			if (s >= 0)
				break;
		}
		ret = queue_wait(q, id, PRODUCER, &w);
		if (ret == -EIDRM)
			return queue_err(ret);	/* lock dropped */
		if (ret < 0) {
			hbmem_block_drop(&q->plock);
			return queue_err(ret);
		}
	}
	return dequeue_finish(q, unpark(&q->plock), s, slot, buf);
}

HBMEM_EXPORT int32_t hb_mem_dequeue_buf(hb_mem_buf_queue_t *queue,
					int32_t *slot, void *buf,
					int64_t timeout)
{
	struct hbmem_queue *q;
	bool biased;
	uint64_t id;
	int64_t s;
	int ret;

	if (!queue || !slot)
		return closed_or(-EINVAL);
	id = queue->unique_id;
	ret = queue_enter(id, PRODUCER, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	s = free_pop(q);
	if (__builtin_expect(s < 0, 0))
		return dequeue_slow(q, biased, id, slot, buf, timeout);
	return dequeue_finish(q, biased, s, slot, buf);
}

/*
 * A slot was queued on @q (producer lock held in mode @biased) and someone
 * may wait: wake who needs it, then drop the lock.
 */
static __attribute__((noinline)) int32_t queued_wake(struct hbmem_queue *q,
						     bool biased)
{
	if (ctr(&q->consumers_waiting))
		futex_wake(&q->request_seq, 1);
	/* overwrite mode: a producer may take the queued slot */
	if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE &&
	    ctr(&q->producers_waiting))
		futex_wake(&q->take_seq, 1);
	hbmem_block_leave(&q->plock, biased);
	return 0;
}

/* Drop @lock (held in mode @biased) and return @e as the API's code. */
static __attribute__((noinline)) int32_t
leave_err(struct hbmem_block *lock, bool biased, int e)
{
	hbmem_block_leave(lock, biased);
	return queue_err(e);
}

HBMEM_EXPORT int32_t hb_mem_queue_buf(hb_mem_buf_queue_t *queue,
				      int32_t slot, const void *buf)
{
	struct hbmem_queue *q;
	uint8_t *rec;
	bool biased;
	int ret;

	if (!queue || !buf || slot < 0)
		return closed_or(-EINVAL);
	ret = queue_enter(queue->unique_id, PRODUCER, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if (__builtin_expect((uint32_t)slot >= q->count, 0))
		return leave_err(&q->plock, biased, -EINVAL);
	rec = rec_at(q, (uint32_t)slot);
	if (__builtin_expect(__atomic_load_n(rec, __ATOMIC_RELAXED) !=
				     SLOT_DEQUEUE,
			     0))
		return leave_err(&q->plock, biased, -EBADSLT);
	item_copy(rec + REC_ITEM, buf, q->item_size);
	__atomic_store_n(rec, SLOT_QUEUE, __ATOMIC_RELAXED);
	queued_push(q, (uint32_t)slot);
	publish_barrier(q);
	if (__builtin_expect(ctr(&q->consumers_waiting) |
				     ctr(&q->producers_waiting),
			     0))
		return queued_wake(q, biased);
	hbmem_block_leave(&q->plock, biased);
	return 0;
}

/* Hand slot @s of @q to the consumer (lock held in mode @biased). */
static inline __attribute__((always_inline)) int32_t
request_finish(struct hbmem_queue *q, bool biased, int64_t s, int32_t *slot,
	       void *buf)
{
	return slot_hand_out(q, &q->clock, biased, SLOT_REQUEST, s, slot, buf);
}

/* Nothing queued on @q at the first look: as dequeue_slow(). */
static __attribute__((noinline)) int32_t
request_slow(struct hbmem_queue *q, bool biased, uint64_t id,
	     int32_t *slot, void *buf, int64_t timeout)
{
	struct queue_wait w = { .timeout = timeout };
	int64_t s;
	int ret;

	park(&q->clock, biased);
	while ((s = queued_pop(q)) < 0) {
		ret = queue_wait(q, id, CONSUMER, &w);
		if (ret == -EIDRM)
			return queue_err(ret);	/* lock dropped */
		if (ret < 0) {
			hbmem_block_drop(&q->clock);
			return queue_err(ret);
		}
	}
	return request_finish(q, unpark(&q->clock), s, slot, buf);
}

HBMEM_EXPORT int32_t hb_mem_request_buf(hb_mem_buf_queue_t *queue,
					int32_t *slot, void *buf,
					int64_t timeout)
{
	struct hbmem_queue *q;
	bool biased;
	uint64_t id;
	int64_t s;
	int ret;

	if (!queue || !slot)
		return closed_or(-EINVAL);
	id = queue->unique_id;
	ret = queue_enter(id, CONSUMER, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	s = queued_pop(q);
	if (__builtin_expect(s < 0, 0))
		return request_slow(q, biased, id, slot, buf, timeout);
	return request_finish(q, biased, s, slot, buf);
}

/* A slot was freed on @q and a producer waits: as queued_wake(). */
static __attribute__((noinline)) int32_t released_wake(struct hbmem_queue *q,
						       bool biased)
{
	futex_wake(&q->take_seq, 1);
	hbmem_block_leave(&q->clock, biased);
	return 0;
}

HBMEM_EXPORT int32_t hb_mem_release_buf(hb_mem_buf_queue_t *queue,
					int32_t slot)
{
	struct hbmem_queue *q;
	uint8_t *rec;
	bool biased;
	int ret;

	if (!queue || slot < 0)
		return closed_or(-EINVAL);
	ret = queue_enter(queue->unique_id, CONSUMER, &q, &biased);
	if (ret < 0)
		return closed_or(ret);
	if (__builtin_expect((uint32_t)slot >= q->count, 0))
		return leave_err(&q->clock, biased, -EINVAL);
	rec = rec_at(q, (uint32_t)slot);
	if (__builtin_expect(__atomic_load_n(rec, __ATOMIC_RELAXED) !=
				     SLOT_REQUEST,
			     0))
		return leave_err(&q->clock, biased, -EBADSLT);
	__atomic_store_n(rec, SLOT_FREE, __ATOMIC_RELAXED);
	free_push(q, (uint32_t)slot);
	publish_barrier(q);
	if (__builtin_expect(ctr(&q->producers_waiting) != 0, 0))
		return released_wake(q, biased);
	hbmem_block_leave(&q->clock, biased);
	return 0;
}

/* Undo a dequeue (producer lock held): the slot is the next one taken. */
static void cancel_dequeue(struct hbmem_queue *q, uint32_t s)
{
	uint32_t h = ctr(&q->free_head) - 1;

	slot_set(q, s, SLOT_FREE);
	cell_fill(&q->free_cell[h & q->mask], s);
	ctr_set(&q->free_head, h);
	if (ctr(&q->producers_waiting))
		futex_wake(&q->take_seq, 1);
}

/* Undo a request (consumer lock held): the item is the next one out. */
static void cancel_request(struct hbmem_queue *q, uint32_t s)
{
	uint32_t h = ctr(&q->queued_head) - 1;

	slot_set(q, s, SLOT_QUEUE);
	cell_fill(&q->queued_cell[h & q->mask], s);
	ctr_set(&q->queued_head, h);
	if (ctr(&q->consumers_waiting))
		futex_wake(&q->request_seq, 1);
	if (q->flags & HB_MEM_QUEUE_FLAG_OVERWRITE) {
		/* a producer waiting to overwrite is on the other side */
		publish_barrier(q);
		if (ctr(&q->producers_waiting))
			futex_wake(&q->take_seq, 1);
	}
}

/*
 * Cancel @slot of the live queue named @id under the one lock that guards
 * the state it must be in to be cancelled from @side: 0, -ENOENT, or
 * -EAGAIN when the slot is not in that state (the caller then decides
 * with both locks).
 */
static int cancel_side(uint64_t id, enum queue_side side, uint32_t slot)
{
	struct hbmem_queue *q;
	bool biased;
	int ret;

	ret = queue_enter(id, side, &q, &biased);
	if (ret < 0)
		return ret;
	if (slot >= q->count)
		ret = -EINVAL;
	else if (side == PRODUCER && slot_state(q, slot) == SLOT_DEQUEUE)
		cancel_dequeue(q, slot);
	else if (side == CONSUMER && slot_state(q, slot) == SLOT_REQUEST)
		cancel_request(q, slot);
	else
		ret = -EAGAIN;
	hbmem_block_leave(side_lock(q, side), biased);
	return ret;
}

HBMEM_EXPORT int32_t hb_mem_cancel_buf(hb_mem_buf_queue_t *queue,
				       int32_t slot)
{
	struct hbmem_queue *q;
	enum queue_side first;
	uintptr_t me;
	uint8_t state;
	int ret;

	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (!queue || slot < 0)
		return HB_MEM_ERR_INVALID_PARAMS;
	q = header_of(queue->unique_id);
	if (!q)
		return HB_MEM_ERR_QUEUE_NOT_FOUND;
	/*
	 * Guess the side from the locks' owners (only a guess: the answer is
	 * decided under a lock), so that a consumer thread cancelling its
	 * request does not take, and revoke, the producer's lock.
	 */
	me = hbmem_self();
	first = __atomic_load_n(&q->clock.owner, __ATOMIC_RELAXED) == me &&
			__atomic_load_n(&q->plock.owner, __ATOMIC_RELAXED) !=
				me ?
		CONSUMER : PRODUCER;
	ret = cancel_side(queue->unique_id, first, (uint32_t)slot);
	if (ret != -EAGAIN)
		return queue_err(ret);

	/* not in the state the guess expected: decide with both locks */
	ret = queue_lock_both(queue->unique_id, &q);
	if (ret < 0)
		return queue_err(ret);
	state = slot_state(q, (uint32_t)slot);
	if (state == SLOT_DEQUEUE)
		cancel_dequeue(q, (uint32_t)slot);
	else if (state == SLOT_REQUEST)
		cancel_request(q, (uint32_t)slot);
	else
		ret = -EBADSLT;
	unlock_both(q);
	return queue_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_get_buf_queue_drops(hb_mem_buf_queue_t *queue,
						uint64_t *drops)
{
	struct hbmem_queue *q;
	uint64_t id, d;

	if (!_hbmem_is_open())
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	if (!queue || !drops)
		return HB_MEM_ERR_INVALID_PARAMS;
	id = queue->unique_id;
	q = header_of(id);
	/*
	 * No lock (a monitoring thread would revoke a side's bias): ids are
	 * never reused, so the same id before and after the read means the
	 * count read is this live queue's.
	 */
	if (!q || __atomic_load_n(&q->id, __ATOMIC_ACQUIRE) != id)
		return HB_MEM_ERR_QUEUE_NOT_FOUND;
	d = __atomic_load_n(&q->drops, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&q->id, __ATOMIC_RELAXED) != id)
		return HB_MEM_ERR_QUEUE_NOT_FOUND;
	*drops = d;
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
		/* free headers are left alone: locking them could revoke biases */
		if (!queue_id(q))
			continue;
		lock_both(q);
		if (queue_id(q))
			queue_destroy_locked(q);
		unlock_both(q);
	}
}
