/* SPDX-License-Identifier: MIT */
/* tlsf.c - placeholder, being written. */
#include "tlsf.h"
