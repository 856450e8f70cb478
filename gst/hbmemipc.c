// SPDX-License-Identifier: MIT
/*
 * The hbmemsink/hbmemsrc wire protocol: sockets, framing and the checks
 * every received message passes before anyone looks at it. See hbmemipc.h
 * for the model.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "hbmemipc.h"

#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC 0x444d4142	/* include/uapi/linux/magic.h */
#endif

_Static_assert(sizeof(struct hbmem_ipc_header) == 16, "header layout");
_Static_assert(sizeof(struct hbmem_ipc_buffer) == 224, "buffer layout");
_Static_assert(sizeof(struct hbmem_ipc_buffer) +
	       sizeof(struct hbmem_ipc_header) <= HBMEM_IPC_MAX_MSG,
	       "a buffer message fits in one datagram");

static int ipc_sockaddr(const char *path, struct sockaddr_un *sa)
{
	size_t len;

	if (!path || !*path)
		return -EINVAL;
	len = strlen(path);
	if (len >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, len + 1);
	return 0;
}

static int ipc_socket(int *fd)
{
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
		       0);

	if (s < 0)
		return -errno;
	*fd = s;
	return 0;
}

/* 0 if someone accepts connections at @sa, else a negative errno. */
static int ipc_probe_live(const struct sockaddr_un *sa)
{
	int s = -1, ret;

	ret = ipc_socket(&s);
	if (ret < 0)
		return ret;
	ret = connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ?
		      -errno : 0;
	close(s);
	/* a full backlog still means a live listener */
	return ret == -EAGAIN ? 0 : ret;
}

int hbmem_ipc_listen(const char *path, int *fd)
{
	struct sockaddr_un sa;
	struct stat st;
	int s = -1, ret;

	if (!fd)
		return -EINVAL;
	ret = ipc_sockaddr(path, &sa);
	if (ret < 0)
		return ret;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;	/* never delete a user's file */
		if (ipc_probe_live(&sa) == 0)
			return -EADDRINUSE;
		if (unlink(path) < 0 && errno != ENOENT)
			return -errno;
	}
	ret = ipc_socket(&s);
	if (ret < 0)
		return ret;
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s, 16) < 0) {
		ret = -errno;
		goto err_close;
	}
	*fd = s;
	return 0;

err_close:
	close(s);
	return ret;
}

int hbmem_ipc_accept(int listen_fd, int *fd)
{
	int s;

	if (!fd)
		return -EINVAL;
	s = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (s < 0)
		return -errno;
	*fd = s;
	return 0;
}

static int64_t ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether @path names something other than a socket (hbmemsink never
 * replaces such a file, so nobody will ever listen there). */
static int ipc_not_a_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && !S_ISSOCK(st.st_mode);
}

int hbmem_ipc_connect(const char *path, int timeout_ms, int *fd)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	struct sockaddr_un sa;
	int64_t deadline;
	int s = -1, ret;

	if (!fd || timeout_ms < 0)
		return -EINVAL;
	ret = ipc_sockaddr(path, &sa);
	if (ret < 0)
		return ret;
	deadline = ipc_now_ms() + timeout_ms;
	for (;;) {
		ret = ipc_socket(&s);
		if (ret < 0)
			return ret;
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			*fd = s;
			return 0;
		}
		ret = -errno;
		close(s);
		/* a file that is no socket never becomes one: no waiting */
		if (ret == -ECONNREFUSED && ipc_not_a_socket(path))
			return -ENOTSOCK;
		/* not there yet, nobody listening yet, or backlog full */
		if (ret != -ENOENT && ret != -ECONNREFUSED && ret != -EAGAIN)
			return ret;
		if (ipc_now_ms() >= deadline)
			return timeout_ms ? -ETIMEDOUT : ret;
		nanosleep(&pause, NULL);
	}
}

int hbmem_ipc_send(int sock, enum hbmem_ipc_type type, const void *payload,
		   size_t len, const int *fds, int n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * HBMEM_IPC_MAX_FDS)];
	} ctl;
	struct hbmem_ipc_header hdr = {
		.magic = HBMEM_IPC_MAGIC,
		.version = HBMEM_IPC_VERSION,
		.type = (uint16_t)type,
		.size = (uint32_t)len,
	};
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > HBMEM_IPC_MAX_MSG - sizeof(hdr))
		return -EMSGSIZE;
	if (n_fds < 0 || n_fds > HBMEM_IPC_MAX_FDS || (n_fds && !fds) ||
	    (len && !payload))
		return -EINVAL;
	if (n_fds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* a datagram goes whole or not at all */
	return (size_t)n == sizeof(hdr) + len ? 0 : -EIO;
}

int hbmem_ipc_send_event(int sock, uint32_t type, uint32_t seqnum,
			 const char *text)
{
	unsigned char buf[HBMEM_IPC_MAX_MSG];
	struct hbmem_ipc_event ev = { .type = type, .seqnum = seqnum };
	size_t tlen = text ? strlen(text) : 0;

	if (tlen + 1 > HBMEM_IPC_EVENT_MAX_TEXT)
		return -EMSGSIZE;
	ev.len = (uint32_t)(tlen + 1);
	memcpy(buf, &ev, sizeof(ev));
	if (tlen)
		memcpy(buf + sizeof(ev), text, tlen);
	buf[sizeof(ev) + tlen] = '\0';
	return hbmem_ipc_send(sock, HBMEM_IPC_EVENT, buf,
			      sizeof(ev) + tlen + 1, NULL, 0);
}

void hbmem_ipc_msg_clear(struct hbmem_ipc_msg *msg)
{
	int i;

	if (!msg)
		return;
	for (i = 0; i < msg->n_fds; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->n_fds = 0;
}

/* Take the SCM_RIGHTS fds out of @mh into @msg; extra ones are closed. */
static int ipc_collect_fds(struct msghdr *mh, struct hbmem_ipc_msg *msg)
{
	struct cmsghdr *c;
	int bad = 0;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t i, n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (msg->n_fds < HBMEM_IPC_MAX_FDS) {
				msg->fds[msg->n_fds++] = fd;
			} else {
				close(fd);
				bad = 1;
			}
		}
	}
	return bad ? -EPROTO : 0;
}

static int ipc_check_buffer(const struct hbmem_ipc_buffer *b)
{
	uint64_t end;
	uint32_t i;

	if (b->n_mems < 1 || b->n_mems > HBMEM_IPC_MAX_MEMS)
		return -EPROTO;
	for (i = 0; i < b->n_mems; i++) {
		const struct hbmem_ipc_buffer_mem *m = &b->mem[i];

		if (m->id == 0 || m->size == 0 ||
		    __builtin_add_overflow(m->offset, m->size, &end))
			return -EPROTO;
	}
	if (b->video.n_planes > HBMEM_IPC_MAX_PLANES)
		return -EPROTO;
	if (b->video.n_planes && (b->video.width == 0 ||
				  b->video.height == 0 ||
				  b->video.width > 1u << 16 ||
				  b->video.height > 1u << 16))
		return -EPROTO;
	return 0;
}

static int ipc_check_event(const struct hbmem_ipc_msg *msg)
{
	const struct hbmem_ipc_event *ev = &msg->u.event;
	const char *text = hbmem_ipc_event_text(msg);

	if (msg->size < sizeof(*ev) || ev->len == 0 ||
	    ev->len != msg->size - sizeof(*ev))
		return -EPROTO;
	/* exactly one NUL, at the end */
	if (text[ev->len - 1] != '\0' || strlen(text) != ev->len - 1)
		return -EPROTO;
	return 0;
}

/* Payload size and fd count every type must have; then its fields. */
static int ipc_check(const struct hbmem_ipc_msg *msg)
{
	size_t want;
	int fds = 0;

	switch (msg->type) {
	case HBMEM_IPC_HELLO:
		want = sizeof(struct hbmem_ipc_hello);
		break;
	case HBMEM_IPC_MEM:
		want = sizeof(struct hbmem_ipc_mem);
		fds = 1;
		break;
	case HBMEM_IPC_FORGET:
		want = sizeof(struct hbmem_ipc_forget);
		break;
	case HBMEM_IPC_BUFFER:
		want = sizeof(struct hbmem_ipc_buffer);
		break;
	case HBMEM_IPC_RELEASE:
		/* 1 .. HBMEM_IPC_MAX_RELEASES whole seqs */
		if (msg->size % sizeof(struct hbmem_ipc_release) ||
		    msg->size < sizeof(struct hbmem_ipc_release) ||
		    msg->size > HBMEM_IPC_MAX_RELEASES *
				sizeof(struct hbmem_ipc_release))
			return -EPROTO;
		want = msg->size;
		break;
	case HBMEM_IPC_EVENT:
		return msg->n_fds ? -EPROTO : ipc_check_event(msg);
	default:
		return -EPROTO;
	}
	if (msg->size != want || msg->n_fds != fds)
		return -EPROTO;
	switch (msg->type) {
	case HBMEM_IPC_MEM:
		if (msg->u.mem.id == 0 || msg->u.mem.size == 0 ||
		    (msg->u.mem.flags & ~HBMEM_IPC_MEM_DMABUF))
			return -EPROTO;
		break;
	case HBMEM_IPC_FORGET:
		if (msg->u.forget.id == 0)
			return -EPROTO;
		break;
	case HBMEM_IPC_BUFFER:
		return ipc_check_buffer(&msg->u.buffer);
	default:
		break;
	}
	return 0;
}

int hbmem_ipc_recv(int sock, struct hbmem_ipc_msg *msg)
{
	union {
		struct cmsghdr align;
		/* room for more fds than allowed, to see and close them */
		char buf[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	struct hbmem_ipc_header hdr;
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = msg->u.raw, .iov_len = sizeof(msg->u.raw) -
						     sizeof(hdr) },
	};
	struct msghdr mh = {
		.msg_iov = iov,
		.msg_iovlen = 2,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;
	int ret;

	msg->n_fds = 0;
	do {
		n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ECONNRESET) {
		/*
		 * A peer that closed with our messages unread leaves a pending
		 * ECONNRESET, reported (once) before what it sent us last:
		 * that still counts (an EOS, say). Nothing queued: it is gone.
		 */
		do {
			n = recvmsg(sock, &mh,
				    MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		} while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EWOULDBLOCK || errno == ECONNRESET))
			return -ECONNRESET;
	}
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	ret = ipc_collect_fds(&mh, msg);
	/*
	 * SEQPACKET: 0 bytes is an orderly shutdown, or an empty datagram,
	 * which no message is; either way it carries no fds. One that does
	 * is a forgery: its fds are ours now and must be closed.
	 */
	if (n == 0 && ret == 0 && msg->n_fds == 0 &&
	    !(mh.msg_flags & MSG_CTRUNC))
		return -ECONNRESET;
	if (ret < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof(hdr) || hdr.magic != HBMEM_IPC_MAGIC ||
	    hdr.version != HBMEM_IPC_VERSION || hdr.reserved != 0 ||
	    hdr.size != (size_t)n - sizeof(hdr))
		goto err_proto;
	msg->type = hdr.type;
	msg->size = hdr.size;
	/* short payloads must not leave stale bytes in the fixed structs */
	if (hdr.size < sizeof(struct hbmem_ipc_buffer))
		memset(msg->u.raw + hdr.size, 0,
		       sizeof(struct hbmem_ipc_buffer) - hdr.size);
	if (ipc_check(msg) < 0)
		goto err_proto;
	return 0;

err_proto:
	hbmem_ipc_msg_clear(msg);
	return -EPROTO;
}

int hbmem_ipc_check_fd(int fd, uint64_t size, int *is_dmabuf)
{
	struct statfs sfs;
	struct stat st;
	off_t end;
	int fl, seals;

	if (fd < 0 || size == 0)
		return -EINVAL;
	/* a write-only fd (or an O_PATH handle) cannot be mapped at all */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
		return -EINVAL;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0) {
		/* shmem: only a memfd sealed against shrinking is safe */
		if (!(seals & F_SEAL_SHRINK) || fstat(fd, &st) < 0 ||
		    st.st_size < 0 || (uint64_t)st.st_size < size)
			return -EINVAL;
		if (is_dmabuf)
			*is_dmabuf = 0;
		return 0;
	}
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type != DMA_BUF_MAGIC)
		return -EINVAL;
	/* a dma-buf has a fixed size, which SEEK_END reports */
	end = lseek(fd, 0, SEEK_END);
	if (end < 0 || (uint64_t)end < size)
		return -EINVAL;
	if (is_dmabuf)
		*is_dmabuf = 1;
	return 0;
}
