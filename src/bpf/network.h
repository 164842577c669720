/*
 * Records that the network source's kernel half (network.bpf.c) sends to its
 * user half (src/capture/network_decode.c) through its ring buffer: one
 * record per NetworkConnect event (id 3).  Included under vmlinux.h (kernel)
 * and after <linux/types.h> (user).
 *
 * The record holds the local and the remote endpoint as the socket saw them;
 * the user half turns them into Source/Destination by direction (outbound:
 * Source = local; inbound: Source = the remote peer, compatibility spec 3.3).
 */
#ifndef SYSMON_BPF_NETWORK_H
#define SYSMON_BPF_NETWORK_H

#define NETWORK_EVENT_ID 3

#define NETWORK_AF_INET  2
#define NETWORK_AF_INET6 10
#define NETWORK_PROTO_TCP 6
#define NETWORK_PROTO_UDP 17

/* A UDP flow (process, local and remote endpoint) is reported again after
 * this long, as REF does (UDP_REPORT_INTERVAL). */
#define NETWORK_UDP_REPORT_INTERVAL_NS (30ULL * 60 * 1000000000ULL)

/* How the connection was seen (for diagnostics; the event does not show it). */
enum network_record_origin {
	NETWORK_TCP_CONNECT = 1,   /* SYN_SENT -> ESTABLISHED of a connect() */
	NETWORK_TCP_ACCEPT = 2,    /* accept()/accept4() returned the socket */
	NETWORK_UDP_SEND = 3,      /* first datagram of a flow sent */
	NETWORK_UDP_RECEIVE = 4,   /* first datagram of a flow received */
};

/* Flags of struct network_process. */
#define NETWORK_SAME_IMAGE_AS_PARENT (1u << 0)  /* forked, no exec since */

/* The process behind a connection, as the kernel saw it at the time. */
struct network_process {
	__u32 tgid;            /* the process that connected / accepted / sent / received */
	__u32 uid;             /* its real uid */
	__u32 parent_tgid;     /* real parent's tgid */
	__u32 flags;           /* NETWORK_SAME_IMAGE_AS_PARENT */
	__u64 start_boot_ns;   /* task start (fork) time, CLOCK_BOOTTIME ns */
	char comm[16];         /* task name, the Image when nothing better is known */
};

struct network_record {
	__u64 boot_ns;         /* bpf_ktime_get_boot_ns() when it happened */
	struct network_process process;
	__u16 family;          /* NETWORK_AF_INET(6): the socket's family */
	__u8 protocol;         /* NETWORK_PROTO_TCP / _UDP */
	__u8 origin;           /* enum network_record_origin */
	__u16 local_port;      /* host byte order */
	__u16 remote_port;
	/* Network byte order; IPv4 in the first 4 bytes.  An IPv6 socket may
	 * hold IPv4-mapped addresses.  An unbound UDP socket's local address
	 * is all zeros: the kernel chooses the source per datagram. */
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

#endif
