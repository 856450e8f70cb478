// SPDX-License-Identifier: MIT
/*
 * hbmemd: the hbmem sharing broker for machines without the hbmem kernel
 * driver. It keeps one fd per shared buffer, the share client and consume
 * counts, and hands a new fd to a process that imports by share id
 * (docs/sharing.md).
 *
 *   hbmemd [--foreground] [--idle-exit=SECONDS] [--allow-group=GROUP]
 *          [--socket=PATH] [--verbose]
 *
 * Socket: --socket, else as libhbmem finds it (lib/broker_path.c). Beside
 * it, PATH.lock (one broker per socket: a second one exits at once with
 * status 0) and PATH.state (the next share id block, so that a restarted
 * broker does not hand out ids that surviving holders still use).
 *
 * Without --foreground it detaches (fork, setsid). libhbmem starts it with
 * --foreground --idle-exit, detached by the library itself.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hbmemd.h"
#include "broker_path.h"

struct hbmemd_config hbmemd_cfg;

static int state_fd = -1;

void hbmemd_log(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > hbmemd_cfg.verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "hbmemd[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void hbmemd_state_save(int32_t next_block)
{
	if (state_fd >= 0 &&
	    pwrite(state_fd, &next_block, sizeof(next_block), 0) !=
		    (ssize_t)sizeof(next_block))
		hbmemd_log(1, "state file not written: %s", strerror(errno));
}

int32_t hbmemd_state_load(void)
{
	int32_t v = 0;

	if (state_fd < 0 ||
	    pread(state_fd, &v, sizeof(v), 0) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hbmemd [--foreground] [--idle-exit=SECONDS] "
		"[--allow-group=GROUP] [--socket=PATH] [--verbose]\n");
}

static int parse_group(const char *s, gid_t *out)
{
	struct group *g = getgrnam(s);
	char *end;
	long v;

	if (g) {
		*out = g->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0)
		return -EINVAL;
	*out = (gid_t)v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "idle-exit", required_argument, NULL, 'i' },
		{ "allow-group", required_argument, NULL, 'g' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "fi:g:s:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			hbmemd_cfg.foreground = true;
			break;
		case 'i':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || v < 0 || v > 86400 * 365)
				return -EINVAL;
			hbmemd_cfg.idle_exit_s = (int)v;
			break;
		case 'g':
			if (parse_group(optarg, &hbmemd_cfg.allow_group) < 0)
				return -EINVAL;
			hbmemd_cfg.allow_group_set = true;
			break;
		case 's':
			hbmemd_cfg.socket_path = optarg;
			break;
		case 'v':
			hbmemd_cfg.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	return optind == argc ? 0 : -EINVAL;
}

/* Make the socket's directory (its last component only) if missing. */
static int make_dir(const char *path)
{
	char *copy = strdup(path), *dir;
	mode_t mode = hbmemd_cfg.allow_group_set ? 0750 : 0700;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, mode) < 0) {
		if (errno != EEXIST)
			ret = -errno;
	} else if (chmod(dir, mode) < 0 ||	/* past the umask */
		   (hbmemd_cfg.allow_group_set &&
		    chown(dir, (uid_t)-1, hbmemd_cfg.allow_group) < 0)) {
		ret = -errno;
	}
	free(copy);
	return ret;
}

/* One broker per socket: the lock is held for the daemon's life. */
static int take_lock(const char *path)
{
	char lock[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	int fd;

	snprintf(lock, sizeof(lock), "%s.lock", path);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	snprintf(lock, sizeof(lock), "%s.state", path);
	state_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	return fd;
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t mode = hbmemd_cfg.allow_group_set ? 0660 : 0600;
	int fd, ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(path);	/* a dead broker's: we hold the lock */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, mode) < 0 ||
	    (hbmemd_cfg.allow_group_set &&
	     chown(path, (uid_t)-1, hbmemd_cfg.allow_group) < 0) ||
	    listen(fd, 128) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	return fd;
}

/* Room for an fd per unit: the soft limit up to the hard one. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int lock_fd, lfd, ret;

	if (parse_args(argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (hbmemd_cfg.socket_path) {
		if (strlen(hbmemd_cfg.socket_path) >= sizeof(path)) {
			fprintf(stderr, "hbmemd: socket path too long\n");
			return 2;
		}
		snprintf(path, sizeof(path), "%s", hbmemd_cfg.socket_path);
	} else if ((ret = hbmem_broker_socket_path(path, sizeof(path))) < 0) {
		fprintf(stderr, "hbmemd: no socket path (set "
				"XDG_RUNTIME_DIR or HBMEM_BROKER_SOCKET): %s\n",
			strerror(-ret));
		return 2;
	}
	umask(077);
	ret = make_dir(path);
	if (ret < 0) {
		hbmemd_log(0, "cannot make the socket directory: %s",
			   strerror(-ret));
		return 1;
	}
	lock_fd = take_lock(path);
	if (lock_fd == -EWOULDBLOCK) {
		hbmemd_log(1, "a broker already serves %s", path);
		return 0;
	}
	if (lock_fd < 0) {
		hbmemd_log(0, "cannot lock %s.lock: %s", path,
			   strerror(-lock_fd));
		return 1;
	}
	lfd = listen_on(path);
	if (lfd < 0) {
		hbmemd_log(0, "cannot listen on %s: %s", path, strerror(-lfd));
		return 1;
	}
	if (!hbmemd_cfg.foreground && daemon(0, 0) < 0) {
		hbmemd_log(0, "cannot detach: %s", strerror(errno));
		return 1;
	}
	raise_fd_limit();
	units_init(hbmemd_state_load());
	hbmemd_log(2, "serving %s", path);
	ret = server_run(lfd);
	unlink(path);
	close(lfd);
	if (state_fd >= 0)
		close(state_fd);
	close(lock_fd);
	return ret < 0 ? 1 : 0;
}
