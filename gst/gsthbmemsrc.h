/* SPDX-License-Identifier: MIT */
#ifndef __GST_HBMEM_SRC_H__
#define __GST_HBMEM_SRC_H__

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_HBMEM_SRC (gst_hbmem_src_get_type ())
G_DECLARE_FINAL_TYPE (GstHbmemSrc, gst_hbmem_src, GST, HBMEM_SRC, GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (hbmemsrc);

G_END_DECLS

#endif /* __GST_HBMEM_SRC_H__ */
