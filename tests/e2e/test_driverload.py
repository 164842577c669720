"""End-to-end test of DriverLoad (6) activation: where the kernel has module
support the tutorial config's DriverLoad rule attaches the module_load
program; this project's machines are built without modules, where the
monitor must say so and keep running.  (The signature fields are tested
with modules the unit test tests/unit/test_modsig.c signs itself.)"""

import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIAL = os.path.join(REPO, "..", "shared", "configs", "tutorial", "tutorial.xml")


def kernel_has_modules():
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         stdout=subprocess.PIPE, text=True).stdout
    return "btf_trace_module_load" in out


def test_tutorial_driver_rule(start_monitor):
    mon = start_monitor(config_path=TUTORIAL)
    if kernel_has_modules():
        assert "DriverLoad (6): active" in mon.stderr()
    else:
        assert "DriverLoad (6): unavailable: kernel built without module support" in mon.stderr()
    # the other event types of the config still run
    assert "NetworkConnect (3): active" in mon.stderr()
    proc = subprocess.run(["/bin/true"])
    assert proc.returncode == 0
    mon.wait_for(lambda e: e["EventID"] == 1, what="a ProcessCreate")
