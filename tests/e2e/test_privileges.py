"""End-to-end tests of the monitor's privileges after start-up
(service/privdrop.h, docs/service.md "Privileges"): once its eBPF programs
are loaded it keeps only the capabilities that a live reload and the
enrichment of events use, in every set (effective, permitted, bounding;
nothing inheritable or ambient), and a reload that loads a source it had
not loaded before still works with that set; CAP_SETUID and CAP_SETGID stay
permitted but not effective, for the forwarders' process it starts (again).

The forwarders run in that process (output/forward_proc.h, docs/privsep.md):
an unprivileged user, no capability, no_new_privs; they still deliver every
event, and a killed process is started again and resumes from its cursor.
"""
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import uuid

from test_forward import (rsyslogs, forward_to_tcp_collector, wait_status,
                          log_record_ids, wait_collected, parse_collected, file_workload, CONFIG)  # noqa: F401 (rsyslogs: a fixture)

# capability numbers (linux/capability.h)
CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE = 2, 19, 21, 24
CAP_PERFMON, CAP_BPF = 38, 39
CAP_SETGID, CAP_SETUID = 6, 7
KEPT = {CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_PERFMON, CAP_BPF}
DORMANT = {CAP_SETGID, CAP_SETUID}


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
    # a forwarder (to a port nobody listens on) starts its process after the drop
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
    permitted = (KEPT | DORMANT) & ours
    status = proc_status(mon.pid)
    assert status["Uid"].split() == ["0"] * 4
    assert caps(status["CapEff"]) == expected
    assert caps(status["CapPrm"]) == permitted
    assert caps(status["CapBnd"]) == permitted
    assert caps(status["CapInh"]) == set() and caps(status["CapAmb"]) == set()
    for task in os.listdir("/proc/%d/task" % mon.pid):
        assert caps(proc_status(int(task))["CapEff"]) == expected, "thread %s" % task
    assert wait_forwarders_process(mon)

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


def children(pid):
    found = []
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/children" % (pid, task)) as f:
            found += [int(p) for p in f.read().split()]
    return found


def wait_forwarders_process(mon, not_pid=None, timeout=15):
    """The monitor's child that runs the forwarders (its name: sysmon-forward)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for pid in children(mon.pid):
            try:
                status = proc_status(pid)
            except FileNotFoundError:
                continue
            if status["Name"] == "sysmon-forward" and pid != not_pid:
                return pid
        time.sleep(0.1)
    return None


def forwarders_user():
    for name in ("_sysmon", "sysmon", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    raise AssertionError("no user for the forwarders")


def test_forwarders_run_unprivileged_and_survive_a_kill(tmp_path, monkeypatch, start_monitor, rsyslogs):
    _, out = forward_to_tcp_collector(tmp_path, monkeypatch, rsyslogs)
    mon = start_monitor(config_text=CONFIG)
    child = wait_forwarders_process(mon)
    assert child, "no forwarders' process:\n" + mon.stderr()
    user = forwarders_user()
    status = proc_status(child)
    assert status["Uid"].split() == [str(user.pw_uid)] * 4 and user.pw_uid != 0
    assert status["Gid"].split() == [str(user.pw_gid)] * 4
    assert status["Groups"].split() == [str(user.pw_gid)]
    assert int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0
    assert int(status["CapInh"], 16) == 0 and int(status["CapAmb"], 16) == 0
    assert status["NoNewPrivs"] == "1"
    assert "the forwarders run in process %d as user %s" % (child, user.pw_name) in mon.stderr()

    marker = "privsep-" + uuid.uuid4().hex[:8]
    file_workload(marker + "-a", 20)
    ours = mon.wait_for(lambda e: e["EventID"] == 1 and marker + "-a" in e["CommandLine"], count=20,
                        what="workload")
    wait_status(tmp_path, "central", lambda s: s["cursor"] >= max(e["EventRecordID"] for e in ours),
                what="first delivery")

    # killed: the monitor says so, starts it again, its cursor resumes
    os.kill(child, signal.SIGKILL)
    file_workload(marker + "-b", 20)
    again = wait_forwarders_process(mon, not_pid=child)
    assert again, "the forwarders' process was not restarted:\n" + mon.stderr()
    error = mon.wait_for(lambda e: e["EventID"] == 255 and "their process (pid %d) ended" % child
                         in e["Description"], what="Error event about the killed process")
    assert "killed by signal 9" in error["Description"]
    assert int(proc_status(again)["CapEff"], 16) == 0
    file_workload(marker + "-c", 20)
    mon.wait_for(lambda e: e["EventID"] == 1 and marker + "-c" in e["CommandLine"], count=20,
                 what="workload after the restart")
    assert mon.stop() == 0
    assert wait_gone(again), "the forwarders' process outlived the monitor"
    # every event the log holds arrived (resent ones twice at most), in order per connection
    ids = log_record_ids(mon)
    wait_collected([out], ids)
    received = [m["record_id"] for m in parse_collected(out)]
    assert set(ids) <= set(received)


def wait_gone(pid, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.05)
    return False
