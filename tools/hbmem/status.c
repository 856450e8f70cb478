// SPDX-License-Identifier: MIT
/*
 * The status tables: building them, and printing them as text (the
 * board's debugfs tables, as a command) or as JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb_mem_ext.h"
#include "status.h"

/*
 * @arr with room for one more @size-byte entry (@n used, *@cap allocated):
 * the same pointer, a moved one, or NULL when out of memory (@arr is then
 * still valid).
 */
static void *reserve(void *arr, int n, int *cap, size_t size)
{
	int want = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return arr;
	arr = realloc(arr, (size_t)want * size);
	if (arr)
		*cap = want;
	return arr;
}

struct status_heap *status_add_heap(struct hbmem_status *st)
{
	struct status_heap *h;

	h = reserve(st->heaps, st->nheaps, &st->heaps_cap, sizeof(*h));
	if (!h)
		return NULL;
	st->heaps = h;
	h = &st->heaps[st->nheaps++];
	memset(h, 0, sizeof(*h));
	return h;
}

struct status_buf *status_add_buf(struct hbmem_status *st)
{
	struct status_buf *b;

	b = reserve(st->bufs, st->nbufs, &st->bufs_cap, sizeof(*b));
	if (!b)
		return NULL;
	st->bufs = b;
	b = &st->bufs[st->nbufs++];
	memset(b, 0, sizeof(*b));
	return b;
}

int status_heaps_from_library(struct hbmem_status *st)
{
	int32_t count = 0, i;

	if (hb_mem_get_heap_count(&count))
		return -EIO;
	for (i = 0; i < count; i++) {
		hb_mem_heap_info_t info;
		struct status_heap *h;

		if (hb_mem_get_heap_info(i, &info))
			return -EIO;
		h = status_add_heap(st);
		if (!h)
			return -ENOMEM;
		snprintf(h->name, sizeof(h->name), "%s", info.name);
		h->capacity = (int64_t)info.capacity;
		h->used = h->largest_free = h->buffers = -1;
	}
	return 0;
}

void status_free(struct hbmem_status *st)
{
	free(st->heaps);
	free(st->bufs);
	st->heaps = NULL;
	st->bufs = NULL;
	st->nheaps = st->nbufs = st->heaps_cap = st->bufs_cap = 0;
}

static void print_size(int64_t v)
{
	if (v < 0)
		printf(" %12s", "-");
	else
		printf(" %12lld", (long long)v);
}

void status_print_text(const struct hbmem_status *st)
{
	int i, j;

	printf("backend: %s\nsource:  %s\n\n", st->backend,
	       st->source[0] ? st->source : "-");
	printf("%-16s %12s %12s %12s %8s\n", "heap", "capacity", "used",
	       "largest_free", "buffers");
	for (i = 0; i < st->nheaps; i++) {
		const struct status_heap *h = &st->heaps[i];

		printf("%-16s", h->name);
		print_size(h->capacity);
		print_size(h->used);
		print_size(h->largest_free);
		if (h->buffers < 0)
			printf(" %8s\n", "-");
		else
			printf(" %8lld\n", (long long)h->buffers);
	}
	printf("\n%8s %-16s %-6s %12s %7s %7s  %s\n", "share_id", "heap", "type",
	       "size", "clients", "consume", "pids");
	for (i = 0; i < st->nbufs; i++) {
		const struct status_buf *b = &st->bufs[i];
		int shown = b->npids < STATUS_MAX_PIDS ? b->npids : STATUS_MAX_PIDS;

		printf("%8d %-16s %-6s", b->share_id, b->heap[0] ? b->heap : "-",
		       b->type[0] ? b->type : "-");
		print_size(b->size);
		printf(" %7d %7d  ", b->clients, b->consume);
		if (b->npids < 0)
			printf("-");
		for (j = 0; j < shown; j++)
			printf("%s%d", j ? "," : "", b->pids[j]);
		if (b->npids > shown)
			printf(",... (%d)", b->npids);
		printf("\n");
	}
	printf("\n%d buffer%s\n", st->nbufs, st->nbufs == 1 ? "" : "s");
}

/* A JSON string; names come from the kernel or the broker, so escape. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_num(int64_t v)
{
	if (v < 0)
		printf("null");
	else
		printf("%lld", (long long)v);
}

void status_print_json(const struct hbmem_status *st)
{
	int i, j;

	printf("{\"backend\": ");
	json_str(st->backend);
	printf(", \"source\": ");
	json_str(st->source);
	printf(",\n \"heaps\": [");
	for (i = 0; i < st->nheaps; i++) {
		const struct status_heap *h = &st->heaps[i];

		printf("%s\n  {\"name\": ", i ? "," : "");
		json_str(h->name);
		printf(", \"capacity\": ");
		json_num(h->capacity);
		printf(", \"used\": ");
		json_num(h->used);
		printf(", \"largest_free\": ");
		json_num(h->largest_free);
		printf(", \"buffers\": ");
		json_num(h->buffers);
		printf("}");
	}
	printf("],\n \"buffers\": [");
	for (i = 0; i < st->nbufs; i++) {
		const struct status_buf *b = &st->bufs[i];
		int shown = b->npids < STATUS_MAX_PIDS ? b->npids : STATUS_MAX_PIDS;

		printf("%s\n  {\"share_id\": %d, \"heap\": ", i ? "," : "",
		       b->share_id);
		if (b->heap[0])
			json_str(b->heap);
		else
			printf("null");
		printf(", \"type\": ");
		if (b->type[0])
			json_str(b->type);
		else
			printf("null");
		printf(", \"size\": ");
		json_num(b->size);
		printf(", \"clients\": %d, \"consume\": %d, \"holders\": ",
		       b->clients, b->consume);
		json_num(b->npids);
		printf(", \"pids\": [");
		for (j = 0; j < shown; j++)
			printf("%s%d", j ? ", " : "", b->pids[j]);
		printf("]}");
	}
	printf("]}\n");
}
