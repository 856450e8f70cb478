/* SPDX-License-Identifier: MIT */
/*
 * gsthbmembufferpool.h - a GstBufferPool of hb_mem buffers.
 *
 * The model
 * ---------
 * Raw video caps (video/x-raw in a format hb_mem has, see the table in
 * gsthbmembufferpool.c): every GstBuffer is one hb_mem graphic buffer,
 * allocated when the pool makes the buffer and kept for the buffer's
 * whole life, so a buffer always returns to this pool with the same
 * hb_mem buffer (same fds, same mapping) behind it. Its planes are
 * described by a GstVideoMeta whose offsets and strides are the graphic
 * buffer's own. Layout:
 *
 *   contiguous (the default): one GstMemory at offset 0 holding every
 *     plane. This is what V4L2 single-planar import (1.22 asserts a data
 *     offset of 0), kmssink and a plain gst_buffer_map() want.
 *   per-plane (gst_hbmem_buffer_pool_config_set_contiguous (config,
 *     FALSE)): one hb_mem allocation and one GstMemory per plane, for
 *     devices that want a separate fd per plane. Map such buffers with
 *     gst_video_frame_map(): a whole-buffer map merges the planes into a
 *     copy.
 *
 * GST_BUFFER_POOL_OPTION_VIDEO_ALIGNMENT (with VIDEO_META) is honoured:
 * padding grows the allocated width/height (the hb_mem stride and vstride),
 * stride_align masks grow the stride until every plane's byte stride
 * meets its mask, and the meta's offsets point at the visible top-left.
 * A config size bigger than the layout grows the vstride until it fits.
 *
 * Any other caps: every GstBuffer is one hb_mem common buffer of the
 * configured size.
 *
 * Every buffer carries a GstHbmemMeta (gsthbmemmeta.h). The allocator is
 * the config's when it is an hbmem allocator (its heap and usage flags
 * apply), otherwise one the pool makes. A format hb_mem does not have is
 * refused by set_config (FALSE, with a warning naming the format).
 *
 * The min buffers, allocated when the pool is activated (before
 * streaming), are backed with pages at once, so no frame written into one
 * pays a page fault per page; gst_hbmem_buffer_pool_config_set_prefault
 * (config, FALSE) leaves that to the first write and the memory untaken
 * until then. Buffers allocated on demand later are never prefaulted.
 *
 * Recycling is LIFO: an acquire gets the most recently released buffer
 * (still in the CPU cache), not the one released longest ago as
 * GstBufferPool's own queue would. At max, an acquire without
 * GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT waits for a release or a flush.
 */
#ifndef __GST_HBMEM_BUFFER_POOL_H__
#define __GST_HBMEM_BUFFER_POOL_H__

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_HBMEM_BUFFER_POOL (gst_hbmem_buffer_pool_get_type ())
G_DECLARE_FINAL_TYPE (GstHbmemBufferPool, gst_hbmem_buffer_pool, GST,
    HBMEM_BUFFER_POOL, GstBufferPool)

/* Config field: boolean, TRUE (default) for one memory per buffer. */
#define GST_HBMEM_BUFFER_POOL_CONFIG_CONTIGUOUS "hbmem-contiguous"
/* Config field: boolean, TRUE (default) to back the min buffers at start. */
#define GST_HBMEM_BUFFER_POOL_CONFIG_PREFAULT "hbmem-prefault"

GstBufferPool *gst_hbmem_buffer_pool_new (void);

void     gst_hbmem_buffer_pool_config_set_contiguous (GstStructure * config,
                                                       gboolean contiguous);
gboolean gst_hbmem_buffer_pool_config_get_contiguous (GstStructure * config);
void     gst_hbmem_buffer_pool_config_set_prefault (GstStructure * config,
                                                     gboolean prefault);
gboolean gst_hbmem_buffer_pool_config_get_prefault (GstStructure * config);

gint     gst_hbmem_video_format_to_hb (GstVideoFormat format);
GstVideoFormat gst_hbmem_video_format_from_hb (gint format);

G_END_DECLS

#endif /* __GST_HBMEM_BUFFER_POOL_H__ */
