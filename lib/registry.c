// SPDX-License-Identifier: MIT
/*
 * Registry: every allocation unit this process holds, found by fd or by
 * any address inside it.
 *
 *   by fd:      an array indexed by fd                       O(1)
 *   by address: an array sorted by start address, searched   O(log n)
 *               by bisection (mappings never overlap)
 *
 * The sorted array costs a memmove per insert and remove, which for the
 * thousands of buffers a media process holds is a few hundred nanoseconds:
 * far below the mmap it accompanies. All of it is guarded by hbmem_lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"

pthread_mutex_t hbmem_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t hbmem_cond;

static struct hbmem_mem **by_fd;
static size_t by_fd_cap;
static struct hbmem_mem **by_addr;
static size_t by_addr_len, by_addr_cap;
static struct hbmem_obj *objs;

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return 0;
	p = realloc(*arr, n * elem);
	if (!p)
		return -ENOMEM;
	memset((char *)p + *cap * elem, 0, (n - *cap) * elem);
	*arr = p;
	*cap = n;
	return 0;
}

/* Index of the first entry whose start is above @addr. */
static size_t addr_upper(uint64_t addr)
{
	size_t lo = 0, hi = by_addr_len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((uint64_t)(uintptr_t)by_addr[mid]->vaddr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int _hbmem_registry_add(struct hbmem_mem *mem)
{
	size_t at;
	int ret;

	if (mem->fd < 0)
		return -EBADF;
	ret = grow((void **)&by_fd, &by_fd_cap, (size_t)mem->fd + 1,
		   sizeof(*by_fd));
	if (ret == 0)
		ret = grow((void **)&by_addr, &by_addr_cap, by_addr_len + 1,
			   sizeof(*by_addr));
	if (ret < 0)
		return ret;
	by_fd[mem->fd] = mem;
	at = addr_upper((uint64_t)(uintptr_t)mem->vaddr);
	memmove(&by_addr[at + 1], &by_addr[at],
		(by_addr_len - at) * sizeof(*by_addr));
	by_addr[at] = mem;
	by_addr_len++;
	return 0;
}

void _hbmem_registry_remove(struct hbmem_mem *mem)
{
	size_t at;

	if (mem->fd >= 0 && (size_t)mem->fd < by_fd_cap && by_fd[mem->fd] == mem)
		by_fd[mem->fd] = NULL;
	at = addr_upper((uint64_t)(uintptr_t)mem->vaddr);
	if (at > 0 && by_addr[at - 1] == mem) {
		memmove(&by_addr[at - 1], &by_addr[at],
			(by_addr_len - at) * sizeof(*by_addr));
		by_addr_len--;
	}
}

struct hbmem_mem *_hbmem_mem_by_fd(int fd)
{
	if (fd < 0 || (size_t)fd >= by_fd_cap)
		return NULL;
	return by_fd[fd];
}

struct hbmem_mem *_hbmem_mem_by_addr(uint64_t addr)
{
	size_t at = addr_upper(addr);
	struct hbmem_mem *mem;

	if (at == 0)
		return NULL;
	mem = by_addr[at - 1];
	if (addr - (uint64_t)(uintptr_t)mem->vaddr >= mem->size)
		return NULL;
	return mem;
}

void _hbmem_obj_link(struct hbmem_obj *obj)
{
	obj->prev = NULL;
	obj->next = objs;
	if (objs)
		objs->prev = obj;
	objs = obj;
}

void _hbmem_obj_unlink(struct hbmem_obj *obj)
{
	if (obj->prev)
		obj->prev->next = obj->next;
	else if (objs == obj)
		objs = obj->next;
	if (obj->next)
		obj->next->prev = obj->prev;
	obj->next = obj->prev = NULL;
}

struct hbmem_obj *_hbmem_obj_first(void)
{
	return objs;
}

void _hbmem_registry_reset(void)
{
	free(by_fd);
	free(by_addr);
	by_fd = NULL;
	by_addr = NULL;
	by_fd_cap = by_addr_len = by_addr_cap = 0;
	objs = NULL;
}
