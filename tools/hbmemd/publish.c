// SPDX-License-Identifier: MIT
/*
 * Lazy publication, the broker's side (the state machine is drawn in
 * lib/broker_proto.h): each client may share a table of slots naming the
 * units it allocated without telling the broker. When another process asks
 * for such a unit, the broker takes it over: it wins the slot (LOCAL ->
 * FETCHING), opens the owner's fd through /proc/<pid>/fd (the pid from
 * SO_PEERCRED, so only the peer's own fds), checks that it is the memory
 * the slot names (inode, seals, size), and makes a unit of it held once by
 * the owner.
 *
 * The table is written by the client: every field is checked here, and
 * only the client's own table and fds are ever looked at. It is a sealed
 * memfd of the exact size, so the client cannot shrink it under the
 * broker's mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hbmemd.h"

#define SLOT_MASK (HBMEM_PUB_SLOTS - 1)

static int fetch_fd(pid_t pid, const struct hbmem_pub_slot *s, int *out);

int publish_hello(struct client *c, int fd, int32_t client_fd)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW;
	struct hbmem_pub_slot probe = { .fd = client_fd };
	struct stat st;
	void *map;
	int seals, pfd, ret;

	if (c->pub)
		return -EEXIST;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & need) != need || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != HBMEM_PUB_TABLE_SIZE)
		return -EINVAL;
	/* publication needs /proc/<pid>/fd: try it on the table itself */
	probe.ino = (uint64_t)st.st_ino;
	ret = fetch_fd(c->pid, &probe, &pfd);
	if (ret < 0)
		return ret;
	close(pfd);
	map = mmap(NULL, HBMEM_PUB_TABLE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	c->pub = map;
	return 0;
}

void publish_forget(struct client *c)
{
	if (c->pub)
		munmap(c->pub, HBMEM_PUB_TABLE_SIZE);
	c->pub = NULL;
}

static bool slot_cas(struct hbmem_pub_slot *s, uint32_t from, uint32_t to)
{
	return __atomic_compare_exchange_n(&s->state, &from, to, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/*
 * Open the owner's fd @fdnum; it must be the memory the slot names. The
 * link is first opened O_PATH (no open of the file itself: a device or
 * FIFO the client pointed the slot at is never opened for real), and the
 * file is reopened for reading and writing only once it is the regular
 * file the slot names (units_adopt() then wants a sealed memfd).
 */
static int fetch_fd(pid_t pid, const struct hbmem_pub_slot *s, int *out)
{
	char path[64];
	struct stat st;
	int pfd, fd;

	if (s->fd < 0 || pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, s->fd);
	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0)
		return -errno;
	if (fstat(pfd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_ino != s->ino) {
		close(pfd);
		return -ESTALE;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	close(pfd);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

struct unit *publish_fetch(int32_t id)
{
	struct client *c;

	for (c = clients_first(); c; c = c->next) {
		struct hbmem_pub_slot *s, copy;
		struct unit *u = NULL;
		int fd = -1, ret;

		if (!c->pub || c->dead || !units_owns(c, id))
			continue;
		s = &c->pub[(uint32_t)id & SLOT_MASK];
		if (__atomic_load_n(&s->id, __ATOMIC_ACQUIRE) != id ||
		    !slot_cas(s, HBMEM_PUB_LOCAL, HBMEM_PUB_FETCHING))
			continue;
		/* the owner writes the fields only while the slot is FREE */
		memcpy(&copy, s, sizeof(copy));
		copy.heap[sizeof(copy.heap) - 1] = '\0';
		ret = copy.id == id ? fetch_fd(c->pid, &copy, &fd) : -EINVAL;
		if (ret == 0) {
			ret = units_adopt(c, id, fd, copy.size, copy.reserved,
					  copy.heap, &u);
			if (ret < 0)
				close(fd);
		}
		__atomic_store_n(&s->state,
				 ret == 0 ? HBMEM_PUB_PUBLISHED : HBMEM_PUB_LOCAL,
				 __ATOMIC_RELEASE);
		hbmemd_log(2, "unit %d of pid %d %s", id, (int)c->pid,
			   ret == 0 ? "published" : "could not be fetched");
		return u;
	}
	return NULL;
}

void publish_each_local(void (*fn)(const struct client *c,
				   const struct hbmem_pub_slot *s, void *arg),
			void *arg)
{
	const struct client *c;
	uint32_t i;

	for (c = clients_first(); c; c = c->next) {
		if (!c->pub || c->dead)
			continue;
		for (i = 0; i < HBMEM_PUB_SLOTS; i++) {
			struct hbmem_pub_slot copy;

			if (__atomic_load_n(&c->pub[i].state,
					    __ATOMIC_ACQUIRE) != HBMEM_PUB_LOCAL)
				continue;
			memcpy(&copy, &c->pub[i], sizeof(copy));
			copy.heap[sizeof(copy.heap) - 1] = '\0';
			if (copy.id <= 0 || ((uint32_t)copy.id & SLOT_MASK) != i ||
			    !units_owns(c, copy.id) || units_find(copy.id))
				continue;
			fn(c, &copy, arg);
		}
	}
}
