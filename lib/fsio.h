/*
 * fsio.h: files replaced whole.  A reader sees the old file or the new one,
 * never half of either: write path.tmp, (fsync,) rename over path, (fsync
 * the directory so the rename survives a crash).
 */
#ifndef AMPSTREAM_FSIO_H
#define AMPSTREAM_FSIO_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Fills the file; returns 0, or -1 with errno set. */
typedef int (*fsio_write_fn)(FILE *, void *arg);

/*
 * Replace path with what fn writes, created with mode.  durable: fsync the
 * file before the rename and the directory after it.  Returns 0, or -1 with
 * errno set (path unchanged, the temporary removed).
 */
int	fsio_replace(const char *path, mode_t mode, bool durable,
	    fsio_write_fn fn, void *arg);
/* Make a rename or create in path's directory durable (best effort). */
void	fsio_sync_dir(const char *path);

#endif
