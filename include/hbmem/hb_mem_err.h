/* SPDX-License-Identifier: MIT */
/*
 * hb_mem_err.h - error codes of the hbmem media-memory API.
 *
 * Every hb_mem_* function returns 0 on success or one of the codes below.
 * The codes are negative 32-bit values of the form 0xFF0000NN, numerically
 * identical to those of the vendor library, so board code that compares
 * against them (or prints them in decimal, e.g. -16777214 for
 * HB_MEM_ERR_INVALID_PARAMS) behaves the same on hbmem.
 *
 * hb_mem_strerror() turns a code into a sentence.
 */
#ifndef HB_MEM_ERR_H
#define HB_MEM_ERR_H

#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Negate a POSIX errno the way the vendor header does. */
#if EDOM > 0
#define HB_MEM_ERR(e) (-(e))
#define HB_MEM_UNERR(e) (-(e))
#else
#define HB_MEM_ERR(e) (e)
#define HB_MEM_UNERR(e) (e)
#endif

#define HB_MEM_ERR_UNKNOWN			((int32_t)0xFF000001)
#define HB_MEM_ERR_INVALID_PARAMS		((int32_t)0xFF000002)
#define HB_MEM_ERR_INVALID_FD			((int32_t)0xFF000003)
#define HB_MEM_ERR_INVALID_VADDR		((int32_t)0xFF000004)
#define HB_MEM_ERR_INSUFFICIENT_MEM		((int32_t)0xFF000005)
#define HB_MEM_ERR_TOO_MANY_FD			((int32_t)0xFF000006)
#define HB_MEM_ERR_TIMEOUT			((int32_t)0xFF000007)
#define HB_MEM_ERR_MODULE_NOT_FOUND		((int32_t)0xFF000008)
#define HB_MEM_ERR_MODULE_OPEN_FAIL		((int32_t)0xFF000009)
#define HB_MEM_ERR_QUEUE_NOT_FOUND		((int32_t)0xFF00000A)
#define HB_MEM_ERR_QUEUE_DESTROYED		((int32_t)0xFF00000B)
#define HB_MEM_ERR_QUEUE_WRONG_SLOT		((int32_t)0xFF00000C)
#define HB_MEM_ERR_QUEUE_NO_AVAILABLE_SLOT	((int32_t)0xFF00000D)
#define HB_MEM_ERR_QUEUE_ALREADY_EXIST		((int32_t)0xFF00000E)
#define HB_MEM_ERR_POOL_NOT_FOUND		((int32_t)0xFF00000F)
#define HB_MEM_ERR_POOL_DESTROYED		((int32_t)0xFF000010)
#define HB_MEM_ERR_POOL_BUSY			((int32_t)0xFF000011)
#define HB_MEM_ERR_WAIT_SHARE_FAILURE		((int32_t)0xFF000012)
#define HB_MEM_ERR_NOT_ALLOW			((int32_t)0xFF000013)
#define HB_MEM_ERR_CHECK_VER_FAIL		((int32_t)0xFF000014)
#define HB_MEM_ERR_REGISTER_FAIL		((int32_t)0xFF000015)
#define HB_MEM_ERR_INVALID_GROUPID		((int32_t)0xFF000016)

/* Longest description hb_mem_strerror() writes, terminator included. */
#define HB_MEM_ERR_MAX_STR_SIZE 256

/**
 * hb_mem_strerror() - describe an error code.
 * @err_num:     an HB_MEM_ERR_* code, or 0.
 * @err_buf:     where to write the NUL-terminated description.
 * @errbuf_size: size of @err_buf; the text is truncated to fit.
 *
 * Return: 0, or HB_MEM_ERR_INVALID_PARAMS when @err_buf is NULL or
 * @errbuf_size is 0, or HB_MEM_ERR_UNKNOWN when @err_num is not a known
 * code (a generic text is still written).
 */
int32_t hb_mem_strerror(int32_t err_num, char *err_buf, size_t errbuf_size);

/* Convenience wrapper: the description, or @err_buf unchanged on failure. */
static inline char *hb_mem_make_error_string(int32_t err_num, char *err_buf,
					     size_t errbuf_size)
{
	hb_mem_strerror(err_num, err_buf, errbuf_size);
	return err_buf;
}

#ifdef __cplusplus
}
#endif

#endif /* HB_MEM_ERR_H */
