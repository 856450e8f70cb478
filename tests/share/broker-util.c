// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-util.h"
#include "broker.h"

void broker_setup(BrokerFixture *f, gconstpointer data)
{
	GError *err = NULL;

	(void)data;
	f->dir = g_dir_make_tmp("hbmem-broker-XXXXXX", &err);
	g_assert_no_error(err);
	f->sock = g_build_filename(f->dir, "hbmemd.sock", NULL);
	g_setenv("HBMEM_BROKER_SOCKET", f->sock, TRUE);
	f->fds_before = test_count_fds();
	assert_ok(hb_mem_module_open());
}

/* Running (a zombie waiting for init to reap it is not). */
static bool pid_alive(pid_t pid)
{
	char path[64], buf[256], *p;
	gchar *text = NULL;
	bool alive;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return false;
	g_strlcpy(buf, text, sizeof(buf));
	g_free(text);
	p = strrchr(buf, ')');
	alive = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	return alive;
}

static void stop_broker(void)
{
	pid_t pid = broker_pid();
	int i;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 2500 && pid_alive(pid); i++)
		g_usleep(2 * 1000);
	g_assert_false(pid_alive(pid));
}

void broker_teardown(BrokerFixture *f, gconstpointer data)
{
	char *p;

	(void)data;
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, f->fds_before);
	if (broker_pid() > 0)
		broker_wait_units(0);
	stop_broker();
	p = g_strconcat(f->sock, ".lock", NULL);
	unlink(p);
	g_free(p);
	p = g_strconcat(f->sock, ".state", NULL);
	unlink(p);
	g_free(p);
	unlink(f->sock);
	g_assert_cmpint(rmdir(f->dir), ==, 0);
	g_free(f->sock);
	g_free(f->dir);
}

pid_t broker_pid(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = g_getenv("HBMEM_BROKER_SOCKET");
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t pid = -1;
	int fd;

	g_assert_nonnull(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		pid = cred.pid;
	close(fd);
	return pid;
}

void proc_fd_kinds(pid_t pid, int *sockets, int *memfds, int *total)
{
	char dir[64], path[384], link[256];
	struct dirent *e;
	DIR *d;

	*sockets = *memfds = *total = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	g_assert_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		(*total)++;
		if (!strncmp(link, "socket:", 7))
			(*sockets)++;
		else if (!strncmp(link, "/memfd:", 7))
			(*memfds)++;
	}
	closedir(d);
	if (pid == getpid()) {
		/* the directory's own fd */
		(*total)--;
	}
}

int broker_units(struct hbmem_rep_status *st)
{
	int ret = _hbmem_broker_status(0, st);

	g_assert_cmpint(ret, ==, 0);
	return (int)st->total_units;
}

const struct hbmem_status_unit *status_find(const struct hbmem_rep_status *st,
					    int32_t id)
{
	uint32_t i;

	for (i = 0; i < st->n_units; i++)
		if (st->unit[i].id == id)
			return &st->unit[i];
	return NULL;
}

void broker_wait_units(unsigned int n)
{
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	int i;

	for (i = 0; i < 500; i++) {
		if ((unsigned int)broker_units(st) == n)
			break;
		g_usleep(10 * 1000);
	}
	g_assert_cmpuint(st->total_units, ==, n);
	g_free(st);
}

pid_t spawn_child(int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		alarm(20);
		_exit(fn(arg));
	}
	return pid;
}

int reap_child(pid_t pid)
{
	int status, i;

	/* bounded: 20 s at most (the child's alarm is as long) */
	for (i = 0; i < 2100; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		g_assert_cmpint(r, >=, 0);
		if (r == pid)
			return WIFSIGNALED(status) ? -WTERMSIG(status)
						   : WEXITSTATUS(status);
		g_usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	g_error("child %d did not exit", (int)pid);
	return -1;
}

static bool io_full(int fd, void *buf, size_t len, bool wr)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = { .fd = fd, .events = wr ? POLLOUT : POLLIN };
		ssize_t n;

		if (poll(&p, 1, 10000) <= 0)
			return false;
		n = wr ? write(fd, (char *)buf + done, len - done)
		       : read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

bool read_full(int fd, void *buf, size_t len)
{
	return io_full(fd, buf, len, false);
}

bool write_full(int fd, const void *buf, size_t len)
{
	return io_full(fd, (void *)buf, len, true);
}
