// SPDX-License-Identifier: MIT
/*
 * Direct fd passing: a buffer and its descriptor over a unix socket with
 * SCM_RIGHTS, no broker and no global share ids needed.
 *
 * One message carries one buffer (common, graphic or group) and one fd per
 * allocation unit behind it: one for a common or contiguous graphic
 * buffer, one per plane of a planar one, the members' in bit order for a
 * group. Every message has the same length, so framing on a stream socket
 * is just "read exactly that many bytes"; on a datagram or seqpacket
 * socket it is one datagram.
 *
 *   +-----------------------------+
 *   | magic, version, kind        |  kind: COM, GRAPH or GROUP
 *   | nfds, nplanes               |
 *   | plane[24]: fd index,        |  one entry per plane (per buffer for
 *   |   offset in that fd, size   |  COM), members in bit order
 *   | descriptor (48/160/1288 B)  |  the sender's struct, as the vendor
 *   +-----------------------------+  model sends it
 *
 * The receiver trusts none of it. Every fd must be a memfd sealed against
 * shrinking or a dma-buf, opened read-write, and at least as long as the
 * planes placed in it; every fd must be used (none spare, none missing);
 * the planes of one fd must belong to one buffer; a planar buffer has one
 * fd per plane. What fails is refused with every received fd closed.
 *
 * What arrives is registered as an import would register it: a new fd, a
 * mapping of just the range the sender described, and one more holder on
 * the unit. Without global share ids the received fd is that new fd, and
 * the unit gets a share id of this process, the same one as every other
 * handle here on the same memory (matched by inode). With them (the
 * kernel driver, the broker) the backend counts holders, so the hold is
 * taken its way, an import by id, and the received fd only names the
 * unit: the kernel driver says which unit any of its fds is; the broker
 * knows units by id, and the sender's claimed id must name the very memfd
 * that came (same inode).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "fdpass_wire.h"

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC	0x01021994
#endif
#ifndef HUGETLBFS_MAGIC
#define HUGETLBFS_MAGIC	0x958458f6
#endif
#ifndef DMA_BUF_MAGIC
#define DMA_BUF_MAGIC	0x444d4142
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif

/* A message being built (send) or taken apart (receive). */
struct fdpass_ctx {
	struct fdpass_msg msg;
	int fds[FDPASS_MAX];	/* send: duplicates; recv: received */
	int nfds;
	struct hbmem_mem *src[FDPASS_MAX];	/* send: the unit of each fd */
	int nsrc;
	uint64_t fd_len[FDPASS_MAX];		/* recv: length of each fd */
};

static void fdpass_close_fds(struct fdpass_ctx *c)
{
	int i;

	for (i = 0; i < c->nfds; i++)
		if (c->fds[i] >= 0)
			close(c->fds[i]);
	c->nfds = 0;
}

/* ---- socket I/O --------------------------------------------------------- */

/* Milliseconds left until @deadline (CLOCK_MONOTONIC), at least 0. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	int64_t ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000 +
	     (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms < 0)
		return 0;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/*
 * Wait until @sock has @events, or the deadline passes (@deadline NULL:
 * forever). Signals do not end the wait early.
 */
static int sock_wait(int sock, short events, const struct timespec *deadline)
{
	struct pollfd p = { .fd = sock, .events = events };
	int ret;

	for (;;) {
		ret = poll(&p, 1, deadline ? ms_left(deadline) : -1);
		if (ret > 0)
			break;
		if (ret == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
	if (p.revents & POLLNVAL)
		return -EBADF;
	/* POLLHUP/POLLERR: let the read or write say what happened */
	return 0;
}

static int sock_type(int sock, int *type)
{
	socklen_t len = sizeof(*type);

	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, type, &len) < 0)
		return -errno;
	return 0;
}

/* Socket errors that say the peer or the socket is unusable. */
static int sock_errno(int e)
{
	switch (e) {
	case ENOTSOCK:
	case ENOTCONN:
	case EPIPE:
	case ECONNRESET:
	case ECONNREFUSED:
	case EDESTADDRREQ:
		return -EBADF;
	default:
		return -e;
	}
}

/*
 * Send the whole message and its fds (the caller keeps them: the kernel
 * passes copies). A stream socket may take it in pieces; the fds go with
 * the first.
 */
static int fdpass_sendmsg(int sock, struct fdpass_ctx *c)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
		struct cmsghdr align;
	} u;
	const char *p = (const char *)&c->msg;
	size_t left = sizeof(c->msg);
	bool first = true;
	ssize_t n;
	int ret;

	while (left) {
		struct iovec iov = { .iov_base = (void *)p, .iov_len = left };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (first) {
			struct cmsghdr *cm;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * c->nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * c->nfds);
			memcpy(CMSG_DATA(cm), c->fds, sizeof(int) * c->nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = sock_wait(sock, POLLOUT, NULL);
			if (ret < 0)
				return ret;
			continue;
		}
		if (n < 0)
			return sock_errno(errno);
		first = false;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

/*
 * Take the SCM_RIGHTS fds of @mh into @c (at most FDPASS_MAX; the rest are
 * closed). Returns -EPROTO when there were too many or the kernel had to
 * drop some (MSG_CTRUNC), after keeping what it could so they get closed.
 */
static int take_fds(struct msghdr *mh, struct fdpass_ctx *c)
{
	struct cmsghdr *cm;
	int ret = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t i, n;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (c->nfds < FDPASS_MAX) {
				c->fds[c->nfds++] = fd;
			} else {
				close(fd);
				ret = -EPROTO;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		ret = -EPROTO;
	return ret;
}

/*
 * One recvmsg into [@p, @p + @len), fds into @c, retried on EINTR and when
 * a non-blocking socket has nothing yet. Returns the bytes read (0: the
 * peer has gone) or a negative errno.
 */
static ssize_t recv_part(int sock, void *p, size_t len, struct fdpass_ctx *c,
			 const struct timespec *deadline, bool *trunc)
{
	union {
		/* room for a few fds too many, so that they can be closed */
		char buf[CMSG_SPACE(sizeof(int) * (FDPASS_MAX + 8))];
		struct cmsghdr align;
	} u;
	ssize_t n;
	int ret;

	for (;;) {
		struct iovec iov = { .iov_base = p, .iov_len = len };
		struct msghdr mh = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = u.buf,
			.msg_controllen = sizeof(u.buf),
		};

		ret = sock_wait(sock, POLLIN, deadline);
		if (ret < 0)
			return ret;
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN ||
			      errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return sock_errno(errno);
		ret = take_fds(&mh, c);
		if (ret < 0)
			return ret;
		*trunc = (mh.msg_flags & MSG_TRUNC) != 0;
		return n;
	}
}

/*
 * Receive one whole message and its fds into @c (@c->fds are then ours).
 * Nothing read: -ETIMEDOUT when the deadline passes; part of a message
 * read by then: -EPROTO (the stream is out of step from here on). On any
 * error every fd received is closed.
 */
static int fdpass_recvmsg(int sock, int64_t timeout_ms, struct fdpass_ctx *c)
{
	struct timespec deadline, *dl = NULL;
	char *p = (char *)&c->msg;
	size_t got = 0, want = sizeof(c->msg);
	bool stream, trunc = false;
	int ret, type = 0;
	ssize_t n;

	ret = sock_type(sock, &type);
	if (ret < 0)
		return sock_errno(-ret);
	stream = type == SOCK_STREAM;
	if (timeout_ms >= 0) {
		_hbmem_deadline(timeout_ms, &deadline);
		dl = &deadline;
	}
	do {
		int had = c->nfds;

		n = recv_part(sock, p + got, want - got, c, dl, &trunc);
		if (n < 0) {
			/* on a stream, part of a message is a truncated one */
			ret = n == -ETIMEDOUT && got ? -EPROTO : (int)n;
			goto err_close;
		}
		if (n == 0) {
			/*
			 * The peer has gone; but a datagram socket has no end
			 * of stream: there it is an empty datagram.
			 */
			ret = type == SOCK_DGRAM ? -EPROTO : -EBADF;
			goto err_close;
		}
		/* the fds come with the first bytes of a message only */
		if (got && c->nfds != had) {
			ret = -EPROTO;
			goto err_close;
		}
		got += (size_t)n;
		/* datagrams: one message per read, whatever its length */
		if (!stream && (trunc || got != want)) {
			ret = -EPROTO;
			goto err_close;
		}
	} while (got < want);
	return 0;

err_close:
	fdpass_close_fds(c);
	return ret;
}

/* ---- send --------------------------------------------------------------- */

/* Offset of @mem's first byte in its fd. */
static uint64_t mem_fd_offset(const struct hbmem_mem *mem)
{
	uint64_t off = mem->phys - mem->share->phys, hoff = 0, len;
	int32_t id;

	/* a backend handle on part of a unit starts inside it */
	if (hbmem_backend->share_info &&
	    hbmem_backend->share_info(mem->fd, &id, &len, &hoff) == 0 &&
	    hoff <= off)
		off -= hoff;
	return off;
}

/*
 * Add the plane at device address @phys, @size bytes, in the unit the
 * sender's fd @fd names (share id @id), belonging to an object of kind
 * @kind (or to a pool for a common buffer). The unit's fd gets one slot
 * however many planes it holds.
 */
static int send_add_plane(struct fdpass_ctx *c, int32_t fd, int32_t id,
			  uint64_t phys, uint64_t size, enum hbmem_obj_kind kind)
{
	struct hbmem_mem *mem = _hbmem_mem_by_fd(fd);
	struct fdpass_plane *pl;
	uint64_t off;
	int i;

	if (!mem || mem->share->id != id)
		return -EBADF;
	if (mem->obj->kind != kind &&
	    !(kind == HBMEM_OBJ_COM && mem->obj->kind == HBMEM_OBJ_POOL))
		return -EBADF;
	/* the range must lie in what this process holds of the unit */
	if (size == 0 || phys < mem->phys)
		return -EINVAL;
	off = phys - mem->phys;
	if (off > mem->size || size > mem->size - off)
		return -EINVAL;
	if (c->msg.nplanes >= FDPASS_MAX)
		return -EINVAL;
	for (i = 0; i < c->nsrc && c->src[i] != mem; i++)
		;
	if (i == c->nsrc)
		c->src[c->nsrc++] = mem;
	pl = &c->msg.plane[c->msg.nplanes++];
	pl->fd_index = (uint32_t)i;
	pl->offset = mem_fd_offset(mem) + off;
	pl->size = size;
	return 0;
}

static int send_add_graph(struct fdpass_ctx *c, const hb_mem_graphic_buf_t *g)
{
	struct hbmem_obj *obj = NULL;
	int i, ret;

	if (g->plane_cnt < 1 || g->plane_cnt > MAX_GRAPHIC_BUF_COMP)
		return -EINVAL;
	for (i = 0; i < g->plane_cnt; i++) {
		struct hbmem_mem *mem = _hbmem_mem_by_fd(g->fd[i]);

		/* all planes of one graphic buffer */
		if (mem && obj && mem->obj != obj)
			return -EBADF;
		if (mem)
			obj = mem->obj;
		ret = send_add_plane(c, g->fd[i], g->share_id[i],
				     g->phys_addr[i], g->size[i],
				     HBMEM_OBJ_GRAPH);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Check the descriptor against this process's buffers and fill @c. */
static int send_build(struct fdpass_ctx *c, enum fdpass_kind kind,
		      const void *desc)
{
	const hb_mem_graphic_buf_group_t *grp = desc;
	const hb_mem_common_buf_t *com = desc;
	int i, ret = 0;

	c->msg.magic = FDPASS_MAGIC;
	c->msg.version = FDPASS_VERSION;
	c->msg.kind = (uint16_t)kind;
	switch (kind) {
	case FDPASS_COM:
		c->msg.desc.com = *com;
		ret = send_add_plane(c, com->fd, com->share_id, com->phys_addr,
				     com->size, HBMEM_OBJ_COM);
		break;
	case FDPASS_GRAPH:
		c->msg.desc.graph = *(const hb_mem_graphic_buf_t *)desc;
		ret = send_add_graph(c, desc);
		break;
	case FDPASS_GROUP:
		c->msg.desc.group = *grp;
		if (!grp->bit_map ||
		    grp->bit_map >= (1u << HB_MEM_MAXIMUM_GRAPH_BUF))
			return -EINVAL;
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF && ret == 0; i++)
			if (grp->bit_map & (1u << i))
				ret = send_add_graph(c, &grp->graph_group[i]);
		break;
	}
	c->msg.nfds = (uint32_t)c->nsrc;
	return ret;
}

/* The peer learns nothing of our fd numbers or address space. */
static void send_scrub(struct fdpass_ctx *c)
{
	hb_mem_graphic_buf_t *g;
	int i, j;

	switch (c->msg.kind) {
	case FDPASS_COM:
		c->msg.desc.com.fd = -1;
		c->msg.desc.com.virt_addr = NULL;
		break;
	case FDPASS_GRAPH:
	case FDPASS_GROUP:
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
			g = c->msg.kind == FDPASS_GRAPH
				    ? &c->msg.desc.graph
				    : &c->msg.desc.group.graph_group[i];
			for (j = 0; j < MAX_GRAPHIC_BUF_COMP; j++) {
				g->fd[j] = -1;
				g->virt_addr[j] = NULL;
			}
			if (c->msg.kind == FDPASS_GRAPH)
				break;
		}
		break;
	}
}

/*
 * Build the message under hbmem_lock, then send it without the lock on
 * duplicates of the fds, so that a concurrent free cannot close (and the
 * fd number be reused) under the send.
 */
static int32_t fdpass_send(int sock, enum fdpass_kind kind, const void *desc)
{
	struct fdpass_ctx *c;
	int i, ret;

	if (!desc || sock < 0)
		return _hbmem_err(desc ? -EBADF : -EINVAL);
	c = calloc(1, sizeof(*c));
	if (!c)
		return _hbmem_err(-ENOMEM);
	ret = _hbmem_enter();
	if (ret < 0)
		goto out_free;
	ret = send_build(c, kind, desc);
	for (i = 0; ret == 0 && i < c->nsrc; i++) {
		int fd = fcntl(c->src[i]->fd, F_DUPFD_CLOEXEC, 0);

		if (fd < 0)
			ret = -errno;
		else
			c->fds[c->nfds++] = fd;
	}
	_hbmem_leave();
	send_scrub(c);
	if (ret == 0)
		ret = fdpass_sendmsg(sock, c);
	fdpass_close_fds(c);
out_free:
	free(c);
	return _hbmem_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_send_com_buf(int32_t sock,
					 const hb_mem_common_buf_t *buf)
{
	return fdpass_send(sock, FDPASS_COM, buf);
}

HBMEM_EXPORT int32_t hb_mem_send_graph_buf(int32_t sock,
					   const hb_mem_graphic_buf_t *buf)
{
	return fdpass_send(sock, FDPASS_GRAPH, buf);
}

HBMEM_EXPORT int32_t hb_mem_send_graph_buf_group(
	int32_t sock, const hb_mem_graphic_buf_group_t *group)
{
	return fdpass_send(sock, FDPASS_GROUP, group);
}

/* ---- receive: checking what arrived ------------------------------------ */

/*
 * Whether @fd is memory we can map and rely on: a memfd sealed against
 * shrinking (a peer could otherwise truncate it under our mapping) and
 * not against writing (no writable mapping could be made), or a dma-buf,
 * open for reading and writing. Its length goes to @len. @fd stays the
 * caller's.
 */
static int fd_check(int fd, uint64_t *len)
{
	struct statfs sfs;
	struct stat st;
	off_t end;
	int fl, seals;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_ACCMODE) != O_RDWR)
		return -EBADF;
	if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
		return -EBADF;
	if (sfs.f_type == DMA_BUF_MAGIC) {
		end = lseek(fd, 0, SEEK_END);
		if (end <= 0)
			return -EBADF;
		*len = (uint64_t)end;
		return 0;
	}
	if ((sfs.f_type != TMPFS_MAGIC && sfs.f_type != HUGETLBFS_MAGIC) ||
	    !S_ISREG(st.st_mode))
		return -EBADF;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK) ||
	    (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) || st.st_size <= 0)
		return -EBADF;
	*len = (uint64_t)st.st_size;
	return 0;
}

/* The plane count of a received graphic descriptor, if it is one. */
static int planes_of(const hb_mem_graphic_buf_t *g)
{
	if (g->plane_cnt < 1 || g->plane_cnt > MAX_GRAPHIC_BUF_COMP)
		return -EINVAL;
	return g->plane_cnt;
}

/*
 * Check the header and plane table against the descriptor and the fds:
 * every plane inside its fd, every fd used, the planes of one fd in one
 * buffer, a planar buffer one fd per plane. @owner[k] gets the buffer
 * (plane-table index of its first plane) that fd k belongs to.
 */
static int recv_check_planes(struct fdpass_ctx *c, enum fdpass_kind kind)
{
	const struct fdpass_msg *m = &c->msg;
	int owner[FDPASS_MAX], first = 0, want = 0, i, j, k, n;
	const hb_mem_graphic_buf_t *g;
	uint64_t end;

	if (m->magic != FDPASS_MAGIC || m->version != FDPASS_VERSION ||
	    m->kind != kind || m->nfds != (uint32_t)c->nfds || c->nfds < 1 ||
	    m->nplanes < 1 || m->nplanes > FDPASS_MAX)
		return -EPROTO;
	for (k = 0; k < c->nfds; k++)
		owner[k] = -1;
	/* walk the buffers the descriptor holds, in plane-table order */
	for (i = 0; i < (kind == FDPASS_GROUP ? HB_MEM_MAXIMUM_GRAPH_BUF : 1);
	     i++) {
		bool contig = true;

		if (kind == FDPASS_COM) {
			n = 1;
		} else {
			g = kind == FDPASS_GRAPH ? &m->desc.graph
						 : &m->desc.group.graph_group[i];
			if (kind == FDPASS_GROUP &&
			    !(m->desc.group.bit_map & (1u << i)))
				continue;
			n = planes_of(g);
			if (n < 0)
				return -EPROTO;
			contig = g->is_contig || n == 1;
		}
		if ((uint32_t)(want + n) > m->nplanes)
			return -EPROTO;
		for (j = want; j < want + n; j++) {
			const struct fdpass_plane *pl = &m->plane[j];

			k = (int)pl->fd_index;
			if (pl->fd_index >= (uint32_t)c->nfds || pl->size == 0 ||
			    __builtin_add_overflow(pl->offset, pl->size, &end) ||
			    end > c->fd_len[k])
				return -EPROTO;
			/* contiguous: one fd; planar: a fd per plane */
			if (contig ? m->plane[want].fd_index != pl->fd_index
				   : owner[k] != -1)
				return -EPROTO;
			if (owner[k] != -1 && owner[k] != want)
				return -EPROTO;
			owner[k] = want;
		}
		want += n;
		first++;
	}
	if (kind == FDPASS_GROUP &&
	    (!m->desc.group.bit_map ||
	     m->desc.group.bit_map >= (1u << HB_MEM_MAXIMUM_GRAPH_BUF)))
		return -EPROTO;
	if ((uint32_t)want != m->nplanes || first == 0)
		return -EPROTO;
	for (k = 0; k < c->nfds; k++)
		if (owner[k] == -1)
			return -EPROTO;	/* an fd no plane uses */
	return 0;
}

/* ---- receive: registering what arrived --------------------------------- */

/* Whether @mem's fd is the same memory as @st describes. */
static bool mem_is_inode(const struct hbmem_mem *mem, const struct stat *st)
{
	struct stat ms;

	return fstat(mem->fd, &ms) == 0 && ms.st_dev == st->st_dev &&
	       ms.st_ino == st->st_ino;
}

static struct hbmem_share *obj_find_inode(const struct hbmem_obj *obj,
					  const struct stat *st)
{
	struct hbmem_share *sh;
	int i;

	if (obj->kind == HBMEM_OBJ_GROUP) {
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++) {
			if (!obj->u.grp.member[i])
				continue;
			sh = obj_find_inode(obj->u.grp.member[i], st);
			if (sh)
				return sh;
		}
		return NULL;
	}
	for (i = 0; i < obj->nmem; i++) {
		if (i > 0 && obj->mem[i] == obj->mem[i - 1])
			continue;
		if (obj->mem[i]->share && mem_is_inode(obj->mem[i], st))
			return obj->mem[i]->share;
	}
	return NULL;
}

/*
 * Without global sharing: the share of the unit behind received @fd, made
 * if this process holds none. A unit is known here by its inode: a walk
 * over this process's buffers, which runs on the first sight of a buffer
 * only.
 */
static int recv_share_local(int fd, uint64_t fd_len, struct hbmem_share **out)
{
	const struct hbmem_obj *obj;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (obj = _hbmem_obj_first(); obj; obj = obj->next) {
		*out = obj_find_inode(obj, &st);
		if (*out)
			return 0;
	}
	/* no heap charge: the sender's process paid for it */
	return _hbmem_share_new(fd, fd_len, NULL, 0, out);
}

/* An fd from share_import() that did not become a mem: drop its hold. */
static void global_fd_close(int fd)
{
	if (hbmem_backend->share_put)
		hbmem_backend->share_put(fd);
	close(fd);
}

/*
 * With global sharing the backend counts the holders, and a received fd
 * is not one: take a hold the backend's way, an import by id, and map
 * through that handle; the received @fd (still the caller's) only names
 * the unit. The id is the backend's word for @fd when it has one (the
 * kernel driver knows every handle), else the sender's @claimed id,
 * checked by inode (the broker hands out the very memfd). *@fd_out gets
 * the new handle (the caller's), *@hoff where @fd starts in the unit.
 */
static int recv_share_global(int fd, int32_t claimed, struct hbmem_share **out,
			     int *fd_out, uint64_t *hoff)
{
	struct stat a, b;
	uint64_t len;
	int32_t id;
	int nfd, ret;

	*hoff = 0;
	ret = hbmem_backend->share_info(fd, &id, &len, hoff);
	if (ret < 0) {
		*hoff = 0;
		id = claimed;
	}
	if (id <= 0 || hbmem_backend->share_import(id, 0, 0, &nfd) < 0)
		return -EBADF;
	if (ret < 0 && (fstat(fd, &a) < 0 || fstat(nfd, &b) < 0 ||
			a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
		global_fd_close(nfd);
		return -EBADF;
	}
	*out = _hbmem_share_find(id);
	ret = *out ? 0 : _hbmem_share_foreign(nfd, id, out);
	if (ret < 0) {
		global_fd_close(nfd);
		return ret;
	}
	*fd_out = nfd;
	return 0;
}

/*
 * Map the planes [@first, @first + @n) of the table, all in one fd, as one
 * new holder. @claimed is the share id the sender's descriptor gives them.
 * Without global sharing the received fd moves to the mem on success.
 */
static int recv_map(struct fdpass_ctx *c, int first, int n, int32_t claimed,
		    struct hbmem_mem **out)
{
	const struct fdpass_plane *pl = &c->msg.plane[first];
	uint64_t lo = pl->offset, hi = pl->offset + pl->size, hoff = 0;
	int k = (int)pl->fd_index, fd = c->fds[k], i, ret;
	bool global = hbmem_backend->share_info && hbmem_backend->share_import;
	struct hbmem_share *sh;

	for (i = first + 1; i < first + n; i++) {
		pl = &c->msg.plane[i];
		if (pl->offset < lo)
			lo = pl->offset;
		if (pl->offset + pl->size > hi)
			hi = pl->offset + pl->size;
	}
	if (global)
		ret = recv_share_global(c->fds[k], claimed, &sh, &fd, &hoff);
	else
		ret = recv_share_local(c->fds[k], c->fd_len[k], &sh);
	if (ret < 0)
		return ret;
	/* a global handle covers the whole unit: offsets shift by @hoff */
	ret = _hbmem_mem_map(fd, sh, (global ? hoff : 0) + lo, hi - lo,
			     sh->phys + hoff + lo, out);
	if (ret < 0) {
		if (global)
			global_fd_close(fd);
		if (!sh->holders)
			_hbmem_share_drop(sh);
		return ret;
	}
	if (!global)
		c->fds[k] = -1;
	return 0;
}

/* Device address and mapping of plane @j inside @mem (mapped from @lo). */
static void plane_place(const struct fdpass_ctx *c, int j, int first,
			int n, const struct hbmem_mem *mem, uint8_t **va,
			uint64_t *pa)
{
	uint64_t lo = UINT64_MAX, d;
	int i;

	for (i = first; i < first + n; i++)
		if (c->msg.plane[i].fd_index == c->msg.plane[j].fd_index &&
		    c->msg.plane[i].offset < lo)
			lo = c->msg.plane[i].offset;
	d = c->msg.plane[j].offset - lo;
	*va = mem->vaddr + d;
	*pa = mem->phys + d;
}

static struct hbmem_obj *recv_obj_new(enum hbmem_obj_kind kind)
{
	struct hbmem_obj *obj = calloc(1, sizeof(*obj));

	if (obj) {
		obj->kind = kind;
		obj->imported = true;
	}
	return obj;
}

/* Fill GRAPH obj @obj from planes [@first, ...) of the table. */
static int recv_graph(struct fdpass_ctx *c, const hb_mem_graphic_buf_t *in,
		      int first, struct hbmem_obj *obj)
{
	hb_mem_graphic_buf_t *d = &obj->u.graph;
	int n = in->plane_cnt, i, ret;
	bool contig = in->is_contig || n == 1;

	*d = *in;
	for (i = 0; i < n; i++) {
		if (i == 0 || !contig) {
			ret = recv_map(c, contig ? first : first + i,
				       contig ? n : 1,
				       in->share_id[contig ? 0 : i],
				       &obj->mem[i]);
			if (ret < 0)
				return ret;
			obj->mem[i]->obj = obj;
		} else {
			obj->mem[i] = obj->mem[0];
		}
		obj->nmem = i + 1;
		plane_place(c, first + i, contig ? first : first + i,
			    contig ? n : 1, obj->mem[i], &d->virt_addr[i],
			    &d->phys_addr[i]);
		d->fd[i] = obj->mem[i]->fd;
		d->share_id[i] = obj->mem[i]->share->id;
		d->size[i] = c->msg.plane[first + i].size;
	}
	d->is_contig = in->is_contig ? 1 : 0;
	return 0;
}

/* Build and register the object a checked message describes. */
static int recv_build(struct fdpass_ctx *c, enum fdpass_kind kind, void *out)
{
	const hb_mem_graphic_buf_group_t *ig = &c->msg.desc.group;
	struct hbmem_obj *obj, *m;
	int i, first = 0, ret;

	obj = recv_obj_new(kind == FDPASS_COM ? HBMEM_OBJ_COM :
			   kind == FDPASS_GRAPH ? HBMEM_OBJ_GRAPH :
						  HBMEM_OBJ_GROUP);
	if (!obj)
		return -ENOMEM;
	_hbmem_obj_link(obj);
	switch (kind) {
	case FDPASS_COM:
		obj->u.com = c->msg.desc.com;
		ret = recv_map(c, 0, 1, c->msg.desc.com.share_id,
			       &obj->mem[0]);
		if (ret < 0)
			break;
		obj->nmem = 1;
		obj->mem[0]->obj = obj;
		obj->u.com.fd = obj->mem[0]->fd;
		obj->u.com.share_id = obj->mem[0]->share->id;
		obj->u.com.size = obj->mem[0]->size;
		obj->u.com.virt_addr = obj->mem[0]->vaddr;
		obj->u.com.phys_addr = obj->mem[0]->phys;
		*(hb_mem_common_buf_t *)out = obj->u.com;
		return 0;
	case FDPASS_GRAPH:
		ret = recv_graph(c, &c->msg.desc.graph, 0, obj);
		if (ret == 0)
			*(hb_mem_graphic_buf_t *)out = obj->u.graph;
		break;
	case FDPASS_GROUP:
		obj->u.grp.desc.group_id = ig->group_id;
		ret = 0;
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF && ret == 0; i++) {
			if (!(ig->bit_map & (1u << i)))
				continue;
			m = recv_obj_new(HBMEM_OBJ_GRAPH);
			if (!m) {
				ret = -ENOMEM;
				break;
			}
			m->group = obj;
			obj->u.grp.member[i] = m;
			ret = recv_graph(c, &ig->graph_group[i], first, m);
			obj->u.grp.desc.graph_group[i] = m->u.graph;
			obj->u.grp.desc.bit_map |= 1u << i;
			first += ig->graph_group[i].plane_cnt;
		}
		if (ret == 0)
			*(hb_mem_graphic_buf_group_t *)out = obj->u.grp.desc;
		break;
	default:
		ret = -EPROTO;
	}
	if (ret < 0)
		_hbmem_obj_free(obj);	/* unmaps and closes what it took */
	return ret;
}

/* Internal errnos as the API reports them (see hb_mem_ext.h). */
static int32_t fdpass_err(int ret)
{
	if (ret == -EPROTO)
		ret = -EINVAL;
	return _hbmem_err(ret);
}

static int32_t fdpass_recv(int sock, int64_t timeout_ms, enum fdpass_kind kind,
			   void *out)
{
	struct fdpass_ctx *c;
	int i, ret;

	if (!out)
		return _hbmem_err(-EINVAL);
	if (sock < 0)
		return _hbmem_err(-EBADF);
	ret = _hbmem_enter();
	if (ret < 0)
		return _hbmem_err(ret);
	_hbmem_leave();
	c = calloc(1, sizeof(*c));
	if (!c)
		return _hbmem_err(-ENOMEM);
	ret = fdpass_recvmsg(sock, timeout_ms, c);
	if (ret < 0)
		goto out_free;
	for (i = 0; i < c->nfds && ret == 0; i++)
		ret = fd_check(c->fds[i], &c->fd_len[i]);
	if (ret < 0)
		goto out_close;
	ret = recv_check_planes(c, kind);
	if (ret < 0)
		goto out_close;
	ret = _hbmem_enter();
	if (ret < 0)
		goto out_close;
	ret = recv_build(c, kind, out);
	_hbmem_leave();
out_close:
	/* fds the objects took are -1 here; the rest were not wanted */
	fdpass_close_fds(c);
out_free:
	free(c);
	return fdpass_err(ret);
}

HBMEM_EXPORT int32_t hb_mem_recv_com_buf(int32_t sock, int64_t timeout_ms,
					 hb_mem_common_buf_t *buf)
{
	return fdpass_recv(sock, timeout_ms, FDPASS_COM, buf);
}

HBMEM_EXPORT int32_t hb_mem_recv_graph_buf(int32_t sock, int64_t timeout_ms,
					   hb_mem_graphic_buf_t *buf)
{
	return fdpass_recv(sock, timeout_ms, FDPASS_GRAPH, buf);
}

HBMEM_EXPORT int32_t hb_mem_recv_graph_buf_group(
	int32_t sock, int64_t timeout_ms, hb_mem_graphic_buf_group_t *group)
{
	return fdpass_recv(sock, timeout_ms, FDPASS_GROUP, group);
}
