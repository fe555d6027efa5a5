/*
 * ctl_info.c: ampstreamctl test, event-types and groups.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "api.h"
#include "config.h"
#include "ctl.h"
#include "ctl_esc.h"

static int	print_items(struct json_object *, const char *, const char *,
		    int);

/* GET /v1/version with the cloud's credentials: host, region, version. */
int
ctl_test(struct ctl *ctl, int argc, char **argv)
{
	struct json_object	*env = NULL;
	char			*cause = NULL;
	const char		*version;

	if (argc > 1) {
		ctl_err(ctl, "test: unexpected argument \"%s\"", argv[1]);
		return CTL_USAGE;
	}
	if (api_get(ctl->api, "/v1/version", &env, &cause) == -1) {
		ctl_err(ctl, "%s", cause);
		free(cause);
		return CTL_API;
	}
	version = ctl_str(env, "version");
	printf("cloud: %s\n", ctl->cloud->name);
	printf("host: %s\n", api_host(ctl->api));
	printf("region: %s\n", api_region(api_host(ctl->api)));
	printf("api version: %s\n", version ? esc(version) : "(not given)");
	printf("credentials: accepted\n");
	json_object_put(env);
	return CTL_OK;
}

/* Every event type: id and name. */
int
ctl_event_types(struct ctl *ctl, int argc, char **argv)
{
	struct json_object	*items;
	int			 json;

	if (ctl_args_json(ctl, argc, argv, &json) == -1)
		return CTL_USAGE;
	if (ctl_fetch_event_types(ctl, &items) == -1)
		return CTL_API;
	print_items(items, "id", "name", json);
	json_object_put(items);
	return CTL_OK;
}

/* Every group: guid and name. */
int
ctl_groups(struct ctl *ctl, int argc, char **argv)
{
	struct json_object	*items;
	int			 json;

	if (ctl_args_json(ctl, argc, argv, &json) == -1)
		return CTL_USAGE;
	if (ctl_fetch_groups(ctl, &items) == -1)
		return CTL_API;
	print_items(items, "guid", "name", json);
	json_object_put(items);
	return CTL_OK;
}

/* One "ID  NAME" line per item, or the items as JSON. */
static int
print_items(struct json_object *items, const char *idkey, const char *namekey,
    int json)
{
	struct json_object	*it;
	const char		*name, *id;
	size_t			 i;

	if (json) {
		ctl_print_json(items);
		return 0;
	}
	for (i = 0; i < json_object_array_length(items); i++) {
		it = json_object_array_get_idx(items, i);
		if ((id = ctl_idstr(json_object_object_get(it, idkey))) == NULL)
			continue;
		name = ctl_str(it, namekey);
		printf("%-10s  %s\n", esc(id), esc(name));
	}
	return 0;
}
