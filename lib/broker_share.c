// SPDX-License-Identifier: MIT
/*
 * Global sharing through the broker: the share_* backend operations for
 * backends whose ids mean nothing outside the process (memfd, udmabuf,
 * dma-heap). share.c and import.c keep one code path; only these
 * operations know a broker is behind them.
 *
 * Costs. Naming a new unit needs no round trip: the broker leases this
 * process a block of share ids (one round trip per HBMEM_PROTO_LEASE
 * allocations). A new memfd unit goes into our publication table and
 * nothing is sent: the broker takes it over the first time another
 * message names it (broker_proto.h draws the slot's states), so a buffer
 * that never leaves the process costs the broker nothing. Units the table
 * cannot take (slot busy, dma-bufs, a non-dumpable process) are registered
 * with a one-way message carrying the fd; dropping a hold on a published
 * unit is one-way too. Imports, counts, pids and waits are round trips;
 * the broker reads every pending message of every process before it
 * answers one, so a one-way message sent before the question is counted.
 * Waits use a connection of their own, parked in the broker until the
 * count is low enough or the time is up, so other threads keep going.
 *
 * Which unit an fd is: the inode table below, keyed by (st_dev, st_ino),
 * since every fd on one memfd or dma-buf shows the same inode. An entry
 * counts this process's holds registered with the broker (holds) and the
 * process's handles on the unit (local; an fd inherited across fork is a
 * handle but no hold).
 *
 * The broker restarting (or killed): the next call that finds the
 * connection gone reconnects, starting a broker if allowed, and registers
 * again every unit this process still holds, with its holds; consume
 * counts start again at 0. Until every holder has made a call, the counts
 * the new broker reports miss those holders' holds.
 *
 * Fork: a child never uses the parent's connection or lease. The atfork
 * child handler closes its copy of the connection and forgets the lease;
 * the buffers the child inherited stay usable there (fds and mappings are
 * inherited) but are not holds of the child: the broker counts the child
 * once it imports, like the vendor samples do after hb_mem_module_open in
 * the child.
 *
 * Locking: the operations are called with hbmem_lock held, except waits;
 * conn_lock guards the connection, the lease and the inode table, and is
 * taken after hbmem_lock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "broker.h"

#define NBUCKETS 1024
/* A broker that does not answer a plain request in this long is stuck. */
#define CALL_TIMEOUT_MS 10000
/* Attempts of a request when the broker goes away under it. */
#define CALL_TRIES 5

struct ino_entry {
	dev_t dev;
	ino_t ino;
	int32_t id;
	int32_t holds;		/* registered with the broker */
	int32_t local;		/* this process's handles */
	bool published;		/* known to the broker (else only in our table) */
	uint64_t size;
	uint64_t reserved;
	char heap[HBMEM_PROTO_NAME_MAX];
	struct ino_entry *next;
};

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static int conn_fd = -1;
static struct hbmem_pub_slot *pub;	/* our publication table, or NULL */
static int pub_fd = -1;
static uint32_t conn_seq;
static int32_t lease_next, lease_end;
static struct ino_entry *table[NBUCKETS];
static struct hbmem_backend broker_backend;
static const struct hbmem_backend *base_backend;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static uint32_t next_seq(void)
{
	if (++conn_seq == 0)
		conn_seq = 1;
	return conn_seq;
}

/* ---- the inode table ------------------------------------------------ */

static unsigned int ino_bucket(dev_t dev, ino_t ino)
{
	return (unsigned int)((ino * 2654435761u) ^ dev) % NBUCKETS;
}

static struct ino_entry *ino_find(const struct stat *st)
{
	struct ino_entry *e;

	for (e = table[ino_bucket(st->st_dev, st->st_ino)]; e; e = e->next)
		if (e->dev == st->st_dev && e->ino == st->st_ino)
			return e;
	return NULL;
}

static struct ino_entry *ino_add(const struct stat *st, int32_t id)
{
	struct ino_entry *e = calloc(1, sizeof(*e));
	unsigned int b = ino_bucket(st->st_dev, st->st_ino);

	if (!e)
		return NULL;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->id = id;
	e->next = table[b];
	table[b] = e;
	return e;
}

static void ino_remove(struct ino_entry *e)
{
	struct ino_entry **pp = &table[ino_bucket(e->dev, e->ino)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			free(e);
			return;
		}
	}
}

static void ino_clear(void)
{
	unsigned int i;

	for (i = 0; i < NBUCKETS; i++) {
		while (table[i]) {
			struct ino_entry *e = table[i];

			table[i] = e->next;
			free(e);
		}
	}
}

/* The entry of the unit behind @fd: 0, -EBADF or -ENOENT. */
static int entry_of_fd(int fd, struct ino_entry **out)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -EBADF;
	*out = ino_find(&st);
	return *out ? 0 : -ENOENT;
}

/* ---- the connection ------------------------------------------------- */

/* ---- the publication table (lazy publication, broker_proto.h) ----- */

#define SLOT_MASK (HBMEM_PUB_SLOTS - 1)
#define FETCH_WAIT_US 2000000

static void pub_close(void)
{
	if (pub)
		munmap(pub, HBMEM_PUB_TABLE_SIZE);
	if (pub_fd >= 0)
		close(pub_fd);
	pub = NULL;
	pub_fd = -1;
}

/*
 * A new table for a new connection, sent to the broker. Without one (it
 * could not be made, or this process is not dumpable, so the broker could
 * not open its fds) every unit is registered at once.
 */
static void pub_open(void)
{
	struct hbmem_msg m, rep;
	int ret, rfd = -1;
	void *map;

	pub_close();
	if (prctl(PR_GET_DUMPABLE) != 1 ||
	    _hbmem_memfd_create("pubtab", HBMEM_PUB_TABLE_SIZE, &pub_fd) < 0) {
		pub_fd = -1;
		return;
	}
	map = mmap(NULL, HBMEM_PUB_TABLE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, pub_fd, 0);
	if (map == MAP_FAILED) {
		pub_close();
		return;
	}
	hbmem_proto_init(&m, HBMEM_MSG_HELLO, next_seq());
	m.u.hello.slots = HBMEM_PUB_SLOTS;
	m.u.hello.slot_size = sizeof(struct hbmem_pub_slot);
	m.u.hello.fd = pub_fd;
	ret = _hbmem_broker_send(conn_fd, &m, pub_fd);
	if (ret == 0)
		ret = _hbmem_broker_recv(conn_fd, m.hdr.seq, &rep, &rfd,
					 CALL_TIMEOUT_MS);
	if (rfd >= 0)
		close(rfd);
	if (ret == 0 && rep.u.count_rep.status < 0)
		hbmem_debug("hbmemd cannot publish lazily here: %s",
			    strerror(-rep.u.count_rep.status));
	pub = map;
	/* refused (the broker cannot reach our fds): register at once */
	if (ret < 0 || rep.u.count_rep.status < 0)
		pub_close();
}

/* Put unit @e (our new unit, @fd, @st) in the table: false if its slot is busy. */
static bool pub_put(struct ino_entry *e, int fd, const struct stat *st)
{
	struct hbmem_pub_slot *s;

	if (!pub || !S_ISREG(st->st_mode))
		return false;
	s = &pub[(uint32_t)e->id & SLOT_MASK];
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != HBMEM_PUB_FREE)
		return false;
	s->id = e->id;
	s->fd = fd;
	s->ino = (uint64_t)st->st_ino;
	s->size = e->size;
	s->reserved = e->reserved;
	memcpy(s->heap, e->heap, sizeof(s->heap));
	__atomic_store_n(&s->state, HBMEM_PUB_LOCAL, __ATOMIC_RELEASE);
	return true;
}

/*
 * Our unpublished unit @e is going: true when it never left the table
 * (the slot is free again, nobody else knew it), false when the broker
 * published it meanwhile (from now on it is a registered unit).
 */
static bool pub_take_back(struct ino_entry *e)
{
	struct hbmem_pub_slot *s;
	uint32_t state;
	int waited = 0;

	if (!pub)
		return false;
	s = &pub[(uint32_t)e->id & SLOT_MASK];
	for (;;) {
		state = HBMEM_PUB_LOCAL;
		if (__atomic_compare_exchange_n(&s->state, &state,
						HBMEM_PUB_FREE, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return true;
		if (state != HBMEM_PUB_FETCHING || waited >= FETCH_WAIT_US)
			break;
		/* the broker is opening our fd: a few microseconds */
		usleep(20);
		waited += 20;
	}
	if (state == HBMEM_PUB_PUBLISHED)
		__atomic_store_n(&s->state, HBMEM_PUB_FREE, __ATOMIC_RELEASE);
	e->published = true;
	return false;
}

/* ---- the connection ------------------------------------------------- */

static void conn_close(void)
{
	unsigned int i;

	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
	lease_next = lease_end = 0;
	/* the next broker learns of everything by the restore */
	pub_close();
	for (i = 0; i < NBUCKETS; i++) {
		struct ino_entry *e;

		for (e = table[i]; e; e = e->next)
			e->published = true;
	}
}

/*
 * A new broker does not know what we hold: register every unit with holds
 * again, by an fd of one of its local handles (hbmem_lock held).
 */
static void conn_restore(void)
{
	struct hbmem_msg m;
	unsigned int i;

	for (i = 0; i < NBUCKETS; i++) {
		struct ino_entry *e;

		for (e = table[i]; e; e = e->next) {
			struct hbmem_share *sh = _hbmem_share_find(e->id);

			if (e->holds <= 0 || !sh || !sh->holders)
				continue;
			hbmem_proto_init(&m, HBMEM_MSG_REGISTER, next_seq());
			m.u.reg.id = e->id;
			m.u.reg.flags = HBMEM_REG_RESTORE;
			m.u.reg.size = e->size;
			m.u.reg.reserved = e->reserved;
			m.u.reg.holds = (uint32_t)e->holds;
			memcpy(m.u.reg.heap, e->heap, sizeof(e->heap));
			if (_hbmem_broker_send(conn_fd, &m, sh->holders->fd) < 0)
				return;
		}
	}
}

/* Connected, or reconnect (and restore) now. conn_lock held. */
static int conn_ensure(void)
{
	int ret;

	if (conn_fd >= 0)
		return 0;
	ret = _hbmem_broker_connect(true, &conn_fd);
	if (ret < 0) {
		conn_fd = -1;
		hbmem_err_log("hbmemd unreachable: %s", strerror(-ret));
		return ret == -EACCES || ret == -EPERM ? -EPERM : -EIO;
	}
	hbmem_debug("connected to hbmemd");
	pub_open();
	conn_restore();
	return 0;
}

static bool conn_gone(int err)
{
	return err == -EPIPE || err == -ECONNRESET || err == -ENOTCONN ||
	       err == -ECONNREFUSED || err == -EBADF;
}

/* A one-way message; a lost broker is reconnected (and restored). */
static void conn_tell(struct hbmem_msg *m, int pass_fd)
{
	int ret;

	if (conn_ensure() < 0)
		return;
	ret = _hbmem_broker_send(conn_fd, m, pass_fd);
	if (ret < 0 && conn_gone(ret)) {
		/* the restore re-sends what this message was about */
		conn_close();
		conn_ensure();
	}
}

/*
 * A round trip: @m's reply into @rep (and its fd into *@fd_out when not
 * NULL). Once more on a new connection when the broker went away.
 */
static int conn_call(struct hbmem_msg *m, struct hbmem_msg *rep, int *fd_out)
{
	int tries, fd = -1, ret = -EIO;

	for (tries = 0; tries < CALL_TRIES; tries++) {
		/* a broker killed a moment ago may still take connections */
		if (tries > 0)
			usleep(1000u << tries);
		ret = conn_ensure();
		if (ret < 0)
			return ret;
		m->hdr.seq = next_seq();
		ret = _hbmem_broker_send(conn_fd, m, -1);
		if (ret == 0)
			ret = _hbmem_broker_recv(conn_fd, m->hdr.seq, rep, &fd,
						 CALL_TIMEOUT_MS);
		if (ret == 0)
			break;
		conn_close();
		if (ret == -ETIMEDOUT)
			hbmem_err_log("hbmemd did not answer in %d ms",
				      CALL_TIMEOUT_MS);
		if (!conn_gone(ret))
			return -EIO;
	}
	if (ret < 0)
		return -EIO;
	if (rep->hdr.type != (m->hdr.type | HBMEM_MSG_REPLY)) {
		if (fd >= 0)
			close(fd);
		return rep->u.count_rep.status < 0 ? rep->u.count_rep.status
						   : -EPROTO;
	}
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	return 0;
}

static int lease_take(int32_t *id)
{
	struct hbmem_msg m, rep;
	int ret;

	if (lease_next <= 0 || lease_next >= lease_end) {
		hbmem_proto_init(&m, HBMEM_MSG_LEASE, 0);
		ret = conn_call(&m, &rep, NULL);
		if (ret == 0)
			ret = rep.u.lease_rep.status;
		if (ret < 0)
			return ret;
		lease_next = rep.u.lease_rep.first;
		lease_end = rep.u.lease_rep.first + rep.u.lease_rep.count;
	}
	*id = lease_next++;
	return 0;
}

/* ---- the backend operations ------------------------------------------ */

static int broker_share_register(int fd, uint64_t len, const char *heap,
				 uint64_t reserved, int32_t *id)
{
	struct ino_entry *e;
	struct hbmem_msg m;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&conn_lock);
	ret = lease_take(id);
	if (ret < 0)
		goto out;
	e = ino_add(&st, *id);
	if (!e) {
		ret = -ENOMEM;
		goto out;
	}
	e->holds = 1;
	e->local = 1;
	e->size = len;
	e->reserved = reserved;
	snprintf(e->heap, sizeof(e->heap), "%s", heap ? heap : "");
	/* no message: the broker takes it from the table when asked for it */
	if (pub_put(e, fd, &st))
		goto out;
	e->published = true;
	hbmem_proto_init(&m, HBMEM_MSG_REGISTER, next_seq());
	m.u.reg.id = *id;
	m.u.reg.size = len;
	m.u.reg.reserved = reserved;
	m.u.reg.holds = 1;
	memcpy(m.u.reg.heap, e->heap, sizeof(e->heap));
	conn_tell(&m, fd);
out:
	pthread_mutex_unlock(&conn_lock);
	return ret;
}

static int broker_share_info(int fd, int32_t *id, uint64_t *len,
			     uint64_t *off)
{
	struct ino_entry *e;
	int ret;

	pthread_mutex_lock(&conn_lock);
	ret = entry_of_fd(fd, &e);
	if (ret == 0) {
		*id = e->id;
		*len = e->size;
		*off = 0;
	}
	pthread_mutex_unlock(&conn_lock);
	return ret == -ENOENT ? -EINVAL : ret;
}

static int broker_share_import(int32_t id, uint64_t off, uint64_t len,
			       int *fd_out)
{
	struct hbmem_msg m, rep;
	struct ino_entry *e;
	struct stat st;
	int fd = -1, ret;

	if (off || len)
		return -EINVAL;	/* the broker hands out whole units */
	pthread_mutex_lock(&conn_lock);
	hbmem_proto_init(&m, HBMEM_MSG_IMPORT, 0);
	m.u.id.id = id;
	ret = conn_call(&m, &rep, &fd);
	if (ret == 0)
		ret = rep.u.import_rep.status;
	if (ret < 0)
		goto out;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto err_release;
	}
	e = ino_find(&st);
	if (!e) {
		e = ino_add(&st, id);
		if (!e) {
			ret = -ENOMEM;
			goto err_release;
		}
		e->size = rep.u.import_rep.size;
		e->reserved = hbmem_page_round(e->size);
		e->published = true;
	} else if (!e->published) {
		pub_take_back(e);	/* our own: the broker published it */
	}
	e->holds++;
	e->local++;
	*fd_out = fd;
	goto out;

err_release:
	/* the broker counted the hold when it sent the fd */
	hbmem_proto_init(&m, HBMEM_MSG_RELEASE, next_seq());
	m.u.id.id = id;
	conn_tell(&m, -1);
	close(fd);
out:
	pthread_mutex_unlock(&conn_lock);
	return ret;
}

static void broker_share_put(int fd)
{
	struct ino_entry *e;
	struct hbmem_msg m;

	pthread_mutex_lock(&conn_lock);
	if (entry_of_fd(fd, &e) == 0) {
		if (e->holds > 0) {
			e->holds--;
			if (e->published || !pub_take_back(e)) {
				hbmem_proto_init(&m, HBMEM_MSG_RELEASE,
						 next_seq());
				m.u.id.id = e->id;
				conn_tell(&m, -1);
			}
		}
		if (--e->local <= 0)
			ino_remove(e);
	}
	pthread_mutex_unlock(&conn_lock);
}

/*
 * Before a wait: a broker that died since our last call must learn what we
 * hold before it can answer for it. Called without any lock held.
 */
static void conn_revive(void)
{
	struct pollfd p;

	pthread_mutex_lock(&hbmem_lock);
	pthread_mutex_lock(&conn_lock);
	p.fd = conn_fd;
	p.events = POLLIN;
	p.revents = 0;
	/* a healthy idle connection has nothing to read */
	if (conn_fd < 0 || poll(&p, 1, 0) != 0) {
		conn_close();
		conn_ensure();
	}
	pthread_mutex_unlock(&conn_lock);
	pthread_mutex_unlock(&hbmem_lock);
}

/*
 * A wait on a connection of its own, so that the main one stays free for
 * the other threads. A broker lost meanwhile: reconnect (restoring what
 * this process holds) and wait again for the time that is left.
 */
static int broker_wait(int32_t id, enum hbmem_count_kind kind, int32_t target,
		       int64_t timeout_ms, int32_t *count)
{
	struct timespec now, end;
	struct hbmem_msg m, rep;
	int tries, fd, rfd = -1, ret = -EIO;

	if (timeout_ms > 0)
		_hbmem_deadline(timeout_ms, &end);
	conn_revive();
	for (tries = 0; tries < CALL_TRIES; tries++) {
		int64_t left = timeout_ms;

		if (tries > 0)
			usleep(1000u << tries);
		if (timeout_ms > 0 && tries > 0) {
			/* what is left, rounded up: never end early */
			clock_gettime(CLOCK_MONOTONIC, &now);
			left = ((int64_t)(end.tv_sec - now.tv_sec) * 1000000000 +
				(end.tv_nsec - now.tv_nsec) + 999999) /
			       1000000;
			if (left <= 0)
				left = 0;
		}
		ret = _hbmem_broker_connect(true, &fd);
		if (ret < 0)
			return -EIO;
		hbmem_proto_init(&m, HBMEM_MSG_WAIT, 1);
		m.u.count.id = id;
		m.u.count.kind = kind == HBMEM_COUNT_CLIENTS
					 ? HBMEM_KIND_CLIENTS
					 : HBMEM_KIND_CONSUME;
		m.u.count.target = target;
		m.u.count.timeout_ms = left;
		ret = _hbmem_broker_send(fd, &m, -1);
		if (ret == 0)
			ret = _hbmem_broker_recv(fd, 1, &rep, &rfd, -1);
		close(fd);
		if (rfd >= 0)
			close(rfd);
		if (ret == 0)
			break;
		if (!conn_gone(ret))
			return -EIO;
		/* the broker went: make sure ours are known to the next one */
		pthread_mutex_lock(&hbmem_lock);
		pthread_mutex_lock(&conn_lock);
		conn_close();
		conn_ensure();
		pthread_mutex_unlock(&conn_lock);
		pthread_mutex_unlock(&hbmem_lock);
	}
	if (ret < 0)
		return -EIO;
	if (rep.hdr.type != (HBMEM_MSG_WAIT | HBMEM_MSG_REPLY))
		return rep.u.count_rep.status < 0 ? rep.u.count_rep.status
						  : -EPROTO;
	if (count)
		*count = rep.u.count_rep.count;
	return rep.u.count_rep.status;
}

static int broker_share_count(int fd, enum hbmem_count_kind kind, bool wait,
			      int32_t target, int64_t timeout_ms,
			      int32_t *count)
{
	struct hbmem_msg m, rep;
	struct ino_entry *e;
	int32_t id;
	int ret;

	pthread_mutex_lock(&conn_lock);
	ret = entry_of_fd(fd, &e);
	id = ret == 0 ? e->id : 0;
	if (ret < 0 || wait)
		goto out;
	hbmem_proto_init(&m, HBMEM_MSG_COUNT, 0);
	m.u.count.id = id;
	m.u.count.kind = kind == HBMEM_COUNT_CLIENTS ? HBMEM_KIND_CLIENTS
						     : HBMEM_KIND_CONSUME;
	ret = conn_call(&m, &rep, NULL);
	if (ret == 0)
		ret = rep.u.count_rep.status;
	if (ret == 0)
		*count = rep.u.count_rep.count;
out:
	pthread_mutex_unlock(&conn_lock);
	if (ret == 0 && wait)
		return broker_wait(id, kind, target, timeout_ms, count);
	return ret == -ENOENT ? -EINVAL : ret;
}

static int broker_share_consume(int fd, int delta)
{
	struct ino_entry *e;
	struct hbmem_msg m;
	int ret;

	pthread_mutex_lock(&conn_lock);
	ret = entry_of_fd(fd, &e);
	if (ret == 0) {
		hbmem_proto_init(&m, HBMEM_MSG_CONSUME, next_seq());
		m.u.consume.id = e->id;
		m.u.consume.delta = delta > 0 ? 1 : -1;
		conn_tell(&m, -1);
	}
	pthread_mutex_unlock(&conn_lock);
	return ret == -ENOENT ? -EINVAL : ret;
}

static int pids_query(int32_t id, uint32_t kind, int32_t *pids, int32_t *cnt,
		      int32_t num, int32_t *total)
{
	struct hbmem_msg m, rep;
	int32_t i;
	int ret;

	pthread_mutex_lock(&conn_lock);
	hbmem_proto_init(&m, HBMEM_MSG_PIDS, 0);
	m.u.count.id = id;
	m.u.count.kind = kind;
	ret = conn_call(&m, &rep, NULL);
	pthread_mutex_unlock(&conn_lock);
	if (ret == 0)
		ret = rep.u.pids_rep.status;
	if (ret < 0)
		return ret;
	for (i = 0; i < rep.u.pids_rep.n && i < num; i++) {
		pids[i] = rep.u.pids_rep.pid[i];
		if (cnt)
			cnt[i] = rep.u.pids_rep.cnt[i];
	}
	*total = rep.u.pids_rep.total;
	return 0;
}

static int broker_share_pids(int32_t id, int32_t *pids, int32_t num,
			     int32_t *total)
{
	return pids_query(id, HBMEM_KIND_CLIENTS, pids, NULL, num, total);
}

static int broker_share_cons_pids(int32_t id, int32_t *pids, int32_t *cnt,
				  int32_t num, int32_t *total)
{
	return pids_query(id, HBMEM_KIND_CONSUME, pids, cnt, num, total);
}

static void broker_shutdown(void)
{
	pthread_mutex_lock(&conn_lock);
	conn_close();
	ino_clear();
	pthread_mutex_unlock(&conn_lock);
	if (base_backend && base_backend->shutdown)
		base_backend->shutdown();
}

/* ---- fork, setup, status -------------------------------------------- */

/*
 * In the child: the parent's connection and lease are not ours, and the
 * holds in the table are the parent's; the handles stay (the fds and
 * mappings were inherited).
 */
static void broker_atfork_child(void)
{
	unsigned int i;

	pthread_mutex_init(&conn_lock, NULL);
	if (conn_fd >= 0)
		close(conn_fd);
	conn_fd = -1;
	/* the parent's table: never written from here */
	if (pub)
		munmap(pub, HBMEM_PUB_TABLE_SIZE);
	if (pub_fd >= 0)
		close(pub_fd);
	pub = NULL;
	pub_fd = -1;
	lease_next = lease_end = 0;
	conn_seq = 0;
	for (i = 0; i < NBUCKETS; i++) {
		struct ino_entry *e;

		for (e = table[i]; e; e = e->next)
			e->holds = 0;
	}
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, broker_atfork_child);
}

int _hbmem_broker_setup(const struct hbmem_backend **be)
{
	int32_t id;
	int ret;

	if ((*be)->share_info)
		return 0;	/* sharing is global already (kernel driver) */
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&conn_lock);
	ret = _hbmem_broker_connect(true, &conn_fd);
	if (ret < 0) {
		conn_fd = -1;
		pthread_mutex_unlock(&conn_lock);
		hbmem_debug("no broker (%s): sharing stays in this process",
			    strerror(-ret));
		return 0;
	}
	pub_open();
	/* the broker may refuse us (credentials): the lease tells */
	ret = lease_take(&id);
	if (ret < 0) {
		conn_close();
		pthread_mutex_unlock(&conn_lock);
		hbmem_warn("hbmemd refused this process (%s): sharing stays "
			   "in this process", strerror(-ret));
		return 0;
	}
	lease_next = id;	/* not used yet: give it back to the lease */
	pthread_mutex_unlock(&conn_lock);
	base_backend = *be;
	broker_backend = **be;
	broker_backend.shutdown = broker_shutdown;
	broker_backend.share_register = broker_share_register;
	broker_backend.share_info = broker_share_info;
	broker_backend.share_import = broker_share_import;
	broker_backend.share_count = broker_share_count;
	broker_backend.share_consume = broker_share_consume;
	broker_backend.share_pids = broker_share_pids;
	broker_backend.share_cons_pids = broker_share_cons_pids;
	broker_backend.share_put = broker_share_put;
	*be = &broker_backend;
	return 0;
}

int _hbmem_broker_status(int32_t after, struct hbmem_rep_status *out)
{
	struct hbmem_msg *m, *rep;
	int fd, rfd = -1, ret;

	if (after < 0 || !out)
		return -EINVAL;
	ret = _hbmem_broker_connect(false, &fd);
	if (ret < 0)
		return ret;
	m = calloc(2, sizeof(*m));
	if (!m) {
		close(fd);
		return -ENOMEM;
	}
	rep = m + 1;
	hbmem_proto_init(m, HBMEM_MSG_STATUS, 1);
	m->u.status.after = after;
	ret = _hbmem_broker_send(fd, m, -1);
	if (ret == 0)
		ret = _hbmem_broker_recv(fd, 1, rep, &rfd, 5000);
	if (rfd >= 0)
		close(rfd);
	if (ret == 0 && rep->hdr.type != (HBMEM_MSG_STATUS | HBMEM_MSG_REPLY))
		ret = rep->u.count_rep.status < 0 ? rep->u.count_rep.status
						  : -EPROTO;
	if (ret == 0)
		*out = rep->u.status_rep;
	free(m);
	close(fd);
	return ret;
}
