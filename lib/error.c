// SPDX-License-Identifier: MIT
/*
 * Error codes: descriptions, and the mapping from internal errnos.
 */
#include <errno.h>
#include <stdio.h>

#include "hbmem_internal.h"

static const char *const descriptions[] = {
	[0x01] = "unknown error",
	[0x02] = "invalid parameters",
	[0x03] = "invalid or unknown file descriptor",
	[0x04] = "address is not inside an hbmem buffer",
	[0x05] = "insufficient memory in the selected heaps",
	[0x06] = "too many open file descriptors",
	[0x07] = "timed out",
	[0x08] = "module not opened",
	[0x09] = "failed to open the module (no usable backend)",
	[0x0A] = "queue not found",
	[0x0B] = "queue destroyed",
	[0x0C] = "queue slot is not in the state this call needs",
	[0x0D] = "no queue slot available",
	[0x0E] = "queue already exists",
	[0x0F] = "pool not found",
	[0x10] = "pool destroyed",
	[0x11] = "pool busy: buffers are still allocated from it",
	[0x12] = "failed to wait for share status",
	[0x13] = "operation not allowed",
	[0x14] = "version check failed",
	[0x15] = "failed to register the buffer group",
	[0x16] = "invalid group id",
};

HBMEM_EXPORT int32_t hb_mem_strerror(int32_t err_num, char *err_buf,
				     size_t errbuf_size)
{
	uint32_t code = (uint32_t)err_num;
	uint32_t nr = code & 0xFFu;

	if (!err_buf || !errbuf_size)
		return HB_MEM_ERR_INVALID_PARAMS;
	if (err_num == 0) {
		snprintf(err_buf, errbuf_size, "success");
		return 0;
	}
	if ((code & 0xFFFFFF00u) != 0xFF000000u || nr == 0 ||
	    nr >= sizeof(descriptions) / sizeof(descriptions[0])) {
		snprintf(err_buf, errbuf_size, "unknown error code %d",
			 (int)err_num);
		return HB_MEM_ERR_UNKNOWN;
	}
	snprintf(err_buf, errbuf_size, "%s", descriptions[nr]);
	return 0;
}

int32_t _hbmem_err(int e)
{
	switch (e) {
	case 0:
		return 0;
	case -EINVAL:
	case -EOVERFLOW:
	case -ERANGE:
		return HB_MEM_ERR_INVALID_PARAMS;
	case -EBADF:
		return HB_MEM_ERR_INVALID_FD;
	case -EFAULT:
		return HB_MEM_ERR_INVALID_VADDR;
	case -ENOMEM:
	case -ENOSPC:
	case -EFBIG:
		return HB_MEM_ERR_INSUFFICIENT_MEM;
	case -EMFILE:
	case -ENFILE:
		return HB_MEM_ERR_TOO_MANY_FD;
	case -ETIMEDOUT:
		return HB_MEM_ERR_TIMEOUT;
	case -ENODEV:
		return HB_MEM_ERR_MODULE_NOT_FOUND;
	case -EBUSY:
		return HB_MEM_ERR_POOL_BUSY;
	case -EPERM:
	case -EACCES:
	case -ENOTSUP:
		return HB_MEM_ERR_NOT_ALLOW;
	default:
		return HB_MEM_ERR_UNKNOWN;
	}
}
