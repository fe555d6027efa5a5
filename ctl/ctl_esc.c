/*
 * ctl_esc.c: server text made safe to print (see ctl_esc.h).
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "ctl_esc.h"
#include "utf8.h"

static size_t	 esc_one(struct buf *, const unsigned char *, size_t,
		    enum esc_mode);

void
esc_append(struct buf *b, const char *s, size_t len, enum esc_mode mode)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	while (len > 0) {
		if ((n = utf8_printable((const char *)p, len)) == 0)
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
