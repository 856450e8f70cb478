/* SPDX-License-Identifier: MIT */
/*
 * broker_proto.h - the messages between libhbmem and the broker hbmemd.
 *
 * Transport: one AF_UNIX SOCK_SEQPACKET connection per client (plus one
 * short-lived connection per wait), so each message is one datagram and
 * is read whole or not at all. Both ends run on the same machine: the wire
 * format is these C structs, native byte order, fixed-size fields with
 * explicit padding. Every message is
 *
 *   +---------------------------+---------------------------------+
 *   | struct hbmem_msg_hdr (8)  | body of the type (fixed size)   |
 *   +---------------------------+---------------------------------+
 *   [ + SCM_RIGHTS: exactly the fds the type carries (0 or 1) ]
 *
 * and its length must be exactly sizeof(hdr) + the body size of its type.
 *
 * Requests (client -> broker). "one-way" ones get no answer unless they
 * fail; the others get exactly one reply of type (request | HBMEM_MSG_REPLY)
 * with the request's seq:
 *
 *   LEASE     ask for a block of share ids to name new units with
 *   REGISTER  one-way, 1 fd: a new unit (id from the lease, taken in
 *             order) or, with HBMEM_REG_RESTORE, a unit the client still
 *             holds after the broker restarted (same inode required when
 *             another client restored it first); adds @holds holds
 *   RELEASE   one-way: drop one hold of this client on a unit
 *   CONSUME   one-way: consume count +1 / -1 (never below 0)
 *   IMPORT    one more hold; the reply carries a new fd on the whole unit
 *   COUNT     read the holder or consume count
 *   WAIT      reply once the count is at most target, or on timeout
 *   PIDS      holder pids, or consumer pids with their consume counts
 *   STATUS    a page of every live unit and per-heap usage, for tools
 *   HELLO     1 fd: the client's publication table (below)
 *
 * Lazy publication. A unit that never leaves its process should cost no
 * message at all, so a client may skip REGISTER for a new unit and write
 * it into a slot of its publication table instead: a sealed memfd of
 * HBMEM_PUB_SLOTS struct hbmem_pub_slot, shared with the broker, slot
 * index = share id & (HBMEM_PUB_SLOTS - 1). The slot's state moves by
 * compare-and-swap only:
 *
 *   FREE --owner--> LOCAL --broker--> FETCHING --broker--> PUBLISHED
 *                     |  ^                |                    |
 *                     |  +----broker------+ (fetch failed)     |
 *                     +--owner--> FREE                         +--owner--> FREE
 *
 * The broker publishes a LOCAL unit the first time any message names its
 * id (IMPORT, COUNT, WAIT, PIDS, CONSUME): it opens /proc/<owner pid>/fd/
 * <fd> (the owner still has the fd open: it frees only by winning LOCAL ->
 * FREE, or by waiting for FETCHING to end), checks the inode, seals and
 * size, and the unit starts with the owner's one hold. An owner whose free
 * finds the slot PUBLISHED sends RELEASE as for any registered unit. Only
 * ids leased to the table's owner are taken from it. A slot is hostile
 * input to the broker like any message: every field is checked.
 *
 * A one-way message that fails gets an HBMEM_MSG_ERROR reply carrying its
 * seq (a client skips replies whose seq it is not waiting for); a message
 * that cannot be parsed gets one with seq 0. Counts in replies are global,
 * over every process.
 *
 * hbmem_proto_parse() is the only code that interprets received bytes, on
 * both sides; it does no I/O and no allocation (a fuzz target calls it).
 */
#ifndef HBMEM_BROKER_PROTO_H
#define HBMEM_BROKER_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HBMEM_PROTO_MAGIC	0x4d48u		/* "HM" */
#define HBMEM_PROTO_VERSION	1
#define HBMEM_PROTO_NAME_MAX	32		/* heap names, NUL included */
#define HBMEM_PROTO_MAX_PIDS	16		/* the board's MAX_PROCESS_INFO */
#define HBMEM_PROTO_STATUS_UNITS 16		/* units per STATUS page */
#define HBMEM_PROTO_STATUS_HEAPS 16		/* heaps per STATUS reply */
#define HBMEM_PROTO_LEASE	256		/* share ids per lease */
#define HBMEM_PROTO_MAX_FDS	1		/* fds any message carries */
#define HBMEM_PROTO_ID_MAX	INT32_MAX

enum hbmem_msg_type {
	HBMEM_MSG_LEASE = 1,
	HBMEM_MSG_REGISTER,
	HBMEM_MSG_RELEASE,
	HBMEM_MSG_CONSUME,
	HBMEM_MSG_IMPORT,
	HBMEM_MSG_COUNT,
	HBMEM_MSG_WAIT,
	HBMEM_MSG_PIDS,
	HBMEM_MSG_STATUS,
	HBMEM_MSG_HELLO,
	HBMEM_MSG_TYPE_END,

	HBMEM_MSG_REPLY = 0x80,		/* or-ed into the request type */
	HBMEM_MSG_ERROR = 0xFF,		/* failed one-way or unparsable */
};

enum hbmem_msg_kind {
	HBMEM_KIND_CLIENTS = 0,		/* holders: the share client count */
	HBMEM_KIND_CONSUME = 1,
};

#define HBMEM_REG_RESTORE	(1u << 0)

/* ---- the publication table (lazy publication, see above) ---- */

#define HBMEM_PUB_SLOTS		4096

enum hbmem_pub_state {
	HBMEM_PUB_FREE = 0,
	HBMEM_PUB_LOCAL,
	HBMEM_PUB_FETCHING,
	HBMEM_PUB_PUBLISHED,
};

struct hbmem_pub_slot {
	uint32_t state;		/* enum hbmem_pub_state, atomic */
	int32_t id;
	int32_t fd;		/* the owner's fd on the unit */
	uint32_t pad;
	uint64_t ino;		/* st_ino of that fd */
	uint64_t size;
	uint64_t reserved;
	char heap[HBMEM_PROTO_NAME_MAX];
};

#define HBMEM_PUB_TABLE_SIZE (HBMEM_PUB_SLOTS * sizeof(struct hbmem_pub_slot))

struct hbmem_msg_hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t type;
	uint32_t seq;
};

/* ---- request bodies ---- */

struct hbmem_req_register {
	int32_t id;
	uint32_t flags;		/* HBMEM_REG_* */
	uint64_t size;		/* bytes of the unit (<= the fd's size) */
	uint64_t reserved;	/* bytes charged to the heap (0: none) */
	uint32_t holds;		/* 1 for a new unit; 1..2^20 for RESTORE */
	uint32_t pad;
	char heap[HBMEM_PROTO_NAME_MAX];	/* NUL-terminated */
};

struct hbmem_req_id {		/* RELEASE, IMPORT */
	int32_t id;
	uint32_t pad;
};

struct hbmem_req_consume {
	int32_t id;
	int32_t delta;		/* +1 or -1 */
};

struct hbmem_req_count {	/* COUNT, WAIT, PIDS (kind: whose pids) */
	int32_t id;
	uint32_t kind;		/* enum hbmem_msg_kind */
	int32_t target;		/* WAIT: >= 0 */
	uint32_t pad;
	int64_t timeout_ms;	/* WAIT: < 0 forever, 0 just check */
};

/*
 * HELLO is a round trip: the broker checks it can reach the client's fds
 * through /proc (by opening @fd, the table's own number in the client)
 * and answers 0, or an error after which the client registers every unit
 * at once.
 */
struct hbmem_req_hello {	/* + 1 fd: the table's memfd */
	uint32_t slots;		/* HBMEM_PUB_SLOTS */
	uint32_t slot_size;	/* sizeof(struct hbmem_pub_slot) */
	int32_t fd;		/* the table's fd number in the client */
	uint32_t pad;
};

struct hbmem_req_status {
	int32_t after;		/* units with a larger id; 0 from the start */
	uint32_t pad;
};

/* ---- reply bodies (status: 0 or a negative errno) ---- */

struct hbmem_rep_lease {
	int32_t status;
	int32_t first;		/* ids first .. first + count - 1 */
	int32_t count;
	uint32_t pad;
};

struct hbmem_rep_import {	/* + 1 fd when status is 0 */
	int32_t status;
	uint32_t pad;
	uint64_t size;
};

struct hbmem_rep_count {	/* COUNT, WAIT, ERROR */
	int32_t status;
	int32_t count;
};

struct hbmem_rep_pids {
	int32_t status;
	int32_t total;		/* processes in all */
	int32_t n;		/* entries filled, <= HBMEM_PROTO_MAX_PIDS */
	uint32_t pad;
	int32_t pid[HBMEM_PROTO_MAX_PIDS];
	int32_t cnt[HBMEM_PROTO_MAX_PIDS];	/* holds, or consume counts */
};

/*
 * One live unit as hbmem status shows it: its share id, heap, size, the
 * pids of the processes holding it (first HBMEM_PROTO_MAX_PIDS of npids),
 * and its global holder (share client) and consume counts.
 */
struct hbmem_status_unit {
	int32_t id;
	int32_t clients;
	int32_t consume;
	int32_t npids;
	uint64_t size;
	int32_t pid[HBMEM_PROTO_MAX_PIDS];
	char heap[HBMEM_PROTO_NAME_MAX];
};

/* Bytes charged to a heap by the live units the broker knows of. */
struct hbmem_status_heap {
	char name[HBMEM_PROTO_NAME_MAX];
	uint64_t used;
	uint32_t units;
	uint32_t pad;
};

/*
 * A STATUS page: units with ids > the request's @after, ascending, at most
 * HBMEM_PROTO_STATUS_UNITS; @more is 1 when units with larger ids remain
 * (ask again with @after = the last id here). Heaps and totals are always
 * whole.
 */
struct hbmem_rep_status {
	int32_t status;
	uint32_t total_units;
	uint32_t clients;	/* connections */
	uint32_t n_units;
	uint32_t n_heaps;
	uint32_t more;
	struct hbmem_status_unit unit[HBMEM_PROTO_STATUS_UNITS];
	struct hbmem_status_heap heap[HBMEM_PROTO_STATUS_HEAPS];
};

struct hbmem_msg {
	struct hbmem_msg_hdr hdr;
	union {
		struct hbmem_req_register reg;
		struct hbmem_req_id id;
		struct hbmem_req_consume consume;
		struct hbmem_req_count count;
		struct hbmem_req_status status;
		struct hbmem_req_hello hello;
		struct hbmem_rep_lease lease_rep;
		struct hbmem_rep_import import_rep;
		struct hbmem_rep_count count_rep;
		struct hbmem_rep_pids pids_rep;
		struct hbmem_rep_status status_rep;
	} u;
};

/* The largest message: a receive buffer of this size + 1 detects longer. */
#define HBMEM_PROTO_MSG_MAX \
	(sizeof(struct hbmem_msg_hdr) + sizeof(struct hbmem_rep_status))

/*
 * Validate the @len bytes at @buf, received with @nfds fds, completely and
 * copy them into *@out. 0, or:
 *   -EBADMSG   too short, wrong magic or version, wrong length for the type,
 *              a field out of range, a string not NUL-terminated
 *   -EPROTO    unknown type
 *   -EINVAL    a count of fds the type does not carry
 * Never reads past @len; no I/O, no allocation.
 */
int hbmem_proto_parse(const void *buf, size_t len, int nfds,
		      struct hbmem_msg *out);

/* Bytes of a message of @type (header included); 0 for an unknown type. */
size_t hbmem_proto_size(unsigned int type);

/* Fill the header of @msg. */
void hbmem_proto_init(struct hbmem_msg *msg, unsigned int type, uint32_t seq);

/* Control-message room for the one fd a message may carry. */
union hbmem_proto_fd_ctl {
	struct cmsghdr h;
	char buf[CMSG_SPACE(sizeof(int))];
};

/*
 * Make @mh carry @fd (SCM_RIGHTS) in @ctl; the fd stays the caller's
 * (the kernel passes a new reference). Both sides send with this.
 */
void hbmem_proto_attach_fd(struct msghdr *mh, union hbmem_proto_fd_ctl *ctl,
			   int fd);

#endif /* HBMEM_BROKER_PROTO_H */
