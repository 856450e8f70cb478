// SPDX-License-Identifier: MIT
/*
 * The broker against hostile peers: a process of another uid is refused
 * (by the socket's permissions, and by the broker's SO_PEERCRED check when
 * the permissions let it through), a peer cannot resize a shared memfd
 * (seals), and malformed messages on a raw socket (short, oversized,
 * unknown type, bad magic, replies, stray or extra fds, bad ids, ids
 * outside the lease, unsealed memory) each get an error reply while the
 * broker keeps serving and keeps no fd it was sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-util.h"
#include "broker.h"

#define NOBODY 65534

static int raw_connect(int *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_assert_cmpint(fd, >=, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
		 g_getenv("HBMEM_BROKER_SOCKET"));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	*err = 0;
	return fd;
}

static void raw_send(int sock, const void *buf, size_t len, const int *fds,
		     int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	g_assert_cmpint(sendmsg(sock, &mh, MSG_NOSIGNAL), ==, (ssize_t)len);
}

/* The reply to @seq, parsed; its fd (if any) is closed. */
static void raw_reply(int sock, uint32_t seq, struct hbmem_msg *m)
{
	int fd = -1;

	g_assert_cmpint(_hbmem_broker_recv(sock, seq, m, &fd, 5000), ==, 0);
	if (fd >= 0)
		close(fd);
}

/* Any reply with @seq (ERROR replies to one-way messages included). */
static void expect_error(int sock, uint32_t seq, int err)
{
	struct hbmem_msg m;
	int fd = -1;

	g_assert_cmpint(_hbmem_broker_recv(sock, seq, &m, &fd, 5000), ==, 0);
	g_assert_cmpint(fd, ==, -1);
	g_assert_cmpint(m.hdr.type, ==, HBMEM_MSG_ERROR);
	g_assert_cmpint(m.u.count_rep.status, ==, err);
}

/*
 * Offer @tabfd as the publication table, naming it as fd number @named
 * in the message: the broker's status in its reply to @seq.
 */
static int32_t send_hello(int sock, uint32_t seq, int tabfd, int named)
{
	struct hbmem_msg m, rep;

	hbmem_proto_init(&m, HBMEM_MSG_HELLO, seq);
	m.u.hello.slots = HBMEM_PUB_SLOTS;
	m.u.hello.slot_size = sizeof(struct hbmem_pub_slot);
	m.u.hello.fd = named;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), &tabfd, 1);
	raw_reply(sock, seq, &rep);
	g_assert_cmpint(rep.hdr.type, ==, HBMEM_MSG_HELLO | HBMEM_MSG_REPLY);
	return rep.u.count_rep.status;
}

static int sealed_memfd(size_t len, bool seal)
{
	int fd = memfd_create("hbmem-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(ftruncate(fd, (off_t)len), ==, 0);
	if (seal)
		g_assert_cmpint(fcntl(fd, F_ADD_SEALS,
				      F_SEAL_SHRINK | F_SEAL_GROW), ==, 0);
	return fd;
}

/* ---- another uid -------------------------------------------------------- */

static int become_nobody(void)
{
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return -1;
	return 0;
}

/* The socket's directory is ours alone: connect() itself fails. */
static int nobody_blocked_fn(void *arg)
{
	int err;

	(void)arg;
	if (become_nobody() < 0)
		return 10;
	if (raw_connect(&err) >= 0)
		return 11;
	return err == EACCES ? 0 : 12;
}

/*
 * Permissions opened up: the broker itself refuses the peer, and the
 * library in that process falls back to sharing inside it, where the
 * parent's share id means nothing.
 */
static int nobody_refused_fn(void *arg)
{
	hb_mem_common_buf_t *c = arg, out;
	struct hbmem_msg m;
	int err, sock, fd = -1;

	if (become_nobody() < 0)
		return 10;
	sock = raw_connect(&err);
	if (sock < 0)
		return 11;
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 5);
	if (_hbmem_broker_send(sock, &m, -1) == 0 &&
	    _hbmem_broker_recv(sock, 5, &m, &fd, 5000) == 0)
		return 12;	/* answered: not refused */
	close(sock);
	g_setenv("HBMEM_AUTOSPAWN", "0", TRUE);
	if (hb_mem_module_close() != 0 || hb_mem_module_open() != 0)
		return 13;
	if (hb_mem_import_com_buf(c, &out) != HB_MEM_ERR_INVALID_PARAMS)
		return 14;
	hb_mem_module_close();
	return 0;
}

static void test_another_uid_is_refused(BrokerFixture *f, gconstpointer d)
{
	hb_mem_common_buf_t c, sent;
	int32_t cnt;
	pid_t pid;

	if (geteuid() != 0) {
		g_test_skip("needs root to become another uid");
		return;
	}
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	sent = c;
	sent.fd = -1;
	sent.virt_addr = NULL;
	pid = spawn_child(nobody_blocked_fn, NULL);
	g_assert_cmpint(reap_child(pid), ==, 0);
	g_assert_cmpint(chmod(f->dir, 0755), ==, 0);
	g_assert_cmpint(chmod(f->sock, 0666), ==, 0);
	pid = spawn_child(nobody_refused_fn, &sent);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	assert_ok(hb_mem_free_buf(c.fd));
}

/*
 * A broker run by hand with --allow-group: it makes the directory and the
 * socket the group's, and serves a process of another uid in that group,
 * as its primary group (@arg NULL) or only as a supplementary one.
 */
#define OTHER_GID 54321	/* a gid nothing uses */

static int group_member_fn(void *arg)
{
	gid_t primary = arg ? OTHER_GID : NOBODY, supplementary = NOBODY;
	struct hbmem_msg m;
	int err, sock, fd = -1;

	if (setgroups(arg ? 1 : 0, &supplementary) < 0 ||
	    setresgid(primary, primary, primary) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return 10;
	sock = raw_connect(&err);
	if (sock < 0)
		return 11;
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 5);
	if (_hbmem_broker_send(sock, &m, -1) != 0 ||
	    _hbmem_broker_recv(sock, 5, &m, &fd, 5000) != 0 ||
	    m.u.lease_rep.status != 0)
		return 12;
	close(sock);
	return 0;
}

static void test_allowed_group_is_served(void)
{
	/* static: still reachable from the forked child (valgrind) */
	static char *dir, *sub, *sock, *lock, *state, *sock_arg;
	const char *bin = g_getenv("HBMEM_BROKER_PATH");
	struct stat st;
	pid_t broker, pid;
	int i, status;

	if (geteuid() != 0) {
		g_test_skip("needs root to become another uid");
		return;
	}
	dir = g_dir_make_tmp("hbmem-group-XXXXXX", NULL);
	sub = g_build_filename(dir, "run", NULL);
	sock = g_build_filename(sub, "hbmemd.sock", NULL);
	lock = g_strconcat(sock, ".lock", NULL);
	state = g_strconcat(sock, ".state", NULL);
	sock_arg = g_strconcat("--socket=", sock, NULL);
	g_assert_cmpint(chmod(dir, 0755), ==, 0);
	broker = fork();
	g_assert_cmpint(broker, >=, 0);
	if (broker == 0) {
		execl(bin, bin, "--foreground", "--idle-exit=5",
		      "--allow-group=65534", sock_arg, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && stat(sock, &st) < 0; i++)
		g_usleep(2000);
	g_assert_cmpint(stat(sock, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0660);
	g_assert_cmpint(st.st_gid, ==, NOBODY);
	g_assert_cmpint(stat(sub, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0750);
	g_assert_cmpint(st.st_gid, ==, NOBODY);
	g_setenv("HBMEM_BROKER_SOCKET", sock, TRUE);
	pid = spawn_child(group_member_fn, NULL);
	g_assert_cmpint(reap_child(pid), ==, 0);
	pid = spawn_child(group_member_fn, "supplementary");
	g_assert_cmpint(reap_child(pid), ==, 0);
	kill(broker, SIGTERM);
	g_assert_cmpint(waitpid(broker, &status, 0), ==, broker);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* a clean exit takes its socket along */
	g_assert_cmpint(stat(sock, &st), <, 0);
	unlink(lock);
	unlink(state);
	g_assert_cmpint(rmdir(sub), ==, 0);
	g_assert_cmpint(rmdir(dir), ==, 0);
	g_free(sock_arg);
	g_free(state);
	g_free(lock);
	g_free(sock);
	g_free(sub);
	g_free(dir);
}

/* ---- seals -------------------------------------------------------------- */

static int resize_fn(void *arg)
{
	hb_mem_common_buf_t *c = arg, out;
	int ret = 0;

	if (hb_mem_module_open() != 0 || hb_mem_import_com_buf(c, &out) != 0)
		return 10;
	if (ftruncate(out.fd, 0) == 0 || errno != EPERM)
		ret = 11;
	else if (ftruncate(out.fd, 1 << 20) == 0 || errno != EPERM)
		ret = 12;
	else if (fcntl(out.fd, F_ADD_SEALS, F_SEAL_WRITE) == 0)
		ret = 13;	/* sealed for good: nobody adds seals */
	hb_mem_free_buf(out.fd);
	hb_mem_module_close();
	return ret;
}

static void test_peer_cannot_resize_a_shared_memfd(BrokerFixture *f,
						   gconstpointer d)
{
	hb_mem_common_buf_t c, sent;
	char name[16];
	pid_t pid;

	assert_ok(hb_mem_get_backend(name, sizeof(name), NULL));
	if (strcmp(name, "memfd")) {
		g_test_skip("seals are the memfd backend's");
		return;
	}
	assert_ok(hb_mem_alloc_com_buf(8192, 0, &c));
	sent = c;
	sent.fd = -1;
	sent.virt_addr = NULL;
	pid = spawn_child(resize_fn, &sent);
	g_assert_cmpint(reap_child(pid), ==, 0);
	c.virt_addr[8191] = 1;	/* still mapped, still its size */
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ---- malformed messages ------------------------------------------------- */

static void test_malformed_messages_get_errors_and_broker_serves(
	BrokerFixture *f, gconstpointer d)
{
	unsigned char big[HBMEM_PROTO_MSG_MAX + 64];
	int memfds, sockets, total, fds2[2], err, sock;
	hb_mem_common_buf_t c;
	struct hbmem_msg m, rep;
	pid_t bpid;
	int32_t first;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	sock = raw_connect(&err);
	g_assert_cmpint(sock, >=, 0);

	/* too short, too long, wrong magic: unparsable, seq 0 */
	raw_send(sock, "abc", 3, NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	memset(big, 0, sizeof(big));
	hbmem_proto_init((struct hbmem_msg *)big, HBMEM_MSG_LEASE, 1);
	raw_send(sock, big, sizeof(big), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 2);
	m.hdr.magic = 0x1234;
	raw_send(sock, &m, hbmem_proto_size(HBMEM_MSG_LEASE), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	/* unknown type, and a reply sent to the broker */
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 3);
	m.hdr.type = 77;
	raw_send(sock, &m, 16, NULL, 0);
	expect_error(sock, 0, -EPROTO);
	hbmem_proto_init(&m, HBMEM_MSG_COUNT | HBMEM_MSG_REPLY, 4);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 4, -EPROTO);

	/* an fd where none belongs, two where one does: both closed */
	hbmem_proto_init(&m, HBMEM_MSG_RELEASE, 5);
	m.u.id.id = c.share_id;
	fds2[0] = sealed_memfd(4096, true);
	fds2[1] = sealed_memfd(4096, true);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 1);
	expect_error(sock, 0, -EINVAL);
	hbmem_proto_init(&m, HBMEM_MSG_REGISTER, 6);
	m.u.reg.id = 1;
	m.u.reg.size = 4096;
	m.u.reg.reserved = 4096;
	m.u.reg.holds = 1;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 2);
	expect_error(sock, 0, -EINVAL);

	/* bad ids and kinds */
	hbmem_proto_init(&m, HBMEM_MSG_IMPORT, 7);
	m.u.id.id = 0;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	hbmem_proto_init(&m, HBMEM_MSG_IMPORT, 8);
	m.u.id.id = -5;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	hbmem_proto_init(&m, HBMEM_MSG_IMPORT, 9);
	m.u.id.id = 0x7ffff000;	/* well-formed, names nothing */
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, 9, &rep);
	g_assert_cmpint(rep.hdr.type, ==, HBMEM_MSG_IMPORT | HBMEM_MSG_REPLY);
	g_assert_cmpint(rep.u.import_rep.status, ==, -ENOENT);
	hbmem_proto_init(&m, HBMEM_MSG_COUNT, 10);
	m.u.count.id = c.share_id;
	m.u.count.kind = 7;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	hbmem_proto_init(&m, HBMEM_MSG_CONSUME, 11);
	m.u.consume.id = c.share_id;
	m.u.consume.delta = 5;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 0, -EBADMSG);
	/* a release of a hold this peer does not have */
	hbmem_proto_init(&m, HBMEM_MSG_RELEASE, 12);
	m.u.id.id = c.share_id;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	expect_error(sock, 12, -ENOENT);

	/* registering: ids outside the lease, taken ids, unsealed memory */
	hbmem_proto_init(&m, HBMEM_MSG_REGISTER, 13);
	m.u.reg.id = c.share_id;
	m.u.reg.size = 4096;
	m.u.reg.reserved = 4096;
	m.u.reg.holds = 1;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 1);
	expect_error(sock, 13, -EINVAL);
	m.hdr.seq = 14;
	m.u.reg.flags = HBMEM_REG_RESTORE;	/* not the same memory */
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 1);
	expect_error(sock, 14, -EEXIST);
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 15);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, 15, &rep);
	g_assert_cmpint(rep.u.lease_rep.status, ==, 0);
	first = rep.u.lease_rep.first;
	close(fds2[0]);
	close(fds2[1]);
	fds2[0] = sealed_memfd(4096, false);
	hbmem_proto_init(&m, HBMEM_MSG_REGISTER, 16);
	m.u.reg.id = first;
	m.u.reg.size = 4096;
	m.u.reg.reserved = 4096;
	m.u.reg.holds = 1;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 1);
	expect_error(sock, 16, -EPERM);
	m.hdr.seq = 17;
	m.u.reg.size = 1 << 20;		/* larger than the memory */
	m.u.reg.reserved = 1 << 20;
	close(fds2[0]);
	fds2[0] = sealed_memfd(4096, true);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), fds2, 1);
	expect_error(sock, 17, -EINVAL);
	close(fds2[0]);

	/* and it still serves, us and the library */
	hbmem_proto_init(&m, HBMEM_MSG_COUNT, 18);
	m.u.count.id = c.share_id;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, 18, &rep);
	g_assert_cmpint(rep.hdr.type, ==, HBMEM_MSG_COUNT | HBMEM_MSG_REPLY);
	g_assert_cmpint(rep.u.count_rep.status, ==, 0);
	g_assert_cmpint(rep.u.count_rep.count, ==, 1);
	/* no fd it was sent was kept: just the one unit's */
	bpid = broker_pid();
	proc_fd_kinds(bpid, &sockets, &memfds, &total);
	g_assert_cmpint(memfds, ==, 1);
	close(sock);
	assert_ok(hb_mem_free_buf(c.fd));
	broker_wait_units(0);
	proc_fd_kinds(bpid, &sockets, &memfds, &total);
	g_assert_cmpint(memfds, ==, 0);
}

/* ---- a hostile publication table --------------------------------------- */

static void slot_set(struct hbmem_pub_slot *tab, int32_t id, int fd,
		     uint64_t size)
{
	struct hbmem_pub_slot *s = &tab[(uint32_t)id & (HBMEM_PUB_SLOTS - 1)];
	struct stat st;

	g_assert_cmpint(fstat(fd, &st), ==, 0);
	s->id = id;
	s->fd = fd;
	s->ino = st.st_ino;
	s->size = size;
	s->reserved = size;
	__atomic_store_n(&s->state, HBMEM_PUB_LOCAL, __ATOMIC_RELEASE);
}

static int32_t import_status(int sock, uint32_t seq, int32_t id)
{
	struct hbmem_msg m, rep;

	hbmem_proto_init(&m, HBMEM_MSG_IMPORT, seq);
	m.u.id.id = id;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, seq, &rep);
	return rep.u.import_rep.status;
}

static void test_hostile_publication_table_is_not_trusted(BrokerFixture *f,
							  gconstpointer d)
{
	int err, sock, tabfd, bad, good, other;
	struct hbmem_pub_slot *tab;
	hb_mem_common_buf_t c;
	struct hbmem_msg m, rep;
	int32_t first;
	size_t len = HBMEM_PUB_TABLE_SIZE;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	sock = raw_connect(&err);
	g_assert_cmpint(sock, >=, 0);
	hbmem_proto_init(&m, HBMEM_MSG_LEASE, 1);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, 1, &rep);
	first = rep.u.lease_rep.first;

	/* a table of the wrong size, then an unsealed one: refused */
	tabfd = sealed_memfd(4096, true);
	g_assert_cmpint(send_hello(sock, 2, tabfd, tabfd), ==, -EINVAL);
	close(tabfd);
	tabfd = sealed_memfd(len, false);
	g_assert_cmpint(send_hello(sock, 3, tabfd, tabfd), ==, -EINVAL);
	close(tabfd);
	/* a good one, but named by the wrong fd number: the probe fails */
	tabfd = sealed_memfd(len, true);
	tab = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, tabfd, 0);
	g_assert_true(tab != MAP_FAILED);
	g_assert_cmpint(send_hello(sock, 4, tabfd, sock), <, 0);
	g_assert_cmpint(send_hello(sock, 40, tabfd, tabfd), ==, 0);

	/* an unsealed memfd in a slot is not published */
	bad = sealed_memfd(4096, false);
	slot_set(tab, first, bad, 4096);
	g_assert_cmpint(import_status(sock, 5, first), ==, -ENOENT);
	g_assert_cmpuint(tab[first & (HBMEM_PUB_SLOTS - 1)].state, ==,
			 HBMEM_PUB_LOCAL);
	/* a slot whose inode is not its fd's */
	good = sealed_memfd(4096, true);
	other = sealed_memfd(4096, true);
	slot_set(tab, first + 1, good, 4096);
	tab[(first + 1) & (HBMEM_PUB_SLOTS - 1)].fd = other;
	g_assert_cmpint(import_status(sock, 6, first + 1), ==, -ENOENT);
	/* bigger than the memory */
	slot_set(tab, first + 2, good, 1 << 20);
	g_assert_cmpint(import_status(sock, 7, first + 2), ==, -ENOENT);
	/* an id that was not leased to us: our slot is not even looked at */
	slot_set(tab, c.share_id, good, 4096);
	g_assert_cmpint(import_status(sock, 8, c.share_id), ==, 0);
	{
		hb_mem_common_buf_t sent = c, out;

		/* the importer got the real owner's memory, not ours */
		sent.fd = -1;
		sent.virt_addr = NULL;
		c.virt_addr[0] = 0x77;
		assert_ok(hb_mem_import_com_buf(&sent, &out));
		g_assert_cmpuint(out.virt_addr[0], ==, 0x77);
		assert_ok(hb_mem_free_buf(out.fd));
	}
	/* a well-made slot is published */
	slot_set(tab, first + 3, good, 4096);
	g_assert_cmpint(import_status(sock, 9, first + 3), ==, 0);
	g_assert_cmpuint(tab[(first + 3) & (HBMEM_PUB_SLOTS - 1)].state, ==,
			 HBMEM_PUB_PUBLISHED);
	munmap(tab, len);
	close(tabfd);
	close(bad);
	close(good);
	close(other);
	close(sock);
	assert_ok(hb_mem_free_buf(c.fd));
}

/* ---- what may be a unit ------------------------------------------------ */

/* A LEASE on raw socket @sock: the first id. */
static int32_t raw_lease(int sock, uint32_t seq)
{
	struct hbmem_msg m, rep;

	hbmem_proto_init(&m, HBMEM_MSG_LEASE, seq);
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), NULL, 0);
	raw_reply(sock, seq, &rep);
	g_assert_cmpint(rep.u.lease_rep.status, ==, 0);
	return rep.u.lease_rep.first;
}

static void raw_register(int sock, uint32_t seq, int32_t id, int fd)
{
	struct hbmem_msg m;

	hbmem_proto_init(&m, HBMEM_MSG_REGISTER, seq);
	m.u.reg.id = id;
	m.u.reg.size = 4096;
	m.u.reg.reserved = 4096;
	m.u.reg.holds = 1;
	raw_send(sock, &m, hbmem_proto_size(m.hdr.type), &fd, 1);
}

/*
 * A client that registers its own connection as a unit and dies: the
 * broker must not keep the socket (it would hold the connection open, so
 * the death would never be seen and the holds never dropped).
 */
static int own_socket_fn(void *arg)
{
	int err, sock = raw_connect(&err);

	(void)arg;
	if (sock < 0)
		return 10;
	raw_register(sock, 2, raw_lease(sock, 1), sock);
	return 0;	/* exits without waiting for an answer */
}

static void test_only_sealed_memory_is_a_unit(BrokerFixture *f,
					      gconstpointer d)
{
	int err, sock, plain, tabfd;
	struct hbmem_pub_slot *tab;
	size_t len = HBMEM_PUB_TABLE_SIZE;
	char *path;
	int32_t first;
	pid_t pid;

	sock = raw_connect(&err);
	g_assert_cmpint(sock, >=, 0);
	first = raw_lease(sock, 1);

	/* a socket (its own connection): refused */
	raw_register(sock, 2, first, sock);
	expect_error(sock, 2, -EPERM);

	/* a plain file (truncatable by its opener under every mapping) */
	path = g_build_filename(f->dir, "plain", NULL);
	plain = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	g_assert_cmpint(plain, >=, 0);
	unlink(path);
	g_free(path);
	g_assert_cmpint(ftruncate(plain, 4096), ==, 0);
	if (fcntl(plain, F_GET_SEALS) >= 0) {
		g_test_message("the temporary directory is shmem: no plain "
			       "unsealable file to try");
	} else {
		raw_register(sock, 3, first + 1, plain);
		expect_error(sock, 3, -EPERM);
		/* nor by way of the publication table */
		tabfd = sealed_memfd(len, true);
		tab = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			   tabfd, 0);
		g_assert_true(tab != MAP_FAILED);
		g_assert_cmpint(send_hello(sock, 4, tabfd, tabfd), ==, 0);
		slot_set(tab, first + 2, plain, 4096);
		g_assert_cmpint(import_status(sock, 5, first + 2), ==, -ENOENT);
		munmap(tab, len);
		close(tabfd);
	}
	close(plain);
	close(sock);
	broker_wait_units(0);

	/* a client that sent its own connection and died is seen gone */
	pid = spawn_child(own_socket_fn, NULL);
	g_assert_cmpint(reap_child(pid), ==, 0);
	broker_wait_units(0);
}

/*
 * A WAIT and another request in one batch: the wait parks, the request is
 * refused (EBUSY) as on any waiting connection, and the wait is answered
 * as a wait when its time is up (the request overwrote the parked wait:
 * it got a COUNT answer, and the wait none).
 */
static void test_request_behind_a_wait_is_refused(BrokerFixture *f,
						  gconstpointer d)
{
	struct hbmem_msg w, q, rep;
	hb_mem_common_buf_t c;
	int err, sock;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	sock = raw_connect(&err);
	g_assert_cmpint(sock, >=, 0);
	hbmem_proto_init(&w, HBMEM_MSG_WAIT, 20);
	w.u.count.id = c.share_id;
	w.u.count.kind = HBMEM_KIND_CLIENTS;
	w.u.count.target = 0;	/* we hold it: never met */
	w.u.count.timeout_ms = 300;
	hbmem_proto_init(&q, HBMEM_MSG_COUNT, 21);
	q.u.count.id = c.share_id;
	q.u.count.kind = HBMEM_KIND_CLIENTS;
	raw_send(sock, &w, hbmem_proto_size(w.hdr.type), NULL, 0);
	raw_send(sock, &q, hbmem_proto_size(q.hdr.type), NULL, 0);
	expect_error(sock, 21, -EBUSY);
	raw_reply(sock, 20, &rep);
	g_assert_cmpint(rep.hdr.type, ==, HBMEM_MSG_WAIT | HBMEM_MSG_REPLY);
	g_assert_cmpint(rep.u.count_rep.status, ==, -ETIMEDOUT);
	close(sock);
	assert_ok(hb_mem_free_buf(c.fd));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (!g_getenv("HBMEM_BROKER_PATH")) {
		g_print("1..0 # SKIP HBMEM_BROKER_PATH (the hbmemd to test) "
			"is not set\n");
		return 77;
	}
	add_broker_test("/broker-security/another-uid-is-refused",
			test_another_uid_is_refused);
	g_test_add_func("/broker-security/allowed-group-is-served",
			test_allowed_group_is_served);
	add_broker_test("/broker-security/peer-cannot-resize-a-shared-memfd",
			test_peer_cannot_resize_a_shared_memfd);
	add_broker_test(
		"/broker-security/malformed-messages-get-errors-and-broker-serves",
		test_malformed_messages_get_errors_and_broker_serves);
	add_broker_test("/broker-security/hostile-publication-table-is-not-trusted",
			test_hostile_publication_table_is_not_trusted);
	add_broker_test("/broker-security/only-sealed-memory-is-a-unit",
			test_only_sealed_memory_is_a_unit);
	add_broker_test("/broker-security/request-behind-a-wait-is-refused",
			test_request_behind_a_wait_is_refused);
	return g_test_run();
}
