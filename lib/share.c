// SPDX-License-Identifier: MIT
/*
 * Shares: the state of an allocation unit that all its holders see.
 *
 * Every allocation gets a share id, handed out cyclically (like the
 * kernel's idr_alloc_cyclic) so that a stale descriptor naming a freed
 * buffer does not silently import the next buffer to be allocated. Ids stay
 * below 2^29 so that the synthetic device address below is unique.
 *
 * Synthetic device addresses, for backends without physical ones:
 *
 *   bit 63      62 .. 34       33 .. 0
 *   [  1  ][   share id   ][ byte offset ]
 *
 * The same id gives the same address in every process, and offsets add as
 * on real memory, which is what the vendor's import protocol (partial
 * sharing included) needs. A unit is at most 16 GiB there.
 *
 * The holder count is kept here; the memory itself lives as long as any fd
 * does, and the heap charge is returned with the last holder.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"

#define SHARE_ID_MAX ((1 << 29) - 1)
#define SYNTH_BIT (1ull << 63)
#define SYNTH_SHIFT 34

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

int _hbmem_share_new(uint64_t len, struct hbmem_heap *heap, uint64_t reserved,
		     struct hbmem_share **out)
{
	struct share_node *n;
	uint64_t phys = 0;
	size_t b;
	int ret;

	if (nshares >= SHARE_ID_MAX)
		return -ENOMEM;
	if (nshares >= nbuckets) {
		ret = rehash();
		if (ret < 0)
			return ret;
	}
	if (!hbmem_backend->phys && len > (1ull << SYNTH_SHIFT))
		return -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->share.id = share_next_id();
	if (!hbmem_backend->phys)
		phys = SYNTH_BIT | ((uint64_t)n->share.id << SYNTH_SHIFT);
	n->share.phys = phys;
	n->share.len = len;
	n->share.heap = heap;
	n->share.reserved = reserved;
	b = bucket_of(n->share.id);
	n->next = buckets[b];
	buckets[b] = n;
	nshares++;
	*out = &n->share;
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

static void share_destroy(struct hbmem_share *sh)
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
		share_destroy(sh);
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
