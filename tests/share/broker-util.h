/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the broker tests: a private broker per test (its own socket
 * in a temporary directory, started on demand by the library), the
 * broker's pid and fds, its status, and bounded waits for children.
 */
#ifndef HBMEM_BROKER_UTIL_H
#define HBMEM_BROKER_UTIL_H

#include <glib.h>
#include <stdbool.h>
#include <sys/types.h>

#include "test-util.h"
#include "broker_proto.h"

typedef struct {
	char *dir;		/* the test's socket directory */
	char *sock;
	int fds_before;		/* of this process, before the module */
} BrokerFixture;

/* Point the library at a new private socket, open the module. */
void broker_setup(BrokerFixture *f, gconstpointer data);
/*
 * Close the module, check no fd of ours was left, check the broker holds
 * no unit any more, stop it, remove the directory.
 */
void broker_teardown(BrokerFixture *f, gconstpointer data);

#define add_broker_test(path, fn) \
	g_test_add(path, BrokerFixture, NULL, broker_setup, fn, broker_teardown)

/* The broker's pid, from SO_PEERCRED of a connection (-1: none runs). */
pid_t broker_pid(void);
/* fds of @pid by kind: sockets, memfds, and all. */
void proc_fd_kinds(pid_t pid, int *sockets, int *memfds, int *total);
/* Live units and the first page of the broker's status. */
int broker_units(struct hbmem_rep_status *st);
/* The status entry of unit @id, or NULL. */
const struct hbmem_status_unit *status_find(const struct hbmem_rep_status *st,
					    int32_t id);
/* Wait until the broker has @n units (or fail after ~5 s). */
void broker_wait_units(unsigned int n);

/* Fork; the child runs @fn(@arg) under alarm(20) and exits with its value. */
pid_t spawn_child(int (*fn)(void *arg), void *arg);
/* Reap @pid; its exit status (-signal when killed). */
int reap_child(pid_t pid);
/* Read exactly @len bytes from @fd with a 10 s timeout: true on success. */
bool read_full(int fd, void *buf, size_t len);
bool write_full(int fd, const void *buf, size_t len);

/* A byte pattern every test can check across processes. */
static inline unsigned char pattern_at(size_t i, unsigned char seed)
{
	return (unsigned char)(i * 31 + seed);
}

#endif /* HBMEM_BROKER_UTIL_H */
