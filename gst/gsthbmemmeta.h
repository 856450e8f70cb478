/* SPDX-License-Identifier: MIT */
/*
 * gsthbmemmeta.h - the hb_mem descriptor behind a GstBuffer.
 *
 * GstHbmemBufferPool puts a GstHbmemMeta on every buffer it makes, so C
 * code that holds the buffer (an appsink callback, a pad probe) can hand
 * the frame to an hb_mem API user without searching for it:
 *
 *   GstHbmemMeta *meta = gst_buffer_get_hbmem_meta (buffer);
 *   if (meta && meta->type == HB_MEM_BUFFER_TYPE_GRAPHIC)
 *     run_model (&meta->graph_buf);
 *
 * The descriptor is a copy; its fds and mappings are borrowed from the
 * buffer's memories and are valid only while the buffer (or a ref to its
 * memories) lives. The meta owns nothing.
 *
 * Copies: the meta is tagged "memory". A buffer copy keeps it only when
 * the copy holds the very same hbmem memories (a shallow gst_buffer_copy);
 * a deep copy (whose memory is a new hb_mem buffer, or system memory)
 * drops it, because the descriptor would name a buffer the copy does not
 * contain. Core copies no "memory" meta into a region of a buffer.
 */
#ifndef __GST_HBMEM_META_H__
#define __GST_HBMEM_META_H__

#include <gst/gst.h>

#include <hb_mem_mgr.h>

G_BEGIN_DECLS

#define GST_HBMEM_META_API_TYPE (gst_hbmem_meta_api_get_type ())
#define GST_HBMEM_META_INFO (gst_hbmem_meta_get_info ())

/**
 * GstHbmemMeta:
 * @meta: the parent
 * @type: HB_MEM_BUFFER_TYPE_COMMON or HB_MEM_BUFFER_TYPE_GRAPHIC: which of
 *   @com_buf and @graph_buf is filled
 * @com_buf: the common buffer (type COMMON)
 * @graph_buf: the graphic buffer (type GRAPHIC)
 */
typedef struct
{
  GstMeta meta;
  hb_mem_buffer_type_t type;
  hb_mem_common_buf_t com_buf;
  hb_mem_graphic_buf_t graph_buf;
} GstHbmemMeta;

GType gst_hbmem_meta_api_get_type (void);
const GstMetaInfo *gst_hbmem_meta_get_info (void);

GstHbmemMeta *gst_buffer_get_hbmem_meta (GstBuffer * buffer);
GstHbmemMeta *gst_buffer_add_hbmem_meta_com (GstBuffer * buffer,
                                             const hb_mem_common_buf_t * buf);
GstHbmemMeta *gst_buffer_add_hbmem_meta_graph (GstBuffer * buffer,
                                               const hb_mem_graphic_buf_t * buf);

G_END_DECLS

#endif /* __GST_HBMEM_META_H__ */
