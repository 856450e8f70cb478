/* SPDX-License-Identifier: MIT */
/*
 * hbmemd.h - what the files of the broker share.
 *
 * The broker holds one fd per shared allocation unit and the counts the
 * vendor API reports across processes:
 *
 *   unit (share id) --refs--> ref (client, holds, consume) --> client
 *
 * A ref is one client's part of a unit: how many holds (allocation or
 * imports) and how much of the consume count it contributed. The unit's
 * share client count is the sum of holds, its consume count the sum of
 * consume. When a client's connection closes (exit, crash, kill) its refs
 * are dropped and units nobody holds any more are closed.
 *
 * Single-threaded: everything runs in the poll loop of server.c.
 */
#ifndef HBMEMD_H
#define HBMEMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker_proto.h"

struct client {
	int fd;			/* the connection, owned */
	pid_t pid;		/* from SO_PEERCRED, never from a message */
	uid_t uid;
	bool dead;		/* to be closed at the end of the round */
	bool has_req;		/* a request waits for phase 2 */
	bool waiting;		/* a WAIT is parked */
	struct hbmem_msg req;
	int64_t deadline_us;	/* of the parked WAIT, -1 forever */
	struct hbmem_pub_slot *pub;	/* its publication table, or NULL */
	int32_t *blocks;	/* every lease block it was given */
	size_t nblocks, cap_blocks;
	struct client *next;
};

struct ref {
	struct client *client;
	int32_t holds;
	int32_t consume;
	struct ref *next;
};

struct unit {
	int32_t id;
	int fd;			/* owned */
	dev_t dev;
	ino_t ino;
	uint64_t size;
	uint64_t reserved;
	char heap[HBMEM_PROTO_NAME_MAX];
	int32_t holds;
	int32_t consume;
	struct ref *refs;
	struct unit *hnext;
};

struct hbmemd_config {
	const char *socket_path;
	int idle_exit_s;	/* 0: never */
	bool foreground;
	bool allow_group_set;
	gid_t allow_group;
	int verbose;
};

extern struct hbmemd_config hbmemd_cfg;

/* ---- main.c ---- */
void hbmemd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Persist the next lease block so a restarted broker does not reuse ids. */
void hbmemd_state_save(int32_t next_block);
int32_t hbmemd_state_load(void);

/* ---- units.c ---- */
struct unit *units_find(int32_t id);
/*
 * REGISTER from @c with @fd (ownership moves to the units table on
 * success; on failure the caller still owns @fd).
 */
int units_register(struct client *c, const struct hbmem_req_register *r,
		   int fd);
int units_release(struct client *c, int32_t id);
int units_consume(struct client *c, int32_t id, int delta);
/*
 * A unit fetched from @owner's publication table: @fd (ownership moves to
 * the table on success) with the owner's one hold.
 */
int units_adopt(struct client *owner, int32_t id, int fd, uint64_t size,
		uint64_t reserved, const char *heap, struct unit **out);
/* One more hold of @c on @u (after its fd went out). */
int units_hold(struct client *c, struct unit *u);
/* Drop every ref of @c. */
void units_drop_client(struct client *c);
int units_lease(struct client *c, int32_t *first, int32_t *count);
/* Was @id leased to @c? */
bool units_owns(const struct client *c, int32_t id);
int units_count(int32_t id, uint32_t kind, int32_t *count);
int units_pids(int32_t id, uint32_t kind, struct hbmem_rep_pids *out);
void units_status(int32_t after, struct hbmem_rep_status *out);
unsigned int units_live(void);
void units_init(int32_t next_block);
void units_fini(void);

/* ---- publish.c (lazy publication, broker_proto.h) ---- */
/*
 * HELLO: map @c's table from @fd (the caller keeps @fd), once the broker
 * has shown it can open the client's fds: /proc/<pid>/fd/@client_fd must
 * be the same table.
 */
int publish_hello(struct client *c, int fd, int32_t client_fd);
void publish_forget(struct client *c);
/* The unit @id published from its owner's table, or NULL. */
struct unit *publish_fetch(int32_t id);
/* Call @fn for every unpublished (LOCAL) unit of every client. */
void publish_each_local(void (*fn)(const struct client *c,
				   const struct hbmem_pub_slot *s, void *arg),
			void *arg);

/* ---- server.c ---- */
struct client *clients_first(void);
int server_run(int listen_fd);

#endif /* HBMEMD_H */
