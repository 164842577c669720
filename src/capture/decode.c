/*
 * Helpers every capture decoder shares (interface: capture/decode.h):
 * finding an event's fields by name, the UtcTime of a record, the process
 * cache entry of a pid and the Image of a record's process.
 */
#include <string.h>

#include "capture/decode.h"
#include "enrich/guid.h"

int capture_resolve_fields(unsigned id, const struct capture_field_slot *slots, size_t count,
			   struct strbuf *err)
{
	const struct schema_event *event = schema_event_by_id(id);

	for (size_t i = 0; i < count; i++) {
		*slots[i].index = event ? schema_field_index(event, slots[i].name) : -1;
		if (*slots[i].index < 0) {
			strbuf_printf(err, "the schema of event %u has no field %s", id, slots[i].name);
			return -1;
		}
	}
	return 0;
}

void capture_set_utctime(struct event *ev, int index, uint64_t boot_ns)
{
	event_set_str(ev, index, event_format_utctime(guid_boot_to_wall_ns(boot_ns), (char[48]){ 0 }));
}

const struct process_info *capture_lookup_process(const struct capture_env *env, uint32_t pid)
{
	return env->processes ? process_cache_lookup(env->processes, pid) : NULL;
}

const char *capture_image_of(const struct process_info *info, const char comm[CAPTURE_COMM_SIZE],
			     char buf[CAPTURE_COMM_SIZE + 1])
{
	memcpy(buf, comm, CAPTURE_COMM_SIZE);
	buf[CAPTURE_COMM_SIZE] = '\0';
	return info ? info->image : buf[0] ? buf : "<unknown process>";
}
