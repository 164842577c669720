/*
 * Unit tests for the capture decoders (src/capture/X_decode.c): records as
 * the kernel halves write them (bpf/X.h), fed to the decoder with the real
 * process cache over the real /proc, and the events they emit.  The fuzz
 * targets (fuzz/fuzz_decode_*.c) cover hostile records; these pin down what
 * well-formed ones must become.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf/network.h"
#include "capture/decode.h"
#include "enrich/process_cache.h"

/* The last event a decoder emitted, as text. */
static char emitted_image[PATH_MAX];
static char emitted_guid[64];
static int emitted;

static void remember_event(struct capture_env *env, struct event *ev)
{
	(void)env;
	snprintf(emitted_image, sizeof(emitted_image), "%s", event_value_by_name(ev, "Image"));
	snprintf(emitted_guid, sizeof(emitted_guid), "%s", event_value_by_name(ev, "ProcessGuid"));
	emitted++;
}

static void env_init(struct capture_env *env)
{
	memset(env, 0, sizeof(*env));
	env->processes = process_cache_new();
	env->monitor_tgid = 1;
	env->emit = remember_event;
}

static struct network_record tcp_connect_of(pid_t pid, uint32_t flags)
{
	struct network_record rec = {
		.boot_ns = 1,
		.process = {.tgid = (uint32_t)pid, .parent_tgid = (uint32_t)getpid(), .flags = flags},
		.family = NETWORK_AF_INET,
		.protocol = NETWORK_PROTO_TCP,
		.origin = NETWORK_TCP_CONNECT,
		.local_port = 40000,
		.remote_port = 80,
		.local_addr = {127, 0, 0, 1},
		.remote_addr = {127, 0, 0, 1},
	};
	memcpy(rec.process.comm, "child", 6);
	return rec;
}

/* A forked child that connected and exited before its record was read: /proc
 * shows a zombie, whose exe link cannot be read, so only the kernel's word
 * (same image as its parent) gives its Image. */
static void test_network_zombie_child_has_parent_image(void **state)
{
	(void)state;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';

	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	siginfo_t info;
	/* wait for the exit but leave the zombie */
	assert_int_equal(waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT), 0);

	struct strbuf err = STRBUF_INIT;
	struct network_decoder *dec = network_decoder_new(&err);
	assert_non_null(dec);
	struct capture_env env;
	env_init(&env);

	struct network_record rec = tcp_connect_of(child, NETWORK_SAME_IMAGE_AS_PARENT);
	emitted = 0;
	assert_int_equal(network_decoder_decode(dec, &env, &rec, sizeof(rec)), 0);
	assert_int_equal(emitted, 1);
	assert_string_equal(emitted_image, self);
	assert_string_not_equal(emitted_guid, "{00000000-0000-0000-0000-000000000000}");

	/* Without the kernel's word, the zombie's own entry is all there is. */
	rec = tcp_connect_of(child, 0);
	assert_int_equal(network_decoder_decode(dec, &env, &rec, sizeof(rec)), 0);
	assert_string_not_equal(emitted_image, self);

	assert_int_equal(waitpid(child, NULL, 0), child);
	network_decoder_free(dec);
	process_cache_free(env.processes);
	strbuf_release(&err);
}

/* A child gone from /proc altogether: its parent's Image still. */
static void test_network_reaped_child_has_parent_image(void **state)
{
	(void)state;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';

	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, NULL, 0), child);

	struct strbuf err = STRBUF_INIT;
	struct network_decoder *dec = network_decoder_new(&err);
	assert_non_null(dec);
	struct capture_env env;
	env_init(&env);

	struct network_record rec = tcp_connect_of(child, NETWORK_SAME_IMAGE_AS_PARENT);
	assert_int_equal(network_decoder_decode(dec, &env, &rec, sizeof(rec)), 0);
	assert_string_equal(emitted_image, self);

	rec = tcp_connect_of(child, 0);
	assert_int_equal(network_decoder_decode(dec, &env, &rec, sizeof(rec)), 0);
	assert_string_equal(emitted_image, "child");
	assert_string_equal(emitted_guid, "{00000000-0000-0000-0000-000000000000}");

	network_decoder_free(dec);
	process_cache_free(env.processes);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_network_zombie_child_has_parent_image),
		cmocka_unit_test(test_network_reaped_child_has_parent_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
