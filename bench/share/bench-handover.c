// SPDX-License-Identifier: MIT
/*
 * bench-handover: frames per second handed from a producer process to a
 * consumer process (no GStreamer), 1080p and 4K NV12, four ways in the
 * same run:
 *
 *   hbmem       a ring of hbmem graphic buffers (contiguous NV12); each
 *               buffer goes over once with hb_mem_send_graph_buf and is
 *               received (imported) on first sight, then only slot ids
 *               travel, and release messages come back.        (ours)
 *   fd-ring     the same pattern with bare memfds: SCM_RIGHTS on first
 *               sight, mmap once, then slot ids.        (bare fd pass)
 *   fd-frame    a bare fd pass every frame: SCM_RIGHTS, mmap, read,
 *               munmap, close per frame.              (naive zero-copy)
 *   shm-copy    a POSIX shm ring (shm_open + mmap in both processes):
 *               the producer copies each frame in, the consumer copies
 *               it out into its own buffer.                      (copy)
 *
 * Frames are "produced" the way a camera produces them, by DMA: the
 * producer writes only a frame number at the start of each plane, and the
 * consumer checks it, so the zero-copy ways cost what the handover costs.
 * Ring of 4 slots; the producer waits for a release when all 4 are out.
 * Time runs from the first frame sent to the last release received.
 *
 * Each way runs @runs times, interleaved, and the median is reported.
 * The last lines are "ratio <name> <ours / peer>", the cost per frame
 * (1 / fps) of hbmem over each peer: lower is better.
 *
 * Usage: bench-handover [seconds per measurement, default 0.5] [runs, 3]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "bench-util.h"

#define RING 4
#define STOP 0xFFFFFFFFu
#define MAX_RUNS 15

enum way { HBMEM, FD_RING, FD_FRAME, SHM_COPY, NWAYS };

static const char *const way_name[NWAYS] = {
	"hbmem", "fd-ring", "fd-frame", "shm-copy",
};

struct frame_msg {
	uint32_t slot;
	uint32_t frame;
	uint32_t first;		/* the slot's buffer or fd comes with it */
	uint32_t pad;
};

struct size_case {
	const char *name;
	int w, h;
};

static const struct size_case sizes[] = {
	{ "1080p", 1920, 1080 },
	{ "4k", 3840, 2160 },
};

static volatile uint64_t sink;

const char *bench_name = "bench-handover";

/* ---- messages ------------------------------------------------------------ */

/* Send @m, with @fd as SCM_RIGHTS when >= 0 (the caller keeps it). */
static void send_frame(int sock, const struct frame_msg *m, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("sendmsg");
}

/* Receive a frame message; its fd (if any) goes to *@fd, else -1. */
static void recv_frame(int sock, struct frame_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	while ((n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			die("recvmsg");
	if (n != sizeof(*m)) {
		errno = EPROTO;
		die("short frame message");
	}
	*fd = -1;
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
}

static void send_u32(int sock, uint32_t v)
{
	while (send(sock, &v, sizeof(v), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("send");
}

static uint32_t recv_u32(int sock)
{
	uint32_t v;
	ssize_t n;

	while ((n = recv(sock, &v, sizeof(v), 0)) < 0)
		if (errno != EINTR)
			die("recv");
	if (n != sizeof(v)) {
		errno = EPIPE;
		die("peer gone");
	}
	return v;
}

/* ---- frames ------------------------------------------------------------ */

struct frame_geom {
	size_t y, uv, total;	/* bytes of each plane, of the frame */
};

static struct frame_geom geom_of(const struct size_case *sc)
{
	struct frame_geom g;

	g.y = (size_t)sc->w * sc->h;
	g.uv = g.y / 2;
	g.total = g.y + g.uv;
	return g;
}

/* What the "camera" writes: the frame number at the start of each plane. */
static void stamp(uint8_t *y, uint8_t *uv, uint32_t frame)
{
	memcpy(y, &frame, sizeof(frame));
	memcpy(uv, &frame, sizeof(frame));
}

static void check_stamp(const uint8_t *y, const uint8_t *uv, uint32_t frame)
{
	uint32_t a, b;

	memcpy(&a, y, sizeof(a));
	memcpy(&b, uv, sizeof(b));
	if (a != frame || b != frame) {
		fprintf(stderr, "bench-handover: frame %u arrived as %u/%u\n",
			frame, a, b);
		exit(1);
	}
	sink += a;
}

static int memfd_frame(size_t len)
{
	int fd = memfd_create("bench-frame", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) < 0)
		die("memfd");
	return fd;
}

static uint8_t *map_fd(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* ---- consumers (child process) ------------------------------------------ */

static int consume_hbmem(int sock, struct frame_geom g)
{
	hb_mem_graphic_buf_t ring[RING];
	struct frame_msg m;
	int fd, i;

	(void)g;
	check(hb_mem_module_open(), "module_open (consumer)");
	for (;;) {
		recv_frame(sock, &m, &fd);
		if (m.slot == STOP)
			break;
		if (m.first)	/* first sight: the buffer follows */
			check(hb_mem_recv_graph_buf(sock, -1, &ring[m.slot]),
			      "recv_graph_buf");
		check_stamp(ring[m.slot].virt_addr[0], ring[m.slot].virt_addr[1],
			    m.frame);
		send_u32(sock, m.slot);
	}
	for (i = 0; i < RING; i++)
		check(hb_mem_free_buf(ring[i].fd[0]), "free (consumer)");
	check(hb_mem_module_close(), "module_close (consumer)");
	return 0;
}

static int consume_fd(int sock, struct frame_geom g, bool every_frame)
{
	uint8_t *ring[RING];
	struct frame_msg m;
	int fd, i;

	for (;;) {
		recv_frame(sock, &m, &fd);
		if (m.slot == STOP)
			break;
		if (every_frame) {
			uint8_t *p = map_fd(fd, g.total);

			check_stamp(p, p + g.y, m.frame);
			munmap(p, g.total);
			close(fd);
		} else {
			if (m.first) {
				ring[m.slot] = map_fd(fd, g.total);
				close(fd);
			}
			check_stamp(ring[m.slot], ring[m.slot] + g.y, m.frame);
		}
		send_u32(sock, m.slot);
	}
	if (!every_frame)
		for (i = 0; i < RING; i++)
			munmap(ring[i], g.total);
	return 0;
}

static int consume_copy(int sock, struct frame_geom g, const char *shm)
{
	uint8_t *ring, *mine;
	struct frame_msg m;
	int fd;

	mine = malloc(g.total);
	if (!mine)
		die("malloc");
	memset(mine, 0, g.total);
	/* the producer has made the ring by the time the first frame comes */
	recv_frame(sock, &m, &fd);
	fd = shm_open(shm, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		die("shm_open (consumer)");
	ring = map_fd(fd, g.total * RING);
	close(fd);
	for (;; recv_frame(sock, &m, &fd)) {
		if (m.slot == STOP)
			break;
		memcpy(mine, ring + (size_t)m.slot * g.total, g.total);
		check_stamp(mine, mine + g.y, m.frame);
		send_u32(sock, m.slot);
	}
	munmap(ring, g.total * RING);
	free(mine);
	return 0;
}

/* ---- producer ------------------------------------------------------------ */

struct producer {
	enum way way;
	struct frame_geom g;
	hb_mem_graphic_buf_t buf[RING];		/* HBMEM */
	int fd[RING];				/* FD_* */
	uint8_t *map[RING];			/* FD_*, SHM_COPY: slot memory */
	uint8_t *src;				/* SHM_COPY: the camera frame */
	char shm[64];
};

static void producer_setup(struct producer *p, const struct size_case *sc)
{
	int i, fd;

	switch (p->way) {
	case HBMEM:
		for (i = 0; i < RING; i++) {
			check(hb_mem_alloc_graph_buf(sc->w, sc->h, MEM_PIX_FMT_NV12,
						     HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF,
						     0, 0, &p->buf[i]),
			      "alloc_graph_buf");
			memset(p->buf[i].virt_addr[0], 0x10, p->g.total);
		}
		break;
	case FD_RING:
	case FD_FRAME:
		for (i = 0; i < RING; i++) {
			p->fd[i] = memfd_frame(p->g.total);
			p->map[i] = map_fd(p->fd[i], p->g.total);
			memset(p->map[i], 0x10, p->g.total);
		}
		break;
	case SHM_COPY:
		fd = shm_open(p->shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)(p->g.total * RING)) < 0)
			die("shm_open");
		p->map[0] = map_fd(fd, p->g.total * RING);
		close(fd);
		memset(p->map[0], 0x10, p->g.total * RING);
		p->src = malloc(p->g.total);
		if (!p->src)
			die("malloc");
		memset(p->src, 0x10, p->g.total);
		break;
	default:
		break;
	}
}

static void producer_teardown(struct producer *p)
{
	int i;

	switch (p->way) {
	case HBMEM:
		for (i = 0; i < RING; i++)
			check(hb_mem_free_buf(p->buf[i].fd[0]), "free");
		break;
	case FD_RING:
	case FD_FRAME:
		for (i = 0; i < RING; i++) {
			munmap(p->map[i], p->g.total);
			close(p->fd[i]);
		}
		break;
	case SHM_COPY:
		munmap(p->map[0], p->g.total * RING);
		shm_unlink(p->shm);
		free(p->src);
		break;
	default:
		break;
	}
}

/* Hand frame @f over in slot @slot. */
static void produce(struct producer *p, int sock, uint32_t slot, uint32_t f)
{
	struct frame_msg m = { .slot = slot, .frame = f, .first = f < RING };
	uint8_t *dst;

	switch (p->way) {
	case HBMEM:
		stamp(p->buf[slot].virt_addr[0], p->buf[slot].virt_addr[1], f);
		send_frame(sock, &m, -1);
		if (m.first)
			check(hb_mem_send_graph_buf(sock, &p->buf[slot]),
			      "send_graph_buf");
		break;
	case FD_RING:
	case FD_FRAME:
		stamp(p->map[slot], p->map[slot] + p->g.y, f);
		send_frame(sock, &m,
			   m.first || p->way == FD_FRAME ? p->fd[slot] : -1);
		break;
	case SHM_COPY:
		stamp(p->src, p->src + p->g.y, f);
		dst = p->map[0] + (size_t)slot * p->g.total;
		memcpy(dst, p->src, p->g.total);
		send_frame(sock, &m, -1);
		break;
	default:
		break;
	}
}

/*
 * One measurement: fork a consumer, hand frames over for about @secs
 * seconds (the frame count comes from a short calibration), and return
 * frames per second.
 */
static double measure(enum way way, const struct size_case *sc, double secs)
{
	struct producer p = { .way = way, .g = geom_of(sc) };
	uint64_t t0, t1, nframes, f, warm = 2 * RING;
	struct frame_msg stop = { .slot = STOP };
	int sv[2], status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die("socketpair");
	snprintf(p.shm, sizeof(p.shm), "/hbmem-bench-%d", (int)getpid());
	/* fork first: the consumer must not inherit the producer's buffers */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		alarm(120);
		if (way == HBMEM)
			_exit(consume_hbmem(sv[1], p.g));
		if (way == SHM_COPY)
			_exit(consume_copy(sv[1], p.g, p.shm));
		_exit(consume_fd(sv[1], p.g, way == FD_FRAME));
	}
	close(sv[1]);
	producer_setup(&p, sc);
	/* warm-up frames, which also put every slot in the consumer's hands */
	for (f = 0; f < warm; f++) {
		if (f >= RING)
			recv_u32(sv[0]);
		produce(&p, sv[0], (uint32_t)(f % RING), (uint32_t)f);
	}
	/* calibrate: how many frames make @secs */
	t0 = now_ns();
	for (; f < warm + 64; f++) {
		recv_u32(sv[0]);
		produce(&p, sv[0], (uint32_t)(f % RING), (uint32_t)f);
	}
	t1 = now_ns();
	nframes = (uint64_t)(secs * 1e9 / ((double)(t1 - t0) / 64));
	if (nframes < 64)
		nframes = 64;
	t0 = now_ns();
	for (; f < warm + 64 + nframes; f++) {
		recv_u32(sv[0]);
		produce(&p, sv[0], (uint32_t)(f % RING), (uint32_t)f);
	}
	t1 = now_ns();
	for (f = 0; f < RING; f++)
		recv_u32(sv[0]);
	send_frame(sv[0], &stop, -1);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-handover: %s consumer failed\n",
			way_name[way]);
		exit(1);
	}
	close(sv[0]);
	producer_teardown(&p);
	return (double)nframes * 1e9 / (double)(t1 - t0);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	int runs = argc > 2 ? atoi(argv[2]) : 3, r, w;
	double fps[2][NWAYS], v[NWAYS][MAX_RUNS];
	size_t s;

	if (secs <= 0 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-handover [seconds > 0] [runs 1..%d]\n",
			MAX_RUNS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	check(hb_mem_module_open(), "module_open");
	printf("# frame handover producer -> consumer process, ring of %d, "
	       "%d runs of ~%.2fs, median fps\n", RING, runs, secs);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (r = 0; r < runs; r++)
			for (w = 0; w < NWAYS; w++)
				v[w][r] = measure((enum way)w, &sizes[s], secs);
		printf("%-6s NV12 %4dx%-4d", sizes[s].name, sizes[s].w,
		       sizes[s].h);
		for (w = 0; w < NWAYS; w++) {
			fps[s][w] = median(v[w], runs);
			printf("  %s %.0f fps", way_name[w], fps[s][w]);
		}
		printf("\n");
		fflush(stdout);
	}
	check(hb_mem_module_close(), "module_close");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (w = 1; w < NWAYS; w++)
			printf("ratio handover-%s-vs-%s %.4f\n", sizes[s].name,
			       way_name[w], fps[s][w] / fps[s][HBMEM]);
	return 0;
}
