"""End-to-end tests of ProcessAccess (10) and CreateRemoteThread (8): the
real monitor on the real kernel, a real tracer (a small C program the test
compiles) attaching to a real process, process_vm_readv and /proc/PID/mem
opens, every field checked against what the system says.

Targets run as `nobody` so that TargetUser and SourceUser differ."""

import os
import shutil
import signal
import subprocess

import pytest

PYTHON = os.path.realpath("/usr/bin/python3")
SLEEP = os.path.realpath("/bin/sleep")
ZERO_GUID = "{00000000-0000-0000-0000-000000000000}"

CONFIG = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ProcessAccess onmatch="exclude"/>
    <CreateRemoteThread onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# Attach to argv[1], stop it, read its registers, peek a word PEEKS times,
# poke it back, set the registers (same ip), poke the ip slot of struct
# user, detach; print the instruction pointer.
TRACER = r"""
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	pid_t pid = atoi(argv[1]);
	int peeks = argc > 2 ? atoi(argv[2]) : 1;
	struct user_regs_struct regs;

	if (ptrace(PTRACE_ATTACH, pid, 0, 0) != 0) {
		perror("attach");
		return 1;
	}
	waitpid(pid, NULL, 0);
	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) != 0) {
		perror("getregs");
		return 1;
	}
	long word = 0;
	for (int i = 0; i < peeks; i++) {
		errno = 0;
		word = ptrace(PTRACE_PEEKDATA, pid, (void *)regs.rsp, 0);
		if (errno) {
			perror("peek");
			return 1;
		}
	}
	if (ptrace(PTRACE_POKEDATA, pid, (void *)regs.rsp, (void *)word) != 0 ||
	    ptrace(PTRACE_SETREGS, pid, 0, &regs) != 0 ||
	    ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, regs.rip), (void *)regs.rip) != 0) {
		perror("write");
		return 1;
	}
	printf("0x%llx\n", regs.rip);
	fflush(stdout);
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return 0;
}
"""

# ptrace attach and detach of argv[1] through int 0x80 (the 32-bit syscall
# table, from 64-bit code): the per-syscall tracepoints never see it.
IA32_TRACER = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static long ia32_syscall(long nr, long a, long b, long c, long d)
{
	long ret;

	asm volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
		     : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

int main(int argc, char **argv)
{
	long pid = atol(argv[1]);
	long ret = ia32_syscall(26, 16, pid, 0, 0);   /* ptrace(PTRACE_ATTACH) */

	if (ret != 0) {
		fprintf(stderr, "ia32 attach: %ld\n", ret);
		return 1;
	}
	waitpid(pid, NULL, 0);
	ia32_syscall(26, 17, pid, 0, 0);              /* PTRACE_DETACH */
	return 0;
}
"""

# process_vm_readv of 8 bytes at an address of the target, through ctypes.
VM_READER = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
buf = ctypes.create_string_buffer(8)
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
remote = iovec(int(sys.argv[2], 16), 8)
n = libc.process_vm_readv(int(sys.argv[1]), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
sys.exit(0 if n == 8 else 1)
"""

# Open the target's /proc files: mem read-write, environ, maps; its own maps.
PROC_READER = r"""
import os, sys
pid = sys.argv[1]
os.close(os.open("/proc/%s/mem" % pid, os.O_RDWR))
open("/proc/%s/environ" % pid, "rb").read()
open("/proc/%s/maps" % pid).read()
open("/proc/self/maps").read()
"""


def run(args):
    """Run ARGS to its end; returns (pid, exit status)."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    return proc.pid, proc.wait(20)


def is_event(e, event_id, source_pid):
    return e["EventID"] == event_id and e["SourceProcessId"] == str(source_pid)


@pytest.fixture
def tracer(tmp_path):
    if not shutil.which("cc"):
        pytest.skip("no C compiler")
    src = tmp_path / "tracer.c"
    src.write_text(TRACER)
    binary = str(tmp_path / "tracer")
    subprocess.run(["cc", "-O1", "-o", binary, str(src)], check=True)
    return binary


@pytest.fixture
def target():
    """A sleeping process of user nobody."""
    proc = subprocess.Popen([SLEEP, "60"], user="nobody")
    yield proc
    proc.kill()
    proc.wait()


def create_guid(mon, pid):
    ev = mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid),
                      what="ProcessCreate of %d" % pid)
    return ev["ProcessGuid"]


def test_ptrace_access_and_remote_thread(start_monitor, tracer, target):
    mon = start_monitor(config_text=CONFIG)
    assert "ProcessAccess (10): active" in mon.stderr()
    assert "CreateRemoteThread (8): active" in mon.stderr()
    # the target was started before the monitor: its GUID comes from /proc
    proc = subprocess.Popen([tracer, str(target.pid), "200"], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    rip = out.strip()
    source_guid = create_guid(mon, proc.pid)

    accesses = mon.wait_for(lambda e: is_event(e, 10, proc.pid), count=3,
                            what="three ProcessAccess events")
    threads = mon.wait_for(lambda e: is_event(e, 8, proc.pid), count=2,
                           what="two CreateRemoteThread events")
    # 200 peeks within the repeat interval are one event; a marker access
    # after the tracer's end: once it is logged, every access of the tracer is
    marker_pid, status = run([tracer, str(target.pid)])
    assert status == 0
    mon.wait_for(lambda e: is_event(e, 10, marker_pid), what="marker attach event")
    accesses = mon.find(lambda e: is_event(e, 10, proc.pid))
    assert sorted(e["GrantedAccess"] for e in accesses) == ["0x10", "0x1f3fff", "0x20"]
    for ev in accesses:
        assert ev["SourceProcessGUID"] == source_guid
        assert ev["SourceThreadId"] == str(proc.pid)
        assert ev["SourceImage"] == tracer
        assert ev["SourceUser"] == "root"
        assert ev["TargetProcessId"] == str(target.pid)
        assert ev["TargetImage"] == SLEEP
        assert ev["TargetProcessGUID"] != ZERO_GUID
        assert ev["TargetUser"] == "nobody"
        assert ev["CallTrace"] == "-"
    assert len({e["TargetProcessGUID"] for e in accesses}) == 1

    # POKEDATA: no new ip; SETREGS and POKEUSER(ip): the ip (one event: same address)
    addresses = sorted(e["StartAddress"] for e in mon.find(lambda e: is_event(e, 8, proc.pid)))
    assert addresses == ["-", rip]
    for ev in threads:
        assert ev["SourceProcessGuid"] == source_guid
        assert ev["SourceImage"] == tracer
        assert ev["TargetProcessId"] == str(target.pid)
        assert ev["TargetProcessGuid"] == accesses[0]["TargetProcessGUID"]
        assert ev["TargetImage"] == SLEEP
        assert ev["NewThreadId"] == str(target.pid)
        assert ev["StartModule"] == "-" and ev["StartFunction"] == "-"
        assert ev["SourceUser"] == "root" and ev["TargetUser"] == "nobody"


def test_process_vm_readv_and_proc_files(start_monitor, tmp_path):
    mon = start_monitor(config_text=CONFIG)
    reader = str(tmp_path / "reader")
    shutil.copy(PYTHON, reader)
    # a target started after the monitor, whose stack address we know
    target = subprocess.Popen([PYTHON, "-c", "import sys, time; print(hex(id(sys)), flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True, user="nobody")
    try:
        address = target.stdout.readline().strip()
        target_guid = create_guid(mon, target.pid)
        vm_pid, status = run([reader, "-c", VM_READER, str(target.pid), address])
        assert status == 0
        files_pid, status = run([reader, "-c", PROC_READER, str(target.pid)])
        assert status == 0

        vm_ev = mon.wait_for(lambda e: is_event(e, 10, vm_pid), what="process_vm_readv access")
        assert vm_ev["GrantedAccess"] == "0x10"
        assert vm_ev["SourceImage"] == reader
        assert vm_ev["TargetProcessId"] == str(target.pid)
        assert vm_ev["TargetProcessGUID"] == target_guid
        assert vm_ev["TargetImage"] == PYTHON
        assert vm_ev["TargetUser"] == "nobody"

        mon.wait_for(lambda e: is_event(e, 10, files_pid), count=2, what="/proc file accesses")
        # a marker access after both readers: once it is logged, theirs all are
        marker_pid, status = run([reader, "-c", VM_READER, str(target.pid), address])
        assert status == 0
        mon.wait_for(lambda e: is_event(e, 10, marker_pid), what="marker access")
        found = mon.find(lambda e: is_event(e, 10, files_pid))
        # mem read-write, then environ and maps as one (same right, same pair);
        # its own /proc/self/maps is not an access
        assert sorted(e["GrantedAccess"] for e in found) == ["0x1000", "0x30"]
        for ev in found:
            assert ev["TargetProcessId"] == str(target.pid)
            assert ev["TargetProcessGUID"] == target_guid
            assert ev["SourceUser"] == "root" and ev["TargetUser"] == "nobody"
        assert not mon.find(lambda e: e["EventID"] == 8 and e["SourceProcessId"] in
                            (str(vm_pid), str(files_pid)))
    finally:
        target.kill()
        target.wait()


def test_rules_filter_by_granted_access(start_monitor, tracer, target):
    config = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ProcessAccess onmatch="include">
      <GrantedAccess>0x1f3fff</GrantedAccess>
    </ProcessAccess>
  </EventFiltering>
</Sysmon>
"""
    mon = start_monitor(config_text=config)
    assert "CreateRemoteThread" not in mon.stderr()
    pid, status = run([tracer, str(target.pid)])
    assert status == 0
    mon.wait_for(lambda e: is_event(e, 10, pid), what="attach event")
    # a marker access after it: once it is logged, the tracer's are decided
    marker_pid, status = run([tracer, str(target.pid)])
    mon.wait_for(lambda e: is_event(e, 10, marker_pid), what="marker attach event")
    found = mon.find(lambda e: e["EventID"] in (8, 10) and e["SourceProcessId"] == str(pid))
    assert [e["GrantedAccess"] for e in found] == ["0x1f3fff"]


def test_not_attached_unless_configured(start_monitor):
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90">
  <EventFiltering><ProcessCreate onmatch="exclude"/></EventFiltering>
</Sysmon>
""")
    # only the wanted ids are reported (and their programs attached)
    assert "ProcessAccess" not in mon.stderr()
    assert "CreateRemoteThread" not in mon.stderr()


def test_mstic_collect_all_config(start_monitor, tracer, target):
    """MSTIC's collect-all config logs every ProcessAccess: a gdb-style attach."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    config = os.path.join(repo, "..", "shared", "configs", "mstic-linux", "collect-all.xml")
    if not os.path.exists(config):
        pytest.skip("no MSTIC configs at %s" % config)
    mon = start_monitor(config_path=config)
    assert "ProcessAccess (10): active" in mon.stderr()
    pid, status = run([tracer, str(target.pid)])
    assert status == 0
    ev = mon.wait_for(lambda e: is_event(e, 10, pid) and e["GrantedAccess"] == "0x1f3fff",
                      what="ProcessAccess of the attach")
    assert ev["TargetProcessId"] == str(target.pid)
    assert ev["TargetImage"] == SLEEP


def test_reload_attaches_and_detaches(start_monitor, tracer, target, tmp_path):
    """A config change (SIGHUP) turns ProcessAccess off and on again."""
    mon = start_monitor(config_text=CONFIG)
    config_path = str(tmp_path / "config0.xml")
    pid, _ = run([tracer, str(target.pid)])
    mon.wait_for(lambda e: is_event(e, 10, pid), what="attach while on")

    with open(config_path, "w") as f:
        f.write(CONFIG.replace('<ProcessAccess onmatch="exclude"/>', "")
                .replace('<CreateRemoteThread onmatch="exclude"/>', ""))
    mon.proc.send_signal(signal.SIGHUP)
    mon.wait_for(lambda e: e["EventID"] == 16, count=2, what="the reload's config event")
    off_pid, _ = run([tracer, str(target.pid)])

    with open(config_path, "w") as f:
        f.write(CONFIG)
    mon.proc.send_signal(signal.SIGHUP)
    mon.wait_for(lambda e: e["EventID"] == 16, count=3, what="the second reload's config event")
    on_pid, _ = run([tracer, str(target.pid)])
    mon.wait_for(lambda e: is_event(e, 10, on_pid), what="attach after turning on again")
    # its access is the marker: an access of the tracer that ran while off
    # would be in the ring before it
    assert not mon.find(lambda e: is_event(e, 10, off_pid) or is_event(e, 8, off_pid))


def test_ia32_ptrace_attach(start_monitor, target, tmp_path):
    """ptrace through int 0x80 from a 64-bit program is seen too."""
    if os.uname().machine != "x86_64" or not shutil.which("cc"):
        pytest.skip("x86-64 with a C compiler only")
    src = tmp_path / "ia32_tracer.c"
    src.write_text(IA32_TRACER)
    binary = str(tmp_path / "ia32_tracer")
    subprocess.run(["cc", "-O1", "-o", binary, str(src)], check=True)
    mon = start_monitor(config_text=CONFIG)
    pid, status = run([binary, str(target.pid)])
    if status != 0:
        pytest.skip("this kernel runs no 32-bit syscalls")
    ev = mon.wait_for(lambda e: is_event(e, 10, pid), what="ProcessAccess of the ia32 attach")
    assert ev["GrantedAccess"] == "0x1f3fff"
    assert ev["SourceImage"] == binary
    assert ev["TargetProcessId"] == str(target.pid)
    assert ev["TargetImage"] == SLEEP
    assert ev["TargetUser"] == "nobody"
