/* SPDX-License-Identifier: MIT */
/*
 * gsthbmemqueue.h - hbmemqueue: the hb_mem memory queue as an element.
 *
 * A V4L2-style producer/consumer between two threads over a fixed number
 * of slots (hb_mem_create_buf_queue_ex()). Upstream's chain dequeues a
 * FREE slot, stores the buffer and queues it; the src pad's task requests
 * the oldest queued slot and pushes its buffer; the slot becomes FREE again
 * only when downstream drops that buffer. So at most `slots` buffers are
 * queued or in flight downstream, as with a V4L2 device's buffers, and
 * upstream blocks (or, with leaky=overwrite, replaces the oldest queued
 * buffer) when all are taken. See docs/gstreamer.md.
 */
#ifndef __GST_HBMEM_QUEUE_H__
#define __GST_HBMEM_QUEUE_H__

#include <gst/gst.h>

G_BEGIN_DECLS

/**
 * GstHbmemQueueLeaky:
 * @GST_HBMEM_QUEUE_LEAKY_NO: upstream waits for a free slot (up to the
 *   timeout property)
 * @GST_HBMEM_QUEUE_LEAKY_OVERWRITE: when no slot is free, the oldest
 *   queued (not yet pushed) buffer is dropped and its slot reused
 *   (HB_MEM_QUEUE_FLAG_OVERWRITE)
 */
typedef enum {
  GST_HBMEM_QUEUE_LEAKY_NO = 0,
  GST_HBMEM_QUEUE_LEAKY_OVERWRITE = 1,
} GstHbmemQueueLeaky;

#define GST_TYPE_HBMEM_QUEUE_LEAKY (gst_hbmem_queue_leaky_get_type ())
GType gst_hbmem_queue_leaky_get_type (void);

#define GST_TYPE_HBMEM_QUEUE (gst_hbmem_queue_get_type ())
G_DECLARE_FINAL_TYPE (GstHbmemQueue, gst_hbmem_queue, GST, HBMEM_QUEUE,
    GstElement)

G_END_DECLS

#endif /* __GST_HBMEM_QUEUE_H__ */
