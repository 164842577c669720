/*
 * Kernel half of the network source: NetworkConnect (event 3) for TCP and
 * UDP over IPv4 and IPv6.  Records (bpf/network.h) go through the capture
 * framework's ring buffer to src/capture/network_source.c.
 *
 * Everything an event needs (the process, both endpoints) is read in the
 * kernel when the event happens, so a short-lived process or socket loses
 * nothing:
 *
 *  - Outbound TCP, at fentry tcp_connect and tcp_finish_connect (without
 *    fentry: tp_btf/inet_sock_set_state, the moves to and from SYN_SENT):
 *    the connecting process is remembered per socket inside connect(); the
 *    record is sent when the handshake completes (the connection is made: a
 *    refused or timed-out connect is never logged), with both endpoints as
 *    the socket then holds them.
 *  - Inbound TCP, where fexit runs at the return of inet_csk_accept(),
 *    which every accept goes through (the syscalls, io_uring's requests,
 *    32-bit calls); without fexit at the exit of accept()/accept4() and at
 *    the completion of an io_uring accept (tp_btf/io_uring_complete): the
 *    new socket gives both endpoints; the accepting process is the current
 *    one.
 *  - UDP, sent (Initiated) or received (not initiated).  Where fexit runs,
 *    every datagram at the return of udp_sendmsg, udpv6_sendmsg,
 *    udp_recvmsg and udpv6_recvmsg, whatever the call (sendto, sendmmsg,
 *    write, read, io_uring, 32-bit calls): the remote endpoint is the
 *    address in the kernel's msghdr (what the sender named, what the
 *    receive filled in), else a connected socket's peer.  Without fexit,
 *    on an unconnected socket at the exit of sendto/sendmsg/sendmmsg and
 *    recvfrom/recvmsg/recvmmsg (the address the call passed or returned,
 *    each message's for the *mmsg calls), and on a connected socket through
 *    tp_btf/sock_send_length and sock_recv_length (6.4).  The first
 *    datagram of a flow (process, local endpoint, remote endpoint) is
 *    reported, then the flow again after NETWORK_UDP_REPORT_INTERVAL_NS,
 *    as REF does.
 *    A receive without an address buffer on an unconnected socket has no
 *    known peer: the peer of the last datagram queued to that socket,
 *    remembered by tp_btf/sk_data_ready (before 6.5: fentry on
 *    sock_def_readable), stands in for it; that datagram
 *    also gives the local address of a socket bound to the wildcard.
 *
 * Where fexit runs no program is on a syscall tracepoint: a program on any
 * of them sends every syscall of every task through the kernel's slow
 * syscall path (about 45 ns a call here, 200 under qemu), whether it runs
 * or not.  Without fexit the syscall exits are watched per syscall
 * (tp/syscalls/sys_exit_*, found through tracefs); without tracefs, one
 * tp_btf/sys_exit program filters every syscall exit instead.  There,
 * compat (32-bit) syscalls are skipped: their numbers are another table's.
 *
 * The programs never block: a full ring buffer counts a loss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "bpf/capture.bpf.h"
#include "bpf/network.h"
#include "bpf/lib/socket.bpf.h"
#include "bpf/lib/syscalls.bpf.h"
#include "bpf/lib/twin.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define TCP_ESTABLISHED_STATE 1
#define TCP_SYN_SENT_STATE 2
#define TCP_SYN_RECV_STATE 3
#define SOCK_DGRAM_TYPE 2
#define EEXIST_ERRNO 17

/* Messages of one sendmmsg/recvmmsg call looked at (each may have its own
 * peer). */
#define NETWORK_MMSG_MAX 16

/* The smallest sockaddr of an IPv4 or IPv6 address (sockaddr_in). */
#define SOCKADDR_MIN_LEN 16

/* Set by the loader on kernels without fexit programs nor the
 * sock_send_length and sock_recv_length tracepoints (before 6.4): datagrams
 * of connected UDP sockets are then seen at the exits of the send and
 * receive syscalls (not read and write). */
const volatile bool connected_udp_at_syscalls = false;

/* The process that called connect() on a socket still in SYN_SENT. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);          /* connects in flight */
	__type(key, __u64);                 /* struct sock * */
	__type(value, struct network_process);
} connecting SEC(".maps");

/* A UDP flow, independent of direction: its first datagram decides whether
 * it is reported as initiated or not. */
struct udp_flow {
	__u32 tgid;
	__u16 family;
	__u16 local_port;
	__u16 remote_port;
	__u16 pad;
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	/* An evicted flow is reported again: more events, never fewer. */
	__uint(max_entries, 16384);
	__type(key, struct udp_flow);
	__type(value, __u64);               /* boot ns of the last report */
} udp_flows SEC(".maps");

/* The endpoints of the last datagram queued to a UDP socket. */
struct queued_datagram {
	__u16 family;
	__u16 remote_port;
	__u8 local_addr[16];
	__u8 remote_addr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);          /* UDP sockets receiving */
	__type(key, __u64);                 /* struct sock * */
	__type(value, struct queued_datagram);
} last_datagram SEC(".maps");

/* Records are built on the stack, never in a shared per-CPU buffer: a
 * program in a softirq (a TCP handshake completing) may interrupt one
 * running in a task on the same CPU. */
static __always_inline void init_record(struct network_record *rec, __u8 protocol, __u8 origin)
{
	__builtin_memset(rec, 0, sizeof(*rec));
	rec->boot_ns = bpf_ktime_get_boot_ns();
	rec->protocol = protocol;
	rec->origin = origin;
}

/* The current process.  A forked process that has not exec'd shares its
 * parent's executable file: user space then knows its Image even if it is
 * gone before its record is read. */
static __always_inline void get_current_process(struct network_process *p)
{
	struct task_struct *task = current_task();
	struct task_struct *parent = TASK_READ(task, real_parent);
	struct file *exe = TASK_READ(task, mm, exe_file);

	p->tgid = bpf_get_current_pid_tgid() >> 32;
	p->uid = (__u32)bpf_get_current_uid_gid();
	p->parent_tgid = TASK_READ(parent, tgid);
	p->flags = exe && exe == TASK_READ(parent, mm, exe_file) ? NETWORK_SAME_IMAGE_AS_PARENT : 0;
	p->start_boot_ns = TASK_READ(task, start_boottime);
	bpf_get_current_comm(p->comm, sizeof(p->comm));
}

/* Both endpoints of SK as it holds them now. */
static __always_inline void read_endpoints(const struct sock *sk, struct network_record *rec)
{
	__u16 family = KERNEL_READ(sk, __sk_common.skc_family);

	rec->family = family;
	rec->local_port = KERNEL_READ(sk, __sk_common.skc_num);
	rec->remote_port = bpf_ntohs(KERNEL_READ(sk, __sk_common.skc_dport));
	if (!kernel_has_rdonly_cast) {
		if (family == NETWORK_AF_INET6) {
			BPF_CORE_READ_INTO(&rec->local_addr, sk, __sk_common.skc_v6_rcv_saddr);
			BPF_CORE_READ_INTO(&rec->remote_addr, sk, __sk_common.skc_v6_daddr);
		} else {
			BPF_CORE_READ_INTO((__u32 *)rec->local_addr, sk, __sk_common.skc_rcv_saddr);
			BPF_CORE_READ_INTO((__u32 *)rec->remote_addr, sk, __sk_common.skc_daddr);
		}
	} else if (family == NETWORK_AF_INET6) {
		__builtin_memcpy(rec->local_addr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(rec->remote_addr, &sk->__sk_common.skc_v6_daddr, 16);
	} else {
		__builtin_memcpy(rec->local_addr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(rec->remote_addr, &sk->__sk_common.skc_daddr, 4);
	}
}

/* A connect() began on SK, in the current process: remember who. */
static __always_inline void remember_connect(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct network_process p = {};

	get_current_process(&p);
	if (capture_is_monitor(p.tgid))
		return;
	bpf_map_update_elem(&connecting, &key, &p, BPF_ANY);
}

/* SK's connect succeeded: its record, with both endpoints as SK holds them.
 * Whoever removes the entry reports it (a hook's twin may run too). */
static __always_inline void report_connect(const struct sock *sk)
{
	__u64 key = (__u64)sk;
	struct network_process *proc = bpf_map_lookup_elem(&connecting, &key);
	struct network_record rec;

	if (!proc)
		return;
	init_record(&rec, NETWORK_PROTO_TCP, NETWORK_TCP_CONNECT);
	__builtin_memcpy(&rec.process, proc, sizeof(rec.process));
	if (bpf_map_delete_elem(&connecting, &key) != 0)
		return;
	read_endpoints(sk, &rec);
	capture_submit(&rec, sizeof(rec), NETWORK_EVENT_ID);
}

/*
 * Each TCP hook has two programs, a twin doing the same.  The kernel runs a
 * program at most once per CPU at a time and skips a nested run (its
 * recursion_misses): a handshake completing in a softirq that interrupts a
 * task's run of the same program, or, on a preemptible kernel, a task
 * preempted inside an fentry program and another task's connect on that
 * CPU.  7.x under qemu lost 2 of 300 short-lived connectors' events so.
 * The twin runs right after the first, so a nested event finds one of the
 * two idle; remembering twice stores the same, and the first to remove the
 * entry reports it.
 *
 * Where fentry runs: the connecting process at tcp_connect (inside
 * connect()), the record at tcp_finish_connect (the SYN-ACK came); they run
 * for connects only.  A connect refused or timed out leaves its entry to
 * the LRU, and a new connect on the same socket replaces it.
 */
SEC("fentry/tcp_connect")
int BPF_PROG(tcp_connect_entry, struct sock *sk)
{
	remember_connect(sk);
	return 0;
}

SEC("fentry/tcp_connect")
int BPF_PROG(tcp_connect_entry_twin, struct sock *sk)
{
	remember_connect(sk);
	return 0;
}

SEC("fentry/tcp_finish_connect")
int BPF_PROG(tcp_connect_done, struct sock *sk)
{
	report_connect(sk);
	return 0;
}

SEC("fentry/tcp_finish_connect")
int BPF_PROG(tcp_connect_done_twin, struct sock *sk)
{
	report_connect(sk);
	return 0;
}

/* Without fentry: the moves to and from SYN_SENT, for every TCP socket. */
static __always_inline void on_tcp_state_change(const struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (sk->sk_protocol != NETWORK_PROTO_TCP)
		return;
	if (newstate == TCP_SYN_SENT_STATE) {
		remember_connect(sk);
		return;
	}
	/* SYN_RECV too: a simultaneous open goes SYN_SENT -> SYN_RECV ->
	 * ESTABLISHED (a passive child's SYN_RECV has no entry). */
	if ((oldstate != TCP_SYN_SENT_STATE && oldstate != TCP_SYN_RECV_STATE) ||
	    newstate == TCP_SYN_RECV_STATE)
		return;
	if (newstate == TCP_ESTABLISHED_STATE)
		report_connect(sk);
	else   /* refused, reset or timed out: the attempt is over */
		bpf_map_delete_elem(&connecting, &key);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change, const struct sock *sk, const int oldstate, const int newstate)
{
	on_tcp_state_change(sk, oldstate, newstate);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change_twin, const struct sock *sk, const int oldstate, const int newstate)
{
	on_tcp_state_change(sk, oldstate, newstate);
	return 0;
}

static __always_inline bool is_inet(__u16 family)
{
	return family == NETWORK_AF_INET || family == NETWORK_AF_INET6;
}

static __always_inline bool is_tcp_socket(const struct sock *sk)
{
	return sk && KERNEL_READ(sk, sk_protocol) == NETWORK_PROTO_TCP &&
	       is_inet(KERNEL_READ(sk, __sk_common.skc_family));
}

/* The current process accepted connection SK. */
static __always_inline void report_accept(const struct sock *sk)
{
	struct network_record rec;

	init_record(&rec, NETWORK_PROTO_TCP, NETWORK_TCP_ACCEPT);
	get_current_process(&rec.process);
	read_endpoints(sk, &rec);
	capture_submit(&rec, sizeof(rec), NETWORK_EVENT_ID);
}

static __always_inline void handle_accept(long fd)
{
	struct sock *sk = socket_of_fd(fd);

	if (is_tcp_socket(sk))
		report_accept(sk);
}

/* Where fexit runs, the return of inet_csk_accept(), which every TCP accept
 * goes through: the listening socket's new connection, or NULL.  The return
 * value through bpf_get_func_ret (5.17); before, the context word after
 * the arguments, of which there were 4 then (2 since 6.10).  With its twin
 * (bpf/lib/twin.bpf.h), the connection claimed by its socket. */
#define CLAIM_ACCEPT(tid) ((1ULL << 32) | (tid))

static __always_inline int on_accept_return(void *ctx, __u32 twin)
{
	__u64 ret = 0;
	struct sock *sk;

	if (!kernel_has_func_ret())
		ret = ((__u64 *)ctx)[4];
	else if (bpf_get_func_ret(ctx, &ret) != 0)
		return 0;
	sk = kernel_typed((void *)ret, struct sock);
	if (is_tcp_socket(sk) && !capture_is_monitor(bpf_get_current_pid_tgid() >> 32) &&
	    twin_claim(CLAIM_ACCEPT((__u32)bpf_get_current_pid_tgid()), ret, twin))
		report_accept(sk);
	return 0;
}

TWIN_PROGRAMS("fexit/inet_csk_accept", accept_return, on_accept_return(ctx, twin), struct sock *listening_sk)

/* Without fexit, an io_uring request REQ completed with result RES: an accept
 * (IORING_OP_ACCEPT) did not go through the accept syscalls.  Its result is
 * the new descriptor, in the files of the process (the completing task is
 * one of its threads); the socket there must be a connection of the
 * listening socket the request named (a direct accept into a fixed-file
 * slot returns no descriptor).  The completions of a multishot accept carry
 * no request and are not seen. */
static __always_inline void on_io_uring_complete(void *req, int res)
{
	struct io_kiocb *request;
	struct sock *sk, *listening_sk;
	struct file *file;

	if (!req || res < 0)
		return;
	request = kernel_typed(req, struct io_kiocb);
	if (KERNEL_READ(request, opcode) != IORING_OP_ACCEPT)
		return;
	if (capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return;
	file = kernel_typed(KERNEL_READ(request, file), struct file);
	if (!file)
		return;
	listening_sk = socket_of_file(file);
	sk = socket_of_fd(res);
	if (!is_tcp_socket(sk) || !listening_sk || sk == listening_sk ||
	    KERNEL_READ(sk, __sk_common.skc_num) != KERNEL_READ(listening_sk, __sk_common.skc_num))
		return;
	report_accept(sk);
}

/* The tracepoint since 6.3: the completion entry. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(io_uring_done, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	on_io_uring_complete(req, cqe->res);
	return 0;
}

/* The tracepoint from 5.19 to 6.2 (Debian 12's 6.1) and in some later
 * stable kernels (6.12): the entry's fields one by one.  The loader picks
 * the program that matches the kernel's prototype; before 5.19 the
 * tracepoint names no request. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(io_uring_done_fields, void *ring, void *req, __u64 user_data, int res)
{
	on_io_uring_complete(req, res);
	return 0;
}

/* A sockaddr as a call passed or received it: family first, then the port
 * and the address at the offsets of sockaddr_in / sockaddr_in6. */
struct inet_sockaddr {
	__u16 family;
	__u16 port;              /* network order */
	__u32 addr4_or_flowinfo;
	__u8 addr6[16];
};

/* How handle_udp_message is called: a send or a receive, and where the
 * address is. */
#define UDP_SENT 1
#define UDP_ADDRESS_IN_KERNEL 2   /* the kernel's copy (a msghdr's), not the user's */

/* Read the remote endpoint from the sockaddr at ADDR, LEN bytes, in user
 * memory or in the kernel's (HOW), into REC (an IPv4 address given to an
 * IPv6 socket is stored IPv4-mapped).  Returns false if ADDR held no IPv4
 * or IPv6 address. */
static __always_inline bool read_address(const void *addr, __u32 len, unsigned how, struct network_record *rec)
{
	struct inet_sockaddr sa = {};
	long err;

	if (!addr || len < SOCKADDR_MIN_LEN)
		return false;
	err = how & UDP_ADDRESS_IN_KERNEL ? bpf_probe_read_kernel(&sa, sizeof(sa), addr)
					  : bpf_probe_read_user(&sa, sizeof(sa), addr);
	if (err != 0)
		return false;
	if (sa.family == NETWORK_AF_INET6) {
		__builtin_memcpy(rec->remote_addr, sa.addr6, 16);
	} else if (sa.family == NETWORK_AF_INET) {
		__builtin_memset(rec->remote_addr, 0, sizeof(rec->remote_addr));
		if (rec->family == NETWORK_AF_INET6) {
			rec->remote_addr[10] = 0xff;
			rec->remote_addr[11] = 0xff;
			__builtin_memcpy(&rec->remote_addr[12], &sa.addr4_or_flowinfo, 4);
		} else {
			__builtin_memcpy(rec->remote_addr, &sa.addr4_or_flowinfo, 4);
		}
	} else {
		return false;
	}
	rec->remote_port = bpf_ntohs(sa.port);
	return true;
}

/* Report REC unless FLOW was reported less than the interval ago. */
static __always_inline void submit_udp_once(struct network_record *rec, const struct udp_flow *flow)
{
	__u64 *last = bpf_map_lookup_elem(&udp_flows, flow);

	if (last) {
		if (rec->boot_ns - *last < NETWORK_UDP_REPORT_INTERVAL_NS)
			return;
		*last = rec->boot_ns;
	} else if (bpf_map_update_elem(&udp_flows, flow, &rec->boot_ns, BPF_NOEXIST) == -EEXIST_ERRNO) {
		return;  /* another CPU reported the flow just now */
	}
	capture_submit(rec, sizeof(*rec), NETWORK_EVENT_ID);
}

static __always_inline bool is_udp_socket(const struct sock *sk)
{
	return sk && KERNEL_READ(sk, sk_protocol) == NETWORK_PROTO_UDP &&
	       KERNEL_READ(sk, sk_type) == SOCK_DGRAM_TYPE &&
	       is_inet(KERNEL_READ(sk, __sk_common.skc_family));
}

/* REC (process and both endpoints filled) is a datagram SENT or received
 * on SK: report it if it starts a flow. */
static __always_inline void report_udp(const struct sock *sk, struct network_record *rec, bool sent)
{
	struct udp_flow flow = {};

	/* The flow as the socket names it (before the local address is
	 * filled in below), so that a request sent from a socket bound to
	 * the wildcard address and its reply are one flow. */
	flow.tgid = rec->process.tgid;
	flow.family = rec->family;
	flow.local_port = rec->local_port;
	flow.remote_port = rec->remote_port;
	__builtin_memcpy(flow.local_addr, rec->local_addr, 16);
	__builtin_memcpy(flow.remote_addr, rec->remote_addr, 16);

	if (!sent) {
		/* A socket bound to the wildcard address: the local address
		 * is the one the last datagram was sent to. */
		__u64 key = (__u64)sk;
		struct queued_datagram *q = bpf_map_lookup_elem(&last_datagram, &key);
		__u64 local_hi, local_lo;

		__builtin_memcpy(&local_hi, rec->local_addr, 8);
		__builtin_memcpy(&local_lo, &rec->local_addr[8], 8);
		if (q && q->family == rec->family && local_hi == 0 && local_lo == 0)
			__builtin_memcpy(rec->local_addr, q->local_addr, 16);
	}
	submit_udp_once(rec, &flow);
}

/* A datagram sent (HOW has UDP_SENT) or received on UDP socket SK; ADDR
 * is the sockaddr of the remote endpoint (NULL if the call had none) and
 * ADDR_LEN its length: what the caller gave for a send, what the kernel
 * wrote for a receive (0 when it wrote no address).  Without an address, a
 * connected socket's datagrams (whatever the call: write and read,
 * io_uring too) are reported by the hooks below. */
static __noinline void handle_udp_message(struct sock *sk, const void *addr, __u32 addr_len, unsigned how)
{
	struct network_record record, *rec = &record;
	bool send = how & UDP_SENT;

	init_record(rec, NETWORK_PROTO_UDP, send ? NETWORK_UDP_SEND : NETWORK_UDP_RECEIVE);
	get_current_process(&rec->process);
	read_endpoints(sk, rec);

	/* The remote endpoint: the address the call named or returned. */
	if (!read_address(addr, addr_len, how, rec)) {
		/* None: the peer of a connected socket is reported by the
		 * hooks below; an unconnected one can only say where a
		 * received datagram came from, through the queue hook. */
		__u64 key = (__u64)sk;
		struct queued_datagram *q;

		if (KERNEL_READ(sk, __sk_common.skc_state) == TCP_ESTABLISHED_STATE) {
			/* without the sock_*_length tracepoints, the
			 * syscalls report connected sockets too */
			if (connected_udp_at_syscalls)
				report_udp(sk, rec, send);
			return;
		}
		if (send)
			return;
		q = bpf_map_lookup_elem(&last_datagram, &key);
		if (!q || q->family != rec->family)
			return;
		rec->remote_port = q->remote_port;
		__builtin_memcpy(rec->remote_addr, q->remote_addr, 16);
	}
	report_udp(sk, rec, send);
}

/* A datagram sent (SENT) or received on a connected UDP socket, by any
 * means; RET < 0 when the call failed. */
static __always_inline void handle_connected_udp(const struct sock *sk, int ret, bool sent)
{
	struct network_record rec;

	if (ret < 0 || !is_udp_socket(sk) || sk->__sk_common.skc_state != TCP_ESTABLISHED_STATE)
		return;
	if (capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return;
	init_record(&rec, NETWORK_PROTO_UDP, sent ? NETWORK_UDP_SEND : NETWORK_UDP_RECEIVE);
	get_current_process(&rec.process);
	read_endpoints(sk, &rec);
	report_udp(sk, &rec, sent);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(udp_connected_send, struct sock *sk, int ret, int flags)
{
	handle_connected_udp(sk, ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(udp_connected_recv, struct sock *sk, int ret, int flags)
{
	handle_connected_udp(sk, ret, false);
	return 0;
}

/*
 * Where fexit runs, every datagram at the return of UDP's own sendmsg and
 * recvmsg, which every path reaches (sendto, sendmmsg, write, read,
 * io_uring, 32-bit calls): no syscall hook at all.  MSG is the kernel's
 * msghdr: its msg_name the sender's destination (msg_namelen long) or, for
 * a receive that asked (recvmsg always does, into the kernel's buffer),
 * the source the kernel just wrote; a receive's msg_namelen is set only
 * after udp_recvmsg returns, so any sockaddr length will do there.  An
 * IPv4-mapped destination of udpv6_sendmsg goes on to udp_sendmsg: the
 * flow's first report hides the second.  The return value through
 * bpf_get_func_ret (5.17): before, the context word after the arguments,
 * of which the sendmsg functions had 3 and the recvmsg ones 6 then
 * (udp_recvmsg had one argument more before 5.19).
 */
static __always_inline int on_udp_return(void *ctx, struct sock *sk, const struct msghdr *msg, bool sent)
{
	__u64 ret = 0;
	const void *addr;
	__u32 addr_len;

	if (!kernel_has_func_ret())
		ret = ((__u64 *)ctx)[sent ? 3 : 6];
	else if (bpf_get_func_ret(ctx, &ret) != 0)
		return 0;
	if ((int)ret < 0 || !is_udp_socket(sk) || capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return 0;
	addr = BPF_CORE_READ(msg, msg_name);
	addr_len = sent ? (__u32)BPF_CORE_READ(msg, msg_namelen) : sizeof(struct inet_sockaddr);
	if (!addr && KERNEL_READ(sk, __sk_common.skc_state) == TCP_ESTABLISHED_STATE)
		handle_connected_udp(sk, (int)ret, sent);
	else
		handle_udp_message(sk, addr, addr_len, UDP_ADDRESS_IN_KERNEL | (sent ? UDP_SENT : 0));
	return 0;
}

/* Each with its twin (bpf/lib/twin.bpf.h): the second report of a flow
 * within the interval is none. */
#define UDP_RETURN_PROGRAM(function, sent)                                      \
	TWIN_PROGRAMS("fexit/" #function, function##_exit, on_udp_return(ctx, sk, msg, sent), \
		      struct sock *sk, struct msghdr *msg)

UDP_RETURN_PROGRAM(udp_sendmsg, true)
UDP_RETURN_PROGRAM(udpv6_sendmsg, true)
UDP_RETURN_PROGRAM(udp_recvmsg, false)
UDP_RETURN_PROGRAM(udpv6_recvmsg, false)

/* The messages of one sendmmsg/recvmmsg call, for mmsg_message. */
struct mmsg_walk {
	struct sock *sk;
	const struct mmsghdr *msgs;
	bool send;
};

static long mmsg_message(__u32 index, void *data)
{
	struct mmsg_walk *walk = data;
	const struct user_msghdr *msg = &walk->msgs[index].msg_hdr;
	void *uaddr = NULL;
	int uaddr_len = 0;

	bpf_probe_read_user(&uaddr, sizeof(uaddr), &msg->msg_name);
	bpf_probe_read_user(&uaddr_len, sizeof(uaddr_len), &msg->msg_namelen);
	handle_udp_message(walk->sk, uaddr, uaddr_len > 0 ? (__u32)uaddr_len : 0, walk->send ? UDP_SENT : 0);
	return 0;
}

/* Watched syscall NR returned RET >= 0; REGS holds its
 * arguments (the registers saved at entry).  BOUNDED_LOOPS: walk the
 * messages of the *mmsg calls without bpf_loop. */
static __always_inline int on_watched_exit(long nr, long ret, struct pt_regs *regs, bool bounded_loops)
{
	long fd;

	if (capture_is_monitor(bpf_get_current_pid_tgid() >> 32) ||
	    IN_COMPAT_SYSCALL(current_task(), regs))
		return 0;

	fd = PT_REGS_PARM1_CORE_SYSCALL(regs);
	switch (nr) {
	case NR_ACCEPT:
	case NR_ACCEPT4:
		handle_accept(ret);
		break;
	case NR_SENDTO:
	case NR_RECVFROM: {
		/* sendto(fd, buf, len, flags, dest_addr, addrlen);
		 * recvfrom(fd, buf, len, flags, src_addr, &addrlen) */
		const void *uaddr = (const void *)PT_REGS_PARM5_CORE_SYSCALL(regs);
		__u64 arg6 = SYSCALL_ARG6(regs);
		struct sock *sk = socket_of_fd(fd);
		__u32 uaddr_len = 0;

		if (!is_udp_socket(sk))
			break;
		if (nr == NR_SENDTO)
			uaddr_len = (__u32)arg6;
		else if (uaddr && arg6)
			bpf_probe_read_user(&uaddr_len, sizeof(uaddr_len), (const void *)arg6);
		handle_udp_message(sk, uaddr, uaddr_len, nr == NR_SENDTO ? UDP_SENT : 0);
		break;
	}
	case NR_SENDMSG:
	case NR_RECVMSG: {
		/* sendmsg(fd, msghdr, flags); recvmsg(fd, msghdr, flags) */
		const struct user_msghdr *msg = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		struct sock *sk = socket_of_fd(fd);
		void *uaddr = NULL;
		int uaddr_len = 0;

		if (!is_udp_socket(sk))
			break;
		if (msg) {
			bpf_probe_read_user(&uaddr, sizeof(uaddr), &msg->msg_name);
			bpf_probe_read_user(&uaddr_len, sizeof(uaddr_len), &msg->msg_namelen);
		}
		handle_udp_message(sk, uaddr, uaddr_len > 0 ? (__u32)uaddr_len : 0, nr == NR_SENDMSG ? UDP_SENT : 0);
		break;
	}
	case NR_SENDMMSG:
	case NR_RECVMMSG: {
		/* sendmmsg(fd, mmsghdr[], n, flags) and recvmmsg(...) return how
		 * many messages went; each may have its own peer (a DNS server
		 * answers many clients in one call). */
		struct mmsg_walk walk = {
			.sk = socket_of_fd(fd),
			.msgs = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs),
			.send = nr == NR_SENDMMSG,
		};

		if (!is_udp_socket(walk.sk) || !walk.msgs)
			break;
		/* bpf_loop: the verifier checks the body once, not per
		 * message */
		if (bounded_loops) {
			for (__u32 i = 0; i < NETWORK_MMSG_MAX && i < ret; i++)
				mmsg_message(i, &walk);
		} else {
			bpf_loop(ret < NETWORK_MMSG_MAX ? ret : NETWORK_MMSG_MAX, mmsg_message, &walk, 0);
		}
		break;
	}
	}
	return 0;
}

static __always_inline int on_syscall_exit(long nr, long ret, struct pt_regs *regs)
{
	return on_watched_exit(nr, ret, regs, false);
}

/* The watched syscalls' own exit tracepoints; network_sys_exit below
 * when tracefs is not there, or bpf_task_pt_regs or bpf_loop. */
SYSCALL_EXIT_PROGRAM(accept, NR_ACCEPT, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(accept4, NR_ACCEPT4, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(sendto, NR_SENDTO, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(sendmsg, NR_SENDMSG, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(sendmmsg, NR_SENDMMSG, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(recvfrom, NR_RECVFROM, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(recvmsg, NR_RECVMSG, on_syscall_exit)
SYSCALL_EXIT_PROGRAM(recvmmsg, NR_RECVMMSG, on_syscall_exit)

/* Every syscall exit: the fallback when tracefs is not there, or before
 * 5.17 (no bpf_task_pt_regs, bpf_loop); twice, see SYS_EXIT_PROGRAMS. */
static __always_inline int on_any_exit(struct pt_regs *regs, long ret, bool bounded_loops)
{
	long nr;

	if (ret < 0)
		return 0;
	nr = SYSCALL_NR(regs);
	switch (nr) {
	case NR_ACCEPT:
	case NR_ACCEPT4:
	case NR_SENDTO:
	case NR_SENDMSG:
	case NR_SENDMMSG:
	case NR_RECVFROM:
	case NR_RECVMSG:
	case NR_RECVMMSG:
		return on_watched_exit(nr, ret, regs, bounded_loops);
	default:
		return 0;
	}
}

SYS_EXIT_PROGRAMS(network_sys_exit, on_any_exit)

/* Remember where the datagram just queued to UDP socket SK came from and
 * was sent to, for receives that do not ask (see handle_udp_message). */
static __always_inline void on_datagram_queued(const struct sock *sk)
{
	struct queued_datagram q = {}, *known;
	struct sk_buff *skb;
	unsigned char *head;
	__u16 network_offset, transport_offset;
	__u64 key = (__u64)sk;
	__u16 ports[2];
	__u8 version = 0;

	/* A connected socket knows both ends itself. */
	if (sk->sk_protocol != NETWORK_PROTO_UDP ||
	    sk->__sk_common.skc_state == TCP_ESTABLISHED_STATE)
		return;
	q.family = sk->__sk_common.skc_family;
	if (!is_inet(q.family))
		return;
	/* The queue is a circular list: its head's prev is the newest. */
	skb = sk->sk_receive_queue.prev;
	if (!skb || (void *)skb == (void *)&sk->sk_receive_queue)
		return;
	head = skb->head;
	network_offset = skb->network_header;
	transport_offset = skb->transport_header;
	if (bpf_probe_read_kernel(ports, sizeof(ports), head + transport_offset) != 0)
		return;
	q.remote_port = bpf_ntohs(ports[0]);
	if (bpf_probe_read_kernel(&version, 1, head + network_offset) != 0)
		return;
	version >>= 4;
	if (version == 4) {
		/* saddr at 12, daddr at 16 of the IPv4 header */
		__u32 addrs[2];

		if (bpf_probe_read_kernel(addrs, sizeof(addrs), head + network_offset + 12) != 0)
			return;
		if (q.family == NETWORK_AF_INET6) {
			q.remote_addr[10] = q.remote_addr[11] = 0xff;
			q.local_addr[10] = q.local_addr[11] = 0xff;
			__builtin_memcpy(&q.remote_addr[12], &addrs[0], 4);
			__builtin_memcpy(&q.local_addr[12], &addrs[1], 4);
		} else {
			__builtin_memcpy(q.remote_addr, &addrs[0], 4);
			__builtin_memcpy(q.local_addr, &addrs[1], 4);
		}
	} else if (version == 6 && q.family == NETWORK_AF_INET6) {
		/* saddr at 8, daddr at 24 of the IPv6 header */
		if (bpf_probe_read_kernel(q.remote_addr, 16, head + network_offset + 8) != 0 ||
		    bpf_probe_read_kernel(q.local_addr, 16, head + network_offset + 24) != 0)
			return;
	} else {
		return;
	}
	/* In place when the socket is known: a map update costs several
	 * times a lookup, and this runs for every datagram. */
	known = bpf_map_lookup_elem(&last_datagram, &key);
	if (known)
		__builtin_memcpy(known, &q, sizeof(q));
	else
		bpf_map_update_elem(&last_datagram, &key, &q, BPF_ANY);
	return;
}

SEC("tp_btf/sk_data_ready")
int BPF_PROG(udp_datagram_queued, const struct sock *sk)
{
	on_datagram_queued(sk);
	return 0;
}

/* Before that tracepoint (6.5), at the entry of sock_def_readable, the
 * sk_data_ready of UDP sockets, called once a datagram is queued (where
 * the tracepoint fires since). */
SEC("fentry/sock_def_readable")
int BPF_PROG(udp_datagram_queued_fentry, const struct sock *sk)
{
	on_datagram_queued(sk);
	return 0;
}
