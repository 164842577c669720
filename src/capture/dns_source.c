/*
 * Loader of the DNS source (kernel half: bpf/dns.bpf.c, records: bpf/dns.h,
 * decoder: dns_decode.c, which pairs queries with answers): loads and
 * attaches the programs that see the messages processes exchange with port
 * 53 and hands their records to the decoder, which makes DnsQuery (22)
 * events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/dns.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "dns.skel.h"

#define DNS_SYSCALLS 6     /* 3 sends at entry, 3 receives at exit */

/* Where fexit runs, the calls' kernel functions (dns.bpf.c's programs in
 * this order, then their twins). */
static const char *const call_functions[DNS_SYSCALLS] = {
	"__sys_recvfrom", "__sys_recvmsg", "__sys_recvmmsg",
	"__sys_sendto", "__sys_sendmsg", "__sys_sendmmsg",
};

/* Ring buffer size in pages, unless the admin asked for less: DNS messages
 * are rare next to execs and file events, so 2 MiB (about 1,900 full
 * records). */
#define DNS_RING_PAGES 512

struct dns_state {
	struct dns_bpf *skel;
	struct bpf_link *syscall_links[DNS_SYSCALLS];
	struct bpf_link *call_links[2 * DNS_SYSCALLS];   /* or call_functions', and twins */
	struct bpf_link *sys_enter_link, *sys_exit_link;
	struct bpf_link *socket_sent_link, *socket_received_link;
	struct dns_decoder *decoder;
	bool has_sock_length;       /* the kernel has sock_send_length and sock_recv_length */
	bool socket_io_at_fexit;    /* without them: fexit on sock_write_iter, sock_read_iter */
	bool has_task_pt_regs;      /* bpf_task_pt_regs (5.15): the registers of the syscall */
	bool calls_at_fexit;        /* call_functions, no syscall hook */
	bool twins;                 /* with their twins (this kernel preempts programs) */
};

static void detach(struct dns_state *st)
{
	capture_detach_each(st->syscall_links, DNS_SYSCALLS);
	capture_detach_each(st->call_links, 2 * DNS_SYSCALLS);
	bpf_link__destroy(st->sys_enter_link);
	bpf_link__destroy(st->sys_exit_link);
	bpf_link__destroy(st->socket_sent_link);
	bpf_link__destroy(st->socket_received_link);
	st->sys_enter_link = st->sys_exit_link = NULL;
	st->socket_sent_link = st->socket_received_link = NULL;
}

static void dns_unload(void *state)
{
	struct dns_state *st = state;

	detach(st);
	dns_bpf__destroy(st->skel);
	dns_decoder_free(st->decoder);
	free(st);
}

static bool dns_open(void *state, const struct capture_env *env, struct capture_object *obj,
		     struct strbuf *err)
{
	struct dns_state *st = state;

	(void)env;
	if (!(st->decoder = dns_decoder_new(err)) || !(st->skel = dns_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* The programs on call_functions, in that order, then their twins. */
static void call_programs(struct dns_bpf *skel, struct bpf_program *programs[2 * DNS_SYSCALLS])
{
	programs[0] = skel->progs.recvfrom_return;
	programs[1] = skel->progs.recvmsg_return;
	programs[2] = skel->progs.recvmmsg_return;
	programs[3] = skel->progs.sendto_entry;
	programs[4] = skel->progs.sendmsg_entry;
	programs[5] = skel->progs.sendmmsg_entry;
	capture_twins_of(skel->obj, programs, DNS_SYSCALLS);
}

/* The calls' kernel functions where fexit runs, else their syscall
 * tracepoints.  The socket tracepoints where the kernel has them, else fexit on the
 * socket's write and read functions where it runs fexit programs and has
 * bpf_task_pt_regs (their syscall's arguments), else neither (dns_describe
 * says what is then missed).  The receives' exit programs read registers
 * too: without bpf_task_pt_regs, the sys_enter/sys_exit pair does their
 * work. */
static int dns_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct dns_state *st = state;

	struct bpf_program *calls[2 * DNS_SYSCALLS];

	(void)err;
	st->calls_at_fexit = capture_kernel_has_fexit(btf, call_functions[0]);
	for (size_t i = 0; i < DNS_SYSCALLS; i++)
		st->calls_at_fexit = st->calls_at_fexit && capture_btf_has_kfunc(btf, call_functions[i]);
	st->twins = st->calls_at_fexit && capture_kernel_preempts_programs();
	st->skel->rodata->twin_programs = st->twins;
	call_programs(st->skel, calls);
	for (size_t i = 0; i < 2 * DNS_SYSCALLS; i++)
		bpf_program__set_autoload(calls[i], st->calls_at_fexit && (i < DNS_SYSCALLS || st->twins));
	st->has_task_pt_regs = capture_kernel_has_task_pt_regs();
	bool syscall_hooks = !st->calls_at_fexit;

	bpf_program__set_autoload(st->skel->progs.enter_sendto, syscall_hooks);
	bpf_program__set_autoload(st->skel->progs.enter_sendmsg, syscall_hooks);
	bpf_program__set_autoload(st->skel->progs.enter_sendmmsg, syscall_hooks);
	bpf_program__set_autoload(st->skel->progs.exit_recvfrom, syscall_hooks && st->has_task_pt_regs);
	bpf_program__set_autoload(st->skel->progs.exit_recvmsg, syscall_hooks && st->has_task_pt_regs);
	bpf_program__set_autoload(st->skel->progs.exit_recvmmsg, syscall_hooks && st->has_task_pt_regs);
	bpf_program__set_autoload(st->skel->progs.dns_sys_enter, syscall_hooks);
	bpf_program__set_autoload(st->skel->progs.dns_sys_exit, syscall_hooks);
	st->has_sock_length = capture_btf_has_tracepoint(btf, "sock_send_length") &&
			      capture_btf_has_tracepoint(btf, "sock_recv_length");
	st->socket_io_at_fexit = !st->has_sock_length && st->has_task_pt_regs &&
				 capture_btf_has_kfunc(btf, "sock_write_iter") &&
				 capture_btf_has_kfunc(btf, "sock_read_iter") &&
				 capture_kernel_has_fexit(btf, "sock_write_iter");
	bpf_program__set_autoload(st->skel->progs.dns_socket_sent, st->has_sock_length);
	bpf_program__set_autoload(st->skel->progs.dns_socket_received, st->has_sock_length);
	bpf_program__set_autoload(st->skel->progs.dns_socket_written, st->socket_io_at_fexit);
	bpf_program__set_autoload(st->skel->progs.dns_socket_read, st->socket_io_at_fexit);
	return 0;
}

static const struct capture_loader dns_loader = {
	.what = "DNS",
	.max_ring_pages = DNS_RING_PAGES,
	.state_size = sizeof(struct dns_state),
	.open = dns_open,
	.prepare = dns_prepare,
	.unload = dns_unload,
};

/* Per-syscall exit tracepoints if possible (read and write are the most
 * frequent syscalls: the others then run nothing), else every exit. */
static int dns_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct dns_state *st = state;
	struct bpf_program *programs[DNS_SYSCALLS] = {
		/* the receives first: no answer of a query seen may go unseen */
		st->skel->progs.exit_recvfrom, st->skel->progs.exit_recvmsg,
		st->skel->progs.exit_recvmmsg, st->skel->progs.enter_sendto,
		st->skel->progs.enter_sendmsg, st->skel->progs.enter_sendmmsg,
	};

	if (!(mask & CAPTURE_EVENT_BIT(DNS_EVENT_ID))) {
		detach(st);
		return 0;
	}
	if (st->syscall_links[0] || st->sys_exit_link || st->call_links[0])
		return 0;
	if (st->has_sock_length || st->socket_io_at_fexit) {
		st->socket_received_link = bpf_program__attach(st->has_sock_length ? st->skel->progs.dns_socket_received
							       : st->skel->progs.dns_socket_read);
		if (st->socket_received_link)
			st->socket_sent_link = bpf_program__attach(st->has_sock_length ? st->skel->progs.dns_socket_sent
								   : st->skel->progs.dns_socket_written);
		if (!st->socket_sent_link) {
			strbuf_printf(err, "attaching to %s failed: %s",
				      st->has_sock_length ? "the sock_send_length/sock_recv_length tracepoints"
				      : "sock_write_iter/sock_read_iter (fexit)", strerror(errno));
			detach(st);
			return -1;
		}
	}
	if (st->calls_at_fexit) {
		struct bpf_program *calls[2 * DNS_SYSCALLS];

		call_programs(st->skel, calls);
		if (capture_attach_each(calls, st->call_links, 2 * DNS_SYSCALLS) == 0)
			return 0;
		strbuf_printf(err, "attaching to __sys_sendto ... __sys_recvmmsg (fentry/fexit) failed: %s",
			      strerror(errno));
		detach(st);
		return -1;
	}
	if (st->has_task_pt_regs && capture_tracefs_available() &&
	    capture_attach_each(programs, st->syscall_links, DNS_SYSCALLS) == 0)
		return 0;
	st->sys_exit_link = bpf_program__attach(st->skel->progs.dns_sys_exit);
	if (st->sys_exit_link)
		st->sys_enter_link = bpf_program__attach(st->skel->progs.dns_sys_enter);
	if (!st->sys_enter_link) {
		strbuf_printf(err, "attaching to the sys_enter/sys_exit tracepoints failed: %s",
			      strerror(errno));
		detach(st);
		return -1;
	}
	return 0;
}

static int dns_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct dns_state *st = state;

	return dns_decoder_decode(st->decoder, env, data, size);
}

static void dns_tick(void *state, struct capture_env *env)
{
	struct dns_state *st = state;

	dns_decoder_tick(st->decoder, env);
}

static void dns_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct dns_state *st = state;

	(void)id;
	if (st->call_links[0])
		strbuf_puts(out, st->twins ? "fentry __sys_{sendto,sendmsg,sendmmsg}, fexit "
			     "__sys_{recvfrom,recvmsg,recvmmsg}, each with a twin (this kernel preempts eBPF programs)"
			     : "fentry __sys_{sendto,sendmsg,sendmmsg}, fexit __sys_{recvfrom,recvmsg,recvmmsg}");
	else
		strbuf_puts(out, st->sys_exit_link ? "tp_btf sys_enter, tp_btf sys_exit"
			     : "tp sys_enter_{sendto,sendmsg,sendmmsg}, tp sys_exit_{recvfrom,recvmsg,recvmmsg}");
	if (st->socket_sent_link)
		strbuf_puts(out, st->has_sock_length ? ", tp_btf sock_send_length, tp_btf sock_recv_length"
			     : ", fexit sock_write_iter, fexit sock_read_iter");
	else
		strbuf_printf(out, "; no sock_send_length/sock_recv_length tracepoints%s: DNS written with "
			      "write/writev or read with read (DNS over TCP) not seen",
			      st->has_task_pt_regs ? "" : " nor bpf_task_pt_regs (5.15) for fexit");
}

const struct capture_source dns_source = {
	.name = "dns",
	.event_mask = CAPTURE_EVENT_BIT(DNS_EVENT_ID),
	.loader = &dns_loader,
	.set_events = dns_set_events,
	.decode = dns_decode,
	.tick = dns_tick,
	.describe = dns_describe,
};
