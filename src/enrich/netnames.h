/*
 * Names and address text for NetworkConnect (compatibility spec 3.6.10 and
 * the project decisions): port names from /etc/services, host names by
 * reverse lookup (only when the config's DnsLookup is true), IP addresses
 * in the RFC 5952 form ("::1", not REF's "0:0:0:0:0:0:0:1").
 */
#ifndef SYSMON_NETNAMES_H
#define SYSMON_NETNAMES_H

#include <stdint.h>

#define NETNAMES_HOST_CACHE_SIZE 4096
#define NETNAMES_HOST_TTL_NS (10LL * 60 * 1000000000LL)

/* The service name of PORT for PROTOCOL ("tcp" or "udp") from
 * getservbyport_r, "-" if none.  Cached for the program's life (the
 * returned string never goes away).  Thread-safe. */
const char *port_name(uint16_t port, const char *protocol);

/* The host name of IP_TEXT (IPv4 or IPv6 text) by reverse lookup
 * (getnameinfo with NI_NAMEREQD), "-" if there is none.  Answers, negative
 * ones too, are cached for NETNAMES_HOST_TTL_NS.  Thread-safe; the string
 * stays valid for at least the next NETNAMES_HOST_CACHE_SIZE - 1 calls.
 * It may block on DNS: call it only when DnsLookup is true. */
const char *host_name(const char *ip_text);

/* FAMILY is AF_INET (ADDR: 4 bytes) or AF_INET6 (16 bytes), network order.
 * IPv4-mapped IPv6 addresses are written as inet_ntop writes them
 * ("::ffff:1.2.3.4").  Another family writes "-". */
void format_ip(char out[46], int family, const void *addr);

#endif
