/*
 * Writes the seed corpora of the decoder fuzz targets (fuzz/fuzz_decode_X.c):
 * records laid out by the shared headers src/bpf/X.h, with the values a
 * monitor run sees (real paths, a glibc DNS query and its answer, each kind
 * and flag of each source), framed as fuzz/decode_harness.h reads them.
 *
 *   cc -std=gnu11 -Isrc fuzz/decoder_seeds.c -o build/decoder_seeds
 *   build/decoder_seeds fuzz/corpus
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/types.h>

#include "bpf/dns.h"
#include "bpf/driver.h"
#include "bpf/file.h"
#include "bpf/imageload.h"
#include "bpf/network.h"
#include "bpf/procaccess.h"
#include "bpf/process.h"

#define BOOT_NS 5000000000ull   /* 5 s after boot: a query left waiting is overdue */

static const char *out_dir;

/* One seed being built: framed records, back to back. */
static unsigned char seed[65536];
static size_t seed_len;

static void add(const void *head, size_t head_len, const void *tail, size_t tail_len)
{
	size_t len = head_len + tail_len;

	if (seed_len + 2 + len > sizeof(seed)) {
		fprintf(stderr, "decoder_seeds: seed too large\n");
		exit(1);
	}
	seed[seed_len++] = (unsigned char)(len & 0xff);
	seed[seed_len++] = (unsigned char)(len >> 8);
	memcpy(seed + seed_len, head, head_len);
	memcpy(seed + seed_len + head_len, tail, tail_len);
	seed_len += len;
}

static void save(const char *target, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(seed, 1, seed_len, f) != seed_len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	seed_len = 0;
}

static void process_exec(__u32 tgid, __u32 ppid, __u32 flags, const char *args, size_t args_len,
			 const char *image, const char *cwd, const char *comm)
{
	struct process_exec_record rec = {
		.kind = PROCESS_RECORD_EXEC, .tgid = tgid, .old_tid = tgid, .ppid = ppid, .uid = 0,
		.loginuid = 1000, .sessionid = 3, .tty_index = 0, .exec_boot_ns = BOOT_NS,
		.flags = flags, .args_len = (__u16)args_len, .image_len = (__u16)strlen(image),
		.cwd_len = (__u16)strlen(cwd),
	};
	char tail[512];

	strncpy(rec.comm, comm, sizeof(rec.comm));
	memcpy(tail, args, args_len);
	memcpy(tail + args_len, image, rec.image_len);
	memcpy(tail + args_len + rec.image_len, cwd, rec.cwd_len);
	add(&rec, sizeof(rec), tail, args_len + rec.image_len + rec.cwd_len);
}

static void process_exit(__u32 tgid, __u32 ppid, __u32 flags, const char *comm)
{
	struct process_exit_record rec = {
		.kind = PROCESS_RECORD_EXIT, .tgid = tgid, .ppid = ppid, .uid = 1000, .exit_code = 0,
		.flags = flags, .exit_boot_ns = BOOT_NS + 5000000, .start_boot_ns = BOOT_NS - 1000000,
	};

	strncpy(rec.comm, comm, sizeof(rec.comm));
	add(&rec, sizeof(rec), NULL, 0);
}

static void process_seeds(void)
{
	static const char ls_args[] = "ls\0-la\0/tmp\0";

	process_exec(4242, 1, 0, ls_args, sizeof(ls_args) - 1, "/usr/bin/ls", "/root", "ls");
	process_exit(4242, 1, 0, "ls");
	save("fuzz_decode_process", "exec_exit");
	process_exec(4243, 4242, PROCESS_IMAGE_PARTIAL | PROCESS_CWD_PARTIAL | PROCESS_ARGS_TRUNCATED,
		     "sh\0-c\0echo <&\"'>\0", 17, "/deep/bin/sh", "/deep/dir", "sh");
	save("fuzz_decode_process", "partial");
	process_exec(4244, 1, PROCESS_IMAGE_PSEUDO, "x\0", 2, "/memfd:payload", "/", "3");
	process_exec(4245, 1, PROCESS_NO_IMAGE, "", 0, "", "", "kworker/0:1");
	save("fuzz_decode_process", "memfd_noimage");
	process_exec(4246, 1, 0, "bash\0", 5, "/usr/bin/bash", "/home", "bash");
	process_exit(4247, 4246, PROCESS_EXIT_NEVER_EXECED, "bash");
	process_exit(4246, 1, PROCESS_EXIT_MAY_REPEAT, "bash");
	process_exit(4246, 1, PROCESS_EXIT_MAY_REPEAT, "bash");
	process_exit(4248, 1, PROCESS_EXIT_NEVER_EXECED, "orphan");
	save("fuzz_decode_process", "fork_exits");
}

static void network_record(__u8 origin, __u8 protocol, __u16 family, const void *local,
			   const void *remote, size_t addr_len, __u32 flags)
{
	struct network_record rec = {
		.boot_ns = BOOT_NS,
		.process = { .tgid = 4242, .uid = 1000, .parent_tgid = 1, .flags = flags,
			     .start_boot_ns = BOOT_NS - 1000000, .comm = "curl" },
		.family = family, .protocol = protocol, .origin = origin,
		.local_port = 45678, .remote_port = 443,
	};

	memcpy(rec.local_addr, local, addr_len);
	memcpy(rec.remote_addr, remote, addr_len);
	add(&rec, sizeof(rec), NULL, 0);
}

static void network_seeds(void)
{
	static const unsigned char lo4[4] = { 127, 0, 0, 1 }, any4[4] = { 0 };
	static const unsigned char lo6[16] = { [15] = 1 }, any6[16] = { 0 };
	static const unsigned char mapped[16] = { [10] = 0xff, [11] = 0xff, 127, 0, 0, 1 };
	static const unsigned char v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x42 };

	network_record(NETWORK_TCP_CONNECT, NETWORK_PROTO_TCP, NETWORK_AF_INET, lo4, lo4, 4, 0);
	network_record(NETWORK_TCP_ACCEPT, NETWORK_PROTO_TCP, NETWORK_AF_INET, lo4, lo4, 4, 0);
	save("fuzz_decode_network", "tcp4");
	network_record(NETWORK_UDP_SEND, NETWORK_PROTO_UDP, NETWORK_AF_INET, any4, lo4, 4, 0);
	network_record(NETWORK_UDP_RECEIVE, NETWORK_PROTO_UDP, NETWORK_AF_INET, lo4, lo4, 4,
		       NETWORK_SAME_IMAGE_AS_PARENT);
	save("fuzz_decode_network", "udp4_unbound");
	network_record(NETWORK_TCP_CONNECT, NETWORK_PROTO_TCP, NETWORK_AF_INET6, lo6, v6, 16, 0);
	network_record(NETWORK_UDP_SEND, NETWORK_PROTO_UDP, NETWORK_AF_INET6, any6, mapped, 16, 0);
	network_record(NETWORK_UDP_SEND, NETWORK_PROTO_UDP, NETWORK_AF_INET6, any6, lo6, 16, 0);
	save("fuzz_decode_network", "ipv6_mapped");
}

/* A glibc query for example.com (A) and its answer. */
static const unsigned char dns_query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
};
static const unsigned char dns_answer[] = {
	0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01,
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x06,
	3, 'w', 'w', 'w', 0xc0, 0x0c,
	0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 93, 184, 216, 34,
};

static void dns_record(__u32 kind, __u8 protocol, const unsigned char *msg, size_t len, bool tcp_prefix)
{
	struct dns_record rec = {
		.kind = kind, .tgid = 4242, .uid = 0, .protocol = protocol, .boot_ns = BOOT_NS,
		.socket = 0xffff888012345678ull, .comm = "resolver",
	};
	unsigned char tail[DNS_PAYLOAD_MAX];
	size_t at = 0;

	if (tcp_prefix) {
		tail[at++] = (unsigned char)(len >> 8);
		tail[at++] = (unsigned char)len;
	}
	memcpy(tail + at, msg, len);
	rec.payload_len = (__u16)(at + len);
	rec.message_len = (__u32)(at + len);
	add(&rec, sizeof(rec), tail, at + len);
}

static void dns_seeds(void)
{
	dns_record(DNS_RECORD_SENT, 17, dns_query, sizeof(dns_query), false);
	dns_record(DNS_RECORD_RECEIVED, 17, dns_answer, sizeof(dns_answer), false);
	save("fuzz_decode_dns", "udp_query_answer");
	dns_record(DNS_RECORD_RECEIVED, 6, dns_answer, sizeof(dns_answer), true);
	dns_record(DNS_RECORD_SENT, 6, dns_query, sizeof(dns_query), true);
	save("fuzz_decode_dns", "tcp_answer_first");
	dns_record(DNS_RECORD_SENT, 17, dns_query, sizeof(dns_query), false);
	save("fuzz_decode_dns", "unanswered");
}

static void file_record(__u32 kind, __u32 how, __u32 flags, const char *path)
{
	struct file_record rec = {
		.kind = kind, .how = how, .tgid = 4242, .uid = 1000, .boot_ns = BOOT_NS, .ino = 1234,
		.dev = 0x800001, .mode = 0100755, .other_mode = 0100644, .other_ino = 1235,
		.new_sec = 946684800, .new_nsec = 500000000, .old_sec = 1731010307, .old_nsec = 0,
		.flags = flags, .path_len = (__u16)strlen(path), .comm = "touch",
	};

	add(&rec, sizeof(rec), path, rec.path_len);
}

/* A FileCreateTime whose new mtime is SEC (touch -d accepts any). */
static void file_time_record(__s64 sec, const char *path)
{
	struct file_record rec = {
		.kind = FILE_RECORD_TIME, .tgid = 4242, .uid = 1000, .boot_ns = BOOT_NS,
		.new_sec = sec, .flags = 0, .path_len = (__u16)strlen(path), .comm = "touch",
	};

	add(&rec, sizeof(rec), path, rec.path_len);
}

static void file_seeds(void)
{
	file_record(FILE_RECORD_CREATE, FILE_CREATE_NEW, FILE_HAVE_MODE, "/tmp/new.txt");
	file_record(FILE_RECORD_CREATE, FILE_CREATE_TRUNCATE, FILE_HAVE_MODE, "/etc/hostname");
	file_record(FILE_RECORD_CREATE, FILE_CREATE_RENAME, 0, "/tmp/./a/../b//c.txt");
	save("fuzz_decode_file", "create");
	file_record(FILE_RECORD_DELETE, FILE_DELETE_UNLINK, FILE_HAVE_MODE, "/tmp/gone.sh");
	file_record(FILE_RECORD_RENAME_OVER, FILE_CREATE_RENAME, FILE_HAVE_MODE | FILE_HAVE_TWO_MODES,
		    "/tmp/over");
	save("fuzz_decode_file", "delete_rename_over");
	file_record(FILE_RECORD_TIME, 0, FILE_HAVE_PREVIOUS, "/tmp/stamped");
	file_time_record(67768036000000000, "/tmp/year-2147485541");
	file_record(FILE_RECORD_RAW_ACCESS, 0, 0, "/dev/loop0");
	file_record(FILE_RECORD_CREATE, FILE_CREATE_LINK, FILE_PATH_PARTIAL, "/x/../../y");
	save("fuzz_decode_file", "time_raw_partial");
}

static void procaccess_seeds(void)
{
	struct procaccess_record access = {
		.kind = PROCACCESS_RECORD_ACCESS, .operation = PROCACCESS_OP_PTRACE,
		.granted_access = PROCACCESS_ALL_ACCESS, .flags = PROCACCESS_TARGET_TASK,
		.request = 16, .boot_ns = BOOT_NS,
		.source = { .tgid = 4242, .tid = 4242, .uid = 0, .comm = "gdb" },
		.target = { .tgid = 1, .tid = 1, .uid = 0, .comm = "init" },
	};
	struct procaccess_record inject = access;

	add(&access, sizeof(access), NULL, 0);
	access.flags = 0;
	access.operation = PROCACCESS_OP_PROC_OPEN;
	access.granted_access = PROCACCESS_VM_READ;
	access.target = (struct procaccess_task){ .tid = 999999 };
	add(&access, sizeof(access), NULL, 0);
	save("fuzz_decode_procaccess", "access");
	inject.kind = PROCACCESS_RECORD_INJECT;
	inject.flags |= PROCACCESS_START_ADDRESS;
	inject.start_address = 0x7f0012345678ull;
	add(&inject, sizeof(inject), NULL, 0);
	save("fuzz_decode_procaccess", "inject");

	struct procaccess_tamper_record tamper = {
		.kind = PROCACCESS_RECORD_TAMPER, .type = PROCACCESS_TAMPER_MEMFD, .tgid = 4242,
		.uid = 1000, .boot_ns = BOOT_NS, .comm = "3", .file_name = "memfd:payload",
	};
	add(&tamper, sizeof(tamper), NULL, 0);
	tamper.type = PROCACCESS_TAMPER_DELETED;
	strcpy(tamper.file_name, "dropper");
	add(&tamper, sizeof(tamper), NULL, 0);
	tamper.type = PROCACCESS_TAMPER_FD_PATH;
	tamper.tgid = 1;
	add(&tamper, sizeof(tamper), NULL, 0);
	save("fuzz_decode_procaccess", "tamper");
}

static void imageload_record(__u32 flags, const char *path)
{
	struct imageload_record rec = {
		.tgid = 4242, .uid = 1000, .boot_ns = BOOT_NS, .ino = 1234, .dev = 0x800001,
		.flags = flags, .path_len = (__u16)strlen(path), .comm = "python3",
	};

	add(&rec, sizeof(rec), path, rec.path_len);
}

static void imageload_seeds(void)
{
	imageload_record(0, "/etc/hostname");
	imageload_record(0, "/usr/lib/x86_64-linux-gnu/libnotthere.so.6");
	save("fuzz_decode_imageload", "library");
	imageload_record(IMAGELOAD_PATH_PARTIAL, "/lib/libpartial.so");
	save("fuzz_decode_imageload", "partial");
}

static void driver_record(__u32 flags, const char *name)
{
	struct driver_record rec = { .boot_ns = BOOT_NS, .flags = flags };

	strncpy(rec.name, name, sizeof(rec.name));
	add(&rec, sizeof(rec), NULL, 0);
}

static void driver_seeds(void)
{
	driver_record(0, "loop");
	save("fuzz_decode_driver", "module");
	driver_record(DRIVER_SIG_KNOWN | DRIVER_SIG_OK, "nf_tables");
	driver_record(DRIVER_SIG_KNOWN, "rootkit");
	save("fuzz_decode_driver", "signature_verdicts");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS-DIRECTORY\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	process_seeds();
	network_seeds();
	dns_seeds();
	file_seeds();
	procaccess_seeds();
	imageload_seeds();
	driver_seeds();
	return 0;
}
