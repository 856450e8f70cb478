/* SPDX-License-Identifier: MIT */
#ifndef __GST_HBMEM_SINK_H__
#define __GST_HBMEM_SINK_H__

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_HBMEM_SINK (gst_hbmem_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstHbmemSink, gst_hbmem_sink, GST, HBMEM_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (hbmemsink);

G_END_DECLS

#endif /* __GST_HBMEM_SINK_H__ */
