/*
 * groups.h: group names for the group_guids of events, and the policy and
 * isolation status of their computers, from each cloud's REST API (GET
 * /v1/groups and GET /v1/computers with the cloud's client_id and
 * api_key), kept in a cache.  The requests run in the loop through
 * libcurl's multi interface and never block it; a record never waits for a
 * name: until the first answer, or for a GUID the cloud does not know, it
 * goes out with the GUID alone.
 *
 * Refreshes: both listings at start, then hourly; the groups sooner when
 * an event names a GUID the cache lacks (at most every GROUPS_MISS_SEC).
 * A computer the cache lacks waits for the next hourly listing.  Never
 * beyond what the rate-limit headers allow (both spellings,
 * lib/ratelimit.h): the last tenth of each window's budget is left to
 * ampstreamctl and the admin; a 429 waits for the reset; errors back off
 * from 1 minute to 1 hour.
 */
#ifndef AMPSTREAM_GROUPS_H
#define AMPSTREAM_GROUPS_H

#include <stdint.h>

struct cloud_conf;
struct config;
struct event_base;
struct groups;

#define GROUPS_REFRESH_SEC	3600
#define GROUPS_MISS_SEC		300
#define GROUPS_MAX		100000	/* groups, computers kept per cloud */

/* Per cloud, for the metrics. */
struct groups_stats {
	uint64_t	 entries;	/* group names */
	uint64_t	 computers;	/* computers with details */
	uint64_t	 refreshes;	/* complete listings (either) */
	uint64_t	 failures;	/* requests that failed (429 included) */
	int64_t		 refreshed;	/* unix time of the last, 0: never */
};

/* NULL when no cloud has API credentials. */
struct groups	*groups_new(struct event_base *, const struct config *);
/* A reload: clouds asked the same way keep their caches; old is freed. */
struct groups	*groups_renew(struct groups *old, struct event_base *,
		    const struct config *);
void		 groups_free(struct groups *);
/* guid's name in cloud's groups, or NULL (not known, or not yet). */
const char	*groups_name(struct groups *, const struct cloud_conf *,
		    const char *guid);
/* The policy name and isolation status of a computer; NULLs: not known. */
void		 groups_computer(struct groups *, const struct cloud_conf *,
		    const char *connector_guid, const char **policy,
		    const char **isolation);
/* Cloud i of the configuration (in its order); NULL when it has no client. */
const struct groups_stats *groups_stats(const struct groups *, size_t i);

#endif
