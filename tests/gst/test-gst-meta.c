/* SPDX-License-Identifier: MIT */
/*
 * GstHbmemMeta: registration, add/get, pooled on pool buffers, kept by a
 * copy that shares the hb_mem memory, dropped by one that does not (deep
 * copy, replaced memory), and readable downstream of an element.
 */
#include <string.h>

#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include "gst-test.h"
#include "gsthbmemallocator.h"
#include "gsthbmembufferpool.h"
#include "gsthbmemmeta.h"

typedef struct
{
  GstAllocator *alloc;
  guint64 used_before;
  int fds_before;
} Fixture;

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  f->fds_before = gst_test_count_fds ();
  f->used_before = gst_test_heaps_used (NULL);
  f->alloc = gst_hbmem_allocator_new ();
  g_assert_nonnull (f->alloc);
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  gst_object_unref (f->alloc);
  g_assert_cmpuint (gst_test_heaps_used (NULL), ==, f->used_before);
  g_assert_cmpint (gst_test_settled_fds (f->fds_before), ==, f->fds_before);
}

#define add_test(path, fn) \
  g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

/* A buffer of a per-plane NV12 graphic buffer, with its meta. */
static GstBuffer *
graph_buffer (Fixture * f, gboolean contiguous, hb_mem_graphic_buf_t * g)
{
  GstMemory *mems[3];
  GstBuffer *buf = gst_buffer_new ();
  guint i, n;

  g_assert_true (gst_hbmem_allocator_alloc_graph_buf (f->alloc, 64, 48,
          MEM_PIX_FMT_NV12, 0, 0, contiguous, g, mems, &n));
  for (i = 0; i < n; i++)
    gst_buffer_append_memory (buf, mems[i]);
  g_assert_nonnull (gst_buffer_add_hbmem_meta_graph (buf, g));
  return buf;
}

static void
test_api_is_registered_and_tagged_memory (Fixture * f, gconstpointer d)
{
  GType api = GST_HBMEM_META_API_TYPE;

  g_assert_cmpuint (api, !=, 0);
  g_assert_true (gst_meta_api_type_has_tag (api,
          g_quark_from_string (GST_META_TAG_MEMORY_STR)));
  g_assert_nonnull (GST_HBMEM_META_INFO);
  g_assert_true (GST_HBMEM_META_INFO->api == api);
  g_assert_true (gst_meta_get_info ("GstHbmemMeta") == GST_HBMEM_META_INFO);
}

static void
test_plain_buffer_has_no_meta (Fixture * f, gconstpointer d)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, 100, NULL);

  g_assert_null (gst_buffer_get_hbmem_meta (buf));
  gst_buffer_unref (buf);
}

static void
test_add_and_get_describe_the_buffer (Fixture * f, gconstpointer d)
{
  hb_mem_common_buf_t c;
  hb_mem_graphic_buf_t g;
  GstHbmemMeta *m;
  GstBuffer *buf;

  buf = graph_buffer (f, FALSE, &g);
  m = gst_buffer_get_hbmem_meta (buf);
  g_assert_nonnull (m);
  g_assert_cmpint (m->type, ==, HB_MEM_BUFFER_TYPE_GRAPHIC);
  g_assert_cmpmem (&m->graph_buf, sizeof (g), &g, sizeof (g));
  gst_buffer_unref (buf);

  buf = gst_buffer_new ();
  gst_buffer_append_memory (buf, gst_hbmem_allocator_alloc_com_buf (f->alloc,
          300, &c));
  m = gst_buffer_add_hbmem_meta_com (buf, &c);
  g_assert_true (m == gst_buffer_get_hbmem_meta (buf));
  g_assert_cmpint (m->type, ==, HB_MEM_BUFFER_TYPE_COMMON);
  g_assert_cmpint (m->com_buf.fd, ==, c.fd);
  g_assert_cmpuint (m->com_buf.size, ==, 300);
  gst_buffer_unref (buf);
}

static void
test_shallow_copy_keeps_the_meta (Fixture * f, gconstpointer d)
{
  hb_mem_graphic_buf_t g;
  GstBuffer *buf, *copy, *region;
  GstHbmemMeta *m;

  buf = graph_buffer (f, FALSE, &g);
  copy = gst_buffer_copy (buf);
  m = gst_buffer_get_hbmem_meta (copy);
  g_assert_nonnull (m);
  g_assert_cmpmem (&m->graph_buf, sizeof (g), &g, sizeof (g));
  /* core copies no "memory"-tagged meta into a region of a buffer */
  region = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, g.size[0],
      g.size[1]);
  g_assert_cmpuint (gst_buffer_n_memory (region), ==, 1);
  g_assert_null (gst_buffer_get_hbmem_meta (region));
  gst_buffer_unref (region);
  gst_buffer_unref (buf);
  /* the copy holds the memories: the descriptor is still good */
  g_assert_cmpuint (m->graph_buf.virt_addr[1][0], ==, g.virt_addr[1][0]);
  gst_buffer_unref (copy);
}

static void
test_deep_copy_drops_the_meta (Fixture * f, gconstpointer d)
{
  hb_mem_graphic_buf_t g;
  GstBuffer *buf, *copy;

  buf = graph_buffer (f, TRUE, &g);
  copy = gst_buffer_copy_deep (buf);
  g_assert_nonnull (copy);
  /* the copy is a new hb_mem buffer (the allocator's own alloc) ... */
  g_assert_true (gst_is_hbmem_memory (gst_buffer_peek_memory (copy, 0)));
  g_assert_cmpint (gst_hbmem_memory_get_hb_fd (gst_buffer_peek_memory (copy,
              0)), !=, g.fd[0]);
  /* ... which the descriptor does not name */
  g_assert_null (gst_buffer_get_hbmem_meta (copy));
  gst_buffer_unref (copy);
  gst_buffer_unref (buf);
}

static void
test_copy_with_foreign_memory_drops_the_meta (Fixture * f, gconstpointer d)
{
  hb_mem_graphic_buf_t g;
  GstBuffer *buf, *copy;

  buf = graph_buffer (f, TRUE, &g);
  gst_buffer_replace_all_memory (buf, gst_allocator_alloc (NULL, 64, NULL));
  copy = gst_buffer_copy (buf);
  g_assert_null (gst_buffer_get_hbmem_meta (copy));
  gst_buffer_unref (copy);
  gst_buffer_unref (buf);
}

static void
test_pool_meta_is_pooled_and_survives_recycling (Fixture * f,
    gconstpointer d)
{
  GstBufferPool *pool = gst_hbmem_buffer_pool_new ();
  GstCaps *caps = gst_caps_from_string ("video/x-raw,format=NV12,width=64,"
      "height=48");
  GstStructure *config = gst_buffer_pool_get_config (pool);
  GstBuffer *buf = NULL, *again = NULL;
  GstHbmemMeta *m;
  gint fd;

  gst_buffer_pool_config_set_params (config, caps, 0, 1, 1);
  g_assert_true (gst_buffer_pool_set_config (pool, config));
  g_assert_true (gst_buffer_pool_set_active (pool, TRUE));
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &buf, NULL), ==,
      GST_FLOW_OK);
  m = gst_buffer_get_hbmem_meta (buf);
  g_assert_nonnull (m);
  g_assert_true (GST_META_FLAG_IS_SET (m, GST_META_FLAG_POOLED));
  fd = m->graph_buf.fd[0];
  gst_buffer_unref (buf);
  g_assert_cmpint (gst_buffer_pool_acquire_buffer (pool, &again, NULL), ==,
      GST_FLOW_OK);
  g_assert_cmpint (gst_buffer_get_hbmem_meta (again)->graph_buf.fd[0], ==,
      fd);
  gst_buffer_unref (again);
  g_assert_true (gst_buffer_pool_set_active (pool, FALSE));
  gst_object_unref (pool);
  gst_caps_unref (caps);
}

static void
test_meta_is_readable_downstream_of_an_element (Fixture * f,
    gconstpointer d)
{
  GstHarness *h = gst_harness_new ("identity");
  hb_mem_graphic_buf_t g;
  GstBuffer *buf, *out;
  GstHbmemMeta *m;

  gst_harness_set_src_caps_str (h, "video/x-raw,format=NV12,width=64,"
      "height=48,framerate=30/1");
  buf = graph_buffer (f, TRUE, &g);
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  out = gst_harness_pull (h);
  m = gst_buffer_get_hbmem_meta (out);
  g_assert_nonnull (m);
  g_assert_cmpint (m->graph_buf.fd[0], ==, g.fd[0]);
  g_assert_true (m->graph_buf.virt_addr[0] == g.virt_addr[0]);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  int ret;

  gst_test_init (&argc, &argv);
  g_assert_cmpint (hb_mem_module_open (), ==, 0);

  add_test ("/gst/meta/api-is-registered-and-tagged-memory",
      test_api_is_registered_and_tagged_memory);
  add_test ("/gst/meta/plain-buffer-has-no-meta",
      test_plain_buffer_has_no_meta);
  add_test ("/gst/meta/add-and-get-describe-the-buffer",
      test_add_and_get_describe_the_buffer);
  add_test ("/gst/meta/shallow-copy-keeps-the-meta",
      test_shallow_copy_keeps_the_meta);
  add_test ("/gst/meta/deep-copy-drops-the-meta",
      test_deep_copy_drops_the_meta);
  add_test ("/gst/meta/copy-with-foreign-memory-drops-the-meta",
      test_copy_with_foreign_memory_drops_the_meta);
  add_test ("/gst/meta/pool-meta-is-pooled-and-survives-recycling",
      test_pool_meta_is_pooled_and_survives_recycling);
  add_test ("/gst/meta/readable-downstream-of-an-element",
      test_meta_is_readable_downstream_of_an_element);

  ret = gst_test_run_and_deinit ();
  g_assert_cmpint (hb_mem_module_close (), ==, 0);
  return ret;
}
