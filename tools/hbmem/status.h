/* SPDX-License-Identifier: MIT */
/*
 * status.h - what `hbmem status` shows, whoever it comes from.
 *
 * A source (the kernel driver's /dev/hbmem, or the broker) fills one
 * struct hbmem_status; the printers (text and JSON) know nothing of where
 * it came from. A value a source cannot know is -1 (and printed as "-" or
 * null), never a guess.
 */
#ifndef HBMEM_TOOL_STATUS_H
#define HBMEM_TOOL_STATUS_H

#include <stdint.h>

#define STATUS_NAME_LEN 32
#define STATUS_MAX_PIDS 16

struct status_heap {
	char name[STATUS_NAME_LEN];
	int64_t capacity;	/* bytes */
	int64_t used;		/* bytes */
	int64_t largest_free;	/* biggest allocation that fits, -1: unknown */
	int64_t buffers;	/* live buffers on it, -1: unknown */
};

struct status_buf {
	int32_t share_id;
	char heap[STATUS_NAME_LEN];
	char type[16];		/* "com", "graph", ..., or "" when unknown */
	int64_t size;
	int32_t clients;	/* share client count */
	int32_t consume;	/* consume count */
	int32_t npids;		/* holder processes in total, -1: unknown */
	int32_t pids[STATUS_MAX_PIDS];	/* the first min(npids, 16) */
};

struct hbmem_status {
	char backend[32];
	char source[32];	/* where the tables came from */
	struct status_heap *heaps;
	int nheaps, heaps_cap;
	struct status_buf *bufs;
	int nbufs, bufs_cap;
};

/*
 * Fill @st from the kernel driver. Returns 0, -ENODEV when there is no
 * driver, or another negative errno.
 */
int status_from_kernel(struct hbmem_status *st);

/*
 * Fill @st from the broker, without starting one. Returns 0, -ENOENT or
 * -ECONNREFUSED when no broker runs, or another negative errno.
 */
int status_from_broker(struct hbmem_status *st);

/*
 * Append the heaps of this process's library: names and capacities, the
 * rest unknown (-1). 0 or a negative errno.
 */
int status_heaps_from_library(struct hbmem_status *st);

/* Append one zeroed entry; NULL when out of memory. */
struct status_heap *status_add_heap(struct hbmem_status *st);
struct status_buf *status_add_buf(struct hbmem_status *st);
void status_free(struct hbmem_status *st);

void status_print_text(const struct hbmem_status *st);
void status_print_json(const struct hbmem_status *st);

#endif /* HBMEM_TOOL_STATUS_H */
