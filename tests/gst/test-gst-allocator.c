/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemAllocator: memory typing (dmabuf only when the backend's fds are
 * real dma-bufs), the mapping being hb_mem's own, cache calls only for
 * cached buffers, shares, graphic buffers (one memory when contiguous, one
 * per plane otherwise) and freeing: the hb_mem buffer goes exactly once,
 * with the last memory, and each of its fds is closed exactly once.
 *
 * close(), hb_mem_invalidate_buf() and hb_mem_flush_buf() are wrapped
 * here (the program's definitions win over the libraries') to count calls.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gst/allocators/allocators.h>

#include "gst-test.h"
#include "gsthbmemallocator.h"

/* ---- counting wrappers ---------------------------------------------- */

#define MAX_WATCHED 4
static gint watched_fd[MAX_WATCHED] = { -1, -1, -1, -1 };
static gint watched_closes[MAX_WATCHED];
static gint invalidates, flushes;

int close (int fd);
int
close (int fd)
{
  int i;

  for (i = 0; i < MAX_WATCHED; i++)
    if (fd >= 0 && g_atomic_int_get (&watched_fd[i]) == fd)
      g_atomic_int_inc (&watched_closes[i]);
  return (int) syscall (SYS_close, fd);
}

static void
watch_fds (const gint * fds, gint n)
{
  gint i;

  for (i = 0; i < MAX_WATCHED; i++) {
    g_atomic_int_set (&watched_closes[i], 0);
    g_atomic_int_set (&watched_fd[i], i < n ? fds[i] : -1);
  }
}

static void
unwatch_fds (void)
{
  watch_fds (NULL, 0);
}

typedef int32_t (*cache_fn) (int32_t, uint64_t, uint64_t);

int32_t
hb_mem_invalidate_buf (int32_t fd, uint64_t offset, uint64_t size)
{
  static cache_fn real;

  if (!real)
    real = (cache_fn) dlsym (RTLD_NEXT, "hb_mem_invalidate_buf");
  g_atomic_int_inc (&invalidates);
  return real (fd, offset, size);
}

int32_t
hb_mem_flush_buf (int32_t fd, uint64_t offset, uint64_t size)
{
  static cache_fn real;

  if (!real)
    real = (cache_fn) dlsym (RTLD_NEXT, "hb_mem_flush_buf");
  g_atomic_int_inc (&flushes);
  return real (fd, offset, size);
}

/* ---- fixture ---------------------------------------------------------- */

typedef struct
{
  GstAllocator *alloc;
  int fds_before;
  guint64 used_before;
  guint bufs_before;
} Fixture;

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  f->fds_before = gst_test_count_fds ();
  f->alloc = gst_hbmem_allocator_new ();
  g_assert_nonnull (f->alloc);
  f->used_before = gst_test_heaps_used (&f->bufs_before);
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  guint bufs;

  g_assert_cmpuint (gst_test_heaps_used (&bufs), ==, f->used_before);
  g_assert_cmpuint (bufs, ==, f->bufs_before);
  gst_object_unref (f->alloc);
  unwatch_fds ();
  g_assert_cmpint (gst_test_settled_fds (f->fds_before), ==, f->fds_before);
}

#define add_test(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

static gboolean
fd_is_open (gint fd)
{
  return fcntl (fd, F_GETFD) != -1;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_bad_size_fails_cleanly (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMemory *mem;
  GstMemory *mems[3];
  guint n = 0;

  /* far beyond every heap: hb_mem refuses, nothing is made or leaked */
  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, G_GUINT64_CONSTANT (1)
      << 50, &c);
  g_assert_null (mem);
  mem = gst_allocator_alloc (f->alloc, G_GUINT64_CONSTANT (1) << 50, NULL);
  g_assert_null (mem);
  g_assert_false (gst_hbmem_allocator_alloc_graph_buf (f->alloc, 64, 64,
          MEM_PIX_FMT_TOTAL, 0, 0, TRUE, NULL, mems, &n));
  g_assert_false (gst_hbmem_allocator_alloc_graph_buf (f->alloc, -1, 64,
          MEM_PIX_FMT_NV12, 0, 0, TRUE, NULL, mems, &n));
  g_assert_cmpuint (n, ==, 0);
}

#define expect_critical(pattern) \
  g_test_expect_message ("GStreamer-hbmem", G_LOG_LEVEL_CRITICAL, pattern)

static void
test_bad_arguments_are_refused (Fixture * f, gconstpointer data)
{
  GstAllocator *sys = gst_allocator_find (GST_ALLOCATOR_SYSMEM);
  GstMemory *sysmem = gst_allocator_alloc (sys, 64, NULL);
  hb_mem_common_buf_t c = { 0 };
  hb_mem_graphic_buf_t g = { 0 };
  GstMemory *mems[3];
  guint n;

  g_assert_false (gst_is_hbmem_allocator (NULL));
  g_assert_false (gst_is_hbmem_allocator (sys));
  g_assert_false (gst_is_hbmem_memory (NULL));
  g_assert_false (gst_is_hbmem_memory (sysmem));

  expect_critical ("*buf != NULL*");
  g_assert_null (gst_hbmem_allocator_wrap_com_buf (f->alloc, NULL));
  g_test_assert_expected_messages ();
  c.fd = -1;
  expect_critical ("*buf->fd >= 0*");
  g_assert_null (gst_hbmem_allocator_wrap_com_buf (f->alloc, &c));
  g_test_assert_expected_messages ();
  expect_critical ("*gst_is_hbmem_allocator*");
  g_assert_null (gst_hbmem_allocator_wrap_com_buf (sys, &c));
  g_test_assert_expected_messages ();
  expect_critical ("*plane_cnt*");
  g_assert_false (gst_hbmem_allocator_wrap_graph_buf (f->alloc, &g, mems, &n));
  g_test_assert_expected_messages ();
  expect_critical ("*size > 0*");
  g_assert_null (gst_hbmem_allocator_alloc_com_buf (f->alloc, 0, NULL));
  g_test_assert_expected_messages ();
  expect_critical ("*gst_is_hbmem_memory*");
  g_assert_false (gst_hbmem_memory_get_com_buf (sysmem, &c));
  g_test_assert_expected_messages ();
  expect_critical ("*gst_is_hbmem_memory*");
  g_assert_cmpint (gst_hbmem_memory_get_hb_fd (sysmem), ==, -1);
  g_test_assert_expected_messages ();

  gst_memory_unref (sysmem);
  gst_object_unref (sys);
}

static void
test_memfd_is_fd_memory_not_dmabuf (Fixture * f, gconstpointer data)
{
  gboolean dmabuf = gst_test_backend_is_dmabuf ();
  hb_mem_common_buf_t c;
  GstMemory *mem;

  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 4096, &c);
  g_assert_nonnull (mem);
  g_assert_true (gst_is_hbmem_memory (mem));
  g_assert_true (gst_is_fd_memory (mem));
  g_assert_cmpint (gst_is_dmabuf_memory (mem), ==, dmabuf);
  gst_test_assert_gst_fd (gst_fd_memory_get_fd (mem), c.fd);
  g_assert_cmpint (gst_hbmem_memory_get_hb_fd (mem), ==, c.fd);
  if (dmabuf)
    gst_test_assert_gst_fd (gst_dmabuf_memory_get_fd (mem), c.fd);
  else
    g_test_message ("backend is not dma-buf: memory is fd memory only");
  gst_memory_unref (mem);
}

static void
test_allocator_alloc_honours_prefix_and_padding (Fixture * f,
    gconstpointer data)
{
  GstAllocationParams params;
  hb_mem_common_buf_t c;
  GstMapInfo map;
  GstMemory *mem;

  gst_allocation_params_init (&params);
  params.prefix = 16;
  params.padding = 8;
  params.align = 63;
  mem = gst_allocator_alloc (f->alloc, 100, &params);
  g_assert_nonnull (mem);
  g_assert_true (gst_is_hbmem_memory (mem));
  g_assert_cmpuint (mem->offset, ==, 16);
  g_assert_cmpuint (mem->size, ==, 100);
  g_assert_cmpuint (mem->maxsize, ==, 124);
  g_assert_true (gst_hbmem_memory_get_com_buf (mem, &c));
  g_assert_cmpuint (c.size, ==, 124);
  g_assert_true (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  g_assert_true (map.data == c.virt_addr + 16);
  g_assert_cmpuint (((guintptr) map.data - 16) & 63, ==, 0);
  gst_memory_unmap (mem, &map);
  gst_memory_unref (mem);

  /* coarser than a page: the block start is shifted to meet it */
  params.align = (1 << 16) - 1;
  mem = gst_allocator_alloc (f->alloc, 100, &params);
  g_assert_nonnull (mem);
  g_assert_cmpuint (mem->size, ==, 100);
  g_assert_true (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  g_assert_cmpuint (((guintptr) map.data - 16) & params.align, ==, 0);
  memset (map.data, 0x3c, map.size);
  gst_memory_unmap (mem, &map);
  gst_memory_unref (mem);
}

static void
test_map_returns_the_hb_mem_mapping (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMapInfo m1, m2;
  GstMemory *mem;
  guint i;

  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 8192, &c);
  g_assert_nonnull (mem);
  g_assert_true (gst_memory_map (mem, &m1, GST_MAP_WRITE));
  g_assert_true (m1.data == c.virt_addr);
  g_assert_cmpuint (m1.size, ==, 8192);
  for (i = 0; i < m1.size; i++)
    m1.data[i] = (guint8) (i * 7);
  gst_memory_unmap (mem, &m1);
  /* hb_mem's view sees the write; a second map is the same mapping */
  g_assert_cmpuint (c.virt_addr[100], ==, (guint8) 700);
  g_assert_true (gst_memory_map (mem, &m1, GST_MAP_READ));
  g_assert_true (gst_memory_map (mem, &m2, GST_MAP_READ));
  g_assert_true (m1.data == m2.data);
  gst_memory_unmap (mem, &m2);
  gst_memory_unmap (mem, &m1);
  gst_memory_unref (mem);
}

static void
test_free_frees_buffer_and_closes_fd_once (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMemory *mem;
  guint bufs;

  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 100000, &c);
  g_assert_nonnull (mem);
  g_assert_cmpuint (gst_test_heaps_used (&bufs), >, f->used_before);
  g_assert_cmpuint (bufs, ==, f->bufs_before + 1);
  watch_fds (&c.fd, 1);
  gst_memory_unref (mem);
  g_assert_cmpint (watched_closes[0], ==, 1);
  g_assert_false (fd_is_open (c.fd));
  g_assert_cmpuint (gst_test_heaps_used (NULL), ==, f->used_before);
}

static void
test_share_is_readonly_and_keeps_buffer_alive (Fixture * f,
    gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMemory *mem, *sub;
  GstMapInfo map;

  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 4096, &c);
  g_assert_nonnull (mem);
  c.virt_addr[10] = 0x5a;
  sub = gst_memory_share (mem, 10, 50);
  g_assert_nonnull (sub);
  g_assert_true (gst_is_hbmem_memory (sub));
  g_assert_true (sub->parent == mem);
  g_assert_cmpuint (sub->offset, ==, 10);
  g_assert_cmpuint (sub->size, ==, 50);
  gst_test_assert_gst_fd (gst_fd_memory_get_fd (sub), c.fd);
  g_assert_false (gst_memory_map (sub, &map, GST_MAP_WRITE));

  watch_fds (&c.fd, 1);
  gst_memory_unref (mem);
  /* the share holds the parent and so the hb_mem buffer */
  g_assert_cmpint (watched_closes[0], ==, 0);
  g_assert_true (gst_memory_map (sub, &map, GST_MAP_READ));
  g_assert_true (map.data == c.virt_addr + 10);
  g_assert_cmpuint (map.data[0], ==, 0x5a);
  gst_memory_unmap (sub, &map);
  gst_memory_unref (sub);
  g_assert_cmpint (watched_closes[0], ==, 1);
}

static void
test_share_whole_and_nested (Fixture * f, gconstpointer data)
{
  GstMemory *mem, *a, *b;
  hb_mem_common_buf_t c;
  GstMapInfo map;

  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 1000, &c);
  a = gst_memory_share (mem, 100, -1);
  g_assert_cmpuint (a->size, ==, 900);
  b = gst_memory_share (a, 50, 10);
  g_assert_true (b->parent == mem);
  g_assert_cmpuint (b->offset, ==, 150);
  g_assert_true (gst_memory_map (b, &map, GST_MAP_READ));
  g_assert_true (map.data == c.virt_addr + 150);
  gst_memory_unmap (b, &map);
  /* "the rest" from past the end is nothing, not a wrapped size */
  gst_memory_unref (b);
  b = gst_memory_share (a, 1000, -1);
  g_assert_cmpuint (b->size, ==, 0);
  gst_memory_unref (mem);
  gst_memory_unref (a);
  gst_memory_unref (b);
}

static void
test_contiguous_graph_is_one_memory (Fixture * f, gconstpointer data)
{
  GstMemory *mems[3] = { NULL };
  hb_mem_graphic_buf_t g, g2;
  hb_mem_common_buf_t c;
  GstMapInfo map;
  guint n = 0;

  g_assert_true (gst_hbmem_allocator_alloc_graph_buf (f->alloc, 641, 481,
          MEM_PIX_FMT_NV12, 0, 0, TRUE, &g, mems, &n));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (g.is_contig, ==, 1);
  g_assert_cmpuint (mems[0]->offset, ==, 0);
  g_assert_cmpuint (mems[0]->size, ==, g.size[0] + g.size[1]);
  g_assert_cmpint (gst_hbmem_memory_get_plane (mems[0]), ==, -1);
  gst_test_assert_gst_fd (gst_fd_memory_get_fd (mems[0]), g.fd[0]);
  g_assert_true (gst_hbmem_memory_get_graph_buf (mems[0], &g2));
  g_assert_cmpmem (&g, sizeof (g), &g2, sizeof (g2));
  /* a contiguous graphic buffer is also a common buffer */
  g_assert_true (gst_hbmem_memory_get_com_buf (mems[0], &c));
  g_assert_cmpint (c.fd, ==, g.fd[0]);
  g_assert_cmpuint (c.size, ==, mems[0]->size);
  g_assert_true (gst_memory_map (mems[0], &map, GST_MAP_READ));
  g_assert_true (map.data == g.virt_addr[0]);
  gst_memory_unmap (mems[0], &map);
  watch_fds (g.fd, 1);
  gst_memory_unref (mems[0]);
  g_assert_cmpint (watched_closes[0], ==, 1);
}

static void
test_per_plane_graph_is_memory_per_plane (Fixture * f, gconstpointer data)
{
  GstMemory *mems[3] = { NULL };
  hb_mem_graphic_buf_t g;
  hb_mem_common_buf_t c;
  GstMapInfo map;
  guint64 used;
  guint i, n = 0;

  g_assert_true (gst_hbmem_allocator_alloc_graph_buf (f->alloc, 641, 481,
          MEM_PIX_FMT_YUV420P, 0, 0, FALSE, &g, mems, &n));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (g.is_contig, ==, 0);
  for (i = 0; i < n; i++) {
    g_assert_cmpint (gst_hbmem_memory_get_plane (mems[i]), ==, i);
    gst_test_assert_gst_fd (gst_fd_memory_get_fd (mems[i]), g.fd[i]);
    g_assert_cmpuint (mems[i]->size, ==, g.size[i]);
    g_assert_true (gst_memory_map (mems[i], &map, GST_MAP_READ));
    g_assert_true (map.data == g.virt_addr[i]);
    gst_memory_unmap (mems[i], &map);
  }
  /* a plane is not a common buffer */
  g_assert_false (gst_hbmem_memory_get_com_buf (mems[1], &c));

  watch_fds (g.fd, 3);
  used = gst_test_heaps_used (NULL);
  gst_memory_unref (mems[0]);
  gst_memory_unref (mems[2]);
  /* plane 1 still holds the whole graphic buffer */
  g_assert_cmpuint (gst_test_heaps_used (NULL), ==, used);
  for (i = 0; i < 3; i++)
    g_assert_cmpint (watched_closes[i], ==, 0);
  g_assert_true (gst_memory_map (mems[1], &map, GST_MAP_WRITE));
  memset (map.data, 0x80, map.size);
  gst_memory_unmap (mems[1], &map);
  gst_memory_unref (mems[1]);
  for (i = 0; i < 3; i++) {
    g_assert_cmpint (watched_closes[i], ==, 1);
    g_assert_false (fd_is_open (g.fd[i]));
  }
}

static void
test_cached_buffer_syncs_on_map_and_unmap (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMapInfo map;
  GstMemory *mem;

  g_assert_true (gst_hbmem_allocator_get_flags (f->alloc) &
      HB_MEM_USAGE_CACHED);
  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 4096, &c);
  g_assert_true (c.flags & HB_MEM_USAGE_CACHED);
  g_atomic_int_set (&invalidates, 0);
  g_atomic_int_set (&flushes, 0);

  g_assert_true (gst_memory_map (mem, &map, GST_MAP_READ));
  g_assert_cmpint (invalidates, ==, 1);
  gst_memory_unmap (mem, &map);
  g_assert_cmpint (flushes, ==, 0);

  g_assert_true (gst_memory_map (mem, &map, GST_MAP_WRITE));
  g_assert_cmpint (invalidates, ==, 1);
  gst_memory_unmap (mem, &map);
  g_assert_cmpint (flushes, ==, 1);

  g_assert_true (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  gst_memory_unmap (mem, &map);
  g_assert_cmpint (invalidates, ==, 2);
  g_assert_cmpint (flushes, ==, 2);
  gst_memory_unref (mem);
}

static void
test_uncached_buffer_never_syncs (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c;
  GstMapInfo map;
  GstMemory *mem;
  gint64 usage = HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_CPU_WRITE_OFTEN;

  g_object_set (f->alloc, "usage", usage, NULL);
  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 4096, &c);
  g_assert_nonnull (mem);
  g_assert_false (c.flags & HB_MEM_USAGE_CACHED);
  g_atomic_int_set (&invalidates, 0);
  g_atomic_int_set (&flushes, 0);
  g_assert_true (gst_memory_map (mem, &map, GST_MAP_READWRITE));
  gst_memory_unmap (mem, &map);
  g_assert_cmpint (invalidates, ==, 0);
  g_assert_cmpint (flushes, ==, 0);
  gst_memory_unref (mem);
}

static void
test_heap_and_usage_properties_reach_hb_mem (Fixture * f, gconstpointer data)
{
  gint64 usage = HB_MEM_USAGE_CPU_READ_OFTEN | HB_MEM_USAGE_HW_ISP;
  hb_mem_common_buf_t c;
  GstHbmemHeap heap;
  GstMemory *mem;
  uint64_t cap = 0;
  gint64 got;

  if (hb_mem_get_heap_size (HB_MEM_USAGE_PRIV_HEAP_RESERVED, &cap) != 0 ||
      cap < 65536) {
    g_test_skip ("no carveout heap here");
    return;
  }
  /* heap bits in usage are ignored: the heap property picks the heap */
  g_object_set (f->alloc, "heap", GST_HBMEM_HEAP_RESERVED, "usage",
      usage | HB_MEM_USAGE_PRIV_HEAP_SRAM, NULL);
  g_object_get (f->alloc, "heap", &heap, "usage", &got, NULL);
  g_assert_cmpint (heap, ==, GST_HBMEM_HEAP_RESERVED);
  g_assert_cmpint (gst_hbmem_allocator_get_flags (f->alloc), ==,
      usage | HB_MEM_USAGE_PRIV_HEAP_RESERVED);
  mem = gst_hbmem_allocator_alloc_com_buf (f->alloc, 4096, &c);
  g_assert_nonnull (mem);
  g_assert_cmpint (c.flags, ==, usage | HB_MEM_USAGE_PRIV_HEAP_RESERVED);
  gst_memory_unref (mem);
}

static void
test_wrapped_import_frees_only_the_import (Fixture * f, gconstpointer data)
{
  hb_mem_common_buf_t c, imp;
  GstMemory *mem;
  int32_t holders = 0;

  g_assert_cmpint (hb_mem_alloc_com_buf (4096, 0, &c), ==, 0);
  g_assert_cmpint (hb_mem_import_com_buf (&c, &imp), ==, 0);
  mem = gst_hbmem_allocator_wrap_com_buf (f->alloc, &imp);
  g_assert_nonnull (mem);
  g_assert_cmpint (hb_mem_get_share_info (c.fd, &holders), ==, 0);
  g_assert_cmpint (holders, ==, 2);
  watch_fds (&imp.fd, 1);
  gst_memory_unref (mem);
  g_assert_cmpint (watched_closes[0], ==, 1);
  g_assert_cmpint (hb_mem_get_share_info (c.fd, &holders), ==, 0);
  g_assert_cmpint (holders, ==, 1);
  g_assert_cmpint (hb_mem_free_buf (c.fd), ==, 0);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_test_init (&argc, &argv);
  g_assert_cmpint (hb_mem_module_open (), ==, 0);

  add_test ("/gst/allocator/bad-arguments-are-refused",
      test_bad_arguments_are_refused);
  add_test ("/gst/allocator/bad-size-fails-cleanly",
      test_bad_size_fails_cleanly);
  add_test ("/gst/allocator/memfd-is-fd-memory-not-dmabuf",
      test_memfd_is_fd_memory_not_dmabuf);
  add_test ("/gst/allocator/alloc-honours-prefix-and-padding",
      test_allocator_alloc_honours_prefix_and_padding);
  add_test ("/gst/allocator/map-returns-the-hb-mem-mapping",
      test_map_returns_the_hb_mem_mapping);
  add_test ("/gst/allocator/free-frees-buffer-and-closes-fd-once",
      test_free_frees_buffer_and_closes_fd_once);
  add_test ("/gst/allocator/share-is-readonly-and-keeps-buffer-alive",
      test_share_is_readonly_and_keeps_buffer_alive);
  add_test ("/gst/allocator/share-whole-and-nested",
      test_share_whole_and_nested);
  add_test ("/gst/allocator/contiguous-graph-is-one-memory",
      test_contiguous_graph_is_one_memory);
  add_test ("/gst/allocator/per-plane-graph-is-memory-per-plane",
      test_per_plane_graph_is_memory_per_plane);
  add_test ("/gst/allocator/cached-buffer-syncs-on-map-and-unmap",
      test_cached_buffer_syncs_on_map_and_unmap);
  add_test ("/gst/allocator/uncached-buffer-never-syncs",
      test_uncached_buffer_never_syncs);
  add_test ("/gst/allocator/heap-and-usage-properties-reach-hb-mem",
      test_heap_and_usage_properties_reach_hb_mem);
  add_test ("/gst/allocator/wrapped-import-frees-only-the-import",
      test_wrapped_import_frees_only_the_import);

  ret = gst_test_run_and_deinit ();
  g_assert_cmpint (hb_mem_module_close (), ==, 0);
  return ret;
}
