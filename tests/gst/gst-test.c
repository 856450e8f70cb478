/* SPDX-License-Identifier: MIT */
#include "gst-test.h"

#include <dirent.h>
#include <sys/stat.h>

void
gst_test_init (int *argc, char ***argv)
{
  g_test_init (argc, argv, NULL);
  gst_init (argc, argv);
}

int
gst_test_run_and_deinit (void)
{
  int ret = g_test_run ();

  /* the leaks tracer reports (fatally) here */
  gst_deinit ();
  return ret;
}

int
gst_test_count_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  g_assert_nonnull (d);
  while ((e = readdir (d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  return n - 1;
}

int
gst_test_settled_fds (int expected)
{
  gint64 end = g_get_monotonic_time () + GST_TEST_SETTLE_US;
  int n;

  while ((n = gst_test_count_fds ()) != expected &&
      g_get_monotonic_time () < end)
    g_usleep (1000);
  return n;
}

guint64
gst_test_heaps_used (guint * buffers)
{
  hb_mem_heap_info_t info;
  guint64 used = 0;
  guint bufs = 0;
  int32_t n, i;

  g_assert_cmpint (hb_mem_get_heap_count (&n), ==, 0);
  for (i = 0; i < n; i++) {
    g_assert_cmpint (hb_mem_get_heap_info (i, &info), ==, 0);
    used += info.used;
    bufs += info.buffers;
  }
  if (buffers)
    *buffers = bufs;
  return used;
}

gboolean
gst_test_backend_is_dmabuf (void)
{
  uint32_t caps = 0;
  char name[32];

  g_assert_cmpint (hb_mem_get_backend (name, sizeof (name), &caps), ==, 0);
  return (caps & HB_MEM_BACKEND_CAP_DMABUF) != 0;
}

/*
 * V4L2 interop (docs/gstreamer.md, "V4L2"): dmabuf memory shows GStreamer
 * a dup of hb_mem's fd, fd (memfd) memory hb_mem's fd itself.
 */
void
gst_test_assert_gst_fd (int gst_fd, int hb_fd)
{
  struct stat a, b;

  if (!gst_test_backend_is_dmabuf ()) {
    g_assert_cmpint (gst_fd, ==, hb_fd);
    return;
  }
  g_assert_cmpint (gst_fd, !=, hb_fd);
  g_assert_cmpint (fstat (gst_fd, &a), ==, 0);
  g_assert_cmpint (fstat (hb_fd, &b), ==, 0);
  g_assert_true (a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

gboolean
gst_test_wait_flag (gint * flag, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;

  while (!g_atomic_int_get (flag)) {
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (1000);
  }
  return TRUE;
}

gboolean
gst_test_wait_uint_prop (gpointer obj, const gchar * name, guint value,
    gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  guint v;

  for (;;) {
    g_object_get (obj, name, &v, NULL);
    if (v == value)
      return TRUE;
    if (g_get_monotonic_time () > end)
      return FALSE;
    g_usleep (1000);
  }
}
