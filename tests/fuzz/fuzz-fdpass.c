// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the receive side of direct fd passing
 * (hb_mem_recv_com_buf / _graph_buf / _graph_buf_group) fed forged
 * messages over a real socketpair, with a fuzzed choice of real fds
 * attached: sealed memfds of several sizes, an unsealed memfd, a pipe,
 * /dev/null and a live buffer of the library.
 *
 * Input: byte 0: which call (bits 0-1) and whether the header is made
 * valid (bit 2: magic, version and kind; bit 3: nfds = the fds attached),
 * so that the plane checks are reached; bytes 1-2: the fds to attach (3
 * bits each, up to 5 of them, 0 ends the list); the rest: the message,
 * sent as one datagram (shorter or longer than a real one as it comes).
 * With bit 4 of byte 0 the rest is instead a compact recipe (build_msg)
 * for a well-framed message whose descriptor and plane table come from a
 * few bytes: that is how the checks deep in a graphic or group message
 * are reached, which raw bytes 600 deep would rarely reach.
 *
 * Invariants: no crash, no sanitizer report; a received buffer maps
 * every byte it reports and frees cleanly; nothing is left in the socket
 * and no fd is left open after each input.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "fdpass_wire.h"
#include "fuzz-util.h"

#define NPOOL 8

static int sv[2];
static int pool[NPOOL];	/* index 0 unused: it ends a list */
static hb_mem_common_buf_t live;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd_of(uint64_t len, unsigned int seals)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	fuzz_check(fd >= 0);
	fuzz_check(ftruncate(fd, (off_t)len) == 0);
	if (seals)
		fuzz_check(fcntl(fd, F_ADD_SEALS, seals) == 0);
	return fd;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int p[2];

	(void)argc;
	(void)argv;
	setenv("HBMEM_AUTOSPAWN", "0", 0);
	setenv("HBMEM_LOG", "none", 0);
	fuzz_check(hb_mem_module_open() == 0);
	fuzz_check(hb_mem_alloc_com_buf(16384, 0, &live) == 0);
	fuzz_check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
	fuzz_check(pipe2(p, O_CLOEXEC) == 0);
	pool[1] = memfd_of(4096, F_SEAL_SHRINK | F_SEAL_GROW);
	pool[2] = memfd_of(65536, F_SEAL_SHRINK | F_SEAL_GROW);
	pool[3] = memfd_of(4096, 0);
	pool[4] = p[0];
	pool[5] = open("/dev/null", O_RDWR | O_CLOEXEC);
	pool[6] = live.fd;
	pool[7] = memfd_of(3 * 4096 + 100, F_SEAL_SHRINK);
	fuzz_check(pool[5] >= 0);
	return 0;
}

static void check_graph(const hb_mem_graphic_buf_t *g)
{
	int i;

	fuzz_check(g->plane_cnt >= 1 && g->plane_cnt <= MAX_GRAPHIC_BUF_COMP);
	for (i = 0; i < g->plane_cnt; i++)
		fuzz_touch(g->virt_addr[i], g->size[i]);
}

/* Receive with the call @which picks; free what arrives. */
static void receive(unsigned int which)
{
	union {
		hb_mem_common_buf_t com;
		hb_mem_graphic_buf_t graph;
		hb_mem_graphic_buf_group_t group;
	} out;
	unsigned int i;

	switch (which) {
	case 0:
		if (hb_mem_recv_com_buf(sv[1], 0, &out.com) != 0)
			return;
		fuzz_touch(out.com.virt_addr, out.com.size);
		fuzz_check(hb_mem_free_buf(out.com.fd) == 0);
		return;
	case 1:
		if (hb_mem_recv_graph_buf(sv[1], 0, &out.graph) != 0)
			return;
		check_graph(&out.graph);
		fuzz_check(hb_mem_free_buf(out.graph.fd[0]) == 0);
		return;
	default:
		if (hb_mem_recv_graph_buf_group(sv[1], 0, &out.group) != 0)
			return;
		fuzz_check(out.group.bit_map != 0);
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			if (out.group.bit_map & (1u << i))
				check_graph(&out.group.graph_group[i]);
		for (i = 0; !(out.group.bit_map & (1u << i)); i++)
			;
		fuzz_check(hb_mem_free_buf(out.group.graph_group[i].fd[0]) == 0);
		return;
	}
}

struct cursor {
	const uint8_t *p;
	size_t n;
};

static unsigned int next8(struct cursor *c)
{
	if (!c->n)
		return 0;
	c->n--;
	return *c->p++;
}

static unsigned int next16(struct cursor *c)
{
	return next8(c) | next8(c) << 8;
}

/* Add the planes of one graphic descriptor @g from the recipe. */
static void build_graph(struct cursor *c, struct fdpass_msg *m,
			hb_mem_graphic_buf_t *g)
{
	unsigned int b = next8(c), j;

	g->plane_cnt = (int32_t)(b & 3);
	g->is_contig = (b >> 2) & 1;
	g->format = MEM_PIX_FMT_NV12;
	for (j = 0; j < (unsigned int)g->plane_cnt && m->nplanes < FDPASS_MAX;
	     j++) {
		struct fdpass_plane *pl = &m->plane[m->nplanes++];

		pl->fd_index = next8(c) % 6;
		pl->offset = (uint64_t)next16(c) * (b & 8 ? 1 : 16);
		pl->size = next16(c) + (b & 16 ? 0 : 1);
	}
}

/* A well-framed message of @which's kind from the recipe at @c. */
static void build_msg(struct cursor *c, unsigned int which,
		      struct fdpass_msg *m)
{
	unsigned int i, b;

	m->magic = FDPASS_MAGIC;
	m->version = FDPASS_VERSION;
	m->kind = (uint16_t)(which + 1);
	switch (which) {
	case 0:
		m->nplanes = 1;
		m->plane[0].fd_index = next8(c) % 6;
		m->plane[0].offset = next16(c);
		m->plane[0].size = next16(c) + 1;
		break;
	case 1:
		build_graph(c, m, &m->desc.graph);
		break;
	default:
		b = next8(c);
		m->desc.group.bit_map = b | (next8(c) & 1) << 8;
		for (i = 0; i < HB_MEM_MAXIMUM_GRAPH_BUF; i++)
			if (b & (1u << i))
				build_graph(c, m, &m->desc.group.graph_group[i]);
		break;
	}
	b = next8(c);
	if (b & 0x80)	/* a plane count that lies */
		m->nplanes = b & 0x7f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 5)];
		struct cmsghdr align;
	} u;
	unsigned char msg[sizeof(struct fdpass_msg) + 64];
	struct fdpass_msg *m = (struct fdpass_msg *)msg;
	unsigned int mode, sel, which, i;
	int fds[5], nfds = 0, before = fuzz_count_fds();
	struct iovec iov;
	struct msghdr mh;
	size_t len;
	char c;

	if (size < 3)
		return 0;
	mode = data[0];
	sel = data[1] | (unsigned int)data[2] << 8;
	which = (mode & 3) % 3;
	for (i = 0; i < 5; i++, sel >>= 3) {
		if ((sel & 7) == 0)
			break;
		fds[nfds++] = pool[sel & 7];
	}
	len = size - 3 < sizeof(msg) ? size - 3 : sizeof(msg);
	memset(msg, 0, sizeof(msg));
	if (mode & 16) {
		struct cursor c = { data + 3, size - 3 };

		build_msg(&c, which, m);
		len = sizeof(*m);
	} else {
		memcpy(msg, data + 3, len);
	}
	if (mode & 4) {
		m->magic = FDPASS_MAGIC;
		m->version = FDPASS_VERSION;
		m->kind = (uint16_t)(which + 1);
		if (len < sizeof(*m))
			len = sizeof(*m);
	}
	if (mode & 8)
		m->nfds = (uint32_t)nfds;
	if (len == 0)
		return 0;
	iov.iov_base = msg;
	iov.iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		struct cmsghdr *cm;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	fuzz_check(sendmsg(sv[0], &mh, MSG_NOSIGNAL) == (ssize_t)len);
	receive(which);
	/* the one datagram was consumed, whatever it held */
	fuzz_check(recv(sv[1], &c, 1, MSG_DONTWAIT) < 0);
	fuzz_check(fuzz_count_fds() == before);
	return 0;
}
