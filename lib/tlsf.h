/* SPDX-License-Identifier: MIT */
/* tlsf.h - placeholder, being written. */
#ifndef HBMEM_TLSF_H
#define HBMEM_TLSF_H
#endif
