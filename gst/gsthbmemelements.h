/* SPDX-License-Identifier: MIT */
/*
 * gsthbmemelements.h - the elements of the hbmem plugin, one line each.
 */
#ifndef __GST_HBMEM_ELEMENTS_H__
#define __GST_HBMEM_ELEMENTS_H__

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (hbmemqueue);
GST_ELEMENT_REGISTER_DECLARE (hbmemsink);
GST_ELEMENT_REGISTER_DECLARE (hbmemsrc);

G_END_DECLS

#endif /* __GST_HBMEM_ELEMENTS_H__ */
