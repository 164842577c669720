"""End-to-end test of the installed service where systemd is PID 1:
`sysmon -accepteula -i` writes, enables and starts sysmon.service, the unit
brings the monitor back whenever multi-user.target is reached (what a boot
does), `sysmon -c FILE` changes the running monitor's rules live, and
`sysmon -u` leaves no unit, no file and no process.

This machine has no systemd as PID 1: the test runs in a guest that boots
systemd (tests/kernels/run.sh --systemd) and is skipped elsewhere.  The
helpers are test_service.py's (same paths, same event log).
"""
import os
import subprocess
import time
import uuid

import pytest

from conftest import SLOW
from test_service import (BIN, CONFIG_DIR, PID_FILE, SYSMON, WAIT, clean_system,  # noqa: F401
                          daemon_pid, events_after, is_process, last_record, run_marked,
                          sysmon, wait_event)

UNIT = "/etc/systemd/system/sysmon.service"
WANTS = "/etc/systemd/system/multi-user.target.wants/sysmon.service"

# ProcessCreate of command lines with the word {keep} only.
MARKED = """<Sysmon schemaversion="4.22">
  <EventFiltering>
    <ProcessCreate onmatch="include">
      <CommandLine condition="contains">{keep}</CommandLine>
    </ProcessCreate>
  </EventFiltering>
</Sysmon>
"""

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/run/systemd/system"),
    reason="systemd is not PID 1 here (tests/kernels/run.sh --systemd boots a guest with it)")


def systemctl(*args):
    return subprocess.run(["systemctl"] + list(args), capture_output=True, text=True, timeout=60 * SLOW)


def main_pid():
    return int(systemctl("show", "--property=MainPID", "--value", "sysmon.service").stdout)


def sysmon_processes():
    """The pids of processes running the installed or the built program."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.readlink("/proc/%s/exe" % pid)
        except OSError:
            continue
        if exe in ("/usr/bin/sysmon", os.path.realpath(SYSMON)) and int(pid) != os.getpid():
            found.append(int(pid))
    return found


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT * SLOW
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("not %s after %ss" % (what, WAIT * SLOW))
        time.sleep(0.1)


def test_install_boot_configure_uninstall(clean_system, tmp_path):
    first, second = ("sysmon-e2e-%s-%s" % (n, uuid.uuid4().hex) for n in ("first", "second"))
    config = tmp_path / "first.xml"
    config.write_text(MARKED.format(keep=first))

    # --- install: the unit written, enabled for multi-user.target, running
    r = sysmon("-accepteula", "-i", str(config), timeout=120 * SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    assert " - Service:        %s (enabled: started at boot)" % UNIT in r.stdout
    assert systemctl("is-active", "sysmon.service").stdout.strip() == "active"
    assert systemctl("is-enabled", "sysmon.service").stdout.strip() == "enabled"
    assert os.path.realpath(WANTS) == UNIT
    pid = main_pid()
    assert pid == daemon_pid() and sysmon_processes() == [pid]
    mark = last_record()
    run_marked(first)
    wait_event(mark, lambda e: is_process(e, first), "ProcessCreate under the first config",
               timeout=WAIT * SLOW)

    # --- what a boot does: reaching multi-user.target starts the stopped unit
    assert systemctl("stop", "sysmon.service").returncode == 0
    assert sysmon_processes() == []
    r = systemctl("isolate", "multi-user.target")
    assert r.returncode == 0, r.stderr
    wait_until(lambda: systemctl("is-active", "sysmon.service").stdout.strip() == "active",
               "active again once multi-user.target is reached")
    wait_until(lambda: os.path.exists(PID_FILE) and daemon_pid() == main_pid(),
               "holding its pid file")
    pid = main_pid()

    # --- -c FILE: the same process, the new rules
    changed = tmp_path / "second.xml"
    changed.write_text(MARKED.format(keep=second))
    r = sysmon("-c", str(changed), timeout=60 * SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    r = sysmon("-c")
    assert r.returncode == 0 and " - Config file:                   %s" % changed in r.stdout
    assert main_pid() == pid and systemctl("is-active", "sysmon.service").stdout.strip() == "active"
    mark = last_record()
    run_marked(first)
    run_marked(second)
    wait_event(mark, lambda e: is_process(e, second), "ProcessCreate under the second config",
               timeout=WAIT * SLOW)
    assert not [e for e in events_after(mark) if is_process(e, first)]

    # --- -u: no unit (file, link, loaded unit), no program, no config, no process
    r = sysmon("-u", timeout=60 * SLOW)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not os.path.lexists(UNIT) and not os.path.lexists(WANTS)
    assert not os.path.exists(CONFIG_DIR) and not os.path.exists(BIN)
    assert "sysmon.service" not in systemctl("list-unit-files", "sysmon.service").stdout
    assert systemctl("is-active", "sysmon.service").stdout.strip() != "active"
    assert sysmon_processes() == []
