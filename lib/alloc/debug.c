// SPDX-License-Identifier: MIT
/*
 * Debug hooks for the allocator family: allocation sites and backtraces,
 * red zones, fill patterns, quarantine, leak reports and live dumps.
 *
 * One mutex guards the record table and every owner's quarantine ring.
 * The hooks never call back into an allocator with that mutex held: an
 * evicted block is handed back to the caller, who frees it under its own
 * lock. Reports go through one callback, a line at a time, so tests can
 * capture them; lines made under the mutex are queued and delivered once
 * it is released (dbg_unlock()), so the callback may use the allocators
 * and this API without deadlocking on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <execinfo.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc/alloc.h"

#define DBG_BUCKETS 4096u
#define DBG_BT_DEPTH 8
#define DBG_REDZONE 32u		/* bytes each side; a multiple of 16 */
#define DBG_QUARANTINE 64u	/* freed blocks held per owner */
#define FILL_FRESH 0xAA
#define FILL_FREED 0x55
#define FILL_GUARD 0xFB

struct hbmem_dbg_rec {
	struct hbmem_dbg_rec *hnext;
	const uint8_t *ptr;		/* user pointer: the key */
	void *raw;
	struct hbmem_dbg_owner *owner;
	enum hbmem_dbg_kind kind;
	size_t size, front, back;
	const char *file;
	int line;
	uint32_t opts;
	bool quarantined;
	uint64_t seq;
	int nbt;
	void *bt[DBG_BT_DEPTH];
};

uint32_t _hbmem_dbg_opts;

static pthread_mutex_t dbg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hbmem_dbg_rec *buckets[DBG_BUCKETS];
static uint64_t dbg_seq, dbg_errors;
static void (*report_fn)(const char *, void *);
static void *report_ctx;
static struct hbmem_dbg_owner core_owner[HBMEM_DBG_KINDS];

static const char *const kind_names[HBMEM_DBG_KINDS] = {
	[HBMEM_DBG_MM] = "heap", [HBMEM_DBG_GRAN] = "gran",
	[HBMEM_DBG_IOB] = "iob", [HBMEM_DBG_ZONE] = "zone",
	[HBMEM_DBG_COM] = "com_buf", [HBMEM_DBG_GRAPH] = "graph_buf",
	[HBMEM_DBG_POOL] = "pool",
};

static uint32_t parse_options(const char *s)
{
	static const struct { const char *name; uint32_t bit; } words[] = {
		{ "sites", HB_MEM_DEBUG_SITES },
		{ "backtrace", HB_MEM_DEBUG_BACKTRACE },
		{ "redzone", HB_MEM_DEBUG_REDZONE },
		{ "fill", HB_MEM_DEBUG_FILL },
		{ "quarantine", HB_MEM_DEBUG_QUARANTINE },
		{ "all", HB_MEM_DEBUG_ALL },
	};
	uint32_t opts = 0;
	size_t i;

	while (s && *s) {
		size_t n = strcspn(s, ",");

		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
			if (strlen(words[i].name) == n &&
			    !strncmp(s, words[i].name, n))
				opts |= words[i].bit;
		s += n;
		if (*s)
			s++;
	}
	return opts;
}

static bool env_read;

static void options_from_env(void)
{
	uint32_t opts = parse_options(getenv("HBMEM_ALLOC_DEBUG"));

	__atomic_or_fetch(&_hbmem_dbg_opts, opts, __ATOMIC_RELAXED);
	__atomic_store_n(&env_read, true, __ATOMIC_RELEASE);
}

uint32_t _hbmem_dbg_options(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	/* the allocation fast path: one load once the environment is read */
	if (__builtin_expect(!__atomic_load_n(&env_read, __ATOMIC_ACQUIRE), 0))
		pthread_once(&once, options_from_env);
	return __atomic_load_n(&_hbmem_dbg_opts, __ATOMIC_RELAXED);
}

/* Report lines made under dbg_lock, delivered by dbg_unlock(). */
struct dbg_line {
	struct dbg_line *next;
	char text[];
};

static struct dbg_line *pending, **pending_tail = &pending;

/* The largest front red zone ever recorded (dbg_lock): bounds rec_by_raw(). */
static uintptr_t max_front;

static void vqueue_line(const char *fmt, va_list ap)
{
	struct dbg_line *l;
	char line[512];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line) + 1;
	l = malloc(sizeof(*l) + n);
	if (!l) {
		fprintf(stderr, "%s\n", line);	/* better late than lost */
		return;
	}
	memcpy(l->text, line, n);
	l->next = NULL;
	*pending_tail = l;
	pending_tail = &l->next;
}

/* Queue one report line. dbg_lock held. */
static void __attribute__((format(printf, 1, 2)))
queue_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vqueue_line(fmt, ap);
	va_end(ap);
}

/* Release dbg_lock, then hand the queued lines to the report callback. */
static void dbg_unlock(void)
{
	void (*fn)(const char *, void *) = report_fn;
	struct dbg_line *l = pending, *next;
	void *ctx = report_ctx;

	pending = NULL;
	pending_tail = &pending;
	pthread_mutex_unlock(&dbg_lock);
	for (; l; l = next) {
		next = l->next;
		if (fn)
			fn(l->text, ctx);
		else
			fprintf(stderr, "%s\n", l->text);
		free(l);
	}
}

void _hbmem_dbg_report(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&dbg_lock);
	va_start(ap, fmt);
	vqueue_line(fmt, ap);
	va_end(ap);
	dbg_unlock();
}

static unsigned bucket_of(const void *p)
{
	uint64_t k = (uint64_t)(uintptr_t)p >> 4;

	return (unsigned)((k * 0x9E3779B97F4A7C15ull) >> 52) & (DBG_BUCKETS - 1);
}

static struct hbmem_dbg_rec **rec_slot(const void *p)
{
	struct hbmem_dbg_rec **pp = &buckets[bucket_of(p)];

	while (*pp && (*pp)->ptr != p)
		pp = &(*pp)->hnext;
	return pp;
}

static const char *owner_name(const struct hbmem_dbg_rec *r)
{
	return r->owner && r->owner->name && *r->owner->name ? r->owner->name
							     : "-";
}

/* "<what>: 48-byte block 0x... (heap 'x') allocated at f.c:12, seq 7" */
static void report_block(const char *what, const struct hbmem_dbg_rec *r)
{
	char **syms;
	int i;

	queue_line("hbmem-alloc: %s: %zu-byte block %p (%s '%s') "
		   "allocated at %s:%d, seq %llu", what, r->size,
		   (const void *)r->ptr, kind_names[r->kind], owner_name(r),
		   r->file ? r->file : "?", r->line,
		   (unsigned long long)r->seq);
	if (!r->nbt)
		return;
	syms = backtrace_symbols(r->bt, r->nbt);
	for (i = 0; i < r->nbt; i++)
		queue_line("hbmem-alloc:     #%d %s", i,
			   syms ? syms[i] : "?");
	free(syms);
}

static void count_error(void)
{
	__atomic_add_fetch(&dbg_errors, 1, __ATOMIC_RELAXED);
}

void _hbmem_dbg_owner_init(struct hbmem_dbg_owner *o, enum hbmem_dbg_kind kind,
			   const char *name,
			   void (*release)(struct hbmem_dbg_owner *, void *))
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->name = name;
	o->release = release;
}

size_t _hbmem_dbg_front(uint32_t opts, size_t align)
{
	if (!(opts & HB_MEM_DEBUG_REDZONE))
		return 0;
	return (size_t)_hbmem_align_up(DBG_REDZONE, align > 16 ? align : 16);
}

size_t _hbmem_dbg_back(uint32_t opts)
{
	return opts & HB_MEM_DEBUG_REDZONE ? DBG_REDZONE : 0;
}

static struct hbmem_dbg_rec *rec_new(struct hbmem_dbg_owner *o,
				     enum hbmem_dbg_kind kind, uint32_t opts,
				     const void *ptr, size_t size,
				     const char *file, int line)
{
	struct hbmem_dbg_rec *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->ptr = ptr;
	r->owner = o;
	r->kind = kind;
	r->size = size;
	r->file = file;
	r->line = line;
	r->opts = opts;
	if (opts & HB_MEM_DEBUG_BACKTRACE)
		r->nbt = backtrace(r->bt, DBG_BT_DEPTH);
	return r;
}

static void rec_insert(struct hbmem_dbg_rec *r)
{
	struct hbmem_dbg_rec **head = &buckets[bucket_of(r->ptr)];

	r->seq = ++dbg_seq;
	r->hnext = *head;
	*head = r;
	__atomic_add_fetch(&r->owner->tracked, 1, __ATOMIC_RELAXED);
}

static void rec_unlink(struct hbmem_dbg_rec **slot)
{
	struct hbmem_dbg_rec *r = *slot;

	*slot = r->hnext;
	__atomic_sub_fetch(&r->owner->tracked, 1, __ATOMIC_RELAXED);
}

void *_hbmem_dbg_alloc(struct hbmem_dbg_owner *o, uint32_t opts, void *raw,
		       size_t front, size_t size, const char *file, int line)
{
	uint8_t *user = (uint8_t *)raw + front;
	size_t back = _hbmem_dbg_back(opts);
	struct hbmem_dbg_rec *r;

	if (front) {
		memset(raw, FILL_GUARD, front);
		memset(user + size, FILL_GUARD, back);
	}
	if (opts & HB_MEM_DEBUG_FILL)
		memset(user, FILL_FRESH, size);
	r = rec_new(o, o->kind, opts, user, size, file, line);
	if (!r)
		return user;	/* usable, just not tracked */
	r->raw = raw;
	r->front = front;
	r->back = front ? back : 0;
	pthread_mutex_lock(&dbg_lock);
	rec_insert(r);
	if (front > max_front)
		max_front = front;
	dbg_unlock();
	return user;
}

/* Index of the first byte of [p, p + n) that is not @v, or -1. */
static long find_not(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return (long)i;
	return -1;
}

static void check_guards(const struct hbmem_dbg_rec *r)
{
	const uint8_t *raw = r->raw;
	char what[96];
	long at;

	if (!r->front)
		return;
	at = find_not(raw, r->front, FILL_GUARD);
	if (at >= 0) {
		snprintf(what, sizeof(what), "red zone underrun (%ld bytes "
			 "before the block)", (long)r->front - at);
		report_block(what, r);
		count_error();
	}
	at = find_not(r->ptr + r->size, r->back, FILL_GUARD);
	if (at >= 0) {
		snprintf(what, sizeof(what), "red zone overrun (byte %zu "
			 "written)", r->size + (size_t)at);
		report_block(what, r);
		count_error();
	}
}

/* An evicted quarantined block: was it written after being freed? */
static void check_freed(const struct hbmem_dbg_rec *r)
{
	long at = find_not(r->ptr, r->size, FILL_FREED);

	if (at >= 0) {
		char what[80];

		snprintf(what, sizeof(what), "write after free (byte %ld)", at);
		report_block(what, r);
		count_error();
	}
}

/*
 * The guarded block of @o whose raw start (before its front red zone) is
 * @p, or NULL. A front is 32 bytes, or the alignment when that is larger,
 * so the candidates are few, and none while no guarded block was made.
 * dbg_lock held.
 */
static struct hbmem_dbg_rec *rec_by_raw(const struct hbmem_dbg_owner *o,
					const void *p)
{
	struct hbmem_dbg_rec *r;
	uintptr_t front;

	for (front = DBG_REDZONE; front <= max_front; front <<= 1) {
		if ((uintptr_t)p > UINTPTR_MAX - front)
			break;
		r = *rec_slot((const void *)((uintptr_t)p + front));
		if (r && r->owner == o && r->raw == p && r->front == front)
			return r;
	}
	return NULL;
}

int _hbmem_dbg_free(struct hbmem_dbg_owner *o, void *ptr, void **raw)
{
	struct hbmem_dbg_rec **slot, *r, *old;

	*raw = NULL;
	pthread_mutex_lock(&dbg_lock);
	slot = rec_slot(ptr);
	r = *slot;
	if (!r || r->owner != o) {
		/* the raw start of a guarded block is allocated underneath:
		 * the allocator would free it, so it is refused here */
		r = rec_by_raw(o, ptr);
		if (r) {
			report_block("free of the red zone before a tracked "
				     "block", r);
			count_error();
		}
		dbg_unlock();
		return r ? -EFAULT : 0;
	}
	if (r->quarantined) {
		report_block("double free", r);
		count_error();
		dbg_unlock();
		return -EFAULT;
	}
	check_guards(r);
	if (!(r->opts & HB_MEM_DEBUG_QUARANTINE) || !r->size) {
		if (r->opts & HB_MEM_DEBUG_FILL)
			memset((void *)r->ptr, FILL_FREED, r->size);
		rec_unlink(slot);
		dbg_unlock();
		*raw = r->raw;
		free(r);
		return 1;
	}
	memset((void *)r->ptr, FILL_FREED, r->size);
	if (!o->ring)
		o->ring = calloc(DBG_QUARANTINE, sizeof(*o->ring));
	if (!o->ring) {
		rec_unlink(slot);
		dbg_unlock();
		*raw = r->raw;
		free(r);
		return 1;
	}
	r->quarantined = true;
	if (o->ring_count == DBG_QUARANTINE) {
		old = o->ring[o->ring_head];
		o->ring[o->ring_head] = r;
		o->ring_head = (o->ring_head + 1) % DBG_QUARANTINE;
		check_freed(old);
		rec_unlink(rec_slot(old->ptr));
		*raw = old->raw;
		free(old);
	} else {
		o->ring[(o->ring_head + o->ring_count) % DBG_QUARANTINE] = r;
		o->ring_count++;
	}
	dbg_unlock();
	return 1;
}

size_t _hbmem_dbg_usable(struct hbmem_dbg_owner *o, const void *ptr,
			 bool *freed)
{
	struct hbmem_dbg_rec *r;
	size_t n = 0;

	*freed = false;
	pthread_mutex_lock(&dbg_lock);
	r = *rec_slot(ptr);
	if (r && r->owner == o && !r->quarantined)
		n = r->size;
	else if (r && r->owner == o)
		*freed = true;
	dbg_unlock();
	return n;
}

/* Drop every record of @o; live ones are reported as leaks or checked. */
static int owner_drop(struct hbmem_dbg_owner *o, bool leaks_are_errors)
{
	struct hbmem_dbg_rec **pp, *r;
	int live = 0;
	unsigned i;

	for (i = 0; i < DBG_BUCKETS && _hbmem_dbg_tracking(o); i++) {
		pp = &buckets[i];
		while ((r = *pp) != NULL) {
			if (r->owner != o) {
				pp = &r->hnext;
				continue;
			}
			if (!r->quarantined) {
				if (leaks_are_errors)
					report_block("leak (owner destroyed)",
						     r);
				else
					check_guards(r);
				live++;
			}
			rec_unlink(pp);
			free(r);
		}
	}
	return live;
}

int _hbmem_dbg_owner_reset(struct hbmem_dbg_owner *o)
{
	int n;

	if (!_hbmem_dbg_tracking(o))
		return 0;
	pthread_mutex_lock(&dbg_lock);
	n = owner_drop(o, false);
	dbg_unlock();
	return n;
}

int _hbmem_dbg_owner_fini(struct hbmem_dbg_owner *o)
{
	int leaks;

	if (!_hbmem_dbg_tracking(o) && !o->ring)
		return 0;
	pthread_mutex_lock(&dbg_lock);
	leaks = owner_drop(o, true);
	free(o->ring);
	o->ring = NULL;
	o->ring_count = 0;
	dbg_unlock();
	return leaks;
}

void _hbmem_dbg_on_alloc(enum hbmem_dbg_kind kind, const void *ptr,
			 size_t size, const char *file, int line)
{
	uint32_t opts = _hbmem_dbg_options();
	struct hbmem_dbg_rec *r;

	if (!(opts & (HB_MEM_DEBUG_SITES | HB_MEM_DEBUG_BACKTRACE)) ||
	    kind >= HBMEM_DBG_KINDS || !ptr)
		return;
	core_owner[kind].kind = kind;
	r = rec_new(&core_owner[kind], kind, opts & HB_MEM_DEBUG_BACKTRACE,
		    ptr, size, file, line);
	if (!r)
		return;
	pthread_mutex_lock(&dbg_lock);
	rec_insert(r);
	dbg_unlock();
}

int _hbmem_dbg_on_free(enum hbmem_dbg_kind kind, const void *ptr)
{
	struct hbmem_dbg_rec **slot, *r;

	if (kind >= HBMEM_DBG_KINDS || !_hbmem_dbg_tracking(&core_owner[kind]))
		return -ENOENT;
	pthread_mutex_lock(&dbg_lock);
	slot = rec_slot(ptr);
	r = *slot;
	if (!r || r->owner != &core_owner[kind]) {
		dbg_unlock();
		return -ENOENT;
	}
	rec_unlink(slot);
	dbg_unlock();
	free(r);
	return 0;
}

void _hbmem_dbg_forget_range(enum hbmem_dbg_kind kind, const void *start,
			     size_t len)
{
	const uint8_t *lo = start, *hi = lo + len;
	struct hbmem_dbg_rec **pp, *r;
	unsigned i;

	if (kind >= HBMEM_DBG_KINDS || !_hbmem_dbg_tracking(&core_owner[kind]))
		return;
	pthread_mutex_lock(&dbg_lock);
	for (i = 0; i < DBG_BUCKETS; i++) {
		pp = &buckets[i];
		while ((r = *pp) != NULL) {
			if (r->owner != &core_owner[kind] || r->ptr < lo ||
			    r->ptr >= hi) {
				pp = &r->hnext;
				continue;
			}
			rec_unlink(pp);
			free(r);
		}
	}
	dbg_unlock();
}

/* ---- public API ------------------------------------------------------- */

HBMEM_EXPORT int32_t hb_mem_alloc_debug_set(uint32_t options)
{
	if (options & ~HB_MEM_DEBUG_ALL)
		return HB_MEM_ERR_INVALID_PARAMS;
	(void)_hbmem_dbg_options();	/* the environment is read first */
	__atomic_store_n(&_hbmem_dbg_opts, options, __ATOMIC_RELAXED);
	return 0;
}

HBMEM_EXPORT uint32_t hb_mem_alloc_debug_get(void)
{
	return _hbmem_dbg_options();
}

HBMEM_EXPORT int32_t hb_mem_alloc_debug_set_report(
	void (*fn)(const char *line, void *ctx), void *ctx)
{
	pthread_mutex_lock(&dbg_lock);
	report_fn = fn;
	report_ctx = ctx;
	dbg_unlock();
	return 0;
}

static int32_t report_live(const char *what)
{
	struct hbmem_dbg_rec *r;
	int32_t n = 0;
	unsigned i;

	pthread_mutex_lock(&dbg_lock);
	for (i = 0; i < DBG_BUCKETS; i++)
		for (r = buckets[i]; r; r = r->hnext)
			if (!r->quarantined) {
				report_block(what, r);
				n++;
			}
	queue_line("hbmem-alloc: %d live tracked allocation%s", (int)n,
			  n == 1 ? "" : "s");
	dbg_unlock();
	return n;
}

HBMEM_EXPORT int32_t hb_mem_alloc_debug_report_leaks(void)
{
	return report_live("leak");
}

HBMEM_EXPORT int32_t hb_mem_alloc_debug_dump(void)
{
	return report_live("live");
}

HBMEM_EXPORT uint64_t hb_mem_alloc_debug_errors(void)
{
	return __atomic_load_n(&dbg_errors, __ATOMIC_RELAXED);
}

/*
 * Dumping is not async-signal-safe, so the handler only posts a
 * semaphore (which is) and a helper thread does the dump.
 */
static sem_t dump_sem;

static void dump_signal(int signo)
{
	(void)signo;
	sem_post(&dump_sem);
}

static void *dump_thread(void *arg)
{
	(void)arg;
	for (;;) {
		while (sem_wait(&dump_sem) < 0 && errno == EINTR)
			;
		hb_mem_alloc_debug_dump();
	}
	return NULL;
}

static int dump_thread_err;

static void dump_thread_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;

	if (sem_init(&dump_sem, 0, 0) < 0) {
		dump_thread_err = -errno;
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* the helper must not be the thread that takes the signal */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	dump_thread_err = -pthread_create(&t, &attr, dump_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

HBMEM_EXPORT int32_t hb_mem_alloc_debug_dump_on_signal(int signo)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	static int installed;
	struct sigaction sa;

	if (signo < 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (signo == 0) {
		if (installed)
			signal(installed, SIG_DFL);
		installed = 0;
		return 0;
	}
	pthread_once(&once, dump_thread_start);
	if (dump_thread_err)
		return _hbmem_err(dump_thread_err);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dump_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, NULL) < 0)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (installed && installed != signo)
		signal(installed, SIG_DFL);
	installed = signo;
	return 0;
}
