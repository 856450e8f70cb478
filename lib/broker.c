// SPDX-License-Identifier: MIT
/*
 * The broker connection: reach hbmemd, start it when it does not run, and
 * move messages (broker_proto.h) with their fds.
 *
 * Starting: the binary is $HBMEM_BROKER_PATH, else the installed one
 * (HBMEMD_PATH, set by the build to libexecdir/hbmemd), else "hbmemd" on
 * PATH. It is started detached (double fork, new session, stdio on
 * /dev/null, no inherited fds) with --foreground --idle-exit=N, N from
 * $HBMEM_BROKER_IDLE_EXIT (default 30 s), so a broker started for a short
 * program goes away by itself. Two processes starting one at once is fine:
 * the broker takes a lock and the second one exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hbmem_internal.h"
#include "broker.h"
#include "broker_path.h"

#ifndef HBMEMD_PATH
#define HBMEMD_PATH "/usr/local/libexec/hbmemd"
#endif

#define SPAWN_WAIT_MS 3000
#define DEFAULT_IDLE_EXIT "30"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int try_connect(const char *path, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

/* The broker binary into @buf, or -ENOENT. */
static int find_binary(char *buf, size_t len)
{
	const char *env = getenv("HBMEM_BROKER_PATH");
	const char *path = getenv("PATH");
	const char *p, *end;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) == 0 ? 0 : -ENOENT;
	}
	snprintf(buf, len, "%s", HBMEMD_PATH);
	if (access(buf, X_OK) == 0)
		return 0;
	for (p = path; p && *p; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		if (end == p)
			continue;
		snprintf(buf, len, "%.*s/hbmemd", (int)(end - p), p);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/*
 * The grandchild: a daemon with nothing of ours. Its stderr goes to @err
 * when not NULL ($HBMEM_BROKER_STDERR: for debugging, and for sanitizer
 * reports in tests). Never returns.
 */
static void exec_broker(char *const argv[], const char *err)
{
	sigset_t all;
	int null, efd;

	setsid();
	if (fork() != 0)
		_exit(0);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	if (err) {
		efd = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (efd >= 0)
			dup2(efd, 2);
	}
	if (close_range(3, ~0u, 0) < 0) {
		int fd;

		for (fd = 3; fd < 4096; fd++)
			close(fd);
	}
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	execv(argv[0], argv);
	_exit(127);
}

static int spawn_broker(const char *sock)
{
	const char *idle = getenv("HBMEM_BROKER_IDLE_EXIT");
	const char *err = getenv("HBMEM_BROKER_STDERR");
	char bin[4096], sock_arg[160], idle_arg[64];
	char *argv[] = { bin, "--foreground", sock_arg, idle_arg, NULL };
	int status, ret;
	pid_t pid;

	ret = find_binary(bin, sizeof(bin));
	if (ret < 0) {
		hbmem_debug("no hbmemd to start (HBMEM_BROKER_PATH, %s, PATH)",
			    HBMEMD_PATH);
		return ret;
	}
	snprintf(sock_arg, sizeof(sock_arg), "--socket=%s", sock);
	snprintf(idle_arg, sizeof(idle_arg), "--idle-exit=%s",
		 idle && *idle ? idle : DEFAULT_IDLE_EXIT);
	/*
	 * hbmem_lock may be ours: the atfork handlers keep out of it, here
	 * and in the child's own fork in exec_broker()
	 */
	_hbmem_own_fork = true;
	pid = fork();
	if (pid == 0)
		exec_broker(argv, err && *err ? err : NULL);
	_hbmem_own_fork = false;
	if (pid < 0)
		return -errno;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	hbmem_debug("started %s for %s", bin, sock);
	return 0;
}

static bool autospawn_allowed(void)
{
	const char *v = getenv("HBMEM_AUTOSPAWN");

	return !v || strcmp(v, "0");
}

int _hbmem_broker_connect(bool spawn, int *fd)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int64_t start, last_spawn = -1;
	int ret;

	ret = hbmem_broker_socket_path(path, sizeof(path));
	if (ret < 0)
		return ret;
	ret = try_connect(path, fd);
	if (ret == 0 || !spawn || !autospawn_allowed() ||
	    (ret != -ENOENT && ret != -ECONNREFUSED))
		return ret;
	start = mono_ms();
	while (mono_ms() - start < SPAWN_WAIT_MS) {
		/* once, and again if a broker that was exiting ate the first */
		if (last_spawn < 0 || mono_ms() - last_spawn > 1000) {
			if (spawn_broker(path) < 0)
				return ret;
			last_spawn = mono_ms();
		}
		usleep(2000);
		ret = try_connect(path, fd);
		if (ret == 0 || (ret != -ENOENT && ret != -ECONNREFUSED))
			return ret;
	}
	return ret;
}

int _hbmem_broker_send(int fd, struct hbmem_msg *m, int pass_fd)
{
	union hbmem_proto_fd_ctl ctl;
	struct iovec iov = {
		.iov_base = m,
		.iov_len = hbmem_proto_size(m->hdr.type),
	};
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (pass_fd >= 0)
		hbmem_proto_attach_fd(&mh, &ctl, pass_fd);
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)iov.iov_len ? 0 : -EIO;
}

static void close_cmsg_fds(struct msghdr *mh)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t k, n;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + k * sizeof(int), sizeof(fd));
			close(fd);
		}
	}
}

/* The single fd a well-formed reply carries, or -1. */
static int cmsg_fd(struct msghdr *mh, int *nfds)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(mh);
	int fd = -1;

	*nfds = 0;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)) && !CMSG_NXTHDR(mh, cm)) {
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		*nfds = 1;
	} else if (cm) {
		*nfds = -1;	/* anything else is malformed */
	}
	return fd;
}

/* Wait for @fd to be readable until @deadline (ms, < 0 forever). */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - mono_ms();

		if (deadline >= 0 && left < 0)
			left = 0;
		ret = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (ret > 0)
			return 0;
		if (ret == 0 && deadline >= 0 && mono_ms() >= deadline)
			return -ETIMEDOUT;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

int _hbmem_broker_recv(int fd, uint32_t seq, struct hbmem_msg *rep,
		       int *fd_out, int64_t timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	unsigned char buf[HBMEM_PROTO_MSG_MAX + 1];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh;
	int nfds, got, ret;
	ssize_t n;

	for (;;) {
		ret = wait_readable(fd, deadline);
		if (ret < 0)
			return ret;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n == 0 ? -ECONNRESET : -errno;
		got = cmsg_fd(&mh, &nfds);
		if (nfds < 0 || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
			ret = -EBADMSG;
		else
			ret = hbmem_proto_parse(buf, (size_t)n, nfds, rep);
		if (ret < 0) {
			close_cmsg_fds(&mh);
			hbmem_err_log("malformed reply from hbmemd: %s",
				      strerror(-ret));
			return -EPROTO;
		}
		if (rep->hdr.seq == seq &&
		    (rep->hdr.type & HBMEM_MSG_REPLY)) {
			*fd_out = got;
			return 0;
		}
		/* an earlier one-way message failed: say so, go on */
		if (got >= 0)
			close(got);
		if (rep->hdr.type == HBMEM_MSG_ERROR)
			hbmem_debug("hbmemd refused message %u: %s",
				    rep->hdr.seq,
				    strerror(-rep->u.count_rep.status));
	}
}
