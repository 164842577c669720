"""End-to-end test of the network source's raw sys_exit fallback
(src/bpf/network.bpf.c) against 32-bit syscalls: an int 0x80 call's number
belongs to the i386 table, where 45 is brk, not recvfrom.  The kernel never
fires the per-syscall tracepoints for such calls, so the monitor is started
in its own mount namespace with the syscall tracepoints hidden (a tmpfs over
tracefs's events/syscalls): the network source then falls back to its one
tp_btf/sys_exit program, which sees every syscall exit, 32-bit ones too.
"""
import os
import shutil
import socket
import subprocess

import pytest

import conftest

WAIT = 10.0

CONFIG = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <NetworkConnect onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# Two UDP sockets on 127.0.0.1, their ports printed; once a datagram waits
# on each (the test sends them): an ia32 brk(0) by int 0x80 with the first
# socket in rdi, where a native recvfrom has its descriptor (read as one, it
# would report the waiting datagram's peer), then a native recvfrom on the
# second, which must be reported.
HELPER = r"""
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
int main(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	int misread = socket(AF_INET, SOCK_DGRAM, 0), real = socket(AF_INET, SOCK_DGRAM, 0);
	struct pollfd waiting[2] = { { .fd = misread, .events = POLLIN }, { .fd = real, .events = POLLIN } };
	char buf[64];
	long ret;

	if (misread < 0 || real < 0 || bind(misread, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    bind(real, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return 1;
	getsockname(misread, (struct sockaddr *)&addr, &len);
	printf("%d ", ntohs(addr.sin_port));
	len = sizeof(addr);
	getsockname(real, (struct sockaddr *)&addr, &len);
	printf("%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	for (int i = 0; i < 2; i++)
		if (poll(&waiting[i], 1, 10000) != 1)
			return 2;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(45), "b"(0), "D"((long)misread) : "memory");
	if (ret <= 0)
		return 3;
	len = sizeof(addr);
	return recvfrom(real, buf, sizeof(buf), 0, (struct sockaddr *)&addr, &len) < 0 ? 4 : 0;
}
"""


@pytest.fixture
def helper(tmp_path):
    source = str(tmp_path / "compat.c")
    program = str(tmp_path / "compat")
    with open(source, "w") as f:
        f.write(HELPER)
    if shutil.which("cc") is None or subprocess.run(["cc", "-O1", "-o", program, source]).returncode != 0:
        pytest.skip("cannot build the test program")
    return program


@pytest.fixture
def monitor_without_syscall_tracepoints(start_monitor, tmp_path, monkeypatch):
    syscalls = "/sys/kernel/tracing/events/syscalls"
    if shutil.which("unshare") is None or not os.path.isdir(syscalls):
        pytest.skip("needs unshare and tracefs")
    wrapper = str(tmp_path / "sysmon-without-syscall-tracepoints")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec unshare -m --propagation private sh -c '
                '\'mount -t tmpfs none %s && exec "$0" "$@"\' %s "$@"\n' % (syscalls, conftest.SYSMON))
    os.chmod(wrapper, 0o755)
    monkeypatch.setattr(conftest, "SYSMON", wrapper)
    return start_monitor(config_text=CONFIG)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="int 0x80 is x86's")
def test_32_bit_syscall_is_not_read_as_a_native_one(monitor_without_syscall_tracepoints, helper):
    mon = monitor_without_syscall_tracepoints
    proc = subprocess.Popen([helper], stdout=subprocess.PIPE, text=True)
    try:
        misread_port, real_port = proc.stdout.readline().split()
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.sendto(b"for the misread socket", ("127.0.0.1", int(misread_port)))
        sender.sendto(b"for the real one", ("127.0.0.1", int(real_port)))
        sender.close()
        assert proc.wait(WAIT) == 0, "the helper failed"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    ours = lambda e: str(e.get("EventID")) == "3" and e.get("ProcessId") == str(proc.pid)
    # the fallback works: the native recvfrom is reported ...
    on = lambda e, port: port in (e["SourcePort"], e["DestinationPort"])
    mon.wait_for(lambda e: ours(e) and on(e, real_port), timeout=WAIT,
                 what="NetworkConnect of the native recvfrom")
    # ... and, reported in order before it, nothing of the 32-bit call
    assert [e for e in mon.find(ours) if on(e, misread_port)] == []
