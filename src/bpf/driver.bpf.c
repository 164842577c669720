// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of the driver source (records: bpf/driver.h, user half:
 * src/capture/driver_source.c): DriverLoad (6) from the module:module_load
 * tracepoint, which the kernel fires once a module's code is in place and
 * its signature has been checked.  Kernels built without module support
 * have no such tracepoint: the user half then reports DriverLoad as
 * unavailable without loading this object.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/capture.bpf.h"
#include "bpf/driver.h"

char LICENSE[] SEC("license") = "GPL";

/* struct module's signature verdict, present with CONFIG_MODULE_SIG. */
struct module___sig {
	bool sig_ok;
} __attribute__((preserve_access_index));

SEC("tp_btf/module_load")
int BPF_PROG(handle_module_load, struct module *mod)
{
	struct driver_record rec = {};

	rec.boot_ns = bpf_ktime_get_boot_ns();
	BPF_CORE_READ_STR_INTO(&rec.name, mod, name);
	struct module___sig *signed_mod = (void *)mod;
	if (bpf_core_field_exists(signed_mod->sig_ok)) {
		rec.flags |= DRIVER_SIG_KNOWN;
		if (BPF_CORE_READ(signed_mod, sig_ok))
			rec.flags |= DRIVER_SIG_OK;
	}
	capture_submit(&rec, sizeof(rec), DRIVER_EVENT_ID);
	return 0;
}
