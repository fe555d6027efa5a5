/*
 * esc.c: server text made safe to print (see esc.h).
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "esc.h"
#include "utf8.h"

static size_t	 safe_len(const unsigned char *, size_t);
static size_t	 esc_one(struct buf *, const unsigned char *, size_t,
		    enum esc_mode);

void
esc_append(struct buf *b, const char *s, size_t len, enum esc_mode mode)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (len > 0) {
		if ((n = safe_len(p, len)) == 0)
			n = esc_one(b, p, len, mode);
		else {
			if (mode == ESC_CONF && (*p == '"' || *p == '\\'))
				(void)buf_putc(b, '\\');
			(void)buf_append(b, p, n);
		}
		p += n;
		len -= n;
	}
}

const char *
esc(const char *s)
{
	static struct buf	 slot[ESC_SLOTS];
	static unsigned int	 next;
	struct buf		*b = &slot[next++ % ESC_SLOTS];

	buf_reset(b);
	if (s != NULL)
		esc_append(b, s, strlen(s), ESC_TEXT);
	return b->data != NULL && b->len > 0 ? b->data : "";
}

/*
 * The length of the character at p when it may be printed as it is (1 to
 * 4 bytes of UTF-8, not a control), else 0.
 */
static size_t
safe_len(const unsigned char *p, size_t left)
{
	size_t	 n;

	if (*p < 0x80)
		return *p < 0x20 || *p == 0x7f ? 0 : 1;
	if (*p >= 0xc2 && *p <= 0xdf)
		n = 2;
	else if ((*p & 0xf0) == 0xe0)
		n = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > left || !utf8_valid((const char *)p, n))
		return 0;
	if (p[0] == 0xc2 && p[1] < 0xa0)
		return 0;	/* C1: U+0080..U+009F */
	return n;
}

/* Escape the byte (or, in JSON, the C1 character) at p; its length. */
static size_t
esc_one(struct buf *b, const unsigned char *p, size_t left, enum esc_mode mode)
{
	if (mode == ESC_JSON) {
		if (*p < 0x20) {
			(void)buf_putc(b, (char)*p);
			return 1;
		}
		if (*p == 0x7f) {
			(void)buf_puts(b, "\\u007f");
			return 1;
		}
		if (*p == 0xc2 && left > 1 && p[1] >= 0x80 && p[1] < 0xa0) {
			(void)buf_printf(b, "\\u%04x", p[1]);
			return 2;
		}
		(void)buf_puts(b, "\\ufffd");
		return 1;
	}
	if (mode == ESC_TEXT && (*p == '\n' || *p == '\r' || *p == '\t'))
		(void)buf_printf(b, "\\%c", *p == '\n' ? 'n' : *p == '\r' ?
		    'r' : 't');
	else
		(void)buf_printf(b, "\\x%02x", *p);
	return 1;
}
