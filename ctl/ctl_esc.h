/*
 * ctl_esc.h: text a server sent, made safe to print (lib/esc.h does the
 * same for the daemon's log, in one form; these are the CLI's three).
 *
 * A name, an error text or a URL from the API may hold terminal escape
 * sequences (ESC [ ..., or the C1 CSI U+009B), CR or newlines that would
 * forge lines of ampstreamctl's output or of a log.  Every piece of server
 * text goes through esc_append (or esc) once, where it is put into a
 * message or printed: C0 controls, DEL, C1 controls (U+0080..U+009F) and
 * bytes that are not UTF-8 become visible escapes; other UTF-8 is kept.
 */
#ifndef AMPSTREAM_CTL_ESC_H
#define AMPSTREAM_CTL_ESC_H

#include <stddef.h>

#include "buf.h"

enum esc_mode {
	ESC_TEXT,	/* \n \r \t, else \xNN for each byte */
	ESC_CONF,	/* a libconfig string: \" \\ and \xNN for each byte */
	ESC_JSON,	/* json-c's output: DEL and C1 as \u00NN, a byte that
			   is not UTF-8 as \ufffd; C0 is kept (json-c escapes
			   it in strings, so what is left is whitespace) */
};

/* Append s[0..len) to b, escaped for mode. */
void		 esc_append(struct buf *, const char *, size_t, enum esc_mode);

/*
 * s escaped (ESC_TEXT) into one of ESC_SLOTS static buffers used in turn:
 * valid until ESC_SLOTS more calls, enough for one printf's arguments.
 * NULL gives "".
 */
#define ESC_SLOTS	8
const char	*esc(const char *);

#endif
