/* crc32.c: CRC-32, table built on first use (see crc32.h). */
#include "crc32.h"

uint32_t
crc32_update(uint32_t crc, const void *p, size_t n)
{
	static uint32_t		 table[256];
	const unsigned char	*s = p;
	uint32_t		 c, i, k;

	if (table[1] == 0) {
		for (i = 0; i < 256; i++) {
			for (c = i, k = 0; k < 8; k++)
				c = (c & 1) ? 0xedb88320U ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	c = ~crc;
	while (n-- > 0)
		c = table[(c ^ *s++) & 0xff] ^ (c >> 8);
	return ~c;
}
