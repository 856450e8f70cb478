/* SPDX-License-Identifier: MIT */
/*
 * spinlock.h - the small locks of the pool and queue fast paths.
 *
 * A word: 0 free, 1 held, 2 held and wanted. Taking it is one atomic
 * exchange when free; a busy lock is marked wanted, then watched with
 * plain loads (no cache-line ping-pong) for 100 pauses, then the CPU is
 * given away, since the holder may be preempted. Nothing may sleep while
 * holding it. Release is a plain store; a holder that sees the lock wanted
 * yields the CPU right after releasing it, so a thread that takes and
 * drops the lock in a tight loop cannot keep a waiter out for good where
 * threads do not run truly in parallel (one CPU for both, or valgrind,
 * whose deterministic thread switches otherwise always found the lock
 * held). The mark is a hint: one missed costs a yield, never exclusion.
 */
#ifndef HBMEM_SPINLOCK_H
#define HBMEM_SPINLOCK_H

#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline void hbmem_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* One step of a wait: pause, and every 100th step yield the CPU. */
static inline void hbmem_spin_wait(unsigned int *spins)
{
	if (++*spins < 100) {
		hbmem_cpu_relax();
	} else {
		*spins = 0;
		sched_yield();
	}
}

static __attribute__((noinline)) void hbmem_spin_lock_slow(uint32_t *lock)
{
	unsigned int spins = 0;

	/* taken when the exchange finds it free; else it is now marked */
	while (__atomic_exchange_n(lock, 2, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED))
			hbmem_spin_wait(&spins);
	}
}

static inline void hbmem_spin_lock(uint32_t *lock)
{
	if (__builtin_expect(__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE), 0))
		hbmem_spin_lock_slow(lock);
}

static inline void hbmem_spin_unlock(uint32_t *lock)
{
	uint32_t was = __atomic_load_n(lock, __ATOMIC_RELAXED);

	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	if (__builtin_expect(was == 2, 0))
		sched_yield();
}

/*
 * The biased lock: the spinlock above, except that one thread, the owner
 * (the one that created the pool; for a queue's two locks, the first thread
 * to take each, see HBMEM_BLOCK_CLAIMABLE), takes and drops it with no
 * atomic read-modify-write at all, as long as no other thread has ever
 * wanted it. It is the locked instruction of every call, not the work
 * done under the lock, that dominates an uncontended pool or queue call.
 *
 *   owner     the owner's thread pointer, or 0: not biased (any more)
 *   busy      written only by the owner: 1 while inside in biased mode
 *   lock      the spinlock every other thread takes, and the owner too
 *             once the bias is gone
 *
 *   owner, fast path                 any other thread (revocation)
 *   ----------------                 -----------------------------
 *   busy = 1                         take lock
 *   (compiler barrier only)          owner = 0
 *   owner == me ? enter              membarrier(PRIVATE_EXPEDITED)
 *                : busy = 0, lock    wait until busy == 0, enter
 *
 * Dekker's pattern, made asymmetric: the owner's side would need a full
 * fence between its store to busy and its load of owner; instead, the
 * revoker's membarrier() runs a full barrier on every CPU that is running
 * one of our threads. So either the owner's busy = 1 is visible to the
 * revoker once membarrier() returns (it then waits for the owner's release
 * store of busy = 0), or the owner's load comes after that barrier and sees
 * owner == 0, backs out and takes the spinlock. A revocation costs one
 * system call (a few µs) and is permanent: afterwards the lock is the plain
 * spinlock with one more load and compare per take. The bias is set only
 * by the thread itself, holding the spinlock (create, or the claim of a
 * claimable lock), and only once
 * membarrier() is known to work; without it the lock is never biased.
 * Registering for membarrier() happens once per process, at the first
 * create: microseconds while the process has one thread, an RCU grace
 * period (about 10 ms on a VM) once it has more.
 *
 * Known window, not closed: an owner preempted between its first load of
 * owner and its store busy = 1 may resume after its bias was revoked and
 * the lock's memory reused (a pool struct or queue header handed to a new
 * pool or queue) and biased to another thread; its back-out store busy = 0
 * can then clear the new owner's mark while that owner is inside, and a
 * later revocation would not wait for it. It takes a call on a pool or
 * queue racing with its own destroy, that exact preemption, a create that
 * reuses the memory, the new owner inside and a third thread's take, all
 * at once; closing it needs a busy word per bias (or an atomic on the fast
 * path), and the fast path is what the bias is for.
 *
 * hbmem_block_enter() returns how the lock was taken, for
 * hbmem_block_leave(); hbmem_block_take() and hbmem_block_drop() keep it
 * in @held_biased instead, which only the holder touches.
 */
struct hbmem_block {
	uint32_t lock;
	uint32_t busy;
	uintptr_t owner;
	uint32_t held_biased;
};

static inline uintptr_t hbmem_self(void)
{
	return (uintptr_t)__builtin_thread_pointer();
}

static inline long hbmem_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

/*
 * Whether membarrier(PRIVATE_EXPEDITED) works here (registered once).
 * HBMEM_NO_MEMBARRIER=1 in the environment makes it say no, as on a
 * kernel without it: the tests run the fallbacks (plain spinlocks, the
 * queue's fenced publishers) this way.
 */
static inline bool hbmem_block_can_bias(void)
{
	static int state;	/* 0 unknown, 1 yes, -1 no */
	int s = __atomic_load_n(&state, __ATOMIC_RELAXED);
	const char *off;
	long cmds;

	if (s)
		return s > 0;
	off = getenv("HBMEM_NO_MEMBARRIER");
	cmds = off && off[0] == '1' ? -1 :
				      hbmem_membarrier(MEMBARRIER_CMD_QUERY);
	s = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    hbmem_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 ?
		    1 : -1;
	__atomic_store_n(&state, s, __ATOMIC_RELAXED);
	return s > 0;
}

/* Take the bias away from its owner. @l's spinlock held. */
static __attribute__((noinline)) void hbmem_block_revoke(struct hbmem_block *l)
{
	unsigned int spins = 0;
	int saved = errno;

	__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	if (hbmem_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0) {
		/*
		 * Cannot happen: the process registered before any lock was
		 * biased, and a fork child inherits that. Should it happen,
		 * register again; failing that, give the owner's store to busy
		 * a millisecond to leave its CPU's store buffer (nanoseconds in
		 * practice, though not a formal guarantee).
		 */
		hbmem_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
		if (hbmem_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) < 0) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
		}
	}
	errno = saved;
	while (__atomic_load_n(&l->busy, __ATOMIC_ACQUIRE))
		hbmem_spin_wait(&spins);
}

/*
 * An owner value no thread pointer can have: the lock is unowned, and the
 * first thread to take it (through the spinlock, once) becomes its owner.
 * The queue starts its two locks this way, so that its producer thread
 * owns one and its consumer thread the other, whichever thread created it.
 */
#define HBMEM_BLOCK_CLAIMABLE ((uintptr_t)1)

/*
 * The owner's way in: true when the calling thread owns @l's bias and is
 * now inside (biased mode); false, having touched nothing, otherwise.
 */
static inline __attribute__((always_inline)) bool
hbmem_block_enter_biased(struct hbmem_block *l)
{
	uintptr_t me = hbmem_self();

	if (__builtin_expect(__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me,
			     1)) {
		__atomic_store_n(&l->busy, 1, __ATOMIC_RELAXED);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		if (__builtin_expect(__atomic_load_n(&l->owner,
						     __ATOMIC_ACQUIRE) == me,
				     1))
			return true;
		__atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
	}
	return false;
}

/*
 * Everyone else's way in: the spinlock, claiming a claimable lock for the
 * calling thread or revoking another thread's bias. Returns false (not
 * biased mode), for hbmem_block_leave().
 */
static inline bool hbmem_block_enter_spin(struct hbmem_block *l)
{
	uintptr_t o;

	hbmem_spin_lock(&l->lock);
	o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	if (__builtin_expect(o != 0, 0)) {
		/* claimed under the spinlock: biased from the next take on */
		if (o == HBMEM_BLOCK_CLAIMABLE)
			__atomic_store_n(&l->owner, hbmem_self(),
					 __ATOMIC_RELAXED);
		else
			hbmem_block_revoke(l);
	}
	return false;
}

/* Take @l: true when taken in biased mode (for hbmem_block_leave()). */
static inline bool hbmem_block_enter(struct hbmem_block *l)
{
	/* laid out for the owner: the other path pays an xchg anyway */
	return hbmem_block_enter_biased(l) || hbmem_block_enter_spin(l);
}

static inline void hbmem_block_leave(struct hbmem_block *l, bool biased)
{
	if (biased)
		__atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
	else
		hbmem_spin_unlock(&l->lock);
}

/* The same, the mode kept in @l->held_biased. */
static inline void hbmem_block_take(struct hbmem_block *l)
{
	l->held_biased = hbmem_block_enter(l);
}

static inline void hbmem_block_drop(struct hbmem_block *l)
{
	hbmem_block_leave(l, l->held_biased);
}

/* Make the calling thread the owner of @l, which it holds. */
static inline void hbmem_block_bias(struct hbmem_block *l)
{
	if (hbmem_block_can_bias())
		__atomic_store_n(&l->owner, hbmem_self(), __ATOMIC_RELAXED);
}

/*
 * Take @l's spinlock whatever its bias, for resetting it: another thread's
 * bias is revoked; the caller's own (it is not inside in biased mode) and a
 * claimable lock's need nothing, since nobody else can enter without the
 * spinlock. Drop it with hbmem_block_unlock_claimable().
 */
static inline void hbmem_block_lock_unbiased(struct hbmem_block *l)
{
	uintptr_t o;

	hbmem_spin_lock(&l->lock);
	o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
	if (o != 0 && o != HBMEM_BLOCK_CLAIMABLE && o != hbmem_self())
		hbmem_block_revoke(l);
}

/* Drop @l, leaving it to be claimed by the next thread that takes it. */
static inline void hbmem_block_unlock_claimable(struct hbmem_block *l)
{
	__atomic_store_n(&l->owner,
			 hbmem_block_can_bias() ? HBMEM_BLOCK_CLAIMABLE : 0,
			 __ATOMIC_RELAXED);
	hbmem_spin_unlock(&l->lock);
}

/*
 * In a fork child, from a pthread_atfork() child handler: only the forking
 * thread exists there, and it is inside no lock. A bias owned by another
 * thread goes (@l becomes a plain spinlock), and the busy mark and the
 * spinlock are cleared: their holder, if any, does not exist in the child
 * and would never let go, so the child's first take would wait forever.
 * What @l guards is left as the vanished thread left it.
 */
static inline void hbmem_block_forget_threads(struct hbmem_block *l)
{
	uintptr_t o = __atomic_load_n(&l->owner, __ATOMIC_RELAXED);

	if (o != HBMEM_BLOCK_CLAIMABLE && o != hbmem_self())
		__atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->busy, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&l->lock, 0, __ATOMIC_RELEASE);
}

#endif /* HBMEM_SPINLOCK_H */
