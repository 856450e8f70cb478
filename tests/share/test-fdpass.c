// SPDX-License-Identifier: MIT
/*
 * Direct fd passing (hb_mem_send_* / hb_mem_recv_*): real socketpairs, a
 * forked peer for every cross-process flow, content checked both ways,
 * either side freeing first, forged messages on the receive side, bad
 * descriptors on the send side, and no fd left behind anywhere.
 *
 * A child runs under alarm() so that a hang fails instead of blocking;
 * every receive in the parent has a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-util.h"
#include "fdpass_wire.h"

#define WAIT_MS 5000
#define CHILD_SECONDS 20

/*
 * With global share ids, from a broker (HBMEM_BROKER_PATH set, as meson's
 * second run of this program does) or the kernel driver (inside the
 * kernel suite's guest), counts are global and an fd the broker or the
 * driver never saw (a memfd the test made itself) is refused: it names no
 * hbmem buffer.
 */
static bool broker_mode;

static bool backend_is_kernel_driver(void)
{
	char name[32] = "";
	bool yes;

	assert_ok(hb_mem_module_open());
	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	yes = strcmp(name, "hbmem") == 0;
	assert_ok(hb_mem_module_close());
	return yes;
}

/* ---- helpers ------------------------------------------------------------ */

static void sockpair(int type, int sv[2])
{
	g_assert_cmpint(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), ==, 0);
}

/* Fork a peer running @fn(@sock, @arg); its return value is its status. */
static pid_t spawn(int (*fn)(int sock, void *arg), int sock, int other,
		   void *arg)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		close(other);
		alarm(CHILD_SECONDS);
		_exit(fn(sock, arg));
	}
	close(sock);
	return pid;
}

static void reap(pid_t pid)
{
	int status;

	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (WIFSIGNALED(status))
		g_error("peer died of signal %d", WTERMSIG(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

static void put_byte(int sock, char b)
{
	g_assert_cmpint(send(sock, &b, 1, MSG_NOSIGNAL), ==, 1);
}

/* A byte from peer @pid; if it has gone instead, say how it ended. */
static char get_byte(int sock, pid_t pid)
{
	int status;
	char b = 0;

	if (recv(sock, &b, 1, 0) == 1)
		return b;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_error("peer gone: %s %d", WIFSIGNALED(status) ? "signal" : "status",
		WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return 0;
}

/*
 * In a child, before counting fds: one allocation makes the library open
 * whatever it keeps open (a broker connection after fork).
 */
static int child_fds(void)
{
	hb_mem_common_buf_t b;

	if (hb_mem_alloc_com_buf(4096, 0, &b) != 0 || hb_mem_free_buf(b.fd) != 0)
		return -1;
	return test_count_fds();
}

/* In a child: the same, reporting failure by status instead of abort. */
static int child_put(int sock, char b)
{
	return send(sock, &b, 1, MSG_NOSIGNAL) == 1 ? 0 : 1;
}

static int child_get(int sock, char want)
{
	char b = 0;

	return recv(sock, &b, 1, 0) == 1 && b == want ? 0 : 1;
}

static bool all_bytes(const uint8_t *p, uint64_t n, uint8_t v)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A sealed memfd of @len bytes, like the library's own. */
static int sealed_memfd(uint64_t len)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)len), ==, 0);
	g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW), ==,
			0);
	return fd;
}

/* Send forged message @m with @nfds fds (not taken) over @sock. */
static void send_raw(int sock, const void *m, size_t len, const int *fds,
		     int nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 64)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	g_assert_cmpint(nfds, <=, 64);
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	g_assert_cmpint(sendmsg(sock, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* A well-formed one-plane common message over an fd of @len bytes. */
static void com_msg(struct fdpass_msg *m, uint64_t off, uint64_t len)
{
	memset(m, 0, sizeof(*m));
	m->magic = FDPASS_MAGIC;
	m->version = FDPASS_VERSION;
	m->kind = FDPASS_COM;
	m->nfds = 1;
	m->nplanes = 1;
	m->plane[0].offset = off;
	m->plane[0].size = len;
	m->desc.com.size = len;
	m->desc.com.share_id = 1;
	m->desc.com.fd = -1;
}

/* ---- common buffers across processes ---------------------------------- */

struct com_args {
	bool child_frees_last;	/* else the child frees before the parent */
};

static int com_child(int sock, void *arg)
{
	struct com_args *a = arg;
	hb_mem_common_buf_t b, look;
	int fds0 = child_fds();
	int32_t cnt;

	if (hb_mem_recv_com_buf(sock, WAIT_MS, &b) != 0)
		return 10;
	if (b.size != 16384 || !all_bytes(b.virt_addr, b.size, 0x5A))
		return 11;
	/* registered as an import: by fd, by address, one holder here */
	if (hb_mem_get_com_buf(b.fd, &look) != 0 || look.virt_addr != b.virt_addr)
		return 12;
	if (hb_mem_get_com_buf_with_vaddr((uint64_t)(uintptr_t)b.virt_addr + 100,
					  &look) != 0 || look.fd != b.fd)
		return 13;
	/* one holder here; with a broker the count is global: two */
	if (hb_mem_get_share_info(b.fd, &cnt) != 0 || cnt != (broker_mode ? 2 : 1))
		return 14;
	if (test_count_fds() != fds0 + 1)
		return 15;
	memset(b.virt_addr, 0xA5, b.size);	/* the answer */
	if (child_put(sock, 'w'))
		return 16;
	if (a->child_frees_last) {
		/* the parent has freed its handle: the memory is still ours */
		if (child_get(sock, 'f') || !all_bytes(b.virt_addr, b.size, 0xA5))
			return 17;
	}
	if (hb_mem_free_buf(b.fd) != 0 || test_count_fds() != fds0)
		return 18;
	return child_put(sock, 'd') ? 19 : 0;
}

static void run_com(bool child_frees_last, int type)
{
	struct com_args a = { .child_frees_last = child_frees_last };
	hb_mem_common_buf_t b;
	int sv[2];
	pid_t pid;

	/* fork first: the child must not inherit the buffer */
	sockpair(type, sv);
	pid = spawn(com_child, sv[1], sv[0], &a);
	assert_ok(hb_mem_alloc_com_buf(16384, 0, &b));
	memset(b.virt_addr, 0x5A, b.size);
	assert_ok(hb_mem_send_com_buf(sv[0], &b));
	g_assert_cmpint(get_byte(sv[0], pid), ==, 'w');
	/* what the child wrote is in our mapping */
	g_assert_true(all_bytes(b.virt_addr, b.size, 0xA5));
	if (child_frees_last) {
		assert_ok(hb_mem_free_buf(b.fd));
		put_byte(sv[0], 'f');
		g_assert_cmpint(get_byte(sv[0], pid), ==, 'd');
	} else {
		g_assert_cmpint(get_byte(sv[0], pid), ==, 'd');
		g_assert_true(all_bytes(b.virt_addr, b.size, 0xA5));
		assert_ok(hb_mem_free_buf(b.fd));
	}
	reap(pid);
	close(sv[0]);
}

static void test_com_buf_content_both_ways_sender_frees_first(TestModule *m,
							      gconstpointer d)
{
	run_com(true, SOCK_SEQPACKET);
}

static void test_com_buf_content_both_ways_receiver_frees_first(
	TestModule *m, gconstpointer d)
{
	run_com(false, SOCK_SEQPACKET);
}

static void test_com_buf_over_stream_and_datagram_sockets(TestModule *m,
							  gconstpointer d)
{
	run_com(true, SOCK_STREAM);
	run_com(false, SOCK_DGRAM);
}

/* ---- graphic buffers and groups --------------------------------------- */

static uint8_t plane_val(int i)
{
	return (uint8_t)(0x10 + i);
}

/* Check and answer the planes of @g: plane i holds plane_val(i). */
static int graph_check_and_answer(const hb_mem_graphic_buf_t *g, int want_planes)
{
	hb_mem_graphic_buf_t look;
	int i;

	if (g->plane_cnt != want_planes)
		return 1;
	for (i = 0; i < g->plane_cnt; i++)
		if (!all_bytes(g->virt_addr[i], g->size[i], plane_val(i)))
			return 2;
	if (hb_mem_get_graph_buf(g->fd[0], &look) != 0 ||
	    memcmp(&look, g, sizeof(look)) != 0)
		return 3;
	if (hb_mem_get_graph_buf_with_vaddr(
		    (uint64_t)(uintptr_t)g->virt_addr[g->plane_cnt - 1], &look) != 0 ||
	    look.fd[0] != g->fd[0])
		return 4;
	for (i = 0; i < g->plane_cnt; i++)
		memset(g->virt_addr[i], 0xF0 + i, g->size[i]);
	return 0;
}

static void graph_fill(const hb_mem_graphic_buf_t *g)
{
	int i;

	for (i = 0; i < g->plane_cnt; i++)
		memset(g->virt_addr[i], plane_val(i), g->size[i]);
}

static void graph_assert_answer(const hb_mem_graphic_buf_t *g)
{
	int i;

	for (i = 0; i < g->plane_cnt; i++)
		g_assert_true(all_bytes(g->virt_addr[i], g->size[i], 0xF0 + i));
}

static int graph_child(int sock, void *arg)
{
	hb_mem_graphic_buf_t g;
	int fds0 = child_fds(), ret;
	int contig = *(int *)arg;

	if (hb_mem_recv_graph_buf(sock, WAIT_MS, &g) != 0)
		return 10;
	if (g.is_contig != contig || (contig && g.fd[0] != g.fd[1]) ||
	    (!contig && g.fd[0] == g.fd[1]))
		return 11;
	/* one fd per unit: one when contiguous, one per plane otherwise */
	if (test_count_fds() != fds0 + (contig ? 1 : 2))
		return 12;
	ret = graph_check_and_answer(&g, 2);
	if (ret)
		return 20 + ret;
	if (child_put(sock, 'w') || child_get(sock, 'f'))
		return 13;
	if (hb_mem_free_buf(g.fd[1]) != 0 || test_count_fds() != fds0)
		return 14;
	return child_put(sock, 'd') ? 15 : 0;
}

static void run_graph(int contig)
{
	hb_mem_graphic_buf_t g;
	int sv[2];
	pid_t pid;

	sockpair(SOCK_SEQPACKET, sv);
	pid = spawn(graph_child, sv[1], sv[0], &contig);
	assert_ok(hb_mem_alloc_graph_buf(1920, 1080, MEM_PIX_FMT_NV12,
					 contig ? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF
						: 0,
					 0, 0, &g));
	g_assert_cmpint(g.is_contig, ==, contig);
	graph_fill(&g);
	assert_ok(hb_mem_send_graph_buf(sv[0], &g));
	g_assert_cmpint(get_byte(sv[0], pid), ==, 'w');
	graph_assert_answer(&g);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	put_byte(sv[0], 'f');
	g_assert_cmpint(get_byte(sv[0], pid), ==, 'd');
	reap(pid);
	close(sv[0]);
}

static void test_graph_buf_planar_one_fd_per_plane(TestModule *m,
						   gconstpointer d)
{
	run_graph(0);
}

static void test_graph_buf_contiguous_one_fd(TestModule *m, gconstpointer d)
{
	run_graph(1);
}

static int group_child(int sock, void *arg)
{
	hb_mem_graphic_buf_group_t grp, look;
	int fds0 = child_fds(), ret;

	(void)arg;
	if (hb_mem_recv_graph_buf_group(sock, WAIT_MS, &grp) != 0)
		return 10;
	if (grp.bit_map != 0x5 || grp.group_id <= 0)
		return 11;
	/* member 0 contiguous (1 fd), member 2 planar (2 fds) */
	if (test_count_fds() != fds0 + 3)
		return 12;
	ret = graph_check_and_answer(&grp.graph_group[0], 2);
	if (ret == 0)
		ret = graph_check_and_answer(&grp.graph_group[2], 2);
	if (ret)
		return 20 + ret;
	if (hb_mem_get_graph_buf_group(grp.graph_group[2].fd[1], &look) != 0 ||
	    look.bit_map != grp.bit_map)
		return 13;
	if (child_put(sock, 'w') || child_get(sock, 'f'))
		return 14;
	/* any member's fd frees the whole group */
	if (hb_mem_free_buf(grp.graph_group[2].fd[0]) != 0 ||
	    test_count_fds() != fds0)
		return 15;
	return child_put(sock, 'd') ? 16 : 0;
}

static void test_group_every_member_arrives(TestModule *m, gconstpointer d)
{
	int32_t w[8] = { 640, 0, 320 }, h[8] = { 480, 0, 240 };
	int32_t fmt[8] = { MEM_PIX_FMT_NV12, 0, MEM_PIX_FMT_NV12 };
	int64_t fl[8] = { HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF, 0, 0 };
	int32_t st[8] = { 0 }, vst[8] = { 0 };
	hb_mem_graphic_buf_group_t grp;
	int sv[2];
	pid_t pid;

	sockpair(SOCK_STREAM, sv);
	pid = spawn(group_child, sv[1], sv[0], NULL);
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, fmt, fl, st, vst, &grp,
					       0x5));
	graph_fill(&grp.graph_group[0]);
	graph_fill(&grp.graph_group[2]);
	assert_ok(hb_mem_send_graph_buf_group(sv[0], &grp));
	g_assert_cmpint(get_byte(sv[0], pid), ==, 'w');
	graph_assert_answer(&grp.graph_group[0]);
	graph_assert_answer(&grp.graph_group[2]);
	assert_ok(hb_mem_free_buf(grp.graph_group[0].fd[0]));
	put_byte(sv[0], 'f');
	g_assert_cmpint(get_byte(sv[0], pid), ==, 'd');
	reap(pid);
	close(sv[0]);
}

/* ---- within one process ------------------------------------------------ */

static void test_partial_send_maps_just_the_range(TestModule *m,
						  gconstpointer d)
{
	hb_mem_common_buf_t b, part, r;
	int sv[2];

	assert_ok(hb_mem_alloc_com_buf(8192, 0, &b));
	memset(b.virt_addr, 1, 4096);
	memset(b.virt_addr + 4096, 2, 4096);
	part = b;
	part.phys_addr += 4096;
	part.size = 4096;
	sockpair(SOCK_SEQPACKET, sv);
	assert_ok(hb_mem_send_com_buf(sv[0], &part));
	assert_ok(hb_mem_recv_com_buf(sv[1], 0, &r));
	g_assert_cmpuint(r.size, ==, 4096);
	g_assert_true(all_bytes(r.virt_addr, 4096, 2));
	g_assert_cmpuint(r.phys_addr, ==, part.phys_addr);
	/* the received buffer ends where the range does */
	assert_ok(hb_mem_get_com_buf_with_vaddr(
		(uint64_t)(uintptr_t)r.virt_addr + 4095, &part));
	g_assert_cmpint(part.fd, ==, r.fd);
	if (hb_mem_get_com_buf_with_vaddr(
		    (uint64_t)(uintptr_t)r.virt_addr + 4096, &part) == 0)
		g_assert_cmpint(part.fd, !=, r.fd);
	assert_ok(hb_mem_free_buf(r.fd));
	assert_ok(hb_mem_free_buf(b.fd));
	close(sv[0]);
	close(sv[1]);
}

static void test_same_unit_twice_is_one_share(TestModule *m, gconstpointer d)
{
	hb_mem_common_buf_t b, r1, r2;
	int32_t cnt;
	int sv[2];

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	sockpair(SOCK_SEQPACKET, sv);
	assert_ok(hb_mem_send_com_buf(sv[0], &b));
	assert_ok(hb_mem_send_com_buf(sv[0], &b));
	assert_ok(hb_mem_recv_com_buf(sv[1], 0, &r1));
	assert_ok(hb_mem_recv_com_buf(sv[1], 0, &r2));
	/* here the unit is known: the same share, three holders */
	g_assert_cmpint(r1.share_id, ==, b.share_id);
	g_assert_cmpint(r2.share_id, ==, b.share_id);
	g_assert_cmpint(r1.fd, !=, r2.fd);
	assert_ok(hb_mem_get_share_info(b.fd, &cnt));
	g_assert_cmpint(cnt, ==, 3);
	assert_ok(hb_mem_free_buf(b.fd));
	assert_ok(hb_mem_free_buf(r1.fd));
	assert_ok(hb_mem_get_share_info(r2.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(r2.fd));
	close(sv[0]);
	close(sv[1]);
}

static void test_pool_sub_buffer_can_be_sent(TestModule *m, gconstpointer d)
{
	hb_mem_pool_t pool;
	hb_mem_common_buf_t a, b, r;
	int sv[2];

	assert_ok(hb_mem_pool_create(1 << 20, 0, &pool));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 10000, &a));
	assert_ok(hb_mem_pool_alloc_buf(pool.fd, 5000, &b));
	memset(b.virt_addr, 0x77, b.size);
	sockpair(SOCK_SEQPACKET, sv);
	assert_ok(hb_mem_send_com_buf(sv[0], &b));
	assert_ok(hb_mem_recv_com_buf(sv[1], 0, &r));
	g_assert_cmpuint(r.size, ==, b.size);
	g_assert_true(all_bytes(r.virt_addr, r.size, 0x77));
	assert_ok(hb_mem_free_buf(r.fd));
	assert_ok(hb_mem_pool_free_buf((uint64_t)(uintptr_t)a.virt_addr));
	assert_ok(hb_mem_pool_free_buf((uint64_t)(uintptr_t)b.virt_addr));
	assert_ok(hb_mem_pool_destroy(pool.fd));
	close(sv[0]);
	close(sv[1]);
}

/* ---- bad input on the send side ---------------------------------------- */

static void test_send_refuses_bad_descriptors_and_sockets(TestModule *m,
							  gconstpointer d)
{
	hb_mem_common_buf_t b, bad;
	hb_mem_graphic_buf_t g, gbad;
	hb_mem_graphic_buf_group_t grp;
	int sv[2], p[2];
	char byte;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	assert_ok(hb_mem_alloc_graph_buf(64, 64, MEM_PIX_FMT_NV12, 0, 0, 0, &g));
	sockpair(SOCK_SEQPACKET, sv);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);

	assert_hb(hb_mem_send_com_buf(sv[0], NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_send_graph_buf(sv[0], NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_send_graph_buf_group(sv[0], NULL),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* fds that are not buffers here, or a stale share id */
	bad = b;
	bad.fd = p[0];
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_FD);
	bad = b;
	bad.share_id++;
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_FD);
	/* a graphic buffer's fd sent as a common buffer */
	bad = b;
	bad.fd = g.fd[0];
	bad.share_id = g.share_id[0];
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_FD);
	/* ranges outside the buffer, sizes that overflow */
	bad = b;
	bad.size = 4097;
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_PARAMS);
	bad = b;
	bad.phys_addr += 4000;
	bad.size = UINT64_MAX - 100;
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_PARAMS);
	bad = b;
	bad.size = 0;
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_PARAMS);
	bad = b;
	bad.phys_addr -= 1;
	assert_hb(hb_mem_send_com_buf(sv[0], &bad), HB_MEM_ERR_INVALID_PARAMS);
	gbad = g;
	gbad.plane_cnt = 0;
	assert_hb(hb_mem_send_graph_buf(sv[0], &gbad), HB_MEM_ERR_INVALID_PARAMS);
	gbad = g;
	gbad.plane_cnt = 4;
	assert_hb(hb_mem_send_graph_buf(sv[0], &gbad), HB_MEM_ERR_INVALID_PARAMS);
	/* planes of two different buffers */
	gbad = g;
	gbad.fd[1] = b.fd;
	gbad.share_id[1] = b.share_id;
	assert_hb(hb_mem_send_graph_buf(sv[0], &gbad), HB_MEM_ERR_INVALID_FD);
	memset(&grp, 0, sizeof(grp));
	assert_hb(hb_mem_send_graph_buf_group(sv[0], &grp),
		  HB_MEM_ERR_INVALID_PARAMS);
	grp.bit_map = 0x100;
	assert_hb(hb_mem_send_graph_buf_group(sv[0], &grp),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* sockets that are not, or whose peer has gone */
	assert_hb(hb_mem_send_com_buf(-1, &b), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_send_com_buf(p[1], &b), HB_MEM_ERR_INVALID_FD);
	close(sv[1]);
	assert_hb(hb_mem_send_com_buf(sv[0], &b), HB_MEM_ERR_INVALID_FD);
	/* nothing was written anywhere */
	g_assert_cmpint(fcntl(p[0], F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(read(p[0], &byte, 1), ==, -1);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	assert_ok(hb_mem_free_buf(g.fd[0]));
	assert_ok(hb_mem_free_buf(b.fd));
}

static void test_send_and_recv_need_the_module(void)
{
	hb_mem_common_buf_t b = { 0 };
	int sv[2];

	sockpair(SOCK_SEQPACKET, sv);
	assert_hb(hb_mem_send_com_buf(sv[0], &b), HB_MEM_ERR_MODULE_NOT_FOUND);
	assert_hb(hb_mem_recv_com_buf(sv[1], 0, &b),
		  HB_MEM_ERR_MODULE_NOT_FOUND);
	close(sv[0]);
	close(sv[1]);
}

/* ---- bad input on the receive side ------------------------------------- */

static void test_recv_refuses_bad_arguments_and_times_out(TestModule *m,
							  gconstpointer d)
{
	hb_mem_common_buf_t b;
	struct timespec t0, t1;
	int64_t ms;
	int sv[2];

	sockpair(SOCK_SEQPACKET, sv);
	assert_hb(hb_mem_recv_com_buf(sv[1], 0, NULL), HB_MEM_ERR_INVALID_PARAMS);
	assert_hb(hb_mem_recv_com_buf(-1, 0, &b), HB_MEM_ERR_INVALID_FD);
	assert_hb(hb_mem_recv_com_buf(sv[1], 0, &b), HB_MEM_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_hb(hb_mem_recv_com_buf(sv[1], 100, &b), HB_MEM_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	g_assert_cmpint(ms, >=, 99);
	/* the peer goes away */
	close(sv[0]);
	assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &b), HB_MEM_ERR_INVALID_FD);
	close(sv[1]);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Signals during the wait neither end it early nor lose the message. */
static void test_recv_wait_survives_signals(TestModule *m, gconstpointer d)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_interval = { 0, 2000 },
				.it_value = { 0, 2000 } };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	struct timespec zero = { 0, 0 };
	sigset_t alrm, mask;
	hb_mem_common_buf_t b, r;
	struct timespec t0, t1;
	int64_t ms;
	int sv[2];

	sockpair(SOCK_SEQPACKET, sv);
	sigemptyset(&sa.sa_mask);	/* no SA_RESTART: calls see EINTR */
	g_assert_cmpint(sigaction(SIGALRM, &sa, &old), ==, 0);
	g_assert_cmpint(setitimer(ITIMER_REAL, &it, NULL), ==, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_hb(hb_mem_recv_com_buf(sv[1], 60, &r), HB_MEM_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	g_assert_cmpint(ms, >=, 59);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &b));
	memset(b.virt_addr, 9, 4096);
	assert_ok(hb_mem_send_com_buf(sv[0], &b));
	assert_ok(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r));
	g_assert_cmpint(setitimer(ITIMER_REAL, &off, NULL), ==, 0);
	/*
	 * A tick may still be pending (valgrind delivers signals late): take
	 * it while our handler is in place, or the default action kills us.
	 */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	g_assert_cmpint(sigprocmask(SIG_BLOCK, &alrm, &mask), ==, 0);
	while (sigtimedwait(&alrm, NULL, &zero) == SIGALRM)
		;
	g_assert_cmpint(sigaction(SIGALRM, &old, NULL), ==, 0);
	g_assert_cmpint(sigprocmask(SIG_SETMASK, &mask, NULL), ==, 0);
	g_assert_true(all_bytes(r.virt_addr, 4096, 9));
	assert_ok(hb_mem_free_buf(r.fd));
	assert_ok(hb_mem_free_buf(b.fd));
	close(sv[0]);
	close(sv[1]);
}

/*
 * Send @m with @nfds copies of @fd (or the fds in @fds) and expect the
 * receive to fail with @want; every fd received must be closed again.
 */
static void expect_refused(int type, const void *msg, size_t len,
			   const int *fds, int nfds, int32_t want)
{
	hb_mem_common_buf_t r;
	int sv[2], before;

	sockpair(type, sv);
	before = test_count_fds();
	send_raw(sv[0], msg, len, fds, nfds);
	assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r), want);
	g_assert_cmpint(test_count_fds(), ==, before);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_refuses_forged_messages_and_closes_their_fds(
	TestModule *m, gconstpointer d)
{
	struct fdpass_msg msg, bad;
	int fd = sealed_memfd(8192), many[40], i;
	int32_t inval = HB_MEM_ERR_INVALID_PARAMS;

	com_msg(&msg, 0, 8192);
	for (i = 0; i < 40; i++)
		many[i] = fd;
	/* truncated, on every socket type */
	expect_refused(SOCK_SEQPACKET, &msg, 10, &fd, 1, inval);
	expect_refused(SOCK_DGRAM, &msg, sizeof(msg) - 1, &fd, 1, inval);
	/*
	 * an empty datagram: a datagram socket has no end of stream, so
	 * that is a (wholly) truncated message, not a peer that has gone
	 */
	expect_refused(SOCK_DGRAM, &msg, 0, &fd, 1, inval);
	expect_refused(SOCK_DGRAM, &msg, 0, NULL, 0, inval);
	/* longer than a message */
	{
		char big[sizeof(msg) + 64];

		memset(big, 0, sizeof(big));
		memcpy(big, &msg, sizeof(msg));
		expect_refused(SOCK_SEQPACKET, big, sizeof(big), &fd, 1, inval);
	}
	/* no fd, too many (within and beyond what fits) */
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), NULL, 0, inval);
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), many, 2, inval);
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), many, 40, inval);
	/* header fields */
	bad = msg;
	bad.magic ^= 1;
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	bad = msg;
	bad.version = 99;
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	bad = msg;
	bad.kind = FDPASS_GRAPH;	/* asked for a common buffer */
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	bad = msg;
	bad.nfds = 2;
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	bad = msg;
	bad.nplanes = 0xFFFFFFFFu;
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	bad = msg;
	bad.plane[0].fd_index = 1;
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	/* planes past the end of the fd, sizes that overflow, empty ones */
	com_msg(&bad, 4096, 8192);
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	com_msg(&bad, UINT64_MAX - 10, 100);
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	com_msg(&bad, 0, 0);
	expect_refused(SOCK_SEQPACKET, &bad, sizeof(bad), &fd, 1, inval);
	/* the well-formed message still works over the same kind of socket */
	{
		hb_mem_common_buf_t r;
		int sv[2];

		sockpair(SOCK_SEQPACKET, sv);
		send_raw(sv[0], &msg, sizeof(msg), &fd, 1);
		if (broker_mode) {
			assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r),
				  HB_MEM_ERR_INVALID_FD);
		} else {
			assert_ok(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r));
			g_assert_cmpuint(r.size, ==, 8192);
			assert_ok(hb_mem_free_buf(r.fd));
		}
		close(sv[0]);
		close(sv[1]);
	}
	close(fd);
}

/*
 * On a stream socket a message may arrive in pieces: that is fine as long
 * as the fds come with its first byte, and refused when they come later.
 */
static void test_recv_on_stream_takes_pieces_but_not_late_fds(TestModule *m,
							      gconstpointer d)
{
	struct fdpass_msg msg;
	hb_mem_common_buf_t r;
	int fd = sealed_memfd(4096), sv[2], before;
	const char *p = (const char *)&msg;

	com_msg(&msg, 0, 4096);
	sockpair(SOCK_STREAM, sv);
	before = test_count_fds();
	/* fds with the first piece, the rest later */
	send_raw(sv[0], p, 100, &fd, 1);
	send_raw(sv[0], p + 100, sizeof(msg) - 100, NULL, 0);
	if (broker_mode) {
		assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r),
			  HB_MEM_ERR_INVALID_FD);
	} else {
		assert_ok(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r));
		g_assert_cmpuint(r.size, ==, 4096);
		assert_ok(hb_mem_free_buf(r.fd));
	}
	g_assert_cmpint(test_count_fds(), ==, before);
	/*
	 * fds with a piece read later: refused, and closed. (Sent at once,
	 * the kernel hands both pieces over in one read, fds and all, which
	 * is a whole message like any other.)
	 */
	{
		pid_t pid = fork();

		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			alarm(CHILD_SECONDS);
			send_raw(sv[0], p, 100, NULL, 0);
			usleep(300000);	/* the receiver has read the first */
			send_raw(sv[0], p + 100, sizeof(msg) - 100, &fd, 1);
			_exit(0);
		}
		assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r),
			  HB_MEM_ERR_INVALID_PARAMS);
		reap(pid);
	}
	g_assert_cmpint(test_count_fds(), ==, before);
	/*
	 * half a message, then the peer stalls past the deadline: part of the
	 * stream is consumed, so that is a truncated message, not a TIMEOUT
	 * (which promises nothing was consumed, and invites a retry that
	 * could only read the stream out of step); its fds are closed
	 */
	{
		int s2[2];

		sockpair(SOCK_STREAM, s2);
		send_raw(s2[0], p, 100, &fd, 1);
		assert_hb(hb_mem_recv_com_buf(s2[1], 100, &r),
			  HB_MEM_ERR_INVALID_PARAMS);
		close(s2[0]);
		close(s2[1]);
	}
	g_assert_cmpint(test_count_fds(), ==, before);
	/* half a message, then the peer goes: the receive says so */
	send_raw(sv[0], p, 100, &fd, 1);
	close(sv[0]);
	assert_hb(hb_mem_recv_com_buf(sv[1], WAIT_MS, &r), HB_MEM_ERR_INVALID_FD);
	g_assert_cmpint(test_count_fds(), ==, before - 1);
	close(sv[1]);
	close(fd);
}

static void test_recv_refuses_fds_that_are_not_sealed_memory(TestModule *m,
							     gconstpointer d)
{
	struct fdpass_msg msg;
	int p[2], unsealed, ro, sealed;
	int32_t badfd = HB_MEM_ERR_INVALID_FD;
	char path[64];

	com_msg(&msg, 0, 4096);
	g_assert_cmpint(pipe2(p, O_CLOEXEC), ==, 0);
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &p[0], 1, badfd);
	/* a memfd the peer could still shrink under our mapping */
	unsealed = memfd_create("unsealed", MFD_CLOEXEC);
	g_assert_cmpint(ftruncate(unsealed, 4096), ==, 0);
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &unsealed, 1, badfd);
	/* a sealed one opened read-only */
	sealed = sealed_memfd(4096);
	g_snprintf(path, sizeof(path), "/proc/self/fd/%d", sealed);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(ro, >=, 0);
	expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &ro, 1, badfd);
	/* a regular file */
	{
		int f = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		g_assert_cmpint(f, >=, 0);
		expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &f, 1, badfd);
		close(f);
	}
	/*
	 * read-write in name only: sealed against writing (now, or against
	 * future writable mappings), so no writable mapping can be made
	 * (refused as the bad fd it is, not as a failed mmap: NOT_ALLOW)
	 */
	{
		int seal[2] = { F_SEAL_WRITE, F_SEAL_FUTURE_WRITE }, i, w;

		for (i = 0; i < 2; i++) {
			w = sealed_memfd(4096);
			g_assert_cmpint(fcntl(w, F_ADD_SEALS, seal[i]), ==, 0);
			expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &w, 1,
				       badfd);
			close(w);
		}
	}
	/* no memory at all: an O_PATH handle on it, a directory, a socket */
	{
		int op = open(path, O_PATH | O_CLOEXEC);
		int dir = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int sk[2];

		g_assert_cmpint(op, >=, 0);
		expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &op, 1, badfd);
		if (dir >= 0) {
			expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &dir,
				       1, badfd);
			close(dir);
		}
		sockpair(SOCK_STREAM, sk);
		expect_refused(SOCK_SEQPACKET, &msg, sizeof(msg), &sk[0], 1,
			       badfd);
		close(op);
		close(sk[0]);
		close(sk[1]);
	}
	close(p[0]);
	close(p[1]);
	close(unsealed);
	close(ro);
	close(sealed);
}

/* Forged graphic messages: plane tables that do not fit the descriptor. */
static void test_recv_refuses_graph_plane_tables_that_do_not_fit(
	TestModule *m, gconstpointer d)
{
	hb_mem_graphic_buf_t g, r;
	struct fdpass_msg msg, bad;
	int a = sealed_memfd(8192), b = sealed_memfd(8192), two[2] = { a, b };
	int sv[2], before;

	memset(&msg, 0, sizeof(msg));
	msg.magic = FDPASS_MAGIC;
	msg.version = FDPASS_VERSION;
	msg.kind = FDPASS_GRAPH;
	msg.nfds = 2;
	msg.nplanes = 2;
	msg.plane[0] = (struct fdpass_plane){ 0, 0, 0, 4096 };
	msg.plane[1] = (struct fdpass_plane){ 1, 0, 0, 2048 };
	msg.desc.graph.plane_cnt = 2;
	msg.desc.graph.format = MEM_PIX_FMT_NV12;
	msg.desc.graph.width = 64;
	msg.desc.graph.height = 64;

	before = test_count_fds();
	/* too few fds for a planar buffer */
	sockpair(SOCK_SEQPACKET, sv);
	bad = msg;
	bad.nfds = 1;
	bad.plane[1].fd_index = 0;
	send_raw(sv[0], &bad, sizeof(bad), &a, 1);
	assert_hb(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &r),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* contiguous, but its planes in two fds */
	bad = msg;
	bad.desc.graph.is_contig = 1;
	send_raw(sv[0], &bad, sizeof(bad), two, 2);
	assert_hb(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &r),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* more planes in the table than the descriptor has */
	bad = msg;
	bad.desc.graph.plane_cnt = 1;
	send_raw(sv[0], &bad, sizeof(bad), two, 2);
	assert_hb(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &r),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a plane count the type cannot have */
	bad = msg;
	bad.desc.graph.plane_cnt = -1;
	send_raw(sv[0], &bad, sizeof(bad), two, 2);
	assert_hb(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &r),
		  HB_MEM_ERR_INVALID_PARAMS);
	/* a group with no member, or one beyond the eighth */
	bad = msg;
	bad.kind = FDPASS_GROUP;
	memset(&bad.desc, 0, sizeof(bad.desc));
	bad.desc.group.bit_map = 0x100;
	send_raw(sv[0], &bad, sizeof(bad), two, 2);
	{
		hb_mem_graphic_buf_group_t rg;

		assert_hb(hb_mem_recv_graph_buf_group(sv[1], WAIT_MS, &rg),
			  HB_MEM_ERR_INVALID_PARAMS);
	}
	g_assert_cmpint(test_count_fds(), ==, before + 2);
	/* and the good one arrives whole (a broker knows not these memfds) */
	send_raw(sv[0], &msg, sizeof(msg), two, 2);
	if (broker_mode) {
		assert_hb(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &g),
			  HB_MEM_ERR_INVALID_FD);
	} else {
		assert_ok(hb_mem_recv_graph_buf(sv[1], WAIT_MS, &g));
		g_assert_cmpuint(g.size[0], ==, 4096);
		g_assert_cmpuint(g.size[1], ==, 2048);
		g_assert_cmpint(g.fd[0], !=, g.fd[1]);
		assert_ok(hb_mem_free_buf(g.fd[0]));
	}
	g_assert_cmpint(test_count_fds(), ==, before + 2);
	close(sv[0]);
	close(sv[1]);
	close(a);
	close(b);
}

static void remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d)) != NULL) {
		char *path = g_build_filename(dir, name, NULL);

		unlink(path);
		g_free(path);
	}
	if (d)
		g_dir_close(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	char *sock_path, *sock_dir;
	int ret;

	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A broker of our own on a private socket, or none at all: never one
	 * that happens to serve the machine's default socket.
	 */
	broker_mode = getenv("HBMEM_BROKER_PATH") != NULL;
	sock_dir = g_dir_make_tmp("hbmem-fdpass-XXXXXX", NULL);
	g_assert_nonnull(sock_dir);
	sock_path = g_build_filename(sock_dir, "hbmemd.sock", NULL);
	g_setenv("HBMEM_BROKER_SOCKET", sock_path, TRUE);
	if (!broker_mode)
		g_setenv("HBMEM_AUTOSPAWN", "0", TRUE);
	broker_mode = broker_mode || backend_is_kernel_driver();
	g_test_add_func("/fdpass/send-and-recv-need-the-module",
			test_send_and_recv_need_the_module);
	add_module_test("/fdpass/send-refuses-bad-descriptors-and-sockets",
			test_send_refuses_bad_descriptors_and_sockets);
	add_module_test("/fdpass/recv-refuses-bad-arguments-and-times-out",
			test_recv_refuses_bad_arguments_and_times_out);
	add_module_test("/fdpass/recv-refuses-forged-messages-and-closes-their-fds",
			test_recv_refuses_forged_messages_and_closes_their_fds);
	add_module_test("/fdpass/recv-refuses-fds-that-are-not-sealed-memory",
			test_recv_refuses_fds_that_are_not_sealed_memory);
	add_module_test("/fdpass/recv-refuses-graph-plane-tables-that-do-not-fit",
			test_recv_refuses_graph_plane_tables_that_do_not_fit);
	add_module_test("/fdpass/recv-on-stream-takes-pieces-but-not-late-fds",
			test_recv_on_stream_takes_pieces_but_not_late_fds);
	add_module_test("/fdpass/recv-wait-survives-signals",
			test_recv_wait_survives_signals);
	add_module_test("/fdpass/com-buf-content-both-ways-sender-frees-first",
			test_com_buf_content_both_ways_sender_frees_first);
	add_module_test("/fdpass/com-buf-content-both-ways-receiver-frees-first",
			test_com_buf_content_both_ways_receiver_frees_first);
	add_module_test("/fdpass/com-buf-over-stream-and-datagram-sockets",
			test_com_buf_over_stream_and_datagram_sockets);
	add_module_test("/fdpass/graph-buf-planar-one-fd-per-plane",
			test_graph_buf_planar_one_fd_per_plane);
	add_module_test("/fdpass/graph-buf-contiguous-one-fd",
			test_graph_buf_contiguous_one_fd);
	add_module_test("/fdpass/group-every-member-arrives",
			test_group_every_member_arrives);
	add_module_test("/fdpass/partial-send-maps-just-the-range",
			test_partial_send_maps_just_the_range);
	add_module_test("/fdpass/same-unit-twice-is-one-share",
			test_same_unit_twice_is_one_share);
	add_module_test("/fdpass/pool-sub-buffer-can-be-sent",
			test_pool_sub_buffer_can_be_sent);
	ret = g_test_run();
	remove_dir(sock_dir);	/* the broker's socket and state files */
	g_free(sock_path);
	g_free(sock_dir);
	return ret;
}
