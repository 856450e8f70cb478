/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the GStreamer suite (tests/gst). Every program runs
 * under the leaks tracer (GST_TRACERS=leaks in the suite's env) with
 * G_DEBUG=fatal-warnings: the tracer reports leaked GstObjects and
 * GstMiniObjects with g_warning() from gst_deinit(), which then aborts the
 * program, so each main() ends with gst_test_run_and_deinit().
 */
#ifndef HBMEM_GST_TEST_H
#define HBMEM_GST_TEST_H

#include <gst/gst.h>

#include <hb_mem_mgr.h>
#include <hb_mem_ext.h>

/* Longest a thread may take to react (generous: sanitizers, valgrind). */
#define GST_TEST_REACT_US (10 * G_USEC_PER_SEC)
/* How long "still blocked" is watched before calling it blocked. */
#define GST_TEST_BLOCKED_US (200 * G_TIME_SPAN_MILLISECOND)
/* How long fds closed by another thread may take to go. */
#define GST_TEST_SETTLE_US (2 * G_USEC_PER_SEC)

void gst_test_init (int *argc, char ***argv);
int gst_test_run_and_deinit (void);

/* Number of open fds of this process. */
int gst_test_count_fds (void);

/*
 * The fd count once it is back to @expected, or what it still is after
 * GST_TEST_SETTLE_US: an object another thread finalizes a moment later
 * (a pool's GstPoll pair, say) closes its fds late; a leak stays.
 */
int gst_test_settled_fds (int expected);

/* Sum of the used bytes and live buffers of every hb_mem heap. */
guint64 gst_test_heaps_used (guint * buffers);

/* TRUE when the hb_mem backend hands out real dma-bufs. */
gboolean gst_test_backend_is_dmabuf (void);

/*
 * Assert that @gst_fd (gst_fd_memory_get_fd() of an hbmem memory) is what
 * the allocator shows GStreamer for hb_mem fd @hb_fd: @hb_fd itself on
 * memfd, a dup naming the same dma-buf on a dma-buf backend.
 */
void gst_test_assert_gst_fd (int gst_fd, int hb_fd);

/* Wait (bounded) until *@flag is non-zero; FALSE on timeout. */
gboolean gst_test_wait_flag (gint * flag, gint64 timeout_us);

/* Wait (bounded) until the uint property @name of @obj equals @value. */
gboolean gst_test_wait_uint_prop (gpointer obj, const gchar * name,
    guint value, gint64 timeout_us);

#endif /* HBMEM_GST_TEST_H */
