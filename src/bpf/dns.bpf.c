// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the DNS source (records: bpf/dns.h, user half:
 * src/capture/dns_source.c): the head of every DNS message a process sends
 * to, or receives from, remote port 53, over UDP or TCP, read from the
 * caller's buffer:
 *
 *   sent:     sendto, sendmsg, sendmmsg (first DNS_MMSG_MAX messages) at
 *             the call's entry; write, writev to a socket once sent
 *             (sock_send_length; before 6.4, fexit on sock_write_iter)
 *   received: recvfrom, recvmsg, recvmmsg (first DNS_MMSG_MAX) at the
 *             call's exit; read from a socket once received
 *             (sock_recv_length; before 6.4, fexit on sock_read_iter)
 *
 * Where the kernel runs fexit programs, the calls are seen at their kernel
 * functions (__sys_sendto ... __sys_recvmmsg, fentry for sends, fexit for
 * receives), each with a twin where the kernel preempts programs
 * (bpf/lib/twin.bpf.h); else at the syscall tracepoints, which put every
 * syscall of every task on the kernel's slow path while attached.
 *
 * The remote port is the address the call named or returned, else the
 * connected peer's.  A receive on an unconnected socket that does not ask
 * for the sender's address is not seen (resolvers ask, or connect).  At most
 * DNS_PAYLOAD_MAX bytes of a message are copied, from its first two iovecs
 * (glibc's TCP queries are a 2-byte length and the query).
 *
 * Costs: write/writev/read are hooked through the socket layer's
 * tracepoints, so file and pipe I/O runs nothing; receives are examined only
 * for processes that sent a DNS message (one map lookup otherwise).  A send
 * taken at entry may then fail (it times out in user space); a query seen
 * after its answer (another thread read the answer before the sending
 * thread's write returned) is paired by user space all the same.  Programs
 * never block: a full ring counts a loss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "bpf/capture.bpf.h"
#include "bpf/dns.h"
#include "bpf/lib/socket.bpf.h"
#include "bpf/lib/syscalls.bpf.h"
#include "bpf/lib/twin.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET_FAMILY 2
#define AF_INET6_FAMILY 10
#define PROTO_TCP 6
#define PROTO_UDP 17
#define SOCK_STREAM_TYPE 1
#define SOCK_DGRAM_TYPE 2

/* A record and room for a message; a message is cut at DNS_PAYLOAD_MAX,
 * the rest is slack the verifier needs for the last copy (see copy_user). */
struct dns_scratch {
	struct dns_record rec;
	__u8 payload[3 * DNS_PAYLOAD_MAX];
};

/* A slot per reporter (below: twin 0, twin 1, ALONE): the kernel runs a
 * program at most once per CPU at a time, and programs preempted on a CPU
 * must not share a record. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} scratch SEC(".maps");

/* Which program reports: TWIN 0 or 1 of a pair of twins, or ALONE, a
 * program without one. */
#define ALONE 2

/* A recvfrom's address length not read (5.10's verifier refuses a program
 * that reads __sys_recvfrom's int pointer): the call succeeded, so UDP
 * wrote the sender's address at the address argument (TCP writes none). */
#define ADDRESS_WRITTEN (~0UL)
#define CLAIM_MESSAGE(tid, sent) (((__u64)(2 + (sent)) << 32) | (tid))

/* Processes that sent a DNS message: only their receives are examined. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);                 /* tgid */
	__type(value, __u8);
} dns_processes SEC(".maps");

/* A syscall's arguments, from the tracepoint's record or the saved
 * registers. */
struct syscall_args {
	unsigned long arg[6];
};

static __always_inline bool dns_process(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&dns_processes, &tgid) != NULL;
}

static __always_inline void mark_dns_process(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u8 one = 1;

	if (!bpf_map_lookup_elem(&dns_processes, &tgid))
		bpf_map_update_elem(&dns_processes, &tgid, &one, BPF_ANY);
}

/* The arguments from the registers saved at syscall entry: one copy of
 * the register set rather than a read per argument. */
static __always_inline void args_from_regs(struct syscall_args *args, struct pt_regs *regs)
{
	struct pt_regs saved;

	if (bpf_probe_read_kernel(&saved, sizeof(saved), regs) != 0)
		return;
#if defined(__TARGET_ARCH_x86)
	args->arg[0] = saved.di;
	args->arg[1] = saved.si;
	args->arg[2] = saved.dx;
	args->arg[3] = saved.r10;
	args->arg[4] = saved.r8;
	args->arg[5] = saved.r9;
#else
	args->arg[0] = saved.orig_x0;
	for (int i = 1; i < 6; i++)
		args->arg[i] = saved.regs[i];
#endif
}

/* The port of the IPv4/IPv6 sockaddr the caller passed or got back, 0 if
 * there is none. */
static __always_inline __u16 user_port(const void *uaddr, __u32 len)
{
	struct {
		__u16 family;
		__u16 port;
	} sa = {};

	if (!uaddr || len < sizeof(sa) || bpf_probe_read_user(&sa, sizeof(sa), uaddr) != 0)
		return 0;
	if (sa.family != AF_INET_FAMILY && sa.family != AF_INET6_FAMILY)
		return 0;
	return bpf_ntohs(sa.port);
}

/* Append LEN bytes of the caller's BUF to the payload at *OFF (cut at
 * DNS_PAYLOAD_MAX). */
static __always_inline void copy_user(struct dns_scratch *s, __u32 *off, const void *buf, __u64 len)
{
	__u32 o = *off;

	if (o >= DNS_PAYLOAD_MAX || !buf)
		return;
	if (len > DNS_PAYLOAD_MAX - o)
		len = DNS_PAYLOAD_MAX - o;
	if (len == 0 || len > DNS_PAYLOAD_MAX)
		return;
	/* bounds the verifier can follow whatever the compiler reorders: the
	 * masks keep the values, the scratch has room for both maxima */
	asm volatile("" : "+r"(o), "+r"(len));   /* the compiler must keep the masks */
	o &= DNS_PAYLOAD_MAX - 1;
	len &= 2 * DNS_PAYLOAD_MAX - 1;
	if (bpf_probe_read_user(&s->payload[o], len, buf) == 0)
		*off = o + len;
}

/* Append the first TOTAL bytes held by the caller's iovec array IOV of
 * IOVLEN entries (its first two entries).  Returns the bytes those entries
 * hold (TOTAL at most). */
static __always_inline __u64 copy_iov(struct dns_scratch *s, __u32 *off, const struct iovec *iov,
				      __u64 iovlen, __u64 total)
{
	__u64 held = 0;

	for (int i = 0; i < 2; i++) {
		struct iovec v = {};

		if ((__u64)i >= iovlen || held >= total ||
		    bpf_probe_read_user(&v, sizeof(v), &iov[i]) != 0)
			break;
		__u64 want = total - held;
		__u64 take = v.iov_len < want ? v.iov_len : want;
		copy_user(s, off, v.iov_base, take);
		held += take;
	}
	return held;
}

/* The record of the message at the caller's MESSAGE (a buffer or a
 * header), unless its twin's run took it (WHO: the twin, or ALONE). */
static __always_inline struct dns_scratch *new_record(bool sent, struct sock *sk, __u8 protocol,
						      const void *message, __u32 who)
{
	__u32 slot = who;
	struct dns_scratch *s;

	if (who != ALONE && !twin_claim(CLAIM_MESSAGE((__u32)bpf_get_current_pid_tgid(), sent),
					(__u64)message, who))
		return NULL;
	s = bpf_map_lookup_elem(&scratch, &slot);
	if (!s)
		return NULL;
	if (sent)
		mark_dns_process();
	s->rec.kind = sent ? DNS_RECORD_SENT : DNS_RECORD_RECEIVED;
	s->rec.tgid = bpf_get_current_pid_tgid() >> 32;
	s->rec.uid = (__u32)bpf_get_current_uid_gid();
	s->rec.protocol = protocol;
	s->rec.pad = 0;
	s->rec.payload_len = 0;
	s->rec.boot_ns = bpf_ktime_get_boot_ns();
	s->rec.socket = (__u64)sk;
	s->rec.message_len = 0;
	s->rec.reserved = 0;
	bpf_get_current_comm(s->rec.comm, sizeof(s->rec.comm));
	return s;
}

static __always_inline void submit(struct dns_scratch *s, __u32 len, __u64 message_len)
{
	if (len > DNS_PAYLOAD_MAX)
		len = DNS_PAYLOAD_MAX;
	s->rec.payload_len = len;
	s->rec.message_len = message_len;
	capture_submit(&s->rec, sizeof(s->rec) + len, DNS_EVENT_ID);
}

/* Report the message of SIZE bytes in the caller's BUF. */
static __always_inline void report_buffer(bool sent, struct sock *sk, __u8 protocol, const void *buf,
					  __u64 size, __u32 who)
{
	struct dns_scratch *s = new_record(sent, sk, protocol, buf, who);
	__u32 off = 0;

	if (!s)
		return;
	copy_user(s, &off, buf, size);
	submit(s, off, size);
}

/* Report the message of TOTAL bytes at most held by the caller's iovec
 * array IOV of IOVLEN entries. */
static __always_inline void report_iov(bool sent, struct sock *sk, __u8 protocol, const struct iovec *iov,
				       __u64 iovlen, __u64 total, __u32 who)
{
	struct dns_scratch *s = new_record(sent, sk, protocol, iov, who);
	__u32 off = 0;

	if (!s)
		return;
	__u64 held = copy_iov(s, &off, iov, iovlen, total);
	submit(s, off, held);
}

/* The messages of a sendmmsg (at entry: COUNT offered) or recvmmsg (at
 * exit: COUNT received) in the caller's VEC. */
static __always_inline void on_mmsg(bool sent, struct sock *sk, __u8 protocol, __u16 peer_port,
				    const struct mmsghdr *vec, long count, __u32 who)
{
	for (int i = 0; i < DNS_MMSG_MAX; i++) {
		struct user_msghdr msg = {};
		unsigned int moved = 0;

		if (i >= count || bpf_probe_read_user(&msg, sizeof(msg), &vec[i].msg_hdr) != 0)
			return;
		if (!sent && bpf_probe_read_user(&moved, sizeof(moved), &vec[i].msg_len) != 0)
			return;
		__u16 port = user_port(msg.msg_name, msg.msg_namelen > 0 ? msg.msg_namelen : 0);
		if ((port ? port : peer_port) == DNS_PORT)
			report_iov(sent, sk, protocol, msg.msg_iov, msg.msg_iovlen, sent ? ~0ULL : moved, who);
	}
}

/*
 * Syscall NR with the arguments ARGS: a send at its entry (a query must
 * be seen before its answer, which another thread may read before this
 * one's syscall exits), a receive at its exit, RET bytes received; seen by
 * WHO (a twin, or ALONE).
 */
static __always_inline int on_syscall(long nr, long ret, const struct syscall_args *args,
				      struct sock *sk, __u32 who)
{
	bool sent = nr == NR_SENDTO || nr == NR_SENDMSG || nr == NR_SENDMMSG ||
		    nr == NR_WRITE || nr == NR_WRITEV;

	if ((!sent && ret <= 0) || capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return 0;
	if (in_ia32_syscall(current_task()))
		return 0;   /* 32-bit syscall: other numbers */
	if (!sk)
		sk = socket_of_fd(args->arg[0]);
	if (!sk)
		return 0;
	__u16 family = KERNEL_READ(sk, __sk_common.skc_family);
	__u8 protocol = KERNEL_READ(sk, sk_protocol);
	__u16 type = KERNEL_READ(sk, sk_type);
	if ((family != AF_INET_FAMILY && family != AF_INET6_FAMILY) ||
	    !((protocol == PROTO_UDP && type == SOCK_DGRAM_TYPE) ||
	      (protocol == PROTO_TCP && type == SOCK_STREAM_TYPE)) ||
	    KERNEL_READ(sk, __sk_common.skc_num) == DNS_PORT)   /* a server's socket */
		return 0;
	/* the connected peer's port, 0 if not connected; not the state: a TCP
	 * answer is often read after the server closed (CLOSE_WAIT) */
	__u16 peer_port = bpf_ntohs(KERNEL_READ(sk, __sk_common.skc_dport));
	/* bytes sent or received; before a send (ret 0), bytes offered */
	__u64 size = ret > 0 ? (__u64)ret : args->arg[2];
	__u64 iov_total = ret > 0 ? (__u64)ret : ~0ULL;

	switch (nr) {
	case NR_SENDTO:
	case NR_RECVFROM: {
		const void *uaddr = (const void *)args->arg[4];
		__u64 arg6 = args->arg[5];
		__u32 len = 0;

		if (sent)
			len = (__u32)arg6;
		else if (uaddr && arg6 == ADDRESS_WRITTEN)
			len = protocol == PROTO_UDP ? 4 : 0;   /* UDP wrote family and port, TCP none */
		else if (uaddr && arg6)
			bpf_probe_read_user(&len, sizeof(len), (const void *)arg6);
		__u16 port = user_port(uaddr, len);
		if ((port ? port : peer_port) == DNS_PORT)
			report_buffer(sent, sk, protocol, (const void *)args->arg[1], size, who);
		return 0;
	}
	case NR_READ:
	case NR_WRITE:
		if (peer_port == DNS_PORT)
			report_buffer(sent, sk, protocol, (const void *)args->arg[1], size, who);
		return 0;
	case NR_WRITEV:
		if (peer_port == DNS_PORT)
			report_iov(sent, sk, protocol, (const struct iovec *)args->arg[1], args->arg[2],
				   iov_total, who);
		return 0;
	case NR_SENDMSG:
	case NR_RECVMSG: {
		const struct user_msghdr *umsg = (const void *)args->arg[1];
		struct user_msghdr msg = {};

		if (bpf_probe_read_user(&msg, sizeof(msg), umsg) != 0)
			return 0;
		__u16 port = user_port(msg.msg_name, msg.msg_namelen > 0 ? msg.msg_namelen : 0);
		if ((port ? port : peer_port) == DNS_PORT)
			report_iov(sent, sk, protocol, msg.msg_iov, msg.msg_iovlen, iov_total, who);
		return 0;
	}
	case NR_SENDMMSG:
		on_mmsg(true, sk, protocol, peer_port,
			(const struct mmsghdr *)args->arg[1], size, who);
		return 0;
	case NR_RECVMMSG:
		on_mmsg(false, sk, protocol, peer_port,
			(const struct mmsghdr *)args->arg[1], ret, who);
		return 0;
	}
	return 0;
}

/* sendto/sendmsg/sendmmsg at entry, with the arguments from the
 * tracepoint's record (a program may read only as many as its syscall
 * has: 3, 4 or 6 here); recvfrom/recvmsg/recvmmsg at exit, with the
 * arguments from the saved registers.  dns_sys_enter/dns_sys_exit do the
 * same on every syscall when tracefs is not there. */
#define SYSCALL_ENTER_PROGRAM(name, nr, nargs)                                  \
	SEC("tp/syscalls/sys_enter_" #name)                                     \
	int enter_##name(struct syscall_trace_enter *ctx)                       \
	{                                                                       \
		struct syscall_args args = {};                                  \
                                                                                \
		/* constant offsets: the verifier refuses a moved ctx */        \
		args.arg[0] = ctx->args[0];                                     \
		args.arg[1] = ctx->args[1];                                     \
		args.arg[2] = ctx->args[2];                                     \
		if (nargs > 3)                                                  \
			args.arg[3] = ctx->args[3];                             \
		if (nargs > 5) {                                                \
			args.arg[4] = ctx->args[4];                             \
			args.arg[5] = ctx->args[5];                             \
		}                                                               \
		return on_syscall(nr, 0, &args, NULL, ALONE);                   \
	}

/* A receive RET bytes long (REGS: the saved registers); only processes
 * that sent a DNS message are examined. */
static __always_inline int on_receive_exit(long nr, long ret, struct pt_regs *regs)
{
	struct syscall_args args = {};

	if (ret <= 0 || !dns_process())
		return 0;
	args_from_regs(&args, regs);
	return on_syscall(nr, ret, &args, NULL, ALONE);
}

SYSCALL_ENTER_PROGRAM(sendto, NR_SENDTO, 6)
SYSCALL_ENTER_PROGRAM(sendmsg, NR_SENDMSG, 3)
SYSCALL_ENTER_PROGRAM(sendmmsg, NR_SENDMMSG, 4)
SYSCALL_EXIT_PROGRAM(recvfrom, NR_RECVFROM, on_receive_exit)
SYSCALL_EXIT_PROGRAM(recvmsg, NR_RECVMSG, on_receive_exit)
SYSCALL_EXIT_PROGRAM(recvmmsg, NR_RECVMMSG, on_receive_exit)

/* write/writev/read: every process makes them all the time, on files and
 * pipes too.  The socket layer's own tracepoints fire only for sockets:
 * a write or writev to a socket is seen once sent (user space pairs an
 * answer that arrives first), a read once received. */
static __always_inline int on_socket_sent(struct sock *sk, long ret)
{
	struct pt_regs *regs = current_syscall_regs();
	struct syscall_args args = {};
	long nr = SYSCALL_NR(regs);

	if (!sk || ret <= 0 || (nr != NR_WRITE && nr != NR_WRITEV))
		return 0;
	args_from_regs(&args, regs);
	return on_syscall(nr, ret, &args, sk, ALONE);
}

static __always_inline int on_socket_received(struct sock *sk, long ret)
{
	struct pt_regs *regs = current_syscall_regs();
	struct syscall_args args = {};

	if (!sk || ret <= 0 || SYSCALL_NR(regs) != NR_READ || !dns_process())
		return 0;
	args_from_regs(&args, regs);
	return on_syscall(NR_READ, ret, &args, sk, ALONE);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(dns_socket_sent, struct sock *sk, int ret, int flags)
{
	return on_socket_sent(sk, ret);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(dns_socket_received, struct sock *sk, int ret, int flags)
{
	return on_socket_received(sk, ret);
}

/* Before those tracepoints (6.4), at the return of the socket files'
 * write_iter and read_iter, where write, writev and read of a socket go,
 * on kernels that run fexit programs. */
SEC("fexit/sock_write_iter")
int BPF_PROG(dns_socket_written, struct kiocb *iocb, struct iov_iter *from, ssize_t ret)
{
	return on_socket_sent(socket_of_file(iocb->ki_filp), ret);
}

SEC("fexit/sock_read_iter")
int BPF_PROG(dns_socket_read, struct kiocb *iocb, struct iov_iter *to, ssize_t ret)
{
	return on_socket_received(socket_of_file(iocb->ki_filp), ret);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(dns_sys_enter, struct pt_regs *regs, long id)
{
	struct syscall_args args = {};

	if (id != NR_SENDTO && id != NR_SENDMSG && id != NR_SENDMMSG)
		return 0;
	args_from_regs(&args, regs);
	return on_syscall(id, 0, &args, NULL, ALONE);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(dns_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	if (nr != NR_RECVFROM && nr != NR_RECVMSG && nr != NR_RECVMMSG)
		return 0;
	return on_receive_exit(nr, ret, regs);
}

/*
 * Where fexit runs: the syscalls' kernel functions, which take the
 * syscall's own arguments in its order (64- and 32-bit calls; on_syscall
 * skips 32-bit ones): sends at their entry, receives at their return.  No
 * program runs for any other syscall.
 */
static __always_inline int on_send_entry(long nr, unsigned long fd, unsigned long a1, unsigned long a2,
					 unsigned long a3, unsigned long a4, unsigned long a5, __u32 twin)
{
	struct syscall_args args = { .arg = { fd, a1, a2, a3, a4, a5 } };

	return on_syscall(nr, 0, &args, NULL, twin);
}

static __always_inline int on_receive_return(long nr, long ret, unsigned long fd, unsigned long a1,
					     unsigned long a2, unsigned long a3, unsigned long a4,
					     unsigned long a5, __u32 twin)
{
	struct syscall_args args = { .arg = { fd, a1, a2, a3, a4, a5 } };

	if (ret <= 0 || !dns_process())
		return 0;
	return on_syscall(nr, ret, &args, NULL, twin);
}

TWIN_PROGRAMS("fentry/__sys_sendto", sendto_entry,
	      on_send_entry(NR_SENDTO, fd, (unsigned long)buff, len, flags, (unsigned long)addr, addr_len, twin),
	      int fd, void *buff, size_t len, unsigned int flags, struct sockaddr *addr, int addr_len)
TWIN_PROGRAMS("fentry/__sys_sendmsg", sendmsg_entry,
	      on_send_entry(NR_SENDMSG, fd, (unsigned long)msg, flags, 0, 0, 0, twin),
	      int fd, struct user_msghdr *msg, unsigned int flags, bool forbid_cmsg_compat)
TWIN_PROGRAMS("fentry/__sys_sendmmsg", sendmmsg_entry,
	      on_send_entry(NR_SENDMMSG, fd, (unsigned long)mmsg, vlen, flags, 0, 0, twin),
	      int fd, struct mmsghdr *mmsg, unsigned int vlen, unsigned int flags, bool forbid_cmsg_compat)
TWIN_PROGRAMS("fexit/__sys_recvfrom", recvfrom_return,
	      on_receive_return(NR_RECVFROM, ret, fd, (unsigned long)ubuf, size, flags, (unsigned long)addr,
				ADDRESS_WRITTEN, twin),
	      int fd, void *ubuf, size_t size, unsigned int flags, struct sockaddr *addr, int *addr_len,
	      int ret)
TWIN_PROGRAMS("fexit/__sys_recvmsg", recvmsg_return,
	      on_receive_return(NR_RECVMSG, ret, fd, (unsigned long)msg, flags, 0, 0, 0, twin),
	      int fd, struct user_msghdr *msg, unsigned int flags, bool forbid_cmsg_compat, long ret)
TWIN_PROGRAMS("fexit/__sys_recvmmsg", recvmmsg_return,
	      on_receive_return(NR_RECVMMSG, ret, fd, (unsigned long)mmsg, vlen, flags, 0, 0, twin),
	      int fd, struct mmsghdr *mmsg, unsigned int vlen, unsigned int flags, void *timeout,
	      void *timeout32, int ret)
