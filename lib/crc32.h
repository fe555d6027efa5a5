/* crc32.h: CRC-32 (IEEE 802.3, reflected: the one zlib's crc32 computes). */
#ifndef AMPSTREAM_CRC32_H
#define AMPSTREAM_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over p[0..n). */
uint32_t	crc32_update(uint32_t crc, const void *p, size_t n);

#endif
