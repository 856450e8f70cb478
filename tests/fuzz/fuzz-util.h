/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the libFuzzer targets. A target aborts (and libFuzzer keeps
 * the input) when an invariant of the library breaks, not only when a
 * sanitizer fires: an fd left open after a failed or freed import counts
 * as a crash.
 */
#ifndef HBMEM_FUZZ_UTIL_H
#define HBMEM_FUZZ_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

/* Open fds of this process. */
static inline int fuzz_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		abort();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

#define fuzz_check(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: invariant broken: %s\n",  \
				__FILE__, __LINE__, #cond);               \
			abort();                                          \
		}                                                         \
	} while (0)

/* Read every byte of [p, p + n): a bad mapping faults here. */
static inline unsigned int fuzz_touch(const volatile unsigned char *p,
				      unsigned long long n)
{
	unsigned long long i;
	unsigned int sum = 0;

	for (i = 0; i < n; i += 4096)
		sum += p[i];
	if (n)
		sum += p[n - 1];
	return sum;
}

#endif /* HBMEM_FUZZ_UTIL_H */
