/*
 * Records that the DNS source's kernel half (dns.bpf.c) sends to its user
 * half (src/capture/dns_decode.c): the head of every message a process
 * sends to, or receives from, port 53 over UDP or TCP.  User space pairs
 * queries with answers and makes DnsQuery (22) events.  Included under
 * vmlinux.h (kernel) and after <linux/types.h> (user).
 *
 * A record is a fixed header followed by payload_len bytes of the message
 * (for TCP: of the stream, which may start with the 2-byte length).
 */
#ifndef SYSMON_BPF_DNS_H
#define SYSMON_BPF_DNS_H

#define DNS_EVENT_ID 22
#define DNS_PORT 53

/* Bytes of a message captured: a question is far shorter, and an answer's
 * first records fit (the rest is cut, not misread). */
#define DNS_PAYLOAD_MAX 1024

/* Messages of one sendmmsg/recvmmsg captured (glibc sends the A and the
 * AAAA query in one sendmmsg). */
#define DNS_MMSG_MAX 2

enum dns_record_kind {
	DNS_RECORD_SENT = 1,       /* the process sent it (a query) */
	DNS_RECORD_RECEIVED = 2,   /* the process received it (an answer) */
};

struct dns_record {
	__u32 kind;            /* enum dns_record_kind */
	__u32 tgid;
	__u32 uid;             /* real uid */
	__u8 protocol;         /* 6 TCP, 17 UDP */
	__u8 pad;
	__u16 payload_len;     /* bytes that follow (<= DNS_PAYLOAD_MAX) */
	__u64 boot_ns;         /* bpf_ktime_get_boot_ns() at the call's end */
	__u64 socket;          /* the socket's kernel address: pairs a query with its answer */
	__u32 message_len;     /* bytes the call moved for this message */
	__u32 reserved;
	char comm[16];
};

#endif
