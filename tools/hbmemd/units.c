// SPDX-License-Identifier: MIT
/*
 * The broker's units: a table of shared allocation units by share id, each
 * with the fd the broker keeps and every client's holds and consume counts.
 *
 * Share ids are leased to clients in blocks of HBMEM_PROTO_LEASE so that
 * naming a new unit needs no round trip: a client registers the ids of its
 * lease in order, and nothing else can. Blocks come round cyclically (a
 * stale descriptor should not import the next buffer), skip any block with
 * a live or leased id, and the next block is saved so a restarted broker
 * does not hand out ids that units restored by their holders still use.
 *
 * Consume counts are global per unit (what the vendor API reports), kept
 * per client only so a dead client's part can be taken back: a decrement
 * takes from the caller's own part first, else from the largest other part
 * (a producer may decrement what a consumer added), and never goes below 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "hbmemd.h"

#define NBUCKETS 4096
#define MAX_HOLDS (1 << 24)

static struct unit *buckets[NBUCKETS];
static unsigned int nunits;
static int32_t next_block = 1;

static unsigned int bucket_of(int32_t id)
{
	return (uint32_t)id * 2654435761u % NBUCKETS;
}

struct unit *units_find(int32_t id)
{
	struct unit *u;

	if (id <= 0)
		return NULL;
	for (u = buckets[bucket_of(id)]; u; u = u->hnext)
		if (u->id == id)
			return u;
	return NULL;
}

unsigned int units_live(void)
{
	return nunits;
}

static struct ref *ref_of(struct unit *u, struct client *c, bool make)
{
	struct ref *r;

	for (r = u->refs; r; r = r->next)
		if (r->client == c)
			return r;
	if (!make)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->client = c;
	r->next = u->refs;
	u->refs = r;
	return r;
}

static void unit_free(struct unit *u)
{
	struct unit **pp = &buckets[bucket_of(u->id)];
	struct ref *r, *next;

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == u) {
			*pp = u->hnext;
			break;
		}
	}
	for (r = u->refs; r; r = next) {
		next = r->next;
		free(r);
	}
	close(u->fd);
	nunits--;
	hbmemd_log(2, "unit %d freed", u->id);
	free(u);
}

/* Unlink @r from @u if it holds nothing, and free @u if nobody holds it. */
static void unit_settle(struct unit *u, struct ref *r)
{
	struct ref **pp;

	if (r && r->holds == 0 && r->consume == 0) {
		for (pp = &u->refs; *pp; pp = &(*pp)->next) {
			if (*pp == r) {
				*pp = r->next;
				free(r);
				break;
			}
		}
	}
	if (u->holds <= 0)
		unit_free(u);
}

/* Was @id leased to a live client other than @except? */
static bool id_leased(int32_t id, const struct client *except)
{
	const struct client *c;

	for (c = clients_first(); c; c = c->next)
		if (c != except && units_owns(c, id))
			return true;
	return false;
}

#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC 0x444d4142	/* include/uapi/linux/magic.h */
#endif

/*
 * What a unit may be: a memfd sealed against size changes (or a peer could
 * shrink it under every importer's mapping: SIGBUS), or a dma-buf (which
 * cannot change size at all). Anything else is refused: a regular file
 * that cannot be sealed (a file on disk) could be truncated by whoever
 * opened it, and a socket, pipe or device kept here could hold a
 * connection's other end open (a client that dies would never be seen to)
 * or hand importers an fd that is no memory at all.
 */
static int fd_acceptable(int fd, uint64_t size, struct stat *st)
{
	struct statfs sfs;
	int seals;

	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode)) {
		if (fstatfs(fd, &sfs) < 0 || sfs.f_type != DMA_BUF_MAGIC)
			return -EPERM;
		return 0;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 ||
	    (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) !=
		    (F_SEAL_SHRINK | F_SEAL_GROW))
		return -EPERM;
	if ((uint64_t)st->st_size < size)
		return -EINVAL;
	return 0;
}

static int unit_new(struct client *c, const struct hbmem_req_register *r,
		    int fd, const struct stat *st)
{
	struct unit *u = calloc(1, sizeof(*u));
	struct ref *ref;
	unsigned int b;

	if (!u)
		return -ENOMEM;
	u->id = r->id;
	u->fd = fd;
	u->dev = st->st_dev;
	u->ino = st->st_ino;
	u->size = r->size;
	u->reserved = r->reserved;
	memcpy(u->heap, r->heap, sizeof(u->heap));
	u->heap[sizeof(u->heap) - 1] = '\0';
	ref = ref_of(u, c, true);
	if (!ref) {
		free(u);
		return -ENOMEM;
	}
	ref->holds = (int32_t)r->holds;
	u->holds = (int32_t)r->holds;
	b = bucket_of(u->id);
	u->hnext = buckets[b];
	buckets[b] = u;
	nunits++;
	hbmemd_log(2, "unit %d registered by pid %d (%llu bytes, %s)", u->id,
		   (int)c->pid, (unsigned long long)u->size, u->heap);
	return 0;
}

int units_register(struct client *c, const struct hbmem_req_register *r,
		   int fd)
{
	struct unit *u = units_find(r->id);
	struct ref *ref;
	struct stat st;
	int ret;

	ret = fd_acceptable(fd, r->size, &st);
	if (ret < 0)
		return ret;
	if (!(r->flags & HBMEM_REG_RESTORE)) {
		/* an id leased to the sender, not in use */
		if (!units_owns(c, r->id) || u)
			return -EINVAL;
		return unit_new(c, r, fd, &st);
	}
	if (!u)
		return id_leased(r->id, c) ? -EEXIST : unit_new(c, r, fd, &st);
	/* restored by another holder first: only the same memory joins it */
	if (u->dev != st.st_dev || u->ino != st.st_ino)
		return -EEXIST;
	if (u->holds > MAX_HOLDS - (int32_t)r->holds)
		return -EOVERFLOW;
	ref = ref_of(u, c, true);
	if (!ref)
		return -ENOMEM;
	ref->holds += (int32_t)r->holds;
	u->holds += (int32_t)r->holds;
	close(fd);
	return 0;
}

int units_adopt(struct client *owner, int32_t id, int fd, uint64_t size,
		uint64_t reserved, const char *heap, struct unit **out)
{
	struct hbmem_req_register r = {
		.id = id,
		.size = size,
		.reserved = reserved,
		.holds = 1,
	};
	struct stat st;
	int ret;

	if (id <= 0 || size == 0 || units_find(id))
		return -EINVAL;
	ret = fd_acceptable(fd, size, &st);
	if (ret < 0)
		return ret;
	memcpy(r.heap, heap, sizeof(r.heap));
	ret = unit_new(owner, &r, fd, &st);
	if (ret == 0)
		*out = units_find(id);
	return ret;
}

int units_hold(struct client *c, struct unit *u)
{
	struct ref *r;

	if (u->holds >= MAX_HOLDS)
		return -EOVERFLOW;
	r = ref_of(u, c, true);
	if (!r)
		return -ENOMEM;
	r->holds++;
	u->holds++;
	return 0;
}

int units_release(struct client *c, int32_t id)
{
	struct unit *u = units_find(id);
	struct ref *r = u ? ref_of(u, c, false) : NULL;

	if (!r || r->holds <= 0)
		return -ENOENT;
	r->holds--;
	u->holds--;
	unit_settle(u, r);
	return 0;
}

int units_consume(struct client *c, int32_t id, int delta)
{
	struct unit *u = units_find(id);
	struct ref *r, *max = NULL;

	if (!u)
		return -ENOENT;
	if (delta > 0) {
		if (u->consume >= MAX_HOLDS)
			return -EOVERFLOW;
		r = ref_of(u, c, true);
		if (!r)
			return -ENOMEM;
		r->consume++;
		u->consume++;
		return 0;
	}
	r = ref_of(u, c, false);
	if (!r || r->consume == 0) {
		for (r = u->refs; r; r = r->next)
			if (!max || r->consume > max->consume)
				max = r;
		r = max;
	}
	if (!r || r->consume == 0)
		return 0;	/* at 0 already: tolerated, as on the board */
	r->consume--;
	u->consume--;
	unit_settle(u, r);
	return 0;
}

void units_drop_client(struct client *c)
{
	unsigned int i;

	for (i = 0; i < NBUCKETS; i++) {
		struct unit *u = buckets[i], *next;

		for (; u; u = next) {
			struct ref *r = ref_of(u, c, false);

			next = u->hnext;
			if (!r)
				continue;
			u->holds -= r->holds;
			u->consume -= r->consume;
			r->holds = 0;
			r->consume = 0;
			unit_settle(u, r);
		}
	}
}

/* Is block [first, first + n) leased to a live client, or any id live? */
static bool block_busy(int32_t first, int32_t n)
{
	int32_t i;

	if (id_leased(first, NULL))
		return true;
	for (i = 0; i < n; i++)
		if (units_find(first + i))
			return true;
	return false;
}

int units_lease(struct client *c, int32_t *first, int32_t *count)
{
	const int32_t n = HBMEM_PROTO_LEASE;
	int32_t tries;

	for (tries = 0; tries < HBMEM_PROTO_ID_MAX / n; tries++) {
		int32_t b = next_block;

		next_block = b > HBMEM_PROTO_ID_MAX - 2 * n ? 1 : b + n;
		if (block_busy(b, n))
			continue;
		if (c->nblocks == c->cap_blocks) {
			size_t cap = c->cap_blocks ? c->cap_blocks * 2 : 16;
			int32_t *nb = realloc(c->blocks, cap * sizeof(*nb));

			if (!nb)
				return -ENOMEM;
			c->blocks = nb;
			c->cap_blocks = cap;
		}
		c->blocks[c->nblocks++] = b;
		*first = b;
		*count = n;
		hbmemd_state_save(next_block);
		return 0;
	}
	return -ENOSPC;
}

bool units_owns(const struct client *c, int32_t id)
{
	int32_t block;
	size_t i;

	if (id <= 0)
		return false;
	/* blocks start at 1 + k * HBMEM_PROTO_LEASE */
	block = (id - 1) / HBMEM_PROTO_LEASE * HBMEM_PROTO_LEASE + 1;
	for (i = c->nblocks; i > 0; i--)
		if (c->blocks[i - 1] == block)
			return true;
	return false;
}

int units_count(int32_t id, uint32_t kind, int32_t *count)
{
	struct unit *u = units_find(id);

	if (!u)
		return -ENOENT;
	*count = kind == HBMEM_KIND_CLIENTS ? u->holds : u->consume;
	return 0;
}

/* Add @n to @pid's entry of @out (a new entry when it has none). */
static void pids_add(struct hbmem_rep_pids *out, pid_t pid, int32_t n)
{
	int32_t i;

	for (i = 0; i < out->n; i++) {
		if (out->pid[i] == (int32_t)pid) {
			out->cnt[i] += n;
			return;
		}
	}
	out->total++;
	if (out->n < HBMEM_PROTO_MAX_PIDS) {
		out->pid[out->n] = (int32_t)pid;
		out->cnt[out->n] = n;
		out->n++;
	}
}

int units_pids(int32_t id, uint32_t kind, struct hbmem_rep_pids *out)
{
	struct unit *u = units_find(id);
	struct ref *r;

	if (!u)
		return -ENOENT;
	for (r = u->refs; r; r = r->next) {
		int32_t n = kind == HBMEM_KIND_CLIENTS ? r->holds : r->consume;

		if (n > 0)
			pids_add(out, r->client->pid, n);
	}
	return 0;
}

static void status_unit(const struct unit *u, struct hbmem_status_unit *s)
{
	struct hbmem_rep_pids p;
	int32_t i;

	memset(&p, 0, sizeof(p));
	units_pids(u->id, HBMEM_KIND_CLIENTS, &p);
	s->id = u->id;
	s->clients = u->holds;
	s->consume = u->consume;
	s->size = u->size;
	s->npids = p.total;
	for (i = 0; i < p.n; i++)
		s->pid[i] = p.pid[i];
	memcpy(s->heap, u->heap, sizeof(s->heap));
}

static void status_heap(const char *heap, uint64_t reserved,
			struct hbmem_rep_status *out)
{
	uint32_t i;

	for (i = 0; i < out->n_heaps; i++) {
		if (!strcmp(out->heap[i].name, heap)) {
			out->heap[i].used += reserved;
			out->heap[i].units++;
			return;
		}
	}
	if (out->n_heaps == HBMEM_PROTO_STATUS_HEAPS)
		return;
	snprintf(out->heap[i].name, sizeof(out->heap[i].name), "%s", heap);
	out->heap[i].used = reserved;
	out->heap[i].units = 1;
	out->n_heaps++;
}

/*
 * Units not published yet (in their owners' tables) are listed too: held
 * once by their owner, no consumer. The next page is found by scanning for
 * the smallest id above the last one, over both kinds.
 */
struct status_scan {
	struct hbmem_rep_status *out;
	int32_t after;
	int32_t best;			/* smallest id > after so far */
	struct hbmem_status_unit unit;	/* its entry, when local */
	bool count;			/* first pass: totals and heaps */
};

static void status_local(const struct client *c, const struct hbmem_pub_slot *s,
			 void *arg)
{
	struct status_scan *sc = arg;

	if (sc->count) {
		sc->out->total_units++;
		status_heap(s->heap, s->reserved, sc->out);
		return;
	}
	if (s->id <= sc->after || (sc->best && s->id >= sc->best))
		return;
	sc->best = s->id;
	memset(&sc->unit, 0, sizeof(sc->unit));
	sc->unit.id = s->id;
	sc->unit.clients = 1;
	sc->unit.npids = 1;
	sc->unit.pid[0] = (int32_t)c->pid;
	sc->unit.size = s->size;
	memcpy(sc->unit.heap, s->heap, sizeof(sc->unit.heap));
}

void units_status(int32_t after, struct hbmem_rep_status *out)
{
	struct status_scan sc = { .out = out, .count = true };
	unsigned int i;

	out->total_units = nunits;
	for (i = 0; i < NBUCKETS; i++) {
		const struct unit *u;

		for (u = buckets[i]; u; u = u->hnext)
			status_heap(u->heap, u->reserved, out);
	}
	publish_each_local(status_local, &sc);
	sc.count = false;
	/* the next page: the smallest ids above @after, one at a time */
	sc.after = after;
	for (;;) {
		const struct unit *best = NULL;

		for (i = 0; i < NBUCKETS; i++) {
			const struct unit *u;

			for (u = buckets[i]; u; u = u->hnext)
				if (u->id > sc.after &&
				    (!best || u->id < best->id))
					best = u;
		}
		sc.best = best ? best->id : 0;
		publish_each_local(status_local, &sc);
		if (!sc.best)
			return;
		if (out->n_units == HBMEM_PROTO_STATUS_UNITS) {
			out->more = 1;
			return;
		}
		if (best && best->id == sc.best)
			status_unit(best, &out->unit[out->n_units++]);
		else
			out->unit[out->n_units++] = sc.unit;
		sc.after = sc.best;
	}
}

void units_init(int32_t block)
{
	if (block > 0 && block <= HBMEM_PROTO_ID_MAX - HBMEM_PROTO_LEASE)
		next_block = block;
}

void units_fini(void)
{
	unsigned int i;

	for (i = 0; i < NBUCKETS; i++)
		while (buckets[i])
			unit_free(buckets[i]);
}
