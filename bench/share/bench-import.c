// SPDX-License-Identifier: MIT
/*
 * bench-import: what it costs a process to take in a common buffer that
 * another process allocated, and to let it go again (import + free), in
 * the same run:
 *
 *   fdpass   hb_mem_recv_com_buf + hb_mem_free_buf: the buffer comes with
 *            its fd over a unix socket (SCM_RIGHTS); the sender has queued
 *            the messages before the clock starts, so this is the
 *            receiver's cost.                                        (ours)
 *   by-id    hb_mem_import_com_buf + hb_mem_free_buf on the descriptor
 *            bytes the allocator sent: the vendor model, which needs share
 *            ids that mean something in both processes. The backend in use
 *            decides who serves it: the kernel driver ("hbmem", inside the
 *            QEMU guest, see tests/kernel/run-in-guest.sh) or the broker.
 *            When the backend cannot import across processes, the column
 *            is skipped and says so.
 *
 * Sizes 4 KiB and 8 MiB (an import maps but does not touch). Each way runs
 * @runs times, interleaved, and the median per pair is reported. The last
 * lines are "ratio import-<size>-fdpass-vs-<kernel-driver|broker> <ours /
 * peer>" (time per import+free): lower is better. With global ids the
 * fdpass receiver takes its hold through them too (lib/fdpass.c), so
 * there fdpass costs an import by id plus the fd pass.
 *
 * Usage: bench-import [pairs per run, default 20000] [runs, default 3]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "bench-util.h"

#define BATCH 16	/* fdpass messages queued at a time */
#define MAX_RUNS 15

enum cmd { CMD_FDPASS = 1, CMD_DESC, CMD_QUIT };

const char *bench_name = "bench-import";

static void put(int sock, const void *p, size_t n)
{
	while (send(sock, p, n, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			die("send");
}

static void get(int sock, void *p, size_t n)
{
	ssize_t got;

	while ((got = recv(sock, p, n, 0)) < 0)
		if (errno != EINTR)
			die("recv");
	if ((size_t)got != n) {
		errno = EPIPE;
		die("peer gone");
	}
}

/*
 * The allocating process: one buffer of @size; on CMD_FDPASS it queues
 * BATCH fdpass messages on @data and then answers on @ctl; on CMD_DESC it
 * sends the descriptor bytes on @ctl.
 */
static int allocator(int ctl, int data, uint64_t size)
{
	hb_mem_common_buf_t b;
	uint32_t cmd;
	int i;

	check(hb_mem_module_open(), "module_open (allocator)");
	check(hb_mem_alloc_com_buf(size, 0, &b), "alloc_com_buf");
	for (;;) {
		get(ctl, &cmd, sizeof(cmd));
		if (cmd == CMD_QUIT)
			break;
		if (cmd == CMD_DESC) {
			put(ctl, &b, sizeof(b));
			continue;
		}
		for (i = 0; i < BATCH; i++)
			check(hb_mem_send_com_buf(data, &b), "send_com_buf");
		put(ctl, &cmd, sizeof(cmd));
	}
	check(hb_mem_free_buf(b.fd), "free (allocator)");
	check(hb_mem_module_close(), "module_close (allocator)");
	return 0;
}

struct peer {
	pid_t pid;
	int ctl, data;
};

static void peer_start(struct peer *p, uint64_t size)
{
	int c[2], d[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, d) < 0)
		die("socketpair");
	p->pid = fork();
	if (p->pid < 0)
		die("fork");
	if (p->pid == 0) {
		close(c[0]);
		close(d[0]);
		alarm(300);
		_exit(allocator(c[1], d[1], size));
	}
	close(c[1]);
	close(d[1]);
	p->ctl = c[0];
	p->data = d[0];
}

static void peer_stop(struct peer *p)
{
	uint32_t cmd = CMD_QUIT;
	int status;

	put(p->ctl, &cmd, sizeof(cmd));
	if (waitpid(p->pid, &status, 0) != p->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-import: allocator failed\n");
		exit(1);
	}
	close(p->ctl);
	close(p->data);
}

/* ns per recv+free, over @pairs pairs (rounded up to batches). */
static double run_fdpass(struct peer *p, uint64_t pairs)
{
	uint64_t done, t = 0, t0;
	hb_mem_common_buf_t r;
	uint32_t cmd;
	int i;

	for (done = 0; done < pairs; done += BATCH) {
		cmd = CMD_FDPASS;
		put(p->ctl, &cmd, sizeof(cmd));
		get(p->ctl, &cmd, sizeof(cmd));	/* all BATCH are queued */
		t0 = now_ns();
		for (i = 0; i < BATCH; i++) {
			check(hb_mem_recv_com_buf(p->data, -1, &r), "recv_com_buf");
			check(hb_mem_free_buf(r.fd), "free");
		}
		t += now_ns() - t0;
	}
	return (double)t / (double)done;
}

/* The allocator's descriptor, as the vendor model sends it. */
static void get_desc(struct peer *p, hb_mem_common_buf_t *desc)
{
	uint32_t cmd = CMD_DESC;

	put(p->ctl, &cmd, sizeof(cmd));
	get(p->ctl, desc, sizeof(*desc));
	desc->fd = -1;
	desc->virt_addr = NULL;
}

/* ns per import+free over @pairs pairs. */
static double run_by_id(const hb_mem_common_buf_t *desc, uint64_t pairs)
{
	hb_mem_common_buf_t in = *desc, r;
	uint64_t i, t0 = now_ns();

	for (i = 0; i < pairs; i++) {
		check(hb_mem_import_com_buf(&in, &r), "import_com_buf");
		check(hb_mem_free_buf(r.fd), "free");
	}
	return (double)(now_ns() - t0) / (double)pairs;
}

int main(int argc, char **argv)
{
	static const uint64_t sizes[] = { 4096, 8u << 20 };
	static const char *const size_name[] = { "4k", "8m" };
	uint64_t pairs = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000;
	int runs = argc > 2 ? atoi(argv[2]) : 3, r;
	double fd_ns[2], id_ns[2], v[2][MAX_RUNS];
	hb_mem_common_buf_t desc, probe;
	bool by_id = false;
	char backend[32], why[128] = "";
	const char *via;
	struct peer p;
	size_t s;
	int32_t ret;

	if (pairs < BATCH || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: bench-import [pairs >= %d] [runs 1..%d]\n",
			BATCH, MAX_RUNS);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	check(hb_mem_module_open(), "module_open");
	check(hb_mem_get_backend(backend, sizeof(backend), NULL), "get_backend");
	/* across processes, ids are the kernel driver's or else the broker's */
	via = strcmp(backend, "hbmem") ? "broker" : "kernel-driver";
	printf("# import+free of a buffer another process allocated; backend "
	       "%s; %d runs of %llu pairs, median ns per pair\n", backend, runs,
	       (unsigned long long)pairs);
	for (s = 0; s < 2; s++) {
		/* fork before anything is allocated here: nothing inherited */
		peer_start(&p, sizes[s]);
		get_desc(&p, &desc);
		ret = hb_mem_import_com_buf(&desc, &probe);
		by_id = ret == 0;
		if (by_id)
			check(hb_mem_free_buf(probe.fd), "free");
		else
			hb_mem_strerror(ret, why, sizeof(why));
		for (r = 0; r < runs; r++) {
			v[0][r] = run_fdpass(&p, pairs);
			if (by_id)
				v[1][r] = run_by_id(&desc, pairs);
		}
		peer_stop(&p);
		fd_ns[s] = median(v[0], runs);
		printf("%-3s  fdpass %.0f ns", size_name[s], fd_ns[s]);
		if (by_id) {
			id_ns[s] = median(v[1], runs);
			printf("  by-id(%s) %.0f ns\n", via, id_ns[s]);
		} else {
			printf("  by-id skipped: import across processes "
			       "failed: %s (needs the kernel driver or the "
			       "broker hbmemd)\n", why);
		}
		fflush(stdout);
	}
	check(hb_mem_module_close(), "module_close");
	if (by_id)
		for (s = 0; s < 2; s++)
			printf("ratio import-%s-fdpass-vs-%s %.4f\n", size_name[s],
			       via, fd_ns[s] / id_ns[s]);
	return 0;
}
