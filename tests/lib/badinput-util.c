// SPDX-License-Identifier: MIT
/*
 * Helpers shared by the bad-input tests; see badinput-util.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "badinput-util.h"

/* Whether the module runs on backend @name (the module must be open). */
bool backend_is(const char *name)
{
	char got[32];

	assert_ok(hb_mem_get_backend(got, sizeof(got), NULL));
	return !strcmp(got, name);
}

/* A page that belongs to no hbmem buffer. */
uint8_t foreign_page[4096] __attribute__((aligned(4096)));

void alloc_nv12(int64_t flags, hb_mem_graphic_buf_t *g)
{
	assert_ok(hb_mem_alloc_graph_buf(64, 48, MEM_PIX_FMT_NV12, flags, 0, 0,
					 g));
}

/* A group with the members @bitmap names, all NV12 64x48. */
void alloc_group(uint32_t bitmap, hb_mem_graphic_buf_group_t *grp)
{
	int32_t w[8], h[8], f[8], s[8] = { 0 }, vs[8] = { 0 };
	int64_t fl[8];
	int i;

	for (i = 0; i < 8; i++) {
		w[i] = 64;
		h[i] = 48;
		f[i] = MEM_PIX_FMT_NV12;
		fl[i] = i == 1 ? HB_MEM_USAGE_GRAPHIC_CONTIGUOUS_BUF : 0;
	}
	assert_ok(hb_mem_alloc_graph_buf_group(w, h, f, fl, s, vs, grp,
					       bitmap));
}

static void handles_fake(struct handles *h)
{
	memset(h, 0, sizeof(*h));
	h->com.fd = 3;
	h->com.share_id = 1;
	h->com.size = sizeof(foreign_page);
	h->com.virt_addr = foreign_page;
	h->graph.fd[0] = 3;
	h->graph.plane_cnt = 1;
	h->graph.format = MEM_PIX_FMT_YUV400;
	h->graph.width = 64;
	h->graph.height = 64;
	h->graph.share_id[0] = 1;
	h->graph.size[0] = sizeof(foreign_page);
	h->graph.virt_addr[0] = foreign_page;
	h->group.graph_group[0] = h->graph;
	h->group.bit_map = 1;
	h->pool.fd = 3;
	h->pool.size = sizeof(foreign_page);
	h->queue.unique_id = 1;
	h->queue.count = 4;
	h->queue.item_size = 8;
}

/* Real handles; the caller closes the module, which frees them. */
static void handles_alloc(struct handles *h)
{
	handles_fake(h);
	assert_ok(hb_mem_alloc_com_buf(4096, 0, &h->com));
	alloc_nv12(0, &h->graph);
	alloc_group(0x3, &h->group);
	assert_ok(hb_mem_pool_create(64 * KiB, 0, &h->pool));
	h->queue.unique_id = 0;
	assert_ok(hb_mem_create_buf_queue(&h->queue));
}

/* The subprocess half: this process has never opened the module. */
void before_open(gconstpointer data)
{
	const closed_fn *fn = data;
	struct handles h;

	handles_fake(&h);
	(*fn)(&h);
}

static const char *test_argv0;

/*
 * Run the hidden test @path in a fresh process and check it passed. Done by
 * hand rather than with g_test_trap_subprocess(), whose child watch may
 * start a GLib worker thread that keeps an fd open for good (under
 * valgrind, which lacks pidfd_open), which the fixture would call a leak.
 */
static void run_in_fresh_process(const char *path)
{
	char *argv[] = { (char *)test_argv0, "-p", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	int status;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					 O_WRONLY, 0);
	g_assert_cmpint(posix_spawn(&pid, test_argv0, &fa, NULL, argv, environ),
			==, 0);
	posix_spawn_file_actions_destroy(&fa);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("%s failed in a fresh process (status 0x%x)", path,
			status);
}

/*
 * Steps 1 and 2 of every test: @fn's calls before the first open (in a
 * child) and after the last close (here), then reopen for step 3.
 */
void check_closed(const char *name, closed_fn fn)
{
	struct handles h;
	char *path;

	path = g_strdup_printf("/badinput/%s/subprocess/before-open", name);
	run_in_fresh_process(path);
	g_free(path);

	handles_alloc(&h);
	assert_ok(hb_mem_module_close());
	fn(&h);
	assert_ok(hb_mem_module_open());
}

/* ---- bad fds and addresses ---------------------------------------------- */

void bad_fds_open(struct bad_fds *b)
{
	int closed;

	b->n = 0;
	b->fd[b->n++] = -1;
	b->fd[b->n++] = INT32_MIN;
	b->fd[b->n++] = INT32_MAX;
	b->fd[b->n++] = 1 << 20;
	b->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	g_assert_cmpint(b->devnull, >=, 0);
	b->fd[b->n++] = b->devnull;
	b->memfd = memfd_create("not-hbmem", MFD_CLOEXEC);
	g_assert_cmpint(b->memfd, >=, 0);
	g_assert_cmpint(ftruncate(b->memfd, 4096), ==, 0);
	b->fd[b->n++] = b->memfd;
	closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(closed, >=, 0);
	close(closed);
	b->fd[b->n++] = closed;
}

void bad_fds_close(struct bad_fds *b)
{
	close(b->devnull);
	close(b->memfd);
}

void bad_addrs_init(struct bad_addrs *b)
{
	b->heap = g_malloc(64);
	b->n = 0;
	b->a[b->n++] = 0;
	b->a[b->n++] = 1;
	b->a[b->n++] = 4096;
	b->a[b->n++] = va(foreign_page);
	b->a[b->n++] = va(b->heap);
	b->a[b->n] = va(b);
	b->n++;
	b->a[b->n++] = UINT64_MAX - 4095;
	b->a[b->n++] = UINT64_MAX;
}

void bad_addrs_free(struct bad_addrs *b)
{
	g_free(b->heap);
}

void heaps_are_empty(void)
{
	g_assert_cmpuint(test_heaps_used(), ==, 0);
}

/* Share ids that name nothing: none, negative, freed, made up. */
void bad_share_ids(int32_t ids[4])
{
	hb_mem_common_buf_t gone;

	assert_ok(hb_mem_alloc_com_buf(4096, 0, &gone));
	assert_ok(hb_mem_free_buf(gone.fd));
	ids[0] = 0;
	ids[1] = -1;
	ids[2] = gone.share_id;
	ids[3] = INT32_MAX;
}

/* The module fixture's teardown (no fd left open), after empty heaps. */
void badinput_teardown(TestModule *m, gconstpointer d)
{
	heaps_are_empty();
	test_module_teardown(m, d);
}

/* g_test_init(), remembering argv[0] for the before-open subprocesses. */
void badinput_init(int *argc, char ***argv)
{
	test_argv0 = (*argv)[0];
	g_test_init(argc, argv, NULL);
}
