"""End-to-end tests of the monitor's privileges after start-up
(service/privdrop.h, docs/service.md "Privileges"): once its eBPF programs
are loaded it keeps only the capabilities that a live reload and the
enrichment of events use, in every set (effective, permitted, bounding;
nothing inheritable or ambient), and a reload that loads a source it had
not loaded before still works with that set.
"""
import os
import signal
import socket
import subprocess
import sys

# capability numbers (linux/capability.h)
CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE = 2, 19, 21, 24
CAP_PERFMON, CAP_BPF = 38, 39
KEPT = {CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_PERFMON, CAP_BPF}


def proc_status(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def caps(mask_hex):
    mask = int(mask_hex, 16)
    return {bit for bit in range(64) if mask >> bit & 1}


def test_the_monitor_keeps_only_what_a_reload_needs(start_monitor, tmp_path, monkeypatch):
    # a forwarder's thread (to a port nobody listens on) starts after the drop
    unused = socket.socket()
    unused.bind(("127.0.0.1", 0))
    outputs = tmp_path / "outputs.conf"
    outputs.write_text("status_file = %s\nstate_dir = %s\n[syslog]\nenabled = no\n"
                       "[forward nowhere]\nhost = 127.0.0.1\nport = %d\n"
                       % (tmp_path / "status.json", tmp_path / "state", unused.getsockname()[1]))
    monkeypatch.setenv("SYSMON_OUTPUTS", str(outputs))
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90"><EventFiltering>
      <ProcessCreate onmatch="exclude"/>
    </EventFiltering></Sysmon>""")
    mon.wait_for(lambda e: e.get("EventID") == 4, what="the Started event")
    # what a container may withhold from us, the monitor cannot keep either
    ours = caps(proc_status(os.getpid())["CapPrm"])
    expected = KEPT & ours
    status = proc_status(mon.pid)
    assert status["Uid"].split() == ["0"] * 4
    assert caps(status["CapEff"]) == expected
    assert caps(status["CapPrm"]) == expected
    assert caps(status["CapBnd"]) == expected
    assert caps(status["CapInh"]) == set() and caps(status["CapAmb"]) == set()
    tasks = os.listdir("/proc/%d/task" % mon.pid)
    assert len(tasks) >= 2, "the forwarder's thread is missing"
    for task in tasks:
        assert caps(proc_status(int(task))["CapEff"]) == expected, "thread %s" % task

    # a reload loads the network source for the first time, with the reduced set
    with open(os.path.join(str(tmp_path), "config0.xml"), "w") as f:   # start_monitor wrote it there
        f.write("""<Sysmon schemaversion="4.90"><EventFiltering>
      <ProcessCreate onmatch="exclude"/><NetworkConnect onmatch="exclude"/>
    </EventFiltering></Sysmon>""")
    os.kill(mon.pid, signal.SIGHUP)
    mon.wait_for(lambda e: e.get("EventID") == 16, count=2, what="the reload's config event")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    client = subprocess.run([sys.executable, "-c",
                             "import socket; socket.create_connection(('127.0.0.1', %d)).close()" % port])
    assert client.returncode == 0
    mon.wait_for(lambda e: e.get("EventID") == 3 and e.get("DestinationPort") == str(port),
                 what="NetworkConnect after the reload")
    listener.close()
    assert "NetworkConnect (3): active" in mon.stderr()
    assert caps(proc_status(mon.pid)["CapEff"]) == expected
    assert mon.stop() == 0
    unused.close()
