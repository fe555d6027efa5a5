/*
 * event.h: one AMP event, read from an AMQP message body in one pass
 * (lib/jscan: no tree is built).
 *
 * The strings are copies, unescaped, in one block (ev->mem) that lives as
 * long as the event.  A field the event does not carry, or carries with
 * another JSON type, is NULL (or has_x false).
 */
#ifndef AMPSTREAM_EVENT_H
#define AMPSTREAM_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_GROUPS_MAX	8	/* group_guids kept of an event */
#define EVENT_LIST_MAX		8	/* items of a list field kept */
#define EVENT_ITEM_MAX		64	/* bytes of a list item (longer: skipped) */

/*
 * A block event_read lends to one event after another (NULL: each event
 * allocates its own), so reading an event allocates nothing.  It keeps up
 * to EVENT_MEM_KEEP bytes; a larger event has its own block.
 */
#define EVENT_MEM_KEEP		(256 * 1024)
struct event_mem {
	char		*p;
	size_t		 size;
};

struct amp_event {
	char		*mem;		/* the strings below: owned, or lent */
	bool		 mem_lent;	/* by an event_mem: not freed */
	const char	*body;		/* the message body as received (not owned) */
	size_t		 body_len;

	bool		 has_id;
	const char	*id_str;	/* the exact digits, number or string */
	const char	*event_type;	/* required */
	int64_t		 event_type_id;	/* required; may exceed INT32_MAX */
	int64_t		 timestamp;	/* epoch seconds, 0 if absent */
	int64_t		 timestamp_ns;	/* 0..999999999 */
	const char	*date;
	const char	*severity;	/* "Low" .. "Critical" */
	const char	*detection;
	const char	*detection_id;	/* a string; a number's exact digits */
	const char	*connector_guid;	/* top level, else computer.connector_guid */

	const char	*hostname;	/* computer.* */
	const char	*user;
	const char	*external_ip;
	const char	*ipv4;		/* first IPv4 of network_addresses */
	const char	*ipv6;		/* first IPv6 */
	const char	*mac;		/* mac of the first non-empty address */

	const char	*file_name;	/* file.* */
	const char	*file_path;
	const char	*sha256;
	const char	*sha1;
	const char	*md5;
	const char	*disposition;
	const char	*parent_name;
	int64_t		 parent_pid;
	bool		 has_parent_pid;
	const char	*parent_sha256;

	const char	*description;	/* cloud_ioc.short_description or error.description */
	bool		 has_error_code;
	int64_t		 error_code;
	const char	*api_link;	/* computer.links.computer, for the region */

	int64_t		 start_timestamp;	/* epoch seconds, 0 if absent */
	const char	*remote_ip;	/* network_info.* */
	bool		 has_local_port;
	int64_t		 local_port;
	bool		 has_remote_port;
	int64_t		 remote_port;

	const char	*group_guids[EVENT_GROUPS_MAX];	/* the first ones */
	size_t		 ngroups;

	/* Lists: the first EVENT_LIST_MAX items, comma-separated; NULL: none. */
	const char	*tactics;	/* "TA0002,TA0005" (ids, or external_id) */
	const char	*techniques;	/* "T1059.001,T1059" */
	const char	*ips;		/* every computer.network_addresses ip */
	const char	*macs;		/* and every mac */
	const char	*parent_sha1;	/* file.parent.* */
	const char	*parent_md5;
	const char	*parent_disposition;
	const char	*archived_sha256;	/* file.archived_file.* */
	const char	*archived_disposition;
	const char	*os;		/* computer.operating_system */
	const char	*protocol;	/* network_info.nfm.* */
	const char	*direction;
	const char	*dirty_url;	/* network_info.dirty_url */
	const char	*incident_id;	/* threat_hunting.* */
	const char	*incident_title;
	const char	*incident_summary;
	const char	*incident_remediation;
};

/*
 * Check and parse a message body as received (len bytes, need not be
 * NUL-terminated; the stream keeps bodies over max_message from here).
 * Returns 0, or -1 with *reason set to a static string for the dead-letter
 * file, the first that applies of: "empty body", "not valid UTF-8 (or
 * holds NUL bytes)", "not JSON", "not a JSON object", "trailing data after
 * the JSON object", "no event_type", "no event_type_id", "event_type_id not
 * an integer", "event_type_id out of range", "id longer than 64 digits".
 * On -1 nothing needs freeing.  A string field holding an escaped NUL
 * ("\u0000") is seen without its NULs.
 */
int	event_read(struct amp_event *, const char *body, size_t len,
	    struct event_mem *, const char **reason);
/*
 * event_read without the UTF-8 check, for JSON made in memory (tests craft
 * events with bad bytes through it): a NUL byte is "embedded NUL" instead.
 */
int	event_parse(struct amp_event *, const char *body, size_t len,
	    const char **reason);
void	event_clear(struct amp_event *);
void	event_mem_free(struct event_mem *);

#endif
