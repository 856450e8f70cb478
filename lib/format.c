// SPDX-License-Identifier: MIT
/*
 * Pixel formats: how many planes a format has and how big each is.
 *
 * The board's rule: the image occupies W = max(stride, width) pixels by
 * H = max(vstride, height) lines, so stride and vstride are in pixels and
 * lines, and 0 means "tight". Planes are packed back to back with no
 * padding when the buffer is contiguous (NV12 1920x1080 is 0x1FA400 +
 * 0xFD200 bytes). Subsampled chroma rounds up, so odd sizes never lose a
 * row or column (packed 4:2:2 lines hold whole 2-pixel macropixels): for
 * even sizes this is exactly the board's arithmetic.
 */
#include <errno.h>
#include <string.h>

#include "hbmem_internal.h"

enum layout_kind {
	LAYOUT_PACKED,		/* one plane, bpp bytes per pixel */
	LAYOUT_PLANAR3,		/* Y, U, V */
	LAYOUT_SEMI2,		/* Y, interleaved chroma pairs */
};

struct format_desc {
	enum layout_kind kind;
	uint8_t bpp;		/* PACKED: bytes per pixel */
	uint8_t xshift;		/* chroma horizontal subsampling, log2; PACKED:
				 * pixels per macropixel, log2 */
	uint8_t yshift;		/* chroma vertical subsampling, log2 */
};

static const struct format_desc formats[MEM_PIX_FMT_TOTAL] = {
	[MEM_PIX_FMT_RGB565] = { LAYOUT_PACKED, 2, 0, 0 },
	[MEM_PIX_FMT_RGB24] = { LAYOUT_PACKED, 3, 0, 0 },
	[MEM_PIX_FMT_BGR24] = { LAYOUT_PACKED, 3, 0, 0 },
	[MEM_PIX_FMT_ARGB] = { LAYOUT_PACKED, 4, 0, 0 },
	[MEM_PIX_FMT_RGBA] = { LAYOUT_PACKED, 4, 0, 0 },
	[MEM_PIX_FMT_ABGR] = { LAYOUT_PACKED, 4, 0, 0 },
	[MEM_PIX_FMT_BGRA] = { LAYOUT_PACKED, 4, 0, 0 },
	[MEM_PIX_FMT_YUV420P] = { LAYOUT_PLANAR3, 1, 1, 1 },
	[MEM_PIX_FMT_NV12] = { LAYOUT_SEMI2, 1, 1, 1 },
	[MEM_PIX_FMT_NV21] = { LAYOUT_SEMI2, 1, 1, 1 },
	[MEM_PIX_FMT_YUV422P] = { LAYOUT_PLANAR3, 1, 1, 0 },
	[MEM_PIX_FMT_NV16] = { LAYOUT_SEMI2, 1, 1, 0 },
	[MEM_PIX_FMT_NV61] = { LAYOUT_SEMI2, 1, 1, 0 },
	[MEM_PIX_FMT_YUYV422] = { LAYOUT_PACKED, 2, 1, 0 },
	[MEM_PIX_FMT_YVYU422] = { LAYOUT_PACKED, 2, 1, 0 },
	[MEM_PIX_FMT_UYVY422] = { LAYOUT_PACKED, 2, 1, 0 },
	[MEM_PIX_FMT_VYUY422] = { LAYOUT_PACKED, 2, 1, 0 },
	[MEM_PIX_FMT_YUV444] = { LAYOUT_PACKED, 3, 0, 0 },
	[MEM_PIX_FMT_YUV444P] = { LAYOUT_PLANAR3, 1, 0, 0 },
	[MEM_PIX_FMT_NV24] = { LAYOUT_SEMI2, 1, 0, 0 },
	[MEM_PIX_FMT_NV42] = { LAYOUT_SEMI2, 1, 0, 0 },
	[MEM_PIX_FMT_YUV440P] = { LAYOUT_PLANAR3, 1, 0, 1 },
	[MEM_PIX_FMT_YUV400] = { LAYOUT_PACKED, 1, 0, 0 },
	[MEM_PIX_FMT_RAW8] = { LAYOUT_PACKED, 1, 0, 0 },
	[MEM_PIX_FMT_RAW10] = { LAYOUT_PACKED, 2, 0, 0 },
	[MEM_PIX_FMT_RAW12] = { LAYOUT_PACKED, 2, 0, 0 },
	[MEM_PIX_FMT_RAW14] = { LAYOUT_PACKED, 2, 0, 0 },
	[MEM_PIX_FMT_RAW16] = { LAYOUT_PACKED, 2, 0, 0 },
	[MEM_PIX_FMT_RAW20] = { LAYOUT_PACKED, 3, 0, 0 },
	[MEM_PIX_FMT_RAW24] = { LAYOUT_PACKED, 3, 0, 0 },
};

/* Set plane @i to @stride bytes x @lines; false on overflow. */
static bool set_plane(struct hbmem_plane_layout *l, int i, uint64_t stride,
		      uint64_t lines)
{
	uint64_t size;

	if (stride > UINT32_MAX || lines > UINT32_MAX ||
	    __builtin_mul_overflow(stride, lines, &size))
		return false;
	l->stride[i] = (uint32_t)stride;
	l->lines[i] = (uint32_t)lines;
	l->size[i] = size;
	l->offset[i] = l->total;
	return !__builtin_add_overflow(l->total, size, &l->total);
}

int _hbmem_format_layout(int32_t format, int32_t w, int32_t h, int32_t stride,
			 int32_t vstride, struct hbmem_plane_layout *out)
{
	const struct format_desc *d;
	uint64_t W, H, cw, ch;
	bool ok;

	if (format < 0 || format >= MEM_PIX_FMT_TOTAL || w <= 0 || h <= 0 ||
	    stride < 0 || vstride < 0)
		return -EINVAL;
	d = &formats[format];
	W = (uint64_t)(stride > w ? stride : w);
	H = (uint64_t)(vstride > h ? vstride : h);
	memset(out, 0, sizeof(*out));

	switch (d->kind) {
	case LAYOUT_PACKED:
		/* whole macropixels: an odd-width YUYV line ends in a pair */
		cw = (W + (1u << d->xshift) - 1) >> d->xshift << d->xshift;
		out->planes = 1;
		ok = set_plane(out, 0, cw * d->bpp, H);
		break;
	case LAYOUT_PLANAR3:
		cw = (W + (1u << d->xshift) - 1) >> d->xshift;
		ch = (H + (1u << d->yshift) - 1) >> d->yshift;
		out->planes = 3;
		ok = set_plane(out, 0, W, H) && set_plane(out, 1, cw, ch) &&
		     set_plane(out, 2, cw, ch);
		break;
	case LAYOUT_SEMI2:
	default:
		cw = (W + (1u << d->xshift) - 1) >> d->xshift;
		ch = (H + (1u << d->yshift) - 1) >> d->yshift;
		out->planes = 2;
		ok = set_plane(out, 0, W, H) && set_plane(out, 1, 2 * cw, ch);
		break;
	}
	return ok ? 0 : -EOVERFLOW;
}
