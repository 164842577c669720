// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the DNS source (records: bpf/dns.h, user half:
 * src/capture/dns_source.c): the head of every DNS message a process sends
 * to, or receives from, remote port 53, over UDP or TCP, read from the
 * caller's buffer:
 *
 *   sent, at the call's entry: sendto, sendmsg, sendmmsg (first
 *             DNS_MMSG_MAX messages), write, writev
 *   received, at its exit:     recvfrom, recvmsg, recvmmsg (first
 *             DNS_MMSG_MAX), read
 *
 * A send is taken at entry (whether it then fails is not known) because
 * another thread of the process may read the answer before the sending
 * thread leaves the call.
 *
 * The remote port is the address the call named or returned, else the
 * connected peer's.  A receive on an unconnected socket that does not ask
 * for the sender's address is not seen (resolvers ask, or connect).  At most
 * DNS_PAYLOAD_MAX bytes of a message are copied, from its first two iovecs
 * (glibc's TCP queries are a 2-byte length and the query).  Programs never
 * block: a full ring counts a loss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "bpf/capture.bpf.h"
#include "bpf/dns.h"

char LICENSE[] SEC("license") = "GPL";

#if defined(__TARGET_ARCH_x86)
#define NR_READ 0
#define NR_WRITE 1
#define NR_WRITEV 20
#define NR_SENDTO 44
#define NR_RECVFROM 45
#define NR_SENDMSG 46
#define NR_RECVMSG 47
#define NR_RECVMMSG 299
#define NR_SENDMMSG 307
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG6(regs) ((regs)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define NR_READ 63
#define NR_WRITE 64
#define NR_WRITEV 66
#define NR_SENDTO 206
#define NR_RECVFROM 207
#define NR_SENDMSG 211
#define NR_RECVMSG 212
#define NR_RECVMMSG 243
#define NR_SENDMMSG 269
#define SYSCALL_NR(regs) ((regs)->syscallno)
#define SYSCALL_ARG6(regs) ((regs)->regs[5])
#else
#error "dns.bpf.c: syscall numbers are defined for x86 and arm64 only"
#endif

#define AF_INET_FAMILY 2
#define AF_INET6_FAMILY 10
#define PROTO_TCP 6
#define PROTO_UDP 17
#define SOCK_STREAM_TYPE 1
#define SOCK_DGRAM_TYPE 2
#define S_IFMT_BITS 00170000
#define S_IFSOCK_BITS 0140000

/* A record and room for a message; a message is cut at DNS_PAYLOAD_MAX,
 * the second half is slack the verifier needs for the last copy. */
struct dns_scratch {
	struct dns_record rec;
	__u8 payload[2 * DNS_PAYLOAD_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} scratch SEC(".maps");

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* The socket behind descriptor FD of the current process, or NULL. */
static __always_inline struct sock *socket_of_fd(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= fdt->max_fds)
		return NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd]) != 0 || !file)
		return NULL;
	file = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
	if ((file->f_inode->i_mode & S_IFMT_BITS) != S_IFSOCK_BITS)
		return NULL;
	sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	if (!sock)
		return NULL;
	return sock->sk;
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
	o &= DNS_PAYLOAD_MAX - 1;
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

static __always_inline struct dns_scratch *new_record(bool sent, struct sock *sk, __u8 protocol)
{
	__u32 zero = 0;
	struct dns_scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	if (!s)
		return NULL;
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

/* The messages of a sendmmsg (at entry: COUNT offered) or recvmmsg (at
 * exit: COUNT received) in the caller's VEC. */
static __always_inline void on_mmsg(bool sent, struct sock *sk, __u8 protocol, __u16 peer_port,
				    const struct mmsghdr *vec, long count)
{
	for (int i = 0; i < DNS_MMSG_MAX; i++) {
		struct user_msghdr msg = {};
		unsigned int moved = 0;

		if (i >= count || bpf_probe_read_user(&msg, sizeof(msg), &vec[i].msg_hdr) != 0)
			return;
		if (!sent && bpf_probe_read_user(&moved, sizeof(moved), &vec[i].msg_len) != 0)
			return;
		__u16 port = user_port(msg.msg_name, msg.msg_namelen > 0 ? msg.msg_namelen : 0);
		if ((port ? port : peer_port) != DNS_PORT)
			continue;
		struct dns_scratch *s = new_record(sent, sk, protocol);
		if (!s)
			return;
		__u32 off = 0;
		__u64 held = copy_iov(s, &off, msg.msg_iov, msg.msg_iovlen, sent ? ~0ULL : moved);
		submit(s, off, held);
	}
}

/*
 * Syscall NR with the arguments in REGS: a send at its entry (a query must
 * be seen before its answer, which another thread may read before this
 * one's syscall exits), a receive at its exit, RET bytes received.
 */
static __always_inline int on_syscall(long nr, long ret, struct pt_regs *regs)
{
	bool sent = nr == NR_SENDTO || nr == NR_SENDMSG || nr == NR_SENDMMSG ||
		    nr == NR_WRITE || nr == NR_WRITEV;

	if ((!sent && ret <= 0) || capture_is_monitor(bpf_get_current_pid_tgid() >> 32))
		return 0;
#if defined(__TARGET_ARCH_x86)
	if (bpf_get_current_task_btf()->thread_info.status & 0x0002)
		return 0;   /* 32-bit syscall: other numbers */
#endif
	struct sock *sk = socket_of_fd(PT_REGS_PARM1_CORE_SYSCALL(regs));
	if (!sk)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	__u8 protocol = sk->sk_protocol;
	__u16 type = sk->sk_type;
	if ((family != AF_INET_FAMILY && family != AF_INET6_FAMILY) ||
	    !((protocol == PROTO_UDP && type == SOCK_DGRAM_TYPE) ||
	      (protocol == PROTO_TCP && type == SOCK_STREAM_TYPE)) ||
	    sk->__sk_common.skc_num == DNS_PORT)   /* a server's socket */
		return 0;
	/* the connected peer's port, 0 if not connected; not the state: a TCP
	 * answer is often read after the server closed (CLOSE_WAIT) */
	__u16 peer_port = bpf_ntohs(sk->__sk_common.skc_dport);
	/* bytes offered (send) or received */
	__u64 size = sent ? PT_REGS_PARM3_CORE_SYSCALL(regs) : (__u64)ret;
	struct dns_scratch *s;
	__u32 off = 0;

	switch (nr) {
	case NR_SENDTO:
	case NR_RECVFROM: {
		const void *uaddr = (const void *)PT_REGS_PARM5_CORE_SYSCALL(regs);
		__u64 arg6 = SYSCALL_ARG6(regs);
		__u32 len = 0;

		if (sent)
			len = (__u32)arg6;
		else if (uaddr && arg6)
			bpf_probe_read_user(&len, sizeof(len), (const void *)arg6);
		__u16 port = user_port(uaddr, len);
		if ((port ? port : peer_port) != DNS_PORT)
			return 0;
		s = new_record(sent, sk, protocol);
		if (!s)
			return 0;
		copy_user(s, &off, (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), size);
		submit(s, off, size);
		return 0;
	}
	case NR_READ:
	case NR_WRITE:
		if (peer_port != DNS_PORT)
			return 0;
		s = new_record(sent, sk, protocol);
		if (!s)
			return 0;
		copy_user(s, &off, (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs), size);
		submit(s, off, size);
		return 0;
	case NR_WRITEV: {
		if (peer_port != DNS_PORT)
			return 0;
		s = new_record(sent, sk, protocol);
		if (!s)
			return 0;
		__u64 held = copy_iov(s, &off, (const struct iovec *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				      PT_REGS_PARM3_CORE_SYSCALL(regs), ~0ULL);
		submit(s, off, held);
		return 0;
	}
	case NR_SENDMSG:
	case NR_RECVMSG: {
		const struct user_msghdr *umsg = (const void *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		struct user_msghdr msg = {};

		if (bpf_probe_read_user(&msg, sizeof(msg), umsg) != 0)
			return 0;
		__u16 port = user_port(msg.msg_name, msg.msg_namelen > 0 ? msg.msg_namelen : 0);
		if ((port ? port : peer_port) != DNS_PORT)
			return 0;
		s = new_record(sent, sk, protocol);
		if (!s)
			return 0;
		__u64 held = copy_iov(s, &off, msg.msg_iov, msg.msg_iovlen, sent ? ~0ULL : (__u64)ret);
		submit(s, off, held);
		return 0;
	}
	case NR_SENDMMSG:
		on_mmsg(true, sk, protocol, peer_port,
			(const struct mmsghdr *)PT_REGS_PARM2_CORE_SYSCALL(regs), size);
		return 0;
	case NR_RECVMMSG:
		on_mmsg(false, sk, protocol, peer_port,
			(const struct mmsghdr *)PT_REGS_PARM2_CORE_SYSCALL(regs), ret);
		return 0;
	}
	return 0;
}

/* One program per watched syscall when tracefs is there (sends at entry,
 * receives at exit); dns_sys_enter/dns_sys_exit on every syscall
 * otherwise. */
#define CURRENT_REGS ((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()))
#define SYSCALL_ENTER_PROGRAM(name, nr)                                         \
	SEC("tp/syscalls/sys_enter_" #name)                                     \
	int enter_##name(void *ctx)                                             \
	{                                                                       \
		return on_syscall(nr, 0, CURRENT_REGS);                         \
	}
#define SYSCALL_EXIT_PROGRAM(name, nr)                                          \
	SEC("tp/syscalls/sys_exit_" #name)                                      \
	int exit_##name(struct syscall_trace_exit *ctx)                         \
	{                                                                       \
		return on_syscall(nr, ctx->ret, CURRENT_REGS);                  \
	}

SYSCALL_ENTER_PROGRAM(sendto, NR_SENDTO)
SYSCALL_ENTER_PROGRAM(sendmsg, NR_SENDMSG)
SYSCALL_ENTER_PROGRAM(sendmmsg, NR_SENDMMSG)
SYSCALL_ENTER_PROGRAM(write, NR_WRITE)
SYSCALL_ENTER_PROGRAM(writev, NR_WRITEV)
SYSCALL_EXIT_PROGRAM(recvfrom, NR_RECVFROM)
SYSCALL_EXIT_PROGRAM(recvmsg, NR_RECVMSG)
SYSCALL_EXIT_PROGRAM(recvmmsg, NR_RECVMMSG)
SYSCALL_EXIT_PROGRAM(read, NR_READ)

SEC("tp_btf/sys_enter")
int BPF_PROG(dns_sys_enter, struct pt_regs *regs, long id)
{
	switch (id) {
	case NR_SENDTO:
	case NR_SENDMSG:
	case NR_SENDMMSG:
	case NR_WRITE:
	case NR_WRITEV:
		return on_syscall(id, 0, regs);
	default:
		return 0;
	}
}

SEC("tp_btf/sys_exit")
int BPF_PROG(dns_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	switch (nr) {
	case NR_RECVFROM:
	case NR_RECVMSG:
	case NR_RECVMMSG:
	case NR_READ:
		return on_syscall(nr, ret, regs);
	default:
		return 0;
	}
}
