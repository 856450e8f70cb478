// SPDX-License-Identifier: MIT
/*
 * Backend selection: the best backend this machine can run, or the one
 * $HBMEM_BACKEND names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hbmem_internal.h"

/* Best first. */
static const struct hbmem_backend *const backends[] = {
	&hbmem_backend_hbmem,
	&hbmem_backend_dmaheap,
	&hbmem_backend_udmabuf,
	&hbmem_backend_memfd,
};

#define N_BACKENDS (sizeof(backends) / sizeof(backends[0]))

int _hbmem_backend_select(const struct hbmem_backend **out)
{
	const char *want = getenv("HBMEM_BACKEND");
	size_t i;
	int ret;

	if (want && *want) {
		for (i = 0; i < N_BACKENDS; i++) {
			if (strcmp(backends[i]->name, want))
				continue;
			ret = backends[i]->probe();
			if (ret < 0) {
				hbmem_err_log("backend %s requested by "
					      "HBMEM_BACKEND cannot work: %s",
					      want, strerror(-ret));
				return -ENODEV;
			}
			*out = backends[i];
			return 0;
		}
		hbmem_err_log("HBMEM_BACKEND=%s: no such backend", want);
		return -ENODEV;
	}
	for (i = 0; i < N_BACKENDS; i++) {
		ret = backends[i]->probe();
		if (ret == 0) {
			*out = backends[i];
			return 0;
		}
		hbmem_debug("backend %s unavailable: %s", backends[i]->name,
			    strerror(-ret));
	}
	return -ENODEV;
}
