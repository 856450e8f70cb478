// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-util.h"

int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	g_assert_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own fd */
}

int test_count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	g_assert_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

void test_module_setup(TestModule *m, gconstpointer data)
{
	(void)data;
	m->fds_before = test_count_fds();
	assert_ok(hb_mem_module_open());
}

void test_module_teardown(TestModule *m, gconstpointer data)
{
	(void)data;
	assert_ok(hb_mem_module_close());
	g_assert_cmpint(test_count_fds(), ==, m->fds_before);
}

uint64_t test_heaps_used(void)
{
	hb_mem_heap_info_t info;
	uint64_t used = 0;
	int32_t n, i;

	assert_ok(hb_mem_get_heap_count(&n));
	for (i = 0; i < n; i++) {
		assert_ok(hb_mem_get_heap_info(i, &info));
		used += info.used;
	}
	return used;
}

guint test_scaled(guint n, guint min)
{
	const char *scale = g_getenv("HBMEM_STRESS_SCALE");
	guint d = scale ? (guint)MAX(atoi(scale), 1) : 1;

	return MAX(n / d, min);
}
