// SPDX-License-Identifier: MIT
/*
 * Crashes around the broker, at random points, over 100 rounds: a consumer
 * SIGKILLed while it holds imports and consume counts, a producer SIGKILLed
 * in the middle of handing buffers over, and the broker itself SIGKILLed
 * (the library reconnects, starts a new one and registers what it still
 * holds again). After every round the counts are back where they started
 * and this process has exactly its fds; at the end the broker holds
 * exactly our units and has no fd it should not.
 *
 * The seed is GLib's (--seed to replay a run). Whole test: a few seconds;
 * every child runs under alarm() and every wait has a timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "broker-util.h"
#include "broker.h"

#define NBUF 4
#define ROUNDS 100

enum scenario { KILL_CONSUMER, KILL_PRODUCER, KILL_BROKER, N_SCENARIOS };

struct round {
	hb_mem_common_buf_t *bufs;	/* the parent's, NBUF */
	int to_child[2];
	int to_parent[2];
};

/* Import every buffer, raise its consume count, then keep touching them. */
static int consumer_fn(void *arg)
{
	struct round *r = arg;
	hb_mem_common_buf_t in[NBUF], out[NBUF];
	char b = 'r';
	int i;

	close(r->to_child[1]);
	close(r->to_parent[0]);
	if (hb_mem_module_open() != 0 ||
	    !read_full(r->to_child[0], in, sizeof(in)))
		return 10;
	for (i = 0; i < NBUF; i++) {
		if (hb_mem_import_com_buf(&in[i], &out[i]) != 0 ||
		    hb_mem_inc_com_buf_consume_cnt(&out[i]) != 0)
			return 11;
	}
	if (!write_full(r->to_parent[1], &b, 1))
		return 12;
	for (;;) {
		for (i = 0; i < NBUF; i++)
			out[i].virt_addr[i]++;
		usleep(500);
	}
}

/* Allocate buffers one by one, sending each descriptor as soon as made. */
static int producer_fn(void *arg)
{
	struct round *r = arg;
	hb_mem_common_buf_t c;
	int i;

	close(r->to_child[1]);
	close(r->to_parent[0]);
	/* a fresh start: nothing of the parent's */
	if (hb_mem_module_close() != 0 || hb_mem_module_open() != 0)
		return 10;
	for (i = 0; i < NBUF; i++) {
		if (hb_mem_alloc_com_buf(4096, 0, &c) != 0)
			return 11;
		c.virt_addr[0] = (uint8_t)(0x40 + i);
		if (!write_full(r->to_parent[1], &c, sizeof(c)))
			return 12;
	}
	for (;;)
		pause();
}

static void send_byte_(int fd)
{
	char b = 'g';

	g_assert_true(write_full(fd, &b, 1));
}

static void round_pipes(struct round *r)
{
	g_assert_cmpint(pipe2(r->to_child, O_CLOEXEC), ==, 0);
	g_assert_cmpint(pipe2(r->to_parent, O_CLOEXEC), ==, 0);
}

static void round_close(struct round *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (r->to_child[i] >= 0)
			close(r->to_child[i]);
		if (r->to_parent[i] >= 0)
			close(r->to_parent[i]);
	}
}

static void kill_and_reap(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	st = reap_child(pid);
	/* killed, or done with an error after its broker went away */
	g_assert_true(st == -SIGKILL || st > 0);
}

/* Every count of our buffers back to: one holder (us), no consumer. */
static void assert_counts_settle(const hb_mem_common_buf_t *bufs)
{
	int32_t cnt;
	int i;

	for (i = 0; i < NBUF; i++) {
		assert_ok(hb_mem_wait_share_status(bufs[i].fd, 1, 5000));
		assert_ok(hb_mem_wait_consume_status(bufs[i].fd, 0, 5000));
		assert_ok(hb_mem_get_share_info(bufs[i].fd, &cnt));
		g_assert_cmpint(cnt, ==, 1);
	}
}

static void round_consumer(struct round *r, bool kill_broker)
{
	hb_mem_common_buf_t sent[NBUF];
	pid_t pid, bpid = -1;
	int i;

	for (i = 0; i < NBUF; i++) {
		sent[i] = r->bufs[i];
		sent[i].fd = -1;
		sent[i].virt_addr = NULL;
	}
	if (kill_broker)
		bpid = broker_pid();
	round_pipes(r);
	pid = spawn_child(consumer_fn, r);
	g_assert_true(write_full(r->to_child[1], sent, sizeof(sent)));
	/* anywhere from before its first import to well after its last */
	g_usleep(g_test_rand_int_range(0, 4000));
	if (kill_broker && bpid > 0) {
		kill(bpid, SIGKILL);
		g_usleep(g_test_rand_int_range(0, 2000));
	}
	kill_and_reap(pid);
	round_close(r);
	assert_counts_settle(r->bufs);
}

static void round_producer(struct round *r)
{
	hb_mem_common_buf_t in[NBUF], out[NBUF];
	int n = 0, got = 0, i, ret;
	gint64 kill_at;
	pid_t pid;

	round_pipes(r);
	pid = spawn_child(producer_fn, r);
	close(r->to_parent[1]);
	r->to_parent[1] = -1;
	kill_at = g_get_monotonic_time() + g_test_rand_int_range(0, 4000);
	/* take what arrives until the kill, import each at once */
	while (n < NBUF && g_get_monotonic_time() < kill_at) {
		struct pollfd p = { .fd = r->to_parent[0], .events = POLLIN };

		if (poll(&p, 1, 1) == 1 && read_full(r->to_parent[0], &in[n],
						     sizeof(in[n])))
			n++;
	}
	kill_and_reap(pid);
	/* a descriptor still in the pipe was sent before the kill */
	while (n < NBUF && read_full(r->to_parent[0], &in[n], sizeof(in[n])))
		n++;
	for (i = 0; i < n; i++) {
		in[i].fd = -1;
		in[i].virt_addr = NULL;
		ret = hb_mem_import_com_buf(&in[i], &out[got]);
		/* the producer's death may have freed it already: fine */
		if (ret == HB_MEM_ERR_INVALID_PARAMS)
			continue;
		assert_ok(ret);
		g_assert_cmpuint(out[got].virt_addr[0], ==, 0x40 + i);
		assert_ok(hb_mem_wait_share_status(out[got].fd, 1, 5000));
		got++;
	}
	for (i = 0; i < got; i++)
		assert_ok(hb_mem_free_buf(out[i].fd));
	round_close(r);
	assert_counts_settle(r->bufs);
}

/* The broker's fds: one memfd per unit, the listener and one connection. */
static void assert_broker_fds(unsigned int units)
{
	int sockets = 0, memfds = 0, total = 0, i;
	pid_t pid = broker_pid();

	g_assert_cmpint(pid, >, 0);
	for (i = 0; i < 200; i++) {
		proc_fd_kinds(pid, &sockets, &memfds, &total);
		/* stdio on /dev/null, the lock and state files */
		if (sockets == 2 && memfds == (int)units &&
		    total == 2 + (int)units + 5)
			break;
		g_usleep(10 * 1000);
	}
	g_assert_cmpint(memfds, ==, units);
	g_assert_cmpint(sockets, ==, 2);
	g_assert_cmpint(total, ==, 2 + (int)units + 5);
}

static void test_random_kills_leave_counts_and_fds_clean(BrokerFixture *f,
							  gconstpointer d)
{
	struct hbmem_rep_status *st = g_new0(struct hbmem_rep_status, 1);
	hb_mem_common_buf_t bufs[NBUF];
	struct round r = { .bufs = bufs };
	int counts[N_SCENARIOS] = { 0 };
	int fds, i;

	for (i = 0; i < NBUF; i++) {
		assert_ok(hb_mem_alloc_com_buf(8192, 0, &bufs[i]));
		memset(bufs[i].virt_addr, 0x33, bufs[i].size);
	}
	fds = test_count_fds();
	for (i = 0; i < ROUNDS; i++) {
		enum scenario s = g_test_rand_int_range(0, N_SCENARIOS);

		counts[s]++;
		if (s == KILL_PRODUCER)
			round_producer(&r);
		else
			round_consumer(&r, s == KILL_BROKER);
		g_assert_cmpint(test_count_fds(), ==, fds);
	}
	g_test_message("rounds: %d consumer, %d producer, %d broker kills",
		       counts[KILL_CONSUMER], counts[KILL_PRODUCER],
		       counts[KILL_BROKER]);
	/* nothing lost, nothing extra: our units, held by us alone */
	broker_wait_units(NBUF);
	broker_units(st);
	for (i = 0; i < NBUF; i++) {
		const struct hbmem_status_unit *u = status_find(st,
							       bufs[i].share_id);

		g_assert_nonnull(u);
		g_assert_cmpint(u->clients, ==, 1);
		g_assert_cmpint(u->consume, ==, 0);
		g_assert_cmpint(u->npids, ==, 1);
		g_assert_cmpint(u->pid[0], ==, getpid());
		g_assert_cmpuint(bufs[i].virt_addr[bufs[i].size - 1], ==, 0x33);
	}
	assert_broker_fds(NBUF);
	for (i = 0; i < NBUF; i++)
		assert_ok(hb_mem_free_buf(bufs[i].fd));
	assert_broker_fds(0);
	g_free(st);
}

/*
 * The documented restart behaviour, step by step: after the broker dies,
 * each process's holds come back when that process next talks to the new
 * broker, and consume counts start again at 0.
 */
static int restart_child_fn(void *arg)
{
	struct round *r = arg;
	hb_mem_common_buf_t in, out;
	int32_t cnt;
	char b;

	close(r->to_child[1]);
	close(r->to_parent[0]);
	if (hb_mem_module_open() != 0 ||
	    !read_full(r->to_child[0], &in, sizeof(in)) ||
	    hb_mem_import_com_buf(&in, &out) != 0 ||
	    hb_mem_inc_com_buf_consume_cnt(&out) != 0)
		return 10;
	b = 'i';
	if (!write_full(r->to_parent[1], &b, 1) ||
	    !read_full(r->to_child[0], &b, 1))
		return 11;
	/* the broker was killed: this call brings our hold back */
	if (hb_mem_get_share_info(out.fd, &cnt) != 0 || cnt != 2)
		return 12;
	if (!write_full(r->to_parent[1], &b, 1) ||
	    !read_full(r->to_child[0], &b, 1))
		return 13;
	hb_mem_free_buf(out.fd);
	hb_mem_module_close();
	return 0;
}

static void test_restart_restores_holds_and_resets_consume(BrokerFixture *f,
							   gconstpointer d)
{
	hb_mem_common_buf_t c, sent;
	struct round r;
	int32_t cnt;
	pid_t pid, bpid, bpid2;
	char b;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &c));
	sent = c;
	sent.fd = -1;
	sent.virt_addr = NULL;
	round_pipes(&r);
	pid = spawn_child(restart_child_fn, &r);
	g_assert_true(write_full(r.to_child[1], &sent, sizeof(sent)));
	g_assert_true(read_full(r.to_parent[0], &b, 1));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	bpid = broker_pid();
	g_assert_cmpint(kill(bpid, SIGKILL), ==, 0);
	/* our next call starts a new broker and restores our hold only */
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 1);
	bpid2 = broker_pid();
	g_assert_cmpint(bpid2, >, 0);
	g_assert_cmpint(bpid2, !=, bpid);
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	/* the child talks: its hold is back; its consume count is not */
	send_byte_(r.to_child[1]);
	g_assert_true(read_full(r.to_parent[0], &b, 1));
	assert_ok(hb_mem_get_share_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 2);
	assert_ok(hb_mem_get_consume_info(c.fd, &cnt));
	g_assert_cmpint(cnt, ==, 0);
	send_byte_(r.to_child[1]);
	g_assert_cmpint(reap_child(pid), ==, 0);
	assert_ok(hb_mem_wait_share_status(c.fd, 1, 5000));
	round_close(&r);
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
	add_broker_test("/broker-crash/restart-restores-holds-and-resets-consume",
			test_restart_restores_holds_and_resets_consume);
	add_broker_test("/broker-crash/random-kills-leave-counts-and-fds-clean",
			test_random_kills_leave_counts_and_fds_clean);
	return g_test_run();
}
