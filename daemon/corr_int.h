/*
 * corr_int.h: what the table (corr.c) and its snapshot file (corr_snap.c)
 * share; nothing else includes it.
 *
 * An entry is one malloc: struct corr_entry, then its strings packed, each
 * NUL-terminated, found by their offsets, in corr_strfields order (the
 * snapshot's order too: changing it changes the file format).
 */
#ifndef AMPSTREAM_CORR_INT_H
#define AMPSTREAM_CORR_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "corr.h"

#define CORR_MAX_MS	INT64_C(253402300799999) /* 9999-12-31 */
#define CORR_NSTR	9	/* string fields of struct corr_detection */

enum corr_family {
	FAM_THREAT,
	FAM_RETRO,
};

/* A correlated event type: per family one detection and two outcomes. */
struct corr_type {
	int64_t		 id;
	enum corr_family family;
	const char	*outcome;	/* NULL: the detection */
};

/* A string field of struct corr_detection and its cap. */
struct corr_strfield {
	size_t		 off;
	size_t		 max;		/* bytes, without the NUL */
};

extern const struct corr_strfield corr_strfields[CORR_NSTR];

/* The strings of a new entry: not NUL-terminated, len[i] bytes each. */
struct corr_strs {
	const char	*s[CORR_NSTR];
	size_t		 len[CORR_NSTR];
};

struct corr_entry {
	TAILQ_ENTRY(corr_entry) age;		/* arrival order */
	struct corr_entry *next;		/* hash chain */
	int64_t		 stored_ms;	/* arrival, epoch ms */
	int64_t		 detected_ms;
	size_t		 stream;
	uint32_t	 hash;
	uint16_t	 off[CORR_NSTR];	/* of each string in str */
	uint8_t		 type;		/* index in corr_types */
	bool		 alerted;
	char		 str[];		/* the strings, packed */
};

TAILQ_HEAD(corr_list, corr_entry);

struct corr {
	struct corr_entry **buckets;
	size_t		 nbuckets;		/* a power of two */
	struct corr_list ages;
	struct corr_entry *unalerted;	/* all before it have alerted */
	struct event	*timer;
	struct corr_conf conf;
	corr_alert_fn	 alert;
	void		*arg;
	struct corr_stats stats;
	size_t		 bytes;		/* the entries' malloc chunks */
	struct corr_entry *held;	/* the last match, out of the table */
	struct corr_detection view;	/* info->det */
};

const struct corr_type *corr_type_of(int64_t event_type_id);
int64_t		 corr_type_id(const struct corr_entry *);
struct corr_entry *corr_entry_new(const struct corr_strs *,
		    const struct corr_type *);
void		 corr_insert(struct corr *, struct corr_entry *);
void		 corr_clear(struct corr *);
void		 corr_release(struct corr *);

#endif
