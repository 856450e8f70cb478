// SPDX-License-Identifier: MIT
/*
 * The hbmemsink/hbmemsrc wire protocol on its own: sockets, framing, fd
 * passing, and every kind of hostile datagram a peer could send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hbmemipc.h"

static int count_fds(void)
{
	GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
	int n = 0;

	g_assert_nonnull(d);
	while (g_dir_read_name(d))
		n++;
	g_dir_close(d);
	return n;
}

static void make_pair(int sv[2])
{
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC |
					    SOCK_NONBLOCK, 0, sv), ==, 0);
}

static int sealed_memfd(size_t size, gboolean seal)
{
	int fd = memfd_create("test-ipc", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)size), ==, 0);
	if (seal)
		g_assert_cmpint(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), ==, 0);
	return fd;
}

/* Send raw bytes (no framing help) with @n_fds copies of @fd. */
static void send_raw(int sock, const void *data, size_t len, int fd,
		     int n_fds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)];
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[8], i;

	if (n_fds) {
		struct cmsghdr *c;

		for (i = 0; i < n_fds; i++)
			fds[i] = fd;
		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	g_assert_cmpint(sendmsg(sock, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* A framed message with a header we build ourselves. */
static void send_framed(int sock, uint32_t magic, uint16_t version,
			uint16_t type, uint32_t size_field, const void *payload,
			size_t len, int fd, int n_fds)
{
	guint8 buf[HBMEM_IPC_MAX_MSG * 2];
	struct hbmem_ipc_header h = {
		.magic = magic, .version = version, .type = type,
		.size = size_field,
	};

	g_assert_cmpuint(sizeof(h) + len, <=, sizeof(buf));
	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), payload, len);
	send_raw(sock, buf, sizeof(h) + len, fd, n_fds);
}

static void expect_proto(int sock)
{
	struct hbmem_ipc_msg *msg = g_new0(struct hbmem_ipc_msg, 1);

	g_assert_cmpint(hbmem_ipc_recv(sock, msg), ==, -EPROTO);
	g_assert_cmpint(msg->n_fds, ==, 0);
	g_free(msg);
}

static void test_listen_rejects_bad_paths(void)
{
	char *dir = g_dir_make_tmp("hbmemipc-XXXXXX", NULL);
	char *file = g_build_filename(dir, "plain-file", NULL);
	char longp[200];
	gint64 t0;
	int fd = -1;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	g_assert_cmpint(hbmem_ipc_listen(NULL, &fd), ==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_listen("", &fd), ==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_listen(longp, &fd), ==, -ENAMETOOLONG);
	g_assert_true(g_file_set_contents(file, "keep me", -1, NULL));
	g_assert_cmpint(hbmem_ipc_listen(file, &fd), ==, -EEXIST);
	g_assert_true(g_file_test(file, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpint(hbmem_ipc_connect(longp, 0, &fd), ==, -ENAMETOOLONG);
	g_assert_cmpint(hbmem_ipc_connect(file, -1, &fd), ==, -EINVAL);
	/* no socket, and none will come: said at once, not after the wait */
	t0 = g_get_monotonic_time();
	g_assert_cmpint(hbmem_ipc_connect(file, 3000, &fd), ==, -ENOTSOCK);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 1000 * 1000);
	g_assert_cmpint(hbmem_ipc_connect(dir, 3000, &fd), ==, -ENOTSOCK);
	g_assert_cmpint(fd, ==, -1);
	g_unlink(file);
	g_rmdir(dir);
	g_free(file);
	g_free(dir);
}

static void test_listen_replaces_stale_socket_not_live_one(void)
{
	char *dir = g_dir_make_tmp("hbmemipc-XXXXXX", NULL);
	char *path = g_build_filename(dir, "sock", NULL);
	int l1, l2, c, a;

	g_assert_cmpint(hbmem_ipc_listen(path, &l1), ==, 0);
	g_assert_cmpint(hbmem_ipc_listen(path, &l2), ==, -EADDRINUSE);
	close(l1);	/* the file stays: a stale socket */
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpint(hbmem_ipc_listen(path, &l2), ==, 0);
	g_assert_cmpint(hbmem_ipc_connect(path, 1000, &c), ==, 0);
	g_assert_cmpint(hbmem_ipc_accept(l2, &a), ==, 0);
	g_assert_cmpint(hbmem_ipc_accept(l2, &a), ==, -EAGAIN) ;
	close(c);
	close(a);
	close(l2);
	g_unlink(path);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void test_connect_times_out_when_nobody_listens(void)
{
	char *dir = g_dir_make_tmp("hbmemipc-XXXXXX", NULL);
	char *path = g_build_filename(dir, "none", NULL);
	gint64 t0 = g_get_monotonic_time();
	int fd;

	g_assert_cmpint(hbmem_ipc_connect(path, 0, &fd), ==, -ENOENT);
	g_assert_cmpint(hbmem_ipc_connect(path, 200, &fd), ==, -ETIMEDOUT);
	g_assert_cmpint(g_get_monotonic_time() - t0, >=, 190 * 1000);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 5000 * 1000);
	g_rmdir(dir);
	g_free(path);
	g_free(dir);
}

static void test_every_message_type_round_trips(void)
{
	struct hbmem_ipc_msg *msg = g_new0(struct hbmem_ipc_msg, 1);
	struct hbmem_ipc_hello hello = { .pid = 42, .backlog = 3 };
	struct hbmem_ipc_mem mem = { .id = 7, .size = 4096 };
	struct hbmem_ipc_forget forget = { .id = 7 };
	struct hbmem_ipc_release rel = { .seq = 99 };
	struct hbmem_ipc_buffer buf = {
		.seq = 5, .pts = 1000, .dts = (uint64_t)-1, .duration = 33,
		.flags = 0x40, .n_mems = 1,
		.mem = { { .id = 7, .offset = 0, .size = 3000 } },
		.video = { .format = 23, .width = 64, .height = 32,
			   .n_planes = 2, .offset = { 0, 2048 },
			   .stride = { 64, 64 } },
	};
	int sv[2], mfd, before = count_fds();
	struct stat a, b;

	make_pair(sv);
	mfd = sealed_memfd(4096, TRUE);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, -EAGAIN);

	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_HELLO, &hello,
				       sizeof(hello), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_HELLO);
	g_assert_cmpint(msg->u.hello.pid, ==, 42);
	g_assert_cmpint(msg->u.hello.backlog, ==, 3);

	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_MEM, &mem, sizeof(mem),
				       &mfd, 1), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_MEM);
	g_assert_cmpint(msg->n_fds, ==, 1);
	g_assert_cmpint(msg->u.mem.id, ==, 7);
	/* the same file arrived, as a new fd owned by the message */
	g_assert_cmpint(fstat(mfd, &a), ==, 0);
	g_assert_cmpint(fstat(msg->fds[0], &b), ==, 0);
	g_assert_cmpint(a.st_ino, ==, b.st_ino);
	g_assert_cmpint(msg->fds[0], !=, mfd);
	g_assert_cmpint(fcntl(msg->fds[0], F_GETFD) & FD_CLOEXEC, !=, 0);
	hbmem_ipc_msg_clear(msg);
	g_assert_cmpint(msg->n_fds, ==, 0);

	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_BUFFER, &buf,
				       sizeof(buf), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_BUFFER);
	g_assert_cmpmem(&msg->u.buffer, sizeof(buf), &buf, sizeof(buf));

	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_FORGET, &forget,
				       sizeof(forget), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->u.forget.id, ==, 7);

	g_assert_cmpint(hbmem_ipc_send(sv[1], HBMEM_IPC_RELEASE, &rel,
				       sizeof(rel), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[0], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_RELEASE);
	g_assert_cmpuint(msg->u.release.seq, ==, 99);

	g_assert_cmpint(hbmem_ipc_send_event(sv[1], 0x1234, 8,
					     "qos, proportion=(double)1.5;"),
			==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[0], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_EVENT);
	g_assert_cmpint(msg->u.event.type, ==, 0x1234);
	g_assert_cmpint(msg->u.event.seqnum, ==, 8);
	g_assert_cmpstr(hbmem_ipc_event_text(msg), ==,
			"qos, proportion=(double)1.5;");
	g_assert_cmpint(hbmem_ipc_send_event(sv[1], 1, 1, NULL), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[0], msg), ==, 0);
	g_assert_cmpstr(hbmem_ipc_event_text(msg), ==, "");

	close(mfd);
	close(sv[1]);
	g_assert_cmpint(hbmem_ipc_recv(sv[0], msg), ==, -ECONNRESET);
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_RELEASE, &rel,
				       sizeof(rel), NULL, 0), ==, -EPIPE);
	close(sv[0]);
	g_assert_cmpint(count_fds(), ==, before);
	g_free(msg);
}

static void test_send_rejects_bad_arguments(void)
{
	guint8 big[HBMEM_IPC_MAX_MSG];
	char *text = g_malloc(HBMEM_IPC_MAX_MSG + 1);
	int sv[2], fds[2] = { 0, 1 };

	make_pair(sv);
	memset(big, 0, sizeof(big));
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_EVENT, big,
				       sizeof(big), NULL, 0), ==, -EMSGSIZE);
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_MEM, big, 16, fds, 2),
			==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_MEM, big, 16, NULL, 1),
			==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_MEM, NULL, 16, NULL, 0),
			==, -EINVAL);
	memset(text, 'x', HBMEM_IPC_MAX_MSG);
	text[HBMEM_IPC_MAX_MSG] = '\0';
	g_assert_cmpint(hbmem_ipc_send_event(sv[0], 1, 1, text), ==,
			-EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
	g_free(text);
}

static void test_recv_rejects_hostile_datagrams(void)
{
	struct hbmem_ipc_mem mem = { .id = 1, .size = 4096 };
	struct hbmem_ipc_buffer buf = {
		.n_mems = 1, .mem = { { .id = 1, .size = 10 } },
	};
	struct {
		struct hbmem_ipc_event ev;
		char text[8];
	} ev = { .ev = { .type = 1, .len = 8 } };
	guint8 huge[HBMEM_IPC_MAX_MSG + 64];
	int sv[2], mfd, before;

	make_pair(sv);
	mfd = sealed_memfd(4096, TRUE);
	before = count_fds();

	/* shorter than a header */
	send_raw(sv[0], "HBM", 3, -1, 0);
	expect_proto(sv[1]);
	/* wrong magic, wrong version, reserved bits */
	send_framed(sv[0], 0xdeadbeef, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), mfd, 1);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, 99, HBMEM_IPC_MEM, sizeof(mem),
		    &mem, sizeof(mem), mfd, 1);
	expect_proto(sv[1]);
	/* size field disagrees with the datagram (truncated payload) */
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem) - 4, mfd, 1);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem) + 4, &mem, sizeof(mem), mfd, 1);
	expect_proto(sv[1]);
	/* unknown types */
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, 0, 0, NULL, 0,
		    -1, 0);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, 77, sizeof(mem),
		    &mem, sizeof(mem), -1, 0);
	expect_proto(sv[1]);
	/* wrong fd counts: MEM without, with two, BUFFER with one */
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), -1, 0);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), mfd, 2);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), mfd, 8);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_BUFFER, sizeof(buf), &buf, sizeof(buf), mfd, 1);
	expect_proto(sv[1]);
	/* bad fields: id 0, unknown flag, no memory, too many, overflow */
	mem.id = 0;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), mfd, 1);
	expect_proto(sv[1]);
	mem.id = 1;
	mem.flags = 0x80;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_MEM,
		    sizeof(mem), &mem, sizeof(mem), mfd, 1);
	expect_proto(sv[1]);
	buf.n_mems = 0;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_BUFFER, sizeof(buf), &buf, sizeof(buf), -1, 0);
	expect_proto(sv[1]);
	buf.n_mems = HBMEM_IPC_MAX_MEMS + 1;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_BUFFER, sizeof(buf), &buf, sizeof(buf), -1, 0);
	expect_proto(sv[1]);
	buf.n_mems = 1;
	buf.mem[0].offset = G_MAXUINT64 - 4;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_BUFFER, sizeof(buf), &buf, sizeof(buf), -1, 0);
	expect_proto(sv[1]);
	buf.mem[0].offset = 0;
	buf.video.n_planes = 5;
	buf.video.width = buf.video.height = 16;
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_BUFFER, sizeof(buf), &buf, sizeof(buf), -1, 0);
	expect_proto(sv[1]);
	/* events: no NUL, NUL inside, length beyond the payload */
	memcpy(ev.text, "abcdefgh", 8);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_EVENT,
		    sizeof(ev), &ev, sizeof(ev), -1, 0);
	expect_proto(sv[1]);
	memcpy(ev.text, "ab\0defg", 8);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_EVENT,
		    sizeof(ev), &ev, sizeof(ev), -1, 0);
	expect_proto(sv[1]);
	ev.ev.len = 4000;
	memcpy(ev.text, "abcdefg", 8);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_EVENT,
		    sizeof(ev), &ev, sizeof(ev), -1, 0);
	expect_proto(sv[1]);
	/*
	 * an empty datagram is no message, and with fds it is no shutdown
	 * either: refused, its fds closed (they were leaked as a "reset")
	 */
	send_raw(sv[0], "", 0, mfd, 1);
	expect_proto(sv[1]);
	g_assert_cmpint(count_fds(), ==, before);
	/* larger than any message: truncated by the kernel, rejected */
	memset(huge, 0, sizeof(huge));
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION, HBMEM_IPC_EVENT,
		    sizeof(huge), huge, sizeof(huge), mfd, 1);
	expect_proto(sv[1]);

	/* every fd that came with a rejected message was closed */
	g_assert_cmpint(count_fds(), ==, before);
	/* and the connection still works for good messages */
	mem.flags = 0;
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_MEM, &mem, sizeof(mem),
				       &mfd, 1), ==, 0);
	{
		struct hbmem_ipc_msg *msg = g_new0(struct hbmem_ipc_msg, 1);

		g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
		hbmem_ipc_msg_clear(msg);
		g_free(msg);
	}
	g_assert_cmpint(count_fds(), ==, before);
	close(mfd);
	close(sv[0]);
	close(sv[1]);
}

static void test_send_to_stalled_peer_fails_fast(void)
{
	struct hbmem_ipc_release rel = { .seq = 1 };
	gint64 t0 = g_get_monotonic_time();
	int sv[2], i, ret = 0;

	make_pair(sv);
	/* nobody reads sv[1]: the queue fills and send says so at once */
	for (i = 0; i < 1000000 && ret == 0; i++)
		ret = hbmem_ipc_send(sv[0], HBMEM_IPC_RELEASE, &rel,
				     sizeof(rel), NULL, 0);
	g_assert_cmpint(ret, ==, -EAGAIN);
	g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
	close(sv[0]);
	close(sv[1]);
}

static void test_check_fd_accepts_only_unshrinkable_memory(void)
{
	int sealed = sealed_memfd(8192, TRUE);
	int open_ended = sealed_memfd(8192, FALSE);
	int p[2], dmabuf = -1;
	char *path;
	int file;

	g_assert_cmpint(hbmem_ipc_check_fd(sealed, 8192, &dmabuf), ==, 0);
	g_assert_cmpint(dmabuf, ==, 0);
	g_assert_cmpint(hbmem_ipc_check_fd(sealed, 8193, NULL), ==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_check_fd(sealed, 0, NULL), ==, -EINVAL);
	g_assert_cmpint(hbmem_ipc_check_fd(open_ended, 4096, NULL), ==,
			-EINVAL);
	g_assert_cmpint(hbmem_ipc_check_fd(-1, 4096, NULL), ==, -EINVAL);
	/*
	 * the sealed memfd reopened write-only or as an O_PATH handle: no
	 * mapping of either can be made (write-only passed, and every frame
	 * of its block then failed to map downstream)
	 */
	{
		char *self = g_strdup_printf("/proc/self/fd/%d", sealed);
		int wo = open(self, O_WRONLY | O_CLOEXEC);
		int op = open(self, O_PATH | O_CLOEXEC);

		g_assert_cmpint(wo, >=, 0);
		g_assert_cmpint(op, >=, 0);
		g_assert_cmpint(hbmem_ipc_check_fd(wo, 4096, NULL), ==, -EINVAL);
		g_assert_cmpint(hbmem_ipc_check_fd(op, 4096, NULL), ==, -EINVAL);
		close(wo);
		close(op);
		g_free(self);
	}
	g_assert_cmpint(pipe(p), ==, 0);
	g_assert_cmpint(hbmem_ipc_check_fd(p[0], 1, NULL), ==, -EINVAL);
	file = g_file_open_tmp("hbmemipc-XXXXXX", &path, NULL);
	g_assert_cmpint(file, >=, 0);
	g_assert_cmpint(ftruncate(file, 8192), ==, 0);
	g_assert_cmpint(hbmem_ipc_check_fd(file, 4096, NULL), ==, -EINVAL);
	g_unlink(path);
	g_free(path);
	close(file);
	close(p[0]);
	close(p[1]);
	close(sealed);
	close(open_ended);
}

/* One RELEASE carries a batch of seqs; a batch of a bad size is refused. */
static void test_release_batches(void)
{
	struct hbmem_ipc_msg *msg = g_new0(struct hbmem_ipc_msg, 1);
	uint64_t seqs[HBMEM_IPC_MAX_RELEASES + 1];
	guint8 odd[12] = { 0 };
	int sv[2], i;

	for (i = 0; i < HBMEM_IPC_MAX_RELEASES + 1; i++)
		seqs[i] = 1000 + i;
	make_pair(sv);
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_RELEASE, seqs,
				       3 * sizeof(uint64_t), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_RELEASE);
	g_assert_cmpuint(HBMEM_IPC_RELEASE_COUNT(msg), ==, 3);
	g_assert_cmpuint(msg->u.release.seq, ==, 1000);
	g_assert_cmpuint(msg->u.release_seq[2], ==, 1002);
	/* the largest batch passes whole */
	g_assert_cmpint(hbmem_ipc_send(sv[0], HBMEM_IPC_RELEASE, seqs,
				       HBMEM_IPC_MAX_RELEASES *
				       sizeof(uint64_t), NULL, 0), ==, 0);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpuint(HBMEM_IPC_RELEASE_COUNT(msg), ==,
			 HBMEM_IPC_MAX_RELEASES);
	g_assert_cmpuint(msg->u.release_seq[HBMEM_IPC_MAX_RELEASES - 1], ==,
			 1000 + HBMEM_IPC_MAX_RELEASES - 1);
	/* one seq too many, a partial seq, none at all */
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_RELEASE, sizeof(seqs), seqs, sizeof(seqs), -1, 0);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_RELEASE, sizeof(odd), odd, sizeof(odd), -1, 0);
	expect_proto(sv[1]);
	send_framed(sv[0], HBMEM_IPC_MAGIC, HBMEM_IPC_VERSION,
		    HBMEM_IPC_RELEASE, 0, NULL, 0, -1, 0);
	expect_proto(sv[1]);
	close(sv[0]);
	close(sv[1]);
	g_free(msg);
}

/*
 * A peer that closes with our messages unread (a sink stopping while a
 * release is in flight) still delivers what it sent before closing.
 */
static void test_close_with_unread_messages_keeps_queued_ones(void)
{
	struct hbmem_ipc_msg *msg = g_new0(struct hbmem_ipc_msg, 1);
	struct hbmem_ipc_release rel = { .seq = 5 };
	int sv[2];

	make_pair(sv);
	g_assert_cmpint(hbmem_ipc_send_event(sv[0], 7, 1, "eos;"), ==, 0);
	g_assert_cmpint(hbmem_ipc_send(sv[1], HBMEM_IPC_RELEASE, &rel,
				       sizeof(rel), NULL, 0), ==, 0);
	close(sv[0]);	/* the release is never read */
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, 0);
	g_assert_cmpint(msg->type, ==, HBMEM_IPC_EVENT);
	g_assert_cmpint(msg->u.event.type, ==, 7);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, -ECONNRESET);
	g_assert_cmpint(hbmem_ipc_recv(sv[1], msg), ==, -ECONNRESET);
	close(sv[1]);
	g_free(msg);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/hbmemipc/listen-rejects-bad-paths",
			test_listen_rejects_bad_paths);
	g_test_add_func("/hbmemipc/listen-replaces-stale-socket-not-live-one",
			test_listen_replaces_stale_socket_not_live_one);
	g_test_add_func("/hbmemipc/connect-times-out-when-nobody-listens",
			test_connect_times_out_when_nobody_listens);
	g_test_add_func("/hbmemipc/send-rejects-bad-arguments",
			test_send_rejects_bad_arguments);
	g_test_add_func("/hbmemipc/recv-rejects-hostile-datagrams",
			test_recv_rejects_hostile_datagrams);
	g_test_add_func("/hbmemipc/every-message-type-round-trips",
			test_every_message_type_round_trips);
	g_test_add_func("/hbmemipc/close-with-unread-messages-keeps-queued-ones",
			test_close_with_unread_messages_keeps_queued_ones);
	g_test_add_func("/hbmemipc/release-batches",
			test_release_batches);
	g_test_add_func("/hbmemipc/send-to-stalled-peer-fails-fast",
			test_send_to_stalled_peer_fails_fast);
	g_test_add_func("/hbmemipc/check-fd-accepts-only-unshrinkable-memory",
			test_check_fd_accepts_only_unshrinkable_memory);
	return g_test_run();
}
