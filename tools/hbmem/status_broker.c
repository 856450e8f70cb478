// SPDX-License-Identifier: MIT
/*
 * `hbmem status` from the broker (hbmemd): the live units page by page
 * (STATUS replies, ascending share ids), the bytes each heap has charged,
 * and the capacities from this process's heap table (the same
 * configuration every client of the broker reads). Never starts a broker:
 * with none running there is nothing machine-wide to show.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "status.h"

/* The library's heaps, with what the broker says is charged to each. */
static int add_heaps(struct hbmem_status *st, const struct hbmem_rep_status *r)
{
	uint32_t j;
	int i, ret;

	ret = status_heaps_from_library(st);
	if (ret < 0)
		return ret;
	for (i = 0; i < st->nheaps; i++) {
		struct status_heap *h = &st->heaps[i];

		h->used = 0;
		h->buffers = 0;
		for (j = 0; j < r->n_heaps && j < HBMEM_PROTO_STATUS_HEAPS; j++) {
			if (strncmp(r->heap[j].name, h->name,
				    HBMEM_PROTO_NAME_MAX))
				continue;
			h->used = (int64_t)r->heap[j].used;
			h->buffers = r->heap[j].units;
		}
		/* memfd and dma-heap memory does not fragment a capacity */
		h->largest_free = h->capacity > h->used ? h->capacity - h->used : 0;
	}
	return 0;
}

static int add_units(struct hbmem_status *st, const struct hbmem_rep_status *r)
{
	uint32_t i;
	int j;

	for (i = 0; i < r->n_units && i < HBMEM_PROTO_STATUS_UNITS; i++) {
		const struct hbmem_status_unit *u = &r->unit[i];
		struct status_buf *b = status_add_buf(st);

		if (!b)
			return -ENOMEM;
		b->share_id = u->id;
		/* the broker NUL-terminates; do not rely on it */
		memcpy(b->heap, u->heap, sizeof(b->heap) - 1);
		b->size = (int64_t)u->size;
		b->clients = u->clients;
		b->consume = u->consume;
		b->npids = u->npids;
		for (j = 0; j < u->npids && j < STATUS_MAX_PIDS &&
		     j < HBMEM_PROTO_MAX_PIDS; j++)
			b->pids[j] = u->pid[j];
	}
	return 0;
}

int status_from_broker(struct hbmem_status *st)
{
	struct hbmem_rep_status *r = malloc(sizeof(*r));
	int32_t after = 0;
	int ret, pages = 0;

	if (!r)
		return -ENOMEM;
	do {
		ret = _hbmem_broker_status(after, r);
		if (ret < 0)
			goto out;
		if (pages++ == 0) {
			ret = add_heaps(st, r);
			if (ret < 0)
				goto out;
			snprintf(st->source, sizeof(st->source),
				 "hbmemd (%u clients)", r->clients);
		}
		ret = add_units(st, r);
		if (ret < 0)
			goto out;
		if (!r->n_units)
			break;
		after = r->unit[r->n_units - 1].id;
	} while (r->more);
out:
	free(r);
	return ret;
}
