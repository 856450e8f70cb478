// SPDX-License-Identifier: MIT
/*
 * Library log: one line per message on stderr, in the board's shape
 * ("[LEVEL][pid:tid][hbmem] <function> message").
 *
 * $HBMEM_LOG picks the threshold: none, error, warn (the default), info or
 * debug. Bad input from the caller is reported at debug level: the return
 * code already says it, and a library must not fill an application's
 * stderr because of it.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hbmem_internal.h"

static int log_threshold = -1;

static int log_threshold_get(void)
{
	static const char *const names[] = {
		"none", "error", "warn", "info", "debug",
	};
	const char *env;
	int level = HBMEM_LOG_WARN;
	size_t i;

	if (__atomic_load_n(&log_threshold, __ATOMIC_RELAXED) >= 0)
		return log_threshold;
	env = getenv("HBMEM_LOG");
	if (env) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(env, names[i]))
				level = (int)i;
	}
	__atomic_store_n(&log_threshold, level, __ATOMIC_RELAXED);
	return level;
}

bool _hbmem_log_enabled(enum hbmem_log_level level)
{
	return (int)level <= log_threshold_get();
}

void _hbmem_log(enum hbmem_log_level level, const char *func,
		const char *fmt, ...)
{
	static const char *const tags[] = {
		"", "ERROR", "WARNING", "INFO", "DEBUG",
	};
	char msg[512];
	va_list ap;
	int saved = errno;

	if (!_hbmem_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%s][%d:%ld][hbmem] <%s> %s\n", tags[level],
		(int)getpid(), (long)syscall(SYS_gettid), func, msg);
	errno = saved;
}
