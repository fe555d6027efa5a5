/*
 * route.h: the router.  Per stream, the outlets it feeds ({sink, recipe},
 * resolved once at build time).  A message comes in from its stream; it is
 * parsed into an event (or dead-lettered), correlated, made into one record
 * per outlet, and each record is handed to its sink holding the message's
 * delivery; the stream acks the message once every record was accepted.
 * Correlation alerts travel the same way, holding no delivery.
 */
#ifndef AMPSTREAM_ROUTE_H
#define AMPSTREAM_ROUTE_H

#include <stddef.h>

struct config;
struct corr;
struct corr_detection;
struct deadletter;
struct groups;
struct delivery;
struct record_recipe;
struct route;
struct sink;
struct stats;
struct stream;

/*
 * sinks[i] and recipes[i] are those of cfg->sinks[i], dls[i] the dead
 * letters of cfg->streams[i]; all borrowed.
 */
struct route	*route_new(const struct config *, struct sink **,
		    struct record_recipe **, struct deadletter **,
		    struct stats *);
void		 route_free(struct route *);
/* The correlation table events go through (none until set). */
void		 route_set_corr(struct route *, struct corr *);
void		 route_set_groups(struct route *, struct groups *);
/* The stream callback (stream.h); arg is route_lane(r, i) for stream i. */
void		 route_message(struct stream *, const char *body, size_t len,
		    struct delivery *, void *arg);
void		*route_lane(struct route *, size_t stream);
/* The correlation alert callback (corr.h); arg is the route. */
void		 route_alert(const struct corr_detection *, void *arg);

#endif
