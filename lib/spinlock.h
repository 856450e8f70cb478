/* SPDX-License-Identifier: MIT */
/*
 * spinlock.h - the small lock of the pool and queue fast paths.
 *
 * A word: 0 free, 1 held. Taking it is one atomic exchange when free; a
 * busy lock is watched with plain loads (no cache-line ping-pong) for 100
 * pauses, then the CPU is given away, since the holder may be preempted.
 * Nothing may sleep while holding it. Release is a plain store.
 */
#ifndef HBMEM_SPINLOCK_H
#define HBMEM_SPINLOCK_H

#include <sched.h>
#include <stdint.h>

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

	do {
		while (__atomic_load_n(lock, __ATOMIC_RELAXED))
			hbmem_spin_wait(&spins);
	} while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE));
}

static inline void hbmem_spin_lock(uint32_t *lock)
{
	if (__builtin_expect(__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE), 0))
		hbmem_spin_lock_slow(lock);
}

static inline void hbmem_spin_unlock(uint32_t *lock)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
}

#endif /* HBMEM_SPINLOCK_H */
