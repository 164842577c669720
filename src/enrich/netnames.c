/*
 * Port names, host names and IP text for NetworkConnect (see netnames.h).
 * Port names live in one lazily filled table per protocol, so ephemeral
 * source ports cost one /etc/services lookup each, once.
 */
#include "enrich/netnames.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "enrich/name_cache.h"
#include "util/clock.h"
#include "util/strbuf.h"

static const char no_name[] = "-";

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
/* [0] tcp, [1] udp; NULL = not looked up yet, no_name = none.  Names are
 * kept for the program's life: /etc/services is short. */
static const char **port_names[2];

const char *port_name(uint16_t port, const char *protocol)
{
	int proto;

	if (!protocol)
		return no_name;
	if (strcmp(protocol, "tcp") == 0)
		proto = 0;
	else if (strcmp(protocol, "udp") == 0)
		proto = 1;
	else
		return no_name;

	pthread_mutex_lock(&ports_lock);
	if (!port_names[proto])
		port_names[proto] = xcalloc(65536, sizeof(*port_names[proto]));
	const char *name = port_names[proto][port];
	if (!name) {
		struct servent se, *found = NULL;
		char buf[4096];
		name = no_name;
		if (getservbyport_r(htons(port), protocol, &se, buf, sizeof(buf), &found) == 0 &&
		    found && found->s_name && found->s_name[0])
			name = xstrdup(found->s_name);
		port_names[proto][port] = name;
	}
	pthread_mutex_unlock(&ports_lock);
	return name;
}

static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static struct name_cache *hosts;

/* Reverse lookup of IP_TEXT into HOST; false if it is not an address or
 * has no name. */
static bool resolve(const char *ip_text, char *host, size_t hostlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;

	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, ip_text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, ip_text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sslen = sizeof(*sin6);
	} else {
		return false;
	}
	return getnameinfo((struct sockaddr *)&ss, sslen, host, hostlen, NULL, 0,
			   NI_NAMEREQD) == 0 && host[0];
}

const char *host_name(const char *ip_text)
{
	if (!ip_text || !ip_text[0] || strlen(ip_text) >= INET6_ADDRSTRLEN)
		return no_name;

	pthread_mutex_lock(&hosts_lock);
	if (!hosts)
		hosts = name_cache_new(NETNAMES_HOST_CACHE_SIZE);
	int64_t now = monotonic_ns();
	const char *name = name_cache_find(hosts, ip_text, now);
	pthread_mutex_unlock(&hosts_lock);
	if (name)
		return name;

	/* Resolve without the lock: DNS can take seconds, and other threads
	 * asking for cached names should not wait for it. */
	char host[NI_MAXHOST];
	if (!resolve(ip_text, host, sizeof(host)))
		strcpy(host, no_name);

	pthread_mutex_lock(&hosts_lock);
	name = name_cache_insert(hosts, ip_text, host, now + NETNAMES_HOST_TTL_NS);
	pthread_mutex_unlock(&hosts_lock);
	return name;
}

void format_ip(char out[46], int family, const void *addr)
{
	if (!addr || (family != AF_INET && family != AF_INET6) ||
	    !inet_ntop(family, addr, out, 46))
		strcpy(out, no_name);
}
