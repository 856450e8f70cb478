/* SPDX-License-Identifier: MIT */
/*
 * bench-util.h - what the sharing benchmarks have in common: a monotonic
 * clock, a median, and the way they give up.
 */
#ifndef HBMEM_BENCH_SHARE_UTIL_H
#define HBMEM_BENCH_SHARE_UTIL_H

#include <stdint.h>

/* The program's name in error messages (set once by main). */
extern const char *bench_name;

uint64_t now_ns(void);
/* Median of @v[0..n) (sorts @v). */
double median(double *v, int n);
/* Print "@what: strerror(errno)" and exit(1). */
void die(const char *what) __attribute__((noreturn));
/* For an hb_mem call's result: nothing if 0, else print it and exit(1). */
void check(int32_t ret, const char *what);

#endif /* HBMEM_BENCH_SHARE_UTIL_H */
