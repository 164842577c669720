/*
 * Unit tests for the capture framework's decisions about the running kernel
 * (src/capture/capture.c) that do not need one: whether it preempts eBPF
 * programs, from what debugfs, the command line, uname and the kernel's
 * config say (the twins of src/bpf/lib/twin.bpf.h load only if so).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

#include "capture/capture.h"

#define DEBIAN_DYNAMIC "#1 SMP PREEMPT_DYNAMIC Debian 6.1.158-1 (2025-11-09)"

static void test_debugfs_mode_decides(void **state)
{
	(void)state;
	/* Debian's 6.1 and 6.12, and its 7.x, as their debugfs files read */
	assert_false(capture_preemption_verdict("none (voluntary) full\n", "", DEBIAN_DYNAMIC, 1));
	assert_true(capture_preemption_verdict("none voluntary full (lazy)\n", "", DEBIAN_DYNAMIC, 0));
	assert_true(capture_preemption_verdict("none voluntary (full)\n", "preempt=none", DEBIAN_DYNAMIC, 0));
	assert_false(capture_preemption_verdict("(none) voluntary full\n", "", "#1 SMP PREEMPT_RT", 1));
}

static void test_command_line_then_uname_then_config(void **state)
{
	(void)state;
	assert_false(capture_preemption_verdict("", "BOOT_IMAGE=/vmlinuz preempt=voluntary quiet", DEBIAN_DYNAMIC, -1));
	assert_true(capture_preemption_verdict("", "preempt=full", DEBIAN_DYNAMIC, 0));
	assert_true(capture_preemption_verdict("", "", "#1 SMP PREEMPT_RT Debian", -1));
	/* Debian 11's 5.10: voluntary, not dynamic */
	assert_false(capture_preemption_verdict("", "", "#1 SMP Debian 5.10.223-1 (2024-08-10)", -1));
	assert_true(capture_preemption_verdict("", "", "#1 SMP PREEMPT Mon Jan 1", -1));
	/* dynamic: the config's default; none to read counts as preempting */
	assert_false(capture_preemption_verdict("", "", DEBIAN_DYNAMIC, 0));
	assert_true(capture_preemption_verdict("", "", DEBIAN_DYNAMIC, 1));
	assert_true(capture_preemption_verdict("", "", DEBIAN_DYNAMIC, -1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debugfs_mode_decides),
		cmocka_unit_test(test_command_line_then_uname_then_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
