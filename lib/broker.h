/* SPDX-License-Identifier: MIT */
/*
 * broker.h - libhbmem's side of the broker hbmemd (docs/sharing.md).
 *
 *   broker.c        the connection: find or start hbmemd, send, receive,
 *                   reconnect, and the fork rule
 *   broker_share.c  the share_* backend operations on top of it, and the
 *                   table that maps an fd to its unit by inode
 */
#ifndef HBMEM_BROKER_H
#define HBMEM_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "broker_proto.h"

struct hbmem_backend;

/*
 * At the first module open, after the backend was chosen: when the backend
 * has no global sharing of its own and a broker can be reached (started if
 * needed unless HBMEM_AUTOSPAWN=0), *@be becomes a copy of it whose share_*
 * operations go through the broker. Otherwise *@be is left alone and
 * sharing stays inside the process. Always returns 0: no broker is not an
 * error. Caller holds hbmem_lock.
 */
int _hbmem_broker_setup(const struct hbmem_backend **be);

/*
 * One page of the broker's status (broker_proto.h, struct hbmem_rep_status):
 * the live units with share ids above @after, every heap's usage. Uses its
 * own connection and never starts a broker: -ENOENT or -ECONNREFUSED when
 * none runs. Needs no open module.
 */
int _hbmem_broker_status(int32_t after, struct hbmem_rep_status *out);

/* ---- broker.c, for broker_share.c ---- */

/*
 * A new connection to the broker (the caller owns *@fd), starting one when
 * @spawn and it is allowed.
 */
int _hbmem_broker_connect(bool spawn, int *fd);
/*
 * Send @m on @fd, with @pass_fd (not given away) when >= 0. 0, or a
 * negative errno (-EPIPE etc. when the broker is gone).
 */
int _hbmem_broker_send(int fd, struct hbmem_msg *m, int pass_fd);
/*
 * Receive the reply with @seq on @fd into @rep, skipping ERROR replies to
 * earlier one-way messages; *@fd_out gets the fd it carries (the caller's)
 * or -1. @timeout_ms < 0 waits forever. 0, -ETIMEDOUT, or a negative errno
 * when the connection is gone (-ECONNRESET) or the reply is malformed.
 */
int _hbmem_broker_recv(int fd, uint32_t seq, struct hbmem_msg *rep,
		       int *fd_out, int64_t timeout_ms);

#endif /* HBMEM_BROKER_H */
