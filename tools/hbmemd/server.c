// SPDX-License-Identifier: MIT
/*
 * The broker's connections: accept with a credential check, receive and
 * validate every message, answer, park waits, and drop a client's holds
 * when its connection closes.
 *
 * One poll loop, one round at a time:
 *
 *   1. accept; read every message poll reported, doing one-way messages
 *      (REGISTER, RELEASE, CONSUME) at once and keeping requests aside;
 *   2. if any request was kept: read every other connection dry too, so
 *      that a one-way message a process sent before it told another
 *      process to ask is counted in the answer (causality without a reply
 *      for every one-way message);
 *   3. answer the requests; park WAITs;
 *   4. answer parked WAITs whose condition holds or whose time is up;
 *   5. close dead connections (dropping their holds), exit when idle.
 *
 * Every message is hostile until hbmem_proto_parse() said otherwise: fds
 * arriving with a message that may not carry them are closed, and a
 * message that fails gets an ERROR reply. A client that does not read its
 * replies (its socket buffer full) is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hbmemd.h"

#define MAX_CLIENTS 1024
#define MAX_RECV_FDS 8

static struct client *clients;
static unsigned int nclients;
static volatile sig_atomic_t stop_requested;

struct client *clients_first(void)
{
	return clients;
}

/* Microseconds: a wait never ends before its milliseconds are up. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Send @m (and @fd when >= 0, not given away) to @c; a failure kills @c. */
static void send_msg(struct client *c, struct hbmem_msg *m, int fd)
{
	union hbmem_proto_fd_ctl ctl;
	struct iovec iov = {
		.iov_base = m,
		.iov_len = hbmem_proto_size(m->hdr.type),
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (c->dead)
		return;
	if (fd >= 0)
		hbmem_proto_attach_fd(&mh, &ctl, fd);
	do {
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)iov.iov_len) {
		hbmemd_log(1, "pid %d: reply not sent (%s): dropping it",
			   (int)c->pid, n < 0 ? strerror(errno) : "short");
		c->dead = true;
	}
}

static void send_error(struct client *c, uint32_t seq, int err)
{
	struct hbmem_msg m;

	hbmem_proto_init(&m, HBMEM_MSG_ERROR, seq);
	m.u.count_rep.status = err;
	send_msg(c, &m, -1);
}

static void reply_count(struct client *c, const struct hbmem_msg *req,
			int status, int32_t count)
{
	struct hbmem_msg m;

	hbmem_proto_init(&m, req->hdr.type | HBMEM_MSG_REPLY, req->hdr.seq);
	m.u.count_rep.status = status;
	m.u.count_rep.count = status == 0 ? count : 0;
	send_msg(c, &m, -1);
}

/* Unit @id, published from its owner's table if need be. */
static struct unit *unit_or_publish(int32_t id)
{
	struct unit *u = units_find(id);

	return u ? u : publish_fetch(id);
}

static void do_import(struct client *c, const struct hbmem_msg *req)
{
	struct unit *u = unit_or_publish(req->u.id.id);
	struct hbmem_msg m;
	int ret = u ? 0 : -ENOENT;

	hbmem_proto_init(&m, HBMEM_MSG_IMPORT | HBMEM_MSG_REPLY, req->hdr.seq);
	if (u && u->holds >= (1 << 24))
		ret = -EOVERFLOW;
	m.u.import_rep.status = ret;
	if (ret < 0) {
		send_msg(c, &m, -1);
		return;
	}
	m.u.import_rep.size = u->size;
	send_msg(c, &m, u->fd);
	/* the hold counts once the fd is on its way */
	if (!c->dead && units_hold(c, u) < 0)
		c->dead = true;
}

static void do_request(struct client *c, const struct hbmem_msg *req)
{
	struct hbmem_msg m;
	int32_t count = 0;
	int ret;

	switch (req->hdr.type) {
	case HBMEM_MSG_LEASE:
		hbmem_proto_init(&m, HBMEM_MSG_LEASE | HBMEM_MSG_REPLY,
				 req->hdr.seq);
		m.u.lease_rep.status = units_lease(c, &m.u.lease_rep.first,
						   &m.u.lease_rep.count);
		send_msg(c, &m, -1);
		break;
	case HBMEM_MSG_IMPORT:
		do_import(c, req);
		break;
	case HBMEM_MSG_COUNT:
		unit_or_publish(req->u.count.id);
		ret = units_count(req->u.count.id, req->u.count.kind, &count);
		reply_count(c, req, ret, count);
		break;
	case HBMEM_MSG_WAIT:
		unit_or_publish(req->u.count.id);
		c->waiting = true;
		c->req = *req;
		/* beyond ~30 years is forever (and no overflow) */
		c->deadline_us = req->u.count.timeout_ms < 0 ||
						 req->u.count.timeout_ms > (1LL << 40)
					 ? -1
					 : now_us() + req->u.count.timeout_ms * 1000;
		break;
	case HBMEM_MSG_PIDS:
		unit_or_publish(req->u.count.id);
		hbmem_proto_init(&m, HBMEM_MSG_PIDS | HBMEM_MSG_REPLY,
				 req->hdr.seq);
		m.u.pids_rep.status = units_pids(req->u.count.id,
						 req->u.count.kind,
						 &m.u.pids_rep);
		send_msg(c, &m, -1);
		break;
	case HBMEM_MSG_STATUS: {
		/* large: off the stack */
		struct hbmem_msg *s = malloc(sizeof(*s));

		if (!s) {
			send_error(c, req->hdr.seq, -ENOMEM);
			break;
		}
		hbmem_proto_init(s, HBMEM_MSG_STATUS | HBMEM_MSG_REPLY,
				 req->hdr.seq);
		units_status(req->u.status.after, &s->u.status_rep);
		s->u.status_rep.clients = nclients;
		send_msg(c, s, -1);
		free(s);
		break;
	}
	default:
		send_error(c, req->hdr.seq, -EPROTO);
	}
}

/* Handle one parsed message; @fd is the one it carried (or -1). */
static void handle(struct client *c, const struct hbmem_msg *m, int fd)
{
	int ret = 0;

	if (c->waiting) {
		/* a wait connection says nothing more until answered */
		if (fd >= 0)
			close(fd);
		send_error(c, m->hdr.seq, -EBUSY);
		return;
	}
	switch (m->hdr.type) {
	case HBMEM_MSG_REGISTER:
		ret = units_register(c, &m->u.reg, fd);
		if (ret < 0)
			close(fd);
		break;
	case HBMEM_MSG_RELEASE:
		ret = units_release(c, m->u.id.id);
		break;
	case HBMEM_MSG_CONSUME:
		unit_or_publish(m->u.consume.id);
		ret = units_consume(c, m->u.consume.id, m->u.consume.delta);
		break;
	case HBMEM_MSG_HELLO: {
		/* answered at once: the table comes before any other use */
		struct hbmem_msg r;

		hbmem_proto_init(&r, HBMEM_MSG_HELLO | HBMEM_MSG_REPLY,
				 m->hdr.seq);
		r.u.count_rep.status = publish_hello(c, fd, m->u.hello.fd);
		close(fd);
		send_msg(c, &r, -1);
		return;
	}
	case HBMEM_MSG_LEASE:
	case HBMEM_MSG_IMPORT:
	case HBMEM_MSG_COUNT:
	case HBMEM_MSG_WAIT:
	case HBMEM_MSG_PIDS:
	case HBMEM_MSG_STATUS:
		/* a second request before the first was answered: do it now */
		if (c->has_req) {
			do_request(c, &c->req);
			c->has_req = false;
			/*
			 * the first was a wait, now parked on c->req: this
			 * one is refused, as after a wait in another batch
			 */
			if (c->waiting) {
				if (fd >= 0)
					close(fd);
				send_error(c, m->hdr.seq, -EBUSY);
				return;
			}
		}
		c->req = *m;
		c->has_req = true;
		return;
	default:
		/* replies are not for the broker */
		ret = -EPROTO;
	}
	if (ret < 0) {
		hbmemd_log(2, "pid %d: message %u failed: %s", (int)c->pid,
			   m->hdr.type, strerror(-ret));
		send_error(c, m->hdr.seq, ret);
	}
}

static void close_fds(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		close(fds[i]);
}

/* The fds of SCM_RIGHTS messages in @mh (any others are protocol errors). */
static int collect_fds(struct msghdr *mh, int *fds, bool *bad)
{
	struct cmsghdr *cm;
	int n = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k, cnt;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			*bad = true;
			continue;
		}
		cnt = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < cnt; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(fd));
			if (n < MAX_RECV_FDS)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/*
 * Read one message of @c. 1: one was read (and handled), 0: none pending,
 * -1: the connection is gone.
 */
static int read_one(struct client *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(MAX_RECV_FDS * sizeof(int))];
	} ctl;
	static unsigned char buf[HBMEM_PROTO_MSG_MAX + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	int fds[MAX_RECV_FDS], nfds, ret;
	struct hbmem_msg m;
	bool bad = false;
	ssize_t n;

	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	nfds = collect_fds(&mh, fds, &bad);
	if (bad || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
		ret = -EBADMSG;
	else
		ret = hbmem_proto_parse(buf, (size_t)n, nfds, &m);
	if (ret < 0) {
		close_fds(fds, nfds);
		hbmemd_log(2, "pid %d: bad message (%zd bytes, %d fds): %s",
			   (int)c->pid, n, nfds, strerror(-ret));
		send_error(c, 0, ret);
		return 1;
	}
	handle(c, &m, nfds ? fds[0] : -1);
	return 1;
}

/* Read @c dry (bounded, so one flooding client cannot starve the rest). */
static void drain(struct client *c)
{
	int i, r;

	for (i = 0; i < 4096 && !c->dead; i++) {
		r = read_one(c);
		if (r < 0)
			c->dead = true;
		if (r <= 0)
			return;
	}
}

/*
 * Whether the peer on @fd was in @gid when it connected, through its
 * supplementary groups (SO_PEERGROUPS: the groups of its credentials at
 * connect(), so no /proc race).
 */
static bool peer_in_group(int fd, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;
	size_t i, n;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: len now says how much room the list needs */
		if (errno != ERANGE || len == 0 || len > 65536 * sizeof(gid_t))
			return false;
		groups = malloc(len);
		if (!groups)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	n = len / sizeof(gid_t);
	for (i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	if (groups != small)
		free(groups);
	return found;
}

static bool peer_allowed(int fd, struct client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	c->pid = cred.pid;
	c->uid = cred.uid;
	if (cred.uid == geteuid() || cred.uid == 0)
		return true;
	if (!hbmemd_cfg.allow_group_set)
		return false;
	return cred.gid == hbmemd_cfg.allow_group ||
	       peer_in_group(fd, hbmemd_cfg.allow_group);
}

static void accept_clients(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct client *c;

		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c || nclients >= MAX_CLIENTS || !peer_allowed(fd, c)) {
			if (c)
				hbmemd_log(1, "refused pid %d uid %u",
					   (int)c->pid, (unsigned)c->uid);
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = clients;
		clients = c;
		nclients++;
		hbmemd_log(2, "pid %d connected", (int)c->pid);
	}
}

static void answer_requests(void)
{
	struct client *c;

	for (c = clients; c; c = c->next) {
		if (!c->has_req || c->dead)
			continue;
		c->has_req = false;
		do_request(c, &c->req);
	}
}

/* Answer parked waits that are done; the us until the next deadline. */
static int64_t check_waits(void)
{
	int64_t now = now_us(), next = -1;
	struct client *c;

	for (c = clients; c; c = c->next) {
		int32_t count = 0;
		int ret;

		if (!c->waiting || c->dead)
			continue;
		ret = units_count(c->req.u.count.id, c->req.u.count.kind,
				  &count);
		/* a unit nobody holds any more has every count at 0 */
		if (ret == -ENOENT)
			count = 0;
		if (count <= c->req.u.count.target) {
			ret = 0;
		} else if (c->deadline_us >= 0 && now >= c->deadline_us) {
			ret = -ETIMEDOUT;
		} else {
			if (c->deadline_us >= 0 &&
			    (next < 0 || c->deadline_us - now < next))
				next = c->deadline_us - now;
			continue;
		}
		c->waiting = false;
		reply_count(c, &c->req, ret, count);
	}
	return next;
}

static void reap_dead(void)
{
	struct client **pp = &clients;

	while (*pp) {
		struct client *c = *pp;

		if (!c->dead) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		nclients--;
		units_drop_client(c);
		publish_forget(c);
		free(c->blocks);
		close(c->fd);
		hbmemd_log(2, "pid %d gone", (int)c->pid);
		free(c);
	}
}

/*
 * SIGTERM and SIGINT stay blocked except inside ppoll(), which unblocks
 * them atomically: a stop request that arrives between the loop's check
 * and the wait would otherwise sleep until the wait's timeout. *@waitmask
 * is the mask to wait with.
 */
static void setup_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t stop;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, waitmask);
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
}

/* One round of the loop on what poll reported in @pfd. */
static void round_once(struct pollfd *pfd, unsigned int npfd, int lfd)
{
	struct client *c;
	bool requests = false;
	unsigned int i;

	if (pfd[0].revents & POLLIN)
		accept_clients(lfd);
	for (i = 1; i < npfd; i++) {
		if (!pfd[i].revents)
			continue;
		for (c = clients; c && c->fd != pfd[i].fd; c = c->next)
			;
		if (!c)
			continue;
		drain(c);
		if (pfd[i].revents & (POLLHUP | POLLERR) &&
		    !(pfd[i].revents & POLLIN))
			c->dead = true;
	}
	for (c = clients; c; c = c->next)
		requests |= c->has_req;
	if (requests)
		for (c = clients; c; c = c->next)
			drain(c);
	answer_requests();
}

int server_run(int lfd)
{
	struct pollfd *pfd = calloc(MAX_CLIENTS + 1, sizeof(*pfd));
	int64_t idle_since = now_us();
	sigset_t waitmask;

	if (!pfd)
		return -ENOMEM;
	setup_signals(&waitmask);
	while (!stop_requested) {
		int64_t wait, idle_left = -1;
		unsigned int npfd = 1;
		struct client *c;
		int timeout, n;

		/* holds of the dead go first: waits may be done by it */
		reap_dead();
		wait = check_waits();
		reap_dead();
		if (nclients == 0 && hbmemd_cfg.idle_exit_s > 0) {
			idle_left = idle_since +
				    hbmemd_cfg.idle_exit_s * 1000000LL - now_us();
			if (idle_left <= 0) {
				hbmemd_log(2, "idle: exiting");
				break;
			}
		} else {
			idle_since = now_us();
		}
		if (idle_left >= 0 && (wait < 0 || idle_left < wait))
			wait = idle_left;
		/* in ms, rounded up */
		wait = wait < 0 ? -1 : (wait + 999) / 1000;
		timeout = wait < 0 ? -1 : wait > 60000 ? 60000 : (int)wait;
		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (c = clients; c; c = c->next) {
			pfd[npfd].fd = c->fd;
			pfd[npfd].events = POLLIN;
			pfd[npfd].revents = 0;
			npfd++;
		}
		if (timeout < 0) {
			n = ppoll(pfd, npfd, NULL, &waitmask);
		} else {
			struct timespec ts = {
				.tv_sec = timeout / 1000,
				.tv_nsec = (long)(timeout % 1000) * 1000000L,
			};

			n = ppoll(pfd, npfd, &ts, &waitmask);
		}
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0)
			round_once(pfd, npfd, lfd);
	}
	while (clients) {
		clients->dead = true;
		reap_dead();
	}
	units_fini();
	free(pfd);
	return 0;
}
