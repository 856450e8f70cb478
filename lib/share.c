// SPDX-License-Identifier: MIT
/*
 * Shares: the state of an allocation unit that all its holders see.
 *
 * Every allocation gets a share id: the backend's when its ids are global
 * (the kernel driver), else one of ours, handed out cyclically (like the
 * kernel's idr_alloc_cyclic) so that a stale descriptor naming a freed
 * buffer does not silently import the next buffer to be allocated.
 *
 * Synthetic device addresses, where there is no physical one:
 *
 *   bit 63      62 .. 32       31 .. 0
 *   [  1  ][   share id   ][ byte offset ]
 *
 * The same id gives the same address in every process, and offsets add as
 * on real memory, which is what the vendor's import protocol (partial
 * sharing included) needs. A unit is at most 4 GiB there.
 *
 * Here a share is this process's view of a unit: its local holders (the
 * allocation and imports made here), and the heap charge when this process
 * allocated it. Without global sharing the holder and consume counts are
 * kept here too; with it, the backend keeps them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"

#define SHARE_ID_MAX INT32_MAX
#define SYNTH_BIT (1ull << 63)
#define SYNTH_SHIFT 32

struct share_node {
	struct hbmem_share share;
	struct share_node *next;
};

static struct share_node **buckets;
static size_t nbuckets, nshares;
static int32_t next_id = 1;

bool _hbmem_phys_is_synthetic(uint64_t phys)
{
	return (phys & SYNTH_BIT) != 0;
}

static size_t bucket_of(int32_t id)
{
	return (uint32_t)id * 2654435761u & (nbuckets - 1);
}

struct hbmem_share *_hbmem_share_find(int32_t id)
{
	struct share_node *n;

	if (!nbuckets || id <= 0)
		return NULL;
	for (n = buckets[bucket_of(id)]; n; n = n->next)
		if (n->share.id == id)
			return &n->share;
	return NULL;
}

static int rehash(void)
{
	size_t old = nbuckets, i;
	size_t want = old ? old * 2 : 256;
	struct share_node **nb = calloc(want, sizeof(*nb)), **ob = buckets;

	if (!nb)
		return -ENOMEM;
	buckets = nb;
	nbuckets = want;
	for (i = 0; i < old; i++) {
		struct share_node *n = ob[i], *next;

		for (; n; n = next) {
			size_t b = bucket_of(n->share.id);

			next = n->next;
			n->next = buckets[b];
			buckets[b] = n;
		}
	}
	free(ob);
	return 0;
}

static int32_t share_next_id(void)
{
	int32_t id;

	do {
		id = next_id;
		next_id = next_id >= SHARE_ID_MAX ? 1 : next_id + 1;
	} while (_hbmem_share_find(id));
	return id;
}

uint64_t _hbmem_phys_synthetic(int32_t id)
{
	return SYNTH_BIT | ((uint64_t)id << SYNTH_SHIFT);
}

/* Put a new share with @id in the table. */
static int share_insert(int32_t id, uint64_t len, struct hbmem_share **out)
{
	struct share_node *n;
	size_t b;
	int ret;

	if (nshares >= SHARE_ID_MAX)
		return -ENOMEM;
	if (nshares >= nbuckets) {
		ret = rehash();
		if (ret < 0)
			return ret;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->share.id = id;
	n->share.len = len;
	b = bucket_of(id);
	n->next = buckets[b];
	buckets[b] = n;
	nshares++;
	*out = &n->share;
	return 0;
}

/*
 * The device address of byte 0 of the unit behind @fd, which starts
 * @handle_off bytes into unit @id: the physical one when the backend gives
 * it, else the synthetic one.
 */
/* The backend's device address of @fd's first byte into @pa: true if any. */
static bool backend_phys(int fd, uint64_t *pa)
{
	return hbmem_backend->phys && hbmem_backend->phys(fd, pa) == 0 && *pa;
}

static uint64_t share_phys(int fd, int32_t id, uint64_t handle_off)
{
	uint64_t pa;

	if (backend_phys(fd, &pa))
		return pa - handle_off;
	return _hbmem_phys_synthetic(id);
}

int _hbmem_share_new(int fd, uint64_t len, struct hbmem_heap *heap,
		     uint64_t reserved, struct hbmem_share **out)
{
	struct hbmem_share *sh;
	uint64_t unit_len = len, off, pa;
	int32_t id;
	int ret;

	/*
	 * Device addresses made up from the id (share_phys()) give a unit
	 * 4 GiB of them: a bigger one would run into the next id's. Checked
	 * before the unit is registered anywhere.
	 */
	if (len > (1ull << SYNTH_SHIFT) && !backend_phys(fd, &pa))
		return -ENOMEM;
	if (hbmem_backend->share_register) {
		ret = hbmem_backend->share_register(fd, len,
						    heap ? heap->name : "",
						    reserved, &id);
		if (ret < 0)
			return ret;
	} else if (hbmem_backend->share_info) {
		ret = hbmem_backend->share_info(fd, &id, &unit_len, &off);
		if (ret < 0)
			return ret;
		unit_len = len;		/* the caller's size, not the rounded */
	} else {
		id = share_next_id();
	}
	ret = share_insert(id, unit_len, &sh);
	if (ret < 0) {
		if (hbmem_backend->share_put)
			hbmem_backend->share_put(fd);
		return ret;
	}
	sh->phys = share_phys(fd, id, 0);
	sh->heap = heap;
	sh->reserved = reserved;
	*out = sh;
	return 0;
}

int _hbmem_share_foreign(int fd, int32_t id, struct hbmem_share **out)
{
	struct hbmem_share *sh;
	uint64_t len, off;
	int32_t got;
	int ret;

	ret = hbmem_backend->share_info(fd, &got, &len, &off);
	if (ret < 0)
		return ret;
	if (id && got != id)
		return -EINVAL;
	ret = share_insert(got, len, &sh);
	if (ret < 0)
		return ret;
	sh->phys = share_phys(fd, got, off);
	*out = sh;
	return 0;
}

void _hbmem_share_attach(struct hbmem_share *sh, struct hbmem_mem *mem)
{
	mem->share = sh;
	mem->share_next = sh->holders;
	sh->holders = mem;
	sh->clients++;
	pthread_cond_broadcast(&hbmem_cond);
}

void _hbmem_share_drop(struct hbmem_share *sh)
{
	struct share_node **pp = &buckets[bucket_of(sh->id)];

	for (; *pp; pp = &(*pp)->next) {
		if (&(*pp)->share == sh) {
			struct share_node *n = *pp;

			*pp = n->next;
			if (sh->heap)
				_hbmem_heap_unreserve(sh->heap, sh->reserved);
			nshares--;
			free(n);
			return;
		}
	}
}

void _hbmem_share_detach(struct hbmem_share *sh, struct hbmem_mem *mem)
{
	struct hbmem_mem **pp;

	for (pp = &sh->holders; *pp; pp = &(*pp)->share_next) {
		if (*pp == mem) {
			*pp = mem->share_next;
			break;
		}
	}
	mem->share = NULL;
	mem->share_next = NULL;
	sh->clients--;
	pthread_cond_broadcast(&hbmem_cond);
	if (sh->clients <= 0)
		_hbmem_share_drop(sh);
}

void _hbmem_shares_reset(void)
{
	size_t i;

	for (i = 0; i < nbuckets; i++) {
		struct share_node *n = buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(buckets);
	buckets = NULL;
	nbuckets = nshares = 0;
}
