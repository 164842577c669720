/*
 * The capture decoders: the user half of each source (capture.h) split in
 * two, the loader (X_source.c: eBPF skeleton, attaching, the ring buffer)
 * and the decoder (X_decode.c): one record, the bytes and length its ring
 * buffer hands over (layouts in bpf/X.h), into enriched events given to
 * env->emit().  A decoder needs no libbpf and no kernel half, so records
 * can be fed to it from anywhere (the fuzz targets fuzz/fuzz_decode_*.c);
 * a malformed record is skipped (-1), it must never crash.
 *
 * Each decoder is made with X_decoder_new() (NULL with the reason in ERR),
 * keeps its state between records, and is freed with X_decoder_free().
 */
#ifndef SYSMON_CAPTURE_DECODE_H
#define SYSMON_CAPTURE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

/* Helpers the decoders share. */

/* One field of an event to find by name: its position goes to *index. */
struct capture_field_slot {
	const char *name;
	int *index;
};
/* Fill the index of every slot from the schema of event ID.  Returns 0, or
 * -1 with ERR naming the first field the schema lacks. */
int capture_resolve_fields(unsigned id, const struct capture_field_slot *slots, size_t count,
			   struct strbuf *err);
#define CAPTURE_RESOLVE_FIELDS(id, slots, err) \
	capture_resolve_fields((id), (slots), sizeof(slots) / sizeof((slots)[0]), (err))

/* Set field INDEX of EV to the UtcTime of boot-clock time BOOT_NS. */
void capture_set_utctime(struct event *ev, int index, uint64_t boot_ns);

/* The cache entry of process PID (NULL when unknown or there is no cache). */
const struct process_info *capture_lookup_process(const struct capture_env *env, uint32_t pid);

/* A record's task name is CAPTURE_COMM_SIZE bytes, NUL-padded (none when
 * full).  The Image of a process: INFO's if known, else COMM (copied to BUF
 * with its NUL), else "<unknown process>". */
#define CAPTURE_COMM_SIZE 16
const char *capture_image_of(const struct process_info *info, const char comm[CAPTURE_COMM_SIZE],
			     char buf[CAPTURE_COMM_SIZE + 1]);

/* The process source: ProcessCreate and ProcessTerminate; it keeps
 * env->processes up to date. */
struct process_decoder;
struct process_decoder *process_decoder_new(struct strbuf *err);
int process_decoder_decode(struct process_decoder *dec, struct capture_env *env, const void *data,
			   size_t size);
void process_decoder_free(struct process_decoder *dec);

/* The network source: NetworkConnect. */
struct network_decoder;
struct network_decoder *network_decoder_new(struct strbuf *err);
int network_decoder_decode(struct network_decoder *dec, struct capture_env *env, const void *data,
			   size_t size);
void network_decoder_free(struct network_decoder *dec);

/* The DNS source: DnsQuery.  dns_decoder_tick() ends the queries whose
 * answer is overdue (to be called now and then, records or not). */
struct dns_decoder;
struct dns_decoder *dns_decoder_new(struct strbuf *err);
int dns_decoder_decode(struct dns_decoder *dec, struct capture_env *env, const void *data, size_t size);
void dns_decoder_tick(struct dns_decoder *dec, struct capture_env *env);
void dns_decoder_free(struct dns_decoder *dec);

/* The file source: FileCreateTime, RawAccessRead, FileCreate, FileDelete,
 * FileDeleteDetected; it builds only the ids of the mask last given to
 * file_decoder_set_events() (none at first). */
struct file_decoder;
struct file_decoder *file_decoder_new(struct strbuf *err);
void file_decoder_set_events(struct file_decoder *dec, uint32_t mask);
int file_decoder_decode(struct file_decoder *dec, struct capture_env *env, const void *data, size_t size);
void file_decoder_free(struct file_decoder *dec);

/* The process-access source: ProcessAccess, CreateRemoteThread,
 * ProcessTampering. */
struct procaccess_decoder;
struct procaccess_decoder *procaccess_decoder_new(struct strbuf *err);
int procaccess_decoder_decode(struct procaccess_decoder *dec, struct capture_env *env, const void *data,
			      size_t size);
void procaccess_decoder_free(struct procaccess_decoder *dec);

/* The image-load source: ImageLoad. */
struct imageload_decoder;
struct imageload_decoder *imageload_decoder_new(struct strbuf *err);
int imageload_decoder_decode(struct imageload_decoder *dec, struct capture_env *env, const void *data,
			     size_t size);
void imageload_decoder_free(struct imageload_decoder *dec);

/* The driver source: DriverLoad. */
struct driver_decoder;
struct driver_decoder *driver_decoder_new(struct strbuf *err);
int driver_decoder_decode(struct driver_decoder *dec, struct capture_env *env, const void *data, size_t size);
void driver_decoder_free(struct driver_decoder *dec);

#endif
