// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: hbmem_proto_parse(), the broker's message parser
 * (lib/broker_proto.c), which both hbmemd and libhbmem run on every
 * datagram they receive.
 *
 * Input: byte 0: bits 0-1 the number of fds the datagram came with, bit 2
 * stamps a valid magic and version, bit 3 cuts or zero-pads the datagram
 * to the length its type has (so that the body checks are reached, not
 * only the header's); the rest is the datagram, copied to a buffer of
 * exactly its length so that AddressSanitizer sees any read past it.
 *
 * Invariants: no crash, no sanitizer report; parsing never accepts more
 * bytes than a message has; an accepted message parses the same again
 * from its copy.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker_proto.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hbmem_msg out, again;
	size_t len;
	void *buf;
	int nfds, ret;

	if (size < 1)
		return 0;
	nfds = data[0] & 3;
	len = size - 1;
	if ((data[0] & 8) && len >= sizeof(struct hbmem_msg_hdr) &&
	    hbmem_proto_size(data[1 + offsetof(struct hbmem_msg_hdr, type)]))
		len = hbmem_proto_size(
			data[1 + offsetof(struct hbmem_msg_hdr, type)]);
	buf = calloc(1, len ? len : 1);
	fuzz_check(buf != NULL);
	memcpy(buf, data + 1, len < size - 1 ? len : size - 1);
	if ((data[0] & 4) && len >= sizeof(struct hbmem_msg_hdr)) {
		struct hbmem_msg_hdr h;

		memcpy(&h, buf, sizeof(h));
		h.magic = HBMEM_PROTO_MAGIC;
		h.version = HBMEM_PROTO_VERSION;
		memcpy(buf, &h, sizeof(h));
	}
	ret = hbmem_proto_parse(buf, len, nfds, &out);
	fuzz_check(ret == 0 || ret == -EBADMSG || ret == -EPROTO ||
		   ret == -EINVAL);
	if (ret == 0) {
		fuzz_check(len <= sizeof(out));
		fuzz_check(len == hbmem_proto_size(out.hdr.type));
		fuzz_check(hbmem_proto_parse(&out, len, nfds, &again) == 0);
		fuzz_check(memcmp(&out, &again, len) == 0);
	}
	free(buf);
	return 0;
}
