/*
 * pipeline.h: the daemon's data flow for one configuration:
 * stream (AMQP in) -> event (parse) -> format -> sink (out) -> ack.
 *
 * The pipeline owns the streams and borrows the sinks; a message is
 * acknowledged only when every sink its stream feeds has accepted its
 * record, or when it was dead-lettered.
 */
#ifndef AMPSTREAM_PIPELINE_H
#define AMPSTREAM_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct json_object;
struct event_base;
struct pipeline;
struct sink;

struct pipeline	*pipeline_new(struct event_base *, const struct config *,
		    struct sink **sinks);
void		 pipeline_start(struct pipeline *);
/* Stop taking new messages (shutdown or reload). */
void		 pipeline_pause(struct pipeline *);
/* True when no record is waiting for a sink. */
bool		 pipeline_idle(const struct pipeline *);
/* Send every ack that can be sent now. */
void		 pipeline_flush_acks(struct pipeline *);
/* Close the AMQP connections (unacked messages return to their queues). */
void		 pipeline_close_streams(struct pipeline *);
/* After the sinks are freed. */
void		 pipeline_free(struct pipeline *);
void		 pipeline_log_stats(const struct pipeline *);
/* The same counters as a JSON object: {"streams": [...], "correlation": {...}}. */
struct json_object *pipeline_status_json(const struct pipeline *);

#endif
