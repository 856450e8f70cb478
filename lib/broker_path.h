/* SPDX-License-Identifier: MIT */
/*
 * broker_path.h - the broker socket's path (see broker_path.c).
 */
#ifndef HBMEM_BROKER_PATH_H
#define HBMEM_BROKER_PATH_H

#include <stddef.h>

/* The socket path into @buf: 0, -ENOENT (no broker) or -ENAMETOOLONG. */
int hbmem_broker_socket_path(char *buf, size_t len);

#endif /* HBMEM_BROKER_PATH_H */
