// SPDX-License-Identifier: MIT
/*
 * Where the broker's socket lives; shared by libhbmem and hbmemd.
 *
 *   $HBMEM_BROKER_SOCKET            if set (any path)
 *   $XDG_RUNTIME_DIR/hbmem/hbmemd.sock
 *   /run/hbmem/hbmemd.sock          for root without XDG_RUNTIME_DIR
 *
 * Anyone else without XDG_RUNTIME_DIR has no broker: -ENOENT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker_path.h"

int hbmem_broker_socket_path(char *buf, size_t len)
{
	const char *env = getenv("HBMEM_BROKER_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (xdg && *xdg == '/')
		n = snprintf(buf, len, "%s/hbmem/hbmemd.sock", xdg);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/hbmem/hbmemd.sock");
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}
