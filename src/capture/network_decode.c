/*
 * Decoder of the network source (loader: network_source.c, records:
 * bpf/network.h): its records into NetworkConnect (3) events.
 *
 * The kernel captured the process (tgid, uid, task name) and both endpoints
 * when the connection happened; here they become Sysmon's fields
 * (compatibility spec 3.3, 3.6.10 and the project decisions):
 *  - ProcessGuid and Image from the shared process cache (which keeps exited
 *    processes for a grace period); a forked process that never exec'd and
 *    is gone has its parent's Image; an unknown one gets the task name the
 *    kernel saw as Image and the all-zero GUID.
 *  - User from the uid captured with the event, root included.
 *  - Outbound (TCP connect, UDP send): Source = local endpoint; inbound (TCP
 *    accept, UDP receive): Source = the remote peer, Destination = local.
 *  - IPv4-mapped IPv6 addresses are shown as the IPv4 addresses they are
 *    (the packets on the wire are IPv4); IPv6 in the RFC 5952 form.
 *  - A UDP datagram sent from an unbound socket has no local address in the
 *    socket (the kernel picks one per datagram): it is the address the
 *    routing table selects for the destination, found by a route lookup
 *    (connect + getsockname of a UDP socket, which sends nothing; in the
 *    monitor's network namespace) and remembered for ROUTE_CACHE_TTL_NS.
 *  - Port names from /etc/services; host names by reverse lookup only when
 *    the config's DnsLookup is true, "-" otherwise.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/types.h>

#include "bpf/network.h"
#include "capture/decode.h"
#include "enrich/guid.h"
#include "enrich/netnames.h"
#include "enrich/users.h"
#include "util/clock.h"

/* Field positions, resolved by name from the schema once at load. */
struct network_fields {
	int utc_time, process_guid, process_id, image, user, protocol, initiated,
	    source_is_ipv6, source_ip, source_hostname, source_port, source_port_name,
	    destination_is_ipv6, destination_ip, destination_hostname, destination_port,
	    destination_port_name;
};

/* Route lookups remembered for a short while: a burst of datagrams from
 * unbound sockets (a port scan, a busy DNS client) costs one lookup per
 * destination, not one per flow. */
#define ROUTE_CACHE_SIZE 256          /* direct-mapped, power of two */
#define ROUTE_CACHE_TTL_NS (10LL * 1000000000LL)

struct route_cache_entry {
	int64_t expires_ns;         /* monotonic; 0 = empty */
	int family;
	unsigned char remote[16];
	unsigned char local[16];    /* the source address the route selects */
};

struct network_decoder {
	struct network_fields fields;
	struct event ev;
	unsigned long clock_ticks;  /* per second, as /proc counts start times */
	struct route_cache_entry routes[ROUTE_CACHE_SIZE];
	char comm[17];              /* a record's task name, NUL-terminated */
};

/* One endpoint as the event shows it. */
struct endpoint {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network order; IPv4 in the first 4 bytes */
	uint16_t port;
};

static int resolve_fields(struct network_fields *f, struct strbuf *err)
{
	const struct capture_field_slot slots[] = {
		{ "UtcTime", &f->utc_time }, { "ProcessGuid", &f->process_guid },
		{ "ProcessId", &f->process_id }, { "Image", &f->image }, { "User", &f->user },
		{ "Protocol", &f->protocol }, { "Initiated", &f->initiated },
		{ "SourceIsIpv6", &f->source_is_ipv6 }, { "SourceIp", &f->source_ip },
		{ "SourceHostname", &f->source_hostname }, { "SourcePort", &f->source_port },
		{ "SourcePortName", &f->source_port_name },
		{ "DestinationIsIpv6", &f->destination_is_ipv6 },
		{ "DestinationIp", &f->destination_ip },
		{ "DestinationHostname", &f->destination_hostname },
		{ "DestinationPort", &f->destination_port },
		{ "DestinationPortName", &f->destination_port_name },
	};

	return CAPTURE_RESOLVE_FIELDS(NETWORK_EVENT_ID, slots, err);
}

struct network_decoder *network_decoder_new(struct strbuf *err)
{
	struct network_decoder *st = xcalloc(1, sizeof(*st));

	event_init(&st->ev);
	long ticks = sysconf(_SC_CLK_TCK);
	st->clock_ticks = ticks > 0 ? (unsigned long)ticks : 100;
	if (resolve_fields(&st->fields, err) != 0) {
		network_decoder_free(st);
		return NULL;
	}
	return st;
}

void network_decoder_free(struct network_decoder *st)
{
	if (!st)
		return;
	event_free(&st->ev);
	free(st);
}

/* ADDR (16 bytes of a record) as an endpoint of a socket of FAMILY; an
 * IPv4-mapped IPv6 address becomes IPv4. */
static void endpoint_from_record(struct endpoint *ep, unsigned family, const __u8 addr[16], uint16_t port)
{
	static const unsigned char v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ep, 0, sizeof(*ep));
	ep->port = port;
	if (family == NETWORK_AF_INET6 && memcmp(addr, v4_mapped_prefix, 12) != 0) {
		ep->family = AF_INET6;
		memcpy(ep->addr, addr, 16);
	} else if (family == NETWORK_AF_INET6) {
		ep->family = AF_INET;
		memcpy(ep->addr, addr + 12, 4);
	} else {
		ep->family = AF_INET;
		memcpy(ep->addr, addr, 4);
	}
}

static bool endpoint_unspecified(const struct endpoint *ep)
{
	static const unsigned char zero[16];

	return memcmp(ep->addr, zero, ep->family == AF_INET6 ? 16 : 4) == 0;
}

/* The local address the routing table picks to reach REMOTE, into LOCAL
 * (port kept).  Returns -1 and leaves LOCAL alone if there is no route. */
static int route_source_address(struct endpoint *local, const struct endpoint *remote)
{
	struct sockaddr_storage to = { 0 }, from = { 0 };
	socklen_t to_len, from_len = sizeof(from);
	int fd = socket(remote->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (remote->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(remote->port ? remote->port : 9);
		memcpy(&sin6->sin6_addr, remote->addr, 16);
		to_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&to;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(remote->port ? remote->port : 9);
		memcpy(&sin->sin_addr, remote->addr, 4);
		to_len = sizeof(*sin);
	}
	if (connect(fd, (struct sockaddr *)&to, to_len) == 0 &&
	    getsockname(fd, (struct sockaddr *)&from, &from_len) == 0 &&
	    from.ss_family == remote->family) {
		if (remote->family == AF_INET6)
			memcpy(local->addr, &((struct sockaddr_in6 *)&from)->sin6_addr, 16);
		else
			memcpy(local->addr, &((struct sockaddr_in *)&from)->sin_addr, 4);
		local->family = remote->family;
		rc = 0;
	}
	close(fd);
	return rc;
}

/* route_source_address through the cache of recent answers. */
static void cached_source_address(struct network_decoder *st, struct endpoint *local,
				  const struct endpoint *remote)
{
	size_t len = remote->family == AF_INET6 ? 16 : 4;
	uint32_t hash = 2166136261u;    /* FNV-1a over the address */
	int64_t now = monotonic_ns();

	for (size_t i = 0; i < len; i++)
		hash = (hash ^ remote->addr[i]) * 16777619u;
	struct route_cache_entry *e = &st->routes[hash & (ROUTE_CACHE_SIZE - 1)];

	if (e->expires_ns > now && e->family == remote->family && memcmp(e->remote, remote->addr, len) == 0) {
		memcpy(local->addr, e->local, len);
		local->family = remote->family;
		return;
	}
	if (route_source_address(local, remote) != 0)
		return;
	e->expires_ns = now + ROUTE_CACHE_TTL_NS;
	e->family = remote->family;
	memcpy(e->remote, remote->addr, len);
	memcpy(e->local, local->addr, len);
}

/* Field positions of one endpoint: Source* or Destination*. */
struct endpoint_fields {
	int is_ipv6, ip, hostname, port, port_name;
};

static void set_endpoint(struct event *ev, const struct capture_env *env, const struct endpoint *ep,
			 const char *protocol, const struct endpoint_fields *f)
{
	char text[46];

	format_ip(text, ep->family, ep->addr);
	event_set_str(ev, f->is_ipv6, ep->family == AF_INET6 ? "true" : "false");
	event_set_str(ev, f->ip, text);
	event_set_str(ev, f->hostname, env->config && env->config->dns_lookup ? host_name(text) : "-");
	event_setf(ev, f->port, "%u", ep->port);
	event_set_str(ev, f->port_name, port_name(ep->port, protocol));
}

/* The Image of process P, and its ProcessGuid into GUID.  From the process
 * cache if it knows P (exited processes stay there for a while).  A forked
 * process that never exec'd runs its parent's Image: the kernel said so at
 * the moment of the event, which beats a late read of /proc (a zombie's exe
 * link cannot be read); its GUID is the one the cache gives a process it
 * reads from /proc (pid and start time in clock ticks).  Else the task name
 * and the all-zero GUID. */
static const char *describe_process(struct network_decoder *st, struct capture_env *env,
				    const struct network_process *p, char guid[GUID_TEXT_SIZE])
{
	const struct process_info *info = NULL, *parent = NULL;

	if (env->processes) {
		info = process_cache_lookup(env->processes, p->tgid);
		if ((!info || info->from_proc) && (p->flags & NETWORK_SAME_IMAGE_AS_PARENT))
			parent = process_cache_lookup(env->processes, p->parent_tgid);
	}
	if (parent) {
		uint64_t tick_ns = 1000000000ULL / st->clock_ticks;

		if (info)
			memcpy(guid, info->guid, GUID_TEXT_SIZE);
		else
			guid_format_process(guid, p->tgid, p->start_boot_ns / tick_ns * tick_ns);
		return parent->image;
	}
	if (info) {
		memcpy(guid, info->guid, GUID_TEXT_SIZE);
		return info->image;
	}
	memcpy(guid, GUID_ZERO_TEXT, GUID_TEXT_SIZE);
	memcpy(st->comm, p->comm, sizeof(p->comm));
	st->comm[sizeof(p->comm)] = '\0';
	return st->comm[0] ? st->comm : "<unknown process>";
}

int network_decoder_decode(struct network_decoder *st, struct capture_env *env, const void *data,
			   size_t size)
{
	const struct network_fields *f = &st->fields;
	struct event *ev = &st->ev;
	struct network_record rec;
	struct endpoint local, remote;

	if (size < sizeof(rec))
		return -1;
	memcpy(&rec, data, sizeof(rec));
	if ((rec.family != NETWORK_AF_INET && rec.family != NETWORK_AF_INET6) ||
	    (rec.protocol != NETWORK_PROTO_TCP && rec.protocol != NETWORK_PROTO_UDP) ||
	    rec.origin < NETWORK_TCP_CONNECT || rec.origin > NETWORK_UDP_RECEIVE)
		return -1;

	bool initiated = rec.origin == NETWORK_TCP_CONNECT || rec.origin == NETWORK_UDP_SEND;
	const char *protocol = rec.protocol == NETWORK_PROTO_TCP ? "tcp" : "udp";

	endpoint_from_record(&local, rec.family, rec.local_addr, rec.local_port);
	endpoint_from_record(&remote, rec.family, rec.remote_addr, rec.remote_port);
	/* an IPv6 socket bound to "::" sending to an IPv4-mapped address */
	if (local.family != remote.family && endpoint_unspecified(&local))
		local.family = remote.family;
	if (endpoint_unspecified(&local) && !endpoint_unspecified(&remote))
		cached_source_address(st, &local, &remote);

	char guid[GUID_TEXT_SIZE];
	const char *image = describe_process(st, env, &rec.process, guid);

	event_reset(ev, NETWORK_EVENT_ID);
	capture_set_utctime(ev, f->utc_time, rec.boot_ns);
	event_set_str(ev, f->process_guid, guid);
	event_setf(ev, f->process_id, "%u", rec.process.tgid);
	event_set_str(ev, f->image, image);
	event_set_str(ev, f->user, user_name(rec.process.uid));
	event_set_str(ev, f->protocol, protocol);
	event_set_str(ev, f->initiated, initiated ? "true" : "false");
	const struct endpoint *source = initiated ? &local : &remote;
	const struct endpoint *destination = initiated ? &remote : &local;
	const struct endpoint_fields source_fields = {
		f->source_is_ipv6, f->source_ip, f->source_hostname, f->source_port, f->source_port_name,
	};
	const struct endpoint_fields destination_fields = {
		f->destination_is_ipv6, f->destination_ip, f->destination_hostname,
		f->destination_port, f->destination_port_name,
	};
	set_endpoint(ev, env, source, protocol, &source_fields);
	set_endpoint(ev, env, destination, protocol, &destination_fields);
	env->emit(env, ev);
	return 0;
}
