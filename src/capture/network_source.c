/*
 * Loader of the network source (kernel half: bpf/network.bpf.c, records:
 * bpf/network.h, decoder: network_decode.c, which says how records become
 * events): loads and attaches the TCP and UDP programs and hands their
 * records to the decoder, which makes NetworkConnect (3) events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>
#include <bpf/libbpf.h>

#include "bpf/network.h"
#include "capture/capture.h"
#include "capture/decode.h"
#include "network.skel.h"

/* accept, accept4, sendto, sendmsg, sendmmsg, recvfrom, recvmsg, recvmmsg */
#define NETWORK_SYSCALLS 8

/* tcp_connect and tcp_finish_connect, or inet_sock_set_state twice; twins */
#define TCP_PROGRAMS 4

/* udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg */
#define NETWORK_UDP_RETURNS 4
static const char *const udp_return_functions[NETWORK_UDP_RETURNS] = {
	"udp_sendmsg", "udpv6_sendmsg", "udp_recvmsg", "udpv6_recvmsg",
};

struct network_state {
	struct network_bpf *skel;
	/* Outbound TCP, each hook's program and its twin (network.bpf.c says
	 * why): fentry tcp_connect and tcp_finish_connect where fentry runs,
	 * else the state-change tracepoint. */
	struct bpf_link *tcp_links[TCP_PROGRAMS];
	struct bpf_link *connected_send_link;
	struct bpf_link *connected_recv_link;
	/* Where fexit runs: fexit on UDP's sendmsg and recvmsg (every
	 * datagram) and on inet_csk_accept (every accept). */
	struct bpf_link *udp_return_links[2 * NETWORK_UDP_RETURNS];   /* then their twins */
	struct bpf_link *accept_links[2];                              /* and its twin */
	struct bpf_link *io_uring_link;
	/* Syscall exits: one link per watched syscall when tracefs is there,
	 * else the one catch-all sys_exit link. */
	struct bpf_link *syscall_links[NETWORK_SYSCALLS];
	struct bpf_link *sys_exit_link;
	struct bpf_link *datagram_link;
	struct network_decoder *decoder;
	/* What this kernel offers (found at load): fexit/fentry on the
	 * kernel functions, else the sock_send_length and sock_recv_length
	 * tracepoints, sk_data_ready, and which program matches its
	 * io_uring_complete (NULL: none does). */
	bool tcp_at_fentry;      /* fentry tcp_connect, tcp_finish_connect */
	bool udp_at_fexit;       /* fexit on the four UDP functions */
	bool accept_at_fexit;    /* fexit inet_csk_accept */
	bool has_sock_length;
	bool has_data_ready;
	bool queued_at_fentry;
	bool at_syscalls;        /* the syscall exits are watched (no fexit) */
	bool exit_tracepoints;   /* the per-syscall exit programs can load */
	struct bpf_program *sys_exit_program;   /* with bpf_loop, or the bounded one */
	struct bpf_program *io_uring_program;
};


static void detach_all(struct network_state *st)
{
	capture_detach_each(st->syscall_links, NETWORK_SYSCALLS);
	bpf_link__destroy(st->sys_exit_link);
	capture_detach_each(st->tcp_links, TCP_PROGRAMS);
	bpf_link__destroy(st->datagram_link);
	bpf_link__destroy(st->connected_send_link);
	bpf_link__destroy(st->connected_recv_link);
	bpf_link__destroy(st->io_uring_link);
	capture_detach_each(st->accept_links, 2);
	capture_detach_each(st->udp_return_links, 2 * NETWORK_UDP_RETURNS);
	st->sys_exit_link = st->datagram_link = NULL;
	st->connected_send_link = st->connected_recv_link = st->io_uring_link = NULL;
}

static void network_unload(void *state)
{
	struct network_state *st = state;

	detach_all(st);
	network_bpf__destroy(st->skel);
	network_decoder_free(st->decoder);
	free(st);
}

static bool network_open(void *state, const struct capture_env *env, struct capture_object *obj,
			 struct strbuf *err)
{
	struct network_state *st = state;

	(void)env;
	if (!(st->decoder = network_decoder_new(err)) || !(st->skel = network_bpf__open()))
		return false;
	*obj = CAPTURE_OBJECT(st->skel);
	return true;
}

/* The fexit programs of udp_return_functions, in that order, then their
 * twins. */
static void udp_return_programs(struct network_bpf *skel, struct bpf_program *programs[2 * NETWORK_UDP_RETURNS])
{
	programs[0] = skel->progs.udp_sendmsg_exit;
	programs[1] = skel->progs.udpv6_sendmsg_exit;
	programs[2] = skel->progs.udp_recvmsg_exit;
	programs[3] = skel->progs.udpv6_recvmsg_exit;
	capture_twins_of(skel->obj, programs, NETWORK_UDP_RETURNS);
}

/* The programs on the watched syscalls' own exit tracepoints. */
static void syscall_programs(struct network_bpf *skel, struct bpf_program *programs[NETWORK_SYSCALLS])
{
	programs[0] = skel->progs.exit_accept;
	programs[1] = skel->progs.exit_accept4;
	programs[2] = skel->progs.exit_sendto;
	programs[3] = skel->progs.exit_sendmsg;
	programs[4] = skel->progs.exit_sendmmsg;
	programs[5] = skel->progs.exit_recvfrom;
	programs[6] = skel->progs.exit_recvmsg;
	programs[7] = skel->progs.exit_recvmmsg;
}

/* Load only the programs whose hooks this kernel has, in the form it has
 * them: where fexit runs, the kernel functions that every accept and every
 * datagram goes through, and no syscall hook; else tracepoints, and the
 * syscall exits (see network_describe for what that misses). */
static int network_prepare(void *state, const struct btf *btf, struct strbuf *err)
{
	struct network_state *st = state;
	struct network_bpf *skel = st->skel;
	struct bpf_program *programs[2 * NETWORK_UDP_RETURNS];
	struct bpf_program *exits[NETWORK_SYSCALLS];
	int io_uring_args = capture_btf_tracepoint_args(btf, "io_uring_complete");
	bool has_loop = capture_kernel_has_loop();

	(void)err;
	st->tcp_at_fentry = capture_btf_has_kfunc(btf, "tcp_connect") &&
			    capture_btf_has_kfunc(btf, "tcp_finish_connect") &&
			    capture_kernel_has_fexit(btf, "tcp_connect");
	bpf_program__set_autoload(skel->progs.tcp_connect_entry, st->tcp_at_fentry);
	bpf_program__set_autoload(skel->progs.tcp_connect_entry_twin, st->tcp_at_fentry);
	bpf_program__set_autoload(skel->progs.tcp_connect_done, st->tcp_at_fentry);
	bpf_program__set_autoload(skel->progs.tcp_connect_done_twin, st->tcp_at_fentry);
	bpf_program__set_autoload(skel->progs.tcp_state_change, !st->tcp_at_fentry);
	bpf_program__set_autoload(skel->progs.tcp_state_change_twin, !st->tcp_at_fentry);

	st->udp_at_fexit = capture_kernel_has_fexit(btf, "udp_sendmsg");
	for (size_t i = 0; i < NETWORK_UDP_RETURNS; i++)
		st->udp_at_fexit = st->udp_at_fexit && capture_btf_has_kfunc(btf, udp_return_functions[i]);
	/* the twins of the programs in task context only where the kernel
	 * preempts programs (TCP's run in softirqs too: always) */
	bool twins = capture_kernel_preempts_programs();

	skel->rodata->twin_programs = twins;
	udp_return_programs(skel, programs);
	for (size_t i = 0; i < 2 * NETWORK_UDP_RETURNS; i++)
		bpf_program__set_autoload(programs[i], st->udp_at_fexit && (i < NETWORK_UDP_RETURNS || twins));
	st->accept_at_fexit = st->udp_at_fexit && capture_btf_has_kfunc(btf, "inet_csk_accept");
	bpf_program__set_autoload(skel->progs.accept_return, st->accept_at_fexit);
	bpf_program__set_autoload(skel->progs.accept_return_twin, st->accept_at_fexit && twins);
	st->at_syscalls = !st->udp_at_fexit || !st->accept_at_fexit;

	st->has_sock_length = !st->udp_at_fexit && capture_btf_has_tracepoint(btf, "sock_send_length") &&
			      capture_btf_has_tracepoint(btf, "sock_recv_length");
	bpf_program__set_autoload(skel->progs.udp_connected_send, st->has_sock_length);
	bpf_program__set_autoload(skel->progs.udp_connected_recv, st->has_sock_length);
	skel->rodata->connected_udp_at_syscalls = !st->has_sock_length && !st->udp_at_fexit;
	st->has_data_ready = capture_btf_has_tracepoint(btf, "sk_data_ready");
	st->queued_at_fentry = !st->has_data_ready && capture_btf_has_kfunc(btf, "sock_def_readable") &&
			       capture_kernel_has_fexit(btf, "sock_def_readable");
	bpf_program__set_autoload(skel->progs.udp_datagram_queued, st->has_data_ready);
	bpf_program__set_autoload(skel->progs.udp_datagram_queued_fentry, st->queued_at_fentry);

	st->exit_tracepoints = st->at_syscalls && capture_kernel_has_task_pt_regs() && has_loop;
	syscall_programs(skel, exits);
	for (size_t i = 0; i < NETWORK_SYSCALLS; i++)
		bpf_program__set_autoload(exits[i], st->exit_tracepoints);
	st->sys_exit_program = has_loop ? skel->progs.network_sys_exit : skel->progs.network_sys_exit_bounded;
	bpf_program__set_autoload(skel->progs.network_sys_exit, st->at_syscalls && has_loop);
	bpf_program__set_autoload(skel->progs.network_sys_exit_bounded, st->at_syscalls && !has_loop);
	if (st->accept_at_fexit) {
		st->io_uring_program = NULL;
		bpf_program__set_autoload(skel->progs.io_uring_done, false);
		bpf_program__set_autoload(skel->progs.io_uring_done_fields, false);
		return 0;
	}
	/* (ring, request, entry) since 6.3; (ring, request, user_data, res,
	 * cflags, extra1, extra2) from 5.19; before, no request at all */
	st->io_uring_program = io_uring_args == 3 ? skel->progs.io_uring_done
			       : io_uring_args == 7 ? skel->progs.io_uring_done_fields : NULL;
	bpf_program__set_autoload(skel->progs.io_uring_done, st->io_uring_program == skel->progs.io_uring_done);
	bpf_program__set_autoload(skel->progs.io_uring_done_fields,
				  st->io_uring_program == skel->progs.io_uring_done_fields);
	return 0;
}

static const struct capture_loader network_loader = {
	.what = "network",
	.state_size = sizeof(struct network_state),
	.open = network_open,
	.prepare = network_prepare,
	.unload = network_unload,
};

/* The syscall exits, where fexit does not run: per syscall if possible
 * (the other syscalls then run no program: about 45 ns less per syscall on
 * our machines), else (no tracefs, or before 5.17 no bpf_task_pt_regs and
 * bpf_loop) every syscall exit through one program. */
static int attach_syscalls(struct network_state *st, struct strbuf *err)
{
	struct bpf_program *programs[NETWORK_SYSCALLS];

	if (!st->at_syscalls || st->sys_exit_link || st->syscall_links[0])
		return 0;
	syscall_programs(st->skel, programs);
	if (st->exit_tracepoints && capture_tracefs_available() &&
	    capture_attach_each(programs, st->syscall_links, NETWORK_SYSCALLS) == 0)
		return 0;
	return capture_attach(st->sys_exit_program, &st->sys_exit_link, "sys_exit", err);
}

/* The fexit programs on UDP's sendmsg and recvmsg and on inet_csk_accept,
 * where they run. */
static int attach_fexits(struct network_state *st, struct strbuf *err)
{
	struct bpf_program *accept[2] = { st->skel->progs.accept_return, st->skel->progs.accept_return_twin };
	struct bpf_program *programs[2 * NETWORK_UDP_RETURNS];

	if (st->accept_at_fexit && capture_attach_each(accept, st->accept_links, 2) != 0) {
		strbuf_printf(err, "attaching to fexit inet_csk_accept failed: %s", strerror(errno));
		return -1;
	}
	if (!st->udp_at_fexit)
		return 0;
	udp_return_programs(st->skel, programs);
	if (capture_attach_each(programs, st->udp_return_links, 2 * NETWORK_UDP_RETURNS) != 0) {
		strbuf_printf(err, "attaching to fexit udp_sendmsg ... udpv6_recvmsg failed: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Outbound TCP: fentry on the connect's two ends where it runs, else the
 * state-change tracepoint; each program with its twin. */
static int attach_tcp(struct network_state *st, struct strbuf *err)
{
	struct network_bpf *skel = st->skel;
	struct bpf_program *fentry[TCP_PROGRAMS] = {
		skel->progs.tcp_connect_entry, skel->progs.tcp_connect_entry_twin,
		skel->progs.tcp_connect_done, skel->progs.tcp_connect_done_twin,
	};
	struct bpf_program *tracepoint[TCP_PROGRAMS] = {
		skel->progs.tcp_state_change, skel->progs.tcp_state_change_twin,
	};

	if (capture_attach_each(st->tcp_at_fentry ? fentry : tracepoint, st->tcp_links, TCP_PROGRAMS) == 0)
		return 0;
	strbuf_printf(err, "attaching to %s failed: %s", st->tcp_at_fentry ?
		      "fentry tcp_connect and tcp_finish_connect" : "the inet_sock_set_state tracepoint",
		      strerror(errno));
	return -1;
}

static int network_set_events(void *state, uint32_t mask, struct strbuf *err)
{
	struct network_state *st = state;

	if (!(mask & CAPTURE_EVENT_BIT(NETWORK_EVENT_ID))) {
		detach_all(st);
		return 0;
	}
	/* The queue hook first, so that a receive never misses its peer. */
	if ((st->has_data_ready &&
	     capture_attach(st->skel->progs.udp_datagram_queued, &st->datagram_link, "sk_data_ready", err) != 0) ||
	    (st->queued_at_fentry &&
	     capture_attach(st->skel->progs.udp_datagram_queued_fentry, &st->datagram_link,
			    "fentry sock_def_readable", err) != 0) ||
	    attach_tcp(st, err) != 0 ||
	    (st->has_sock_length &&
	     (capture_attach(st->skel->progs.udp_connected_send, &st->connected_send_link,
			     "sock_send_length", err) != 0 ||
	      capture_attach(st->skel->progs.udp_connected_recv, &st->connected_recv_link,
			     "sock_recv_length", err) != 0)) ||
	    attach_fexits(st, err) != 0 ||
	    (st->io_uring_program &&
	     capture_attach(st->io_uring_program, &st->io_uring_link, "io_uring_complete", err) != 0) ||
	    attach_syscalls(st, err) != 0) {
		detach_all(st);
		return -1;
	}
	return 0;
}

static void network_describe(void *state, unsigned id, struct strbuf *out)
{
	const struct network_state *st = state;

	(void)id;
	strbuf_puts(out, st->tcp_at_fentry ? "fentry tcp_connect, fentry tcp_finish_connect"
		    : "tp_btf inet_sock_set_state");
	if (st->accept_links[0])
		strbuf_puts(out, ", fexit inet_csk_accept (every accept, io_uring's too)");
	if (st->io_uring_link)
		strbuf_puts(out, ", tp_btf io_uring_complete");
	if (st->udp_return_links[0])
		strbuf_puts(out, ", fexit udp_sendmsg, udpv6_sendmsg, udp_recvmsg, udpv6_recvmsg "
			    "(every datagram, io_uring's and 32-bit calls' too)");
	if (st->connected_send_link)
		strbuf_puts(out, ", tp_btf sock_send_length, tp_btf sock_recv_length");
	if (st->datagram_link)
		strbuf_puts(out, st->queued_at_fentry ? ", fentry sock_def_readable" : ", tp_btf sk_data_ready");
	if (st->sys_exit_link)
		strbuf_puts(out, ", tp_btf sys_exit");
	else if (st->syscall_links[0])
		strbuf_puts(out, ", tp sys_exit_{accept,accept4,sendto,sendmsg,sendmmsg,recvfrom,recvmsg,recvmmsg}");
	if (!st->udp_at_fexit)
		strbuf_puts(out, "; no fexit: UDP to or from an address seen at the send/recv syscalls, "
			    "io_uring's datagrams to or from an address not seen, nor 32-bit calls'");
	if (!st->accept_at_fexit)
		strbuf_puts(out, "; accepts seen at the accept syscalls: 32-bit calls' not seen");
	if (!st->accept_at_fexit && !st->io_uring_program)
		strbuf_puts(out, "; this kernel's io_uring_complete names no request: io_uring accepts not seen");
	if (!st->has_sock_length && !st->udp_at_fexit)
		strbuf_puts(out, "; no sock_send_length/sock_recv_length tracepoints: connected UDP seen at "
			    "send/recv syscalls, not read/write/io_uring");
	if (!st->has_data_ready && !st->queued_at_fentry)
		strbuf_puts(out, "; no sk_data_ready tracepoint: a receive on an unconnected UDP socket "
			    "that asks no source address not seen");
}

static int network_decode(void *state, struct capture_env *env, const void *data, size_t size)
{
	struct network_state *st = state;

	return network_decoder_decode(st->decoder, env, data, size);
}

const struct capture_source network_source = {
	.name = "network",
	.event_mask = CAPTURE_EVENT_BIT(NETWORK_EVENT_ID),
	.loader = &network_loader,
	.set_events = network_set_events,
	.decode = network_decode,
	.describe = network_describe,
};
