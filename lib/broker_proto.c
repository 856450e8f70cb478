// SPDX-License-Identifier: MIT
/*
 * Parsing of broker messages: the one place received bytes are trusted or
 * not. Both hbmemd and libhbmem call hbmem_proto_parse() on every datagram
 * before looking at it, so a check added here protects both. The layout is
 * described in broker_proto.h.
 */
#include <errno.h>
#include <string.h>

#include "broker_proto.h"

#define HDR sizeof(struct hbmem_msg_hdr)
#define MAX_RESTORE_HOLDS (1u << 20)

_Static_assert(HDR == 8, "header is 8 bytes");
_Static_assert(sizeof(struct hbmem_req_register) == 64, "register body");
_Static_assert(sizeof(struct hbmem_req_count) == 24, "count body");
_Static_assert(sizeof(struct hbmem_status_unit) % 8 == 0, "unit aligned");
_Static_assert(sizeof(struct hbmem_pub_slot) == 72, "publication slot");
_Static_assert(offsetof(struct hbmem_msg, u) == HDR, "body follows header");

static size_t body_size(unsigned int type)
{
	switch (type) {
	case HBMEM_MSG_LEASE:
	case HBMEM_MSG_STATUS:
		return sizeof(struct hbmem_req_status);
	case HBMEM_MSG_REGISTER:
		return sizeof(struct hbmem_req_register);
	case HBMEM_MSG_HELLO:
		return sizeof(struct hbmem_req_hello);
	case HBMEM_MSG_RELEASE:
	case HBMEM_MSG_IMPORT:
		return sizeof(struct hbmem_req_id);
	case HBMEM_MSG_CONSUME:
		return sizeof(struct hbmem_req_consume);
	case HBMEM_MSG_COUNT:
	case HBMEM_MSG_WAIT:
	case HBMEM_MSG_PIDS:
		return sizeof(struct hbmem_req_count);
	case HBMEM_MSG_LEASE | HBMEM_MSG_REPLY:
		return sizeof(struct hbmem_rep_lease);
	case HBMEM_MSG_IMPORT | HBMEM_MSG_REPLY:
		return sizeof(struct hbmem_rep_import);
	case HBMEM_MSG_COUNT | HBMEM_MSG_REPLY:
	case HBMEM_MSG_WAIT | HBMEM_MSG_REPLY:
	case HBMEM_MSG_HELLO | HBMEM_MSG_REPLY:
	case HBMEM_MSG_ERROR:
		return sizeof(struct hbmem_rep_count);
	case HBMEM_MSG_PIDS | HBMEM_MSG_REPLY:
		return sizeof(struct hbmem_rep_pids);
	case HBMEM_MSG_STATUS | HBMEM_MSG_REPLY:
		return sizeof(struct hbmem_rep_status);
	default:
		return 0;
	}
}

size_t hbmem_proto_size(unsigned int type)
{
	size_t body = body_size(type);

	return body ? HDR + body : 0;
}

void hbmem_proto_init(struct hbmem_msg *msg, unsigned int type, uint32_t seq)
{
	memset(msg, 0, hbmem_proto_size(type) ? hbmem_proto_size(type) : HDR);
	msg->hdr.magic = HBMEM_PROTO_MAGIC;
	msg->hdr.version = HBMEM_PROTO_VERSION;
	msg->hdr.type = (uint8_t)type;
	msg->hdr.seq = seq;
}

static int str_ok(const char *s, size_t max)
{
	return memchr(s, '\0', max) != NULL;
}

/* A reply status: 0 or a plausible negative errno. */
static int status_ok(int32_t st)
{
	return st <= 0 && st > -4096;
}

static int check_register(const struct hbmem_req_register *r)
{
	if (r->id <= 0 || r->size == 0 ||
	    (r->flags & ~HBMEM_REG_RESTORE) || r->pad ||
	    !str_ok(r->heap, sizeof(r->heap)))
		return -EBADMSG;
	if (r->flags & HBMEM_REG_RESTORE)
		return r->holds >= 1 && r->holds <= MAX_RESTORE_HOLDS ? 0
								      : -EBADMSG;
	return r->holds == 1 ? 0 : -EBADMSG;
}

static int check_count(unsigned int type, const struct hbmem_req_count *c)
{
	if (c->id <= 0 || c->kind > HBMEM_KIND_CONSUME || c->pad)
		return -EBADMSG;
	if (type == HBMEM_MSG_WAIT)
		return c->target >= 0 ? 0 : -EBADMSG;
	return c->target == 0 && c->timeout_ms == 0 ? 0 : -EBADMSG;
}

static int check_pids(const struct hbmem_rep_pids *p)
{
	if (!status_ok(p->status) || p->total < 0 || p->n < 0 ||
	    p->n > HBMEM_PROTO_MAX_PIDS || p->n > p->total)
		return -EBADMSG;
	return 0;
}

static int check_status(const struct hbmem_rep_status *s)
{
	uint32_t i;

	if (!status_ok(s->status) || s->n_units > HBMEM_PROTO_STATUS_UNITS ||
	    s->n_heaps > HBMEM_PROTO_STATUS_HEAPS || s->more > 1 ||
	    s->n_units > s->total_units)
		return -EBADMSG;
	for (i = 0; i < s->n_units; i++) {
		const struct hbmem_status_unit *u = &s->unit[i];

		if (u->id <= 0 || u->clients < 0 || u->consume < 0 ||
		    u->npids < 0 || !str_ok(u->heap, sizeof(u->heap)))
			return -EBADMSG;
	}
	for (i = 0; i < s->n_heaps; i++)
		if (!str_ok(s->heap[i].name, sizeof(s->heap[i].name)))
			return -EBADMSG;
	return 0;
}

/* Field checks of a message whose length and type are right. */
static int check_body(const struct hbmem_msg *m)
{
	switch (m->hdr.type) {
	case HBMEM_MSG_LEASE:
		return m->u.status.after == 0 && !m->u.status.pad ? 0
								  : -EBADMSG;
	case HBMEM_MSG_STATUS:
		return m->u.status.after >= 0 && !m->u.status.pad ? 0
								  : -EBADMSG;
	case HBMEM_MSG_REGISTER:
		return check_register(&m->u.reg);
	case HBMEM_MSG_HELLO:
		return m->u.hello.slots == HBMEM_PUB_SLOTS &&
			       m->u.hello.slot_size ==
				       sizeof(struct hbmem_pub_slot) &&
			       m->u.hello.fd >= 0 && !m->u.hello.pad
			       ? 0
			       : -EBADMSG;
	case HBMEM_MSG_RELEASE:
	case HBMEM_MSG_IMPORT:
		return m->u.id.id > 0 && !m->u.id.pad ? 0 : -EBADMSG;
	case HBMEM_MSG_CONSUME:
		return m->u.consume.id > 0 && (m->u.consume.delta == 1 ||
					       m->u.consume.delta == -1)
			       ? 0
			       : -EBADMSG;
	case HBMEM_MSG_COUNT:
	case HBMEM_MSG_WAIT:
	case HBMEM_MSG_PIDS:
		return check_count(m->hdr.type, &m->u.count);
	case HBMEM_MSG_LEASE | HBMEM_MSG_REPLY: {
		const struct hbmem_rep_lease *l = &m->u.lease_rep;

		if (!status_ok(l->status))
			return -EBADMSG;
		if (l->status < 0)
			return 0;
		return l->first > 0 && l->count > 0 &&
			       l->count <= HBMEM_PROTO_LEASE &&
			       l->first <= HBMEM_PROTO_ID_MAX - (l->count - 1)
			       ? 0
			       : -EBADMSG;
	}
	case HBMEM_MSG_IMPORT | HBMEM_MSG_REPLY:
		return status_ok(m->u.import_rep.status) &&
			       (m->u.import_rep.status < 0 ||
				m->u.import_rep.size > 0)
			       ? 0
			       : -EBADMSG;
	case HBMEM_MSG_COUNT | HBMEM_MSG_REPLY:
	case HBMEM_MSG_WAIT | HBMEM_MSG_REPLY:
	case HBMEM_MSG_HELLO | HBMEM_MSG_REPLY:
	case HBMEM_MSG_ERROR:
		return status_ok(m->u.count_rep.status) &&
			       m->u.count_rep.count >= 0
			       ? 0
			       : -EBADMSG;
	case HBMEM_MSG_PIDS | HBMEM_MSG_REPLY:
		return check_pids(&m->u.pids_rep);
	case HBMEM_MSG_STATUS | HBMEM_MSG_REPLY:
		return check_status(&m->u.status_rep);
	default:
		return -EPROTO;
	}
}

/* The fds a well-formed message of this type and status carries. */
static int fds_expected(const struct hbmem_msg *m)
{
	if (m->hdr.type == HBMEM_MSG_REGISTER ||
	    m->hdr.type == HBMEM_MSG_HELLO)
		return 1;
	if (m->hdr.type == (HBMEM_MSG_IMPORT | HBMEM_MSG_REPLY))
		return m->u.import_rep.status == 0;
	return 0;
}

int hbmem_proto_parse(const void *buf, size_t len, int nfds,
		      struct hbmem_msg *out)
{
	struct hbmem_msg_hdr hdr;
	size_t want;
	int ret;

	if (!buf || !out || len < HDR)
		return -EBADMSG;
	memcpy(&hdr, buf, HDR);
	if (hdr.magic != HBMEM_PROTO_MAGIC || hdr.version != HBMEM_PROTO_VERSION)
		return -EBADMSG;
	want = hbmem_proto_size(hdr.type);
	if (!want)
		return -EPROTO;
	if (len != want)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	memcpy(out, buf, len);
	ret = check_body(out);
	if (ret < 0)
		return ret;
	if (nfds != fds_expected(out))
		return -EINVAL;
	return 0;
}

void hbmem_proto_attach_fd(struct msghdr *mh, union hbmem_proto_fd_ctl *ctl,
			   int fd)
{
	struct cmsghdr *cm;

	memset(ctl, 0, sizeof(*ctl));
	mh->msg_control = ctl->buf;
	mh->msg_controllen = sizeof(ctl->buf);
	cm = CMSG_FIRSTHDR(mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}
