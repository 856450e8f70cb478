// SPDX-License-Identifier: MIT
/*
 * hbmem - the command-line view of hbmem: what the board shows in
 * /sys/kernel/debug/ion, as a command.
 *
 *   hbmem status [--json]
 *
 * The tables come from whoever keeps the machine-wide state: the kernel
 * driver when the library runs on it, else the broker (hbmemd), which this
 * command never starts. With neither there is no machine-wide state to
 * show: each process keeps its own, and the command says so ("source:
 * none") and shows only the heaps' capacities.
 *
 * Exit status: 0, 1 when the state could not be read, 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hb_mem_err.h"
#include "hb_mem_mgr.h"
#include "hb_mem_ext.h"
#include "status.h"

/* hb_mem_strerror into a static buffer: this program is single-threaded. */
static const char *errstr(int32_t err)
{
	static char buf[HB_MEM_ERR_MAX_STR_SIZE];

	hb_mem_strerror(err, buf, sizeof(buf));
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hbmem status [--json]\n"
		"       hbmem --version | --help\n"
		"\n"
		"status   the backend, every heap (capacity, used, largest free)\n"
		"         and every live buffer (share id, heap, type, size,\n"
		"         share client and consume counts, holder pids)\n"
		"--json   the same as one JSON object\n");
}

/* No machine-wide state: the heaps' capacities, as this process sees them. */
static int status_from_library(struct hbmem_status *st)
{
	snprintf(st->source, sizeof(st->source), "none (per-process state)");
	return status_heaps_from_library(st);
}

static int collect(struct hbmem_status *st)
{
	uint32_t caps = 0;
	int32_t err;
	int ret;

	err = hb_mem_get_backend(st->backend, sizeof(st->backend), &caps);
	if (err) {
		fprintf(stderr, "hbmem: cannot read the backend: %s\n",
			errstr(err));
		return -EIO;
	}
	if (!strcmp(st->backend, "hbmem")) {
		ret = status_from_kernel(st);
		if (ret < 0)
			fprintf(stderr, "hbmem: reading /dev/hbmem: %s\n",
				strerror(-ret));
		return ret;
	}
	ret = status_from_broker(st);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		status_free(st);
		return status_from_library(st);
	}
	if (ret < 0)
		fprintf(stderr, "hbmem: asking the broker: %s\n", strerror(-ret));
	return ret;
}

int main(int argc, char **argv)
{
	struct hbmem_status st = { 0 };
	int json = 0, i, ret;
	int32_t err;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		uint32_t major, minor, patch;

		hb_mem_get_version(&major, &minor, &patch);
		printf("hbmem %u.%u.%u\n", major, minor, patch);
		return 0;
	}
	if (strcmp(argv[1], "status")) {
		fprintf(stderr, "hbmem: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "hbmem: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}

	/* look, do not touch: a status query never starts a broker */
	setenv("HBMEM_AUTOSPAWN", "0", 1);
	err = hb_mem_module_open();
	if (err) {
		fprintf(stderr, "hbmem: hb_mem_module_open: %s\n",
			errstr(err));
		return 1;
	}
	ret = collect(&st);
	hb_mem_module_close();
	if (ret < 0) {
		status_free(&st);
		return 1;
	}
	if (json)
		status_print_json(&st);
	else
		status_print_text(&st);
	status_free(&st);
	return 0;
}
