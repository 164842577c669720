"""End-to-end tests of ProcessCreate (1), ProcessTerminate (5) and the
monitor's own events (16, 4, 255): the real monitor on the real kernel,
real processes, every field checked against what the system says."""

import hashlib
import os
import pwd
import signal
import subprocess
import textwrap
import time
import xml.etree.ElementTree as ElementTree

import pytest

from conftest import READY_LINE, SYSMON

PYTHON = "/usr/bin/python3"
ECHO = os.path.realpath("/bin/echo")
TRUE = os.path.realpath("/bin/true")

ALL_PROCESS_EVENTS = """<Sysmon schemaversion="4.81">
  <HashAlgorithms>{hashes}</HashAlgorithms>
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ProcessTerminate onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""


def creates(mon, pid):
    return mon.find(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid))


def terminates(mon, pid):
    return mon.find(lambda e: e["EventID"] == 5 and e["ProcessId"] == str(pid))


def wait_create(mon, pid, image=None):
    return mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid)
                        and (image is None or e["Image"] == image),
                        what="ProcessCreate of pid %d" % pid)


def wait_terminate(mon, pid):
    return mon.wait_for(lambda e: e["EventID"] == 5 and e["ProcessId"] == str(pid),
                        what="ProcessTerminate of pid %d" % pid)


def wait_marker(mon):
    """Run a marker process and wait for its ProcessTerminate.  The process
    records come in kernel order, so by then every event of what ended
    before the marker started has been read: a check that an event never
    came can follow."""
    proc = subprocess.Popen([TRUE, "marker"])
    proc.wait(10)
    wait_terminate(mon, proc.pid)


def file_digest(path, name):
    """What the coreutils tool (sha256sum, sha1sum, md5sum) says."""
    out = subprocess.run([name + "sum", path], capture_output=True, check=True).stdout
    return out.split()[0].decode()


def test_start_and_stop_events(start_monitor, tmp_path):
    config = ALL_PROCESS_EVENTS.format(hashes="sha256")
    mon = start_monitor(config_text=config)
    first = mon.wait_for(lambda e: e["EventID"] in (4, 16), count=2, what="events 16 and 4")
    assert [e["EventID"] for e in first] == [16, 4]
    config_event, started = first
    config_path = str(tmp_path / "config0.xml")
    assert config_event["Configuration"] == config_path
    assert config_event["ConfigurationFileHash"] == \
        "SHA256=" + hashlib.sha256(config.encode()).hexdigest()
    assert started["State"] == "Started"
    assert started["Version"] == "0.1.0"
    assert started["SchemaVersion"] == "4.90"   # the newest we support, as Sysmon for Linux 1.5
    assert "ProcessCreate (1): active" in mon.stderr()
    assert mon.stop() == 0
    events = mon.snapshot()
    assert events[-1]["EventID"] == 4 and events[-1]["State"] == "Stopped"
    ids = [int(e["EventRecordID"]) for e in events]
    assert ids == sorted(set(ids)), "EventRecordID must strictly increase"
    # the monitor never reports itself
    assert not [e for e in events if e.get("ProcessId") == str(mon.pid)]
    assert not mon.bad_lines


def test_defaults_without_config(start_monitor):
    mon = start_monitor()
    config_event = mon.wait_for(lambda e: e["EventID"] == 16)
    assert config_event["Configuration"] == "Defaults"
    assert config_event["ConfigurationFileHash"] == "-"
    proc = subprocess.run([TRUE])
    assert proc.returncode == 0
    # ProcessCreate is logged by default, with SHA256 hashes
    ev = mon.wait_for(lambda e: e["EventID"] == 1 and e["Image"] == TRUE)
    assert ev["Hashes"] == "SHA256=" + file_digest(TRUE, "sha256")


def test_process_create_fields(start_monitor, tmp_path):
    # a parent started before the monitor: its fields come from /proc
    parent = subprocess.Popen(["/bin/sh", "-c", 'read line; "$@"; exit 0', "sh", ECHO],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="*"))
        cwd = tmp_path / "dir with spaces \u00e9 <&> \"q\""
        cwd.mkdir()
        args = [ECHO, "plain", "with space", '"double quoted"', "it's", "<tag>&amp;",
                "caf\u00e9", b"\xff\xfe-invalid", "", "last"]
        child = subprocess.run(args, cwd=str(cwd), stdout=subprocess.DEVNULL)
        assert child.returncode == 0
        # the pre-existing parent runs echo now
        parent.stdin.write(b"go\n")
        parent.stdin.flush()
        parent.wait(10)

        ev = mon.wait_for(lambda e: e["EventID"] == 1 and e["Image"] == ECHO
                          and "plain" in e["CommandLine"], what="ProcessCreate of echo")
        expected = b" ".join(a if isinstance(a, bytes) else a.encode() for a in args)
        # invalid UTF-8 is written as the text \xNN (output/format.h)
        assert ev["CommandLine"] == expected.decode("utf-8", "backslashreplace")
        assert ev["CurrentDirectory"] == str(cwd)
        assert ev["User"] == "root"
        assert ev["ParentProcessId"] == str(os.getpid())
        assert ev["ParentImage"] == os.path.realpath("/proc/self/exe")
        assert ev["Hashes"] == "SHA1=%s,MD5=%s,SHA256=%s" % (
            file_digest(ECHO, "sha1"), file_digest(ECHO, "md5"), file_digest(ECHO, "sha256"))
        for field in ("FileVersion", "Description", "Product", "Company", "OriginalFileName"):
            assert ev[field] == "-"
        assert ev["IntegrityLevel"] == "no level"
        assert ev["LogonId"] == "0"
        assert ev["ProcessGuid"].startswith("{") and ev["ProcessGuid"] != ev["ParentProcessGuid"]

        late = mon.wait_for(lambda e: e["EventID"] == 1 and e["ParentProcessId"] == str(parent.pid),
                            what="ProcessCreate of the early parent's child")
        assert late["Image"] == ECHO
        assert late["ParentImage"] == os.path.realpath("/bin/sh")
        assert late["ParentCommandLine"] == '/bin/sh -c read line; "$@"; exit 0 sh ' + ECHO
        assert late["ParentUser"] == "root"
        assert late["ParentProcessGuid"] != "{00000000-0000-0000-0000-000000000000}"
        # the parent's own terminate carries the GUID the child saw as its parent's
        term = wait_terminate(mon, parent.pid)
        assert term["ProcessGuid"] == late["ParentProcessGuid"]
        assert term["Image"] == os.path.realpath("/bin/sh")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_user_of_an_unprivileged_process(start_monitor):
    nobody = pwd.getpwnam("nobody")
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="md5"))
    proc = subprocess.Popen([TRUE, "as-nobody"], user=nobody.pw_uid, group=nobody.pw_gid, cwd="/")
    proc.wait()
    ev = wait_create(mon, proc.pid, TRUE)
    assert ev["User"] == "nobody"
    assert ev["LogonId"] == str(nobody.pw_uid)
    assert ev["CurrentDirectory"] == "/"
    assert ev["Hashes"] == "MD5=" + file_digest(TRUE, "md5")
    assert wait_terminate(mon, proc.pid)["User"] == "nobody"


FEXECVE = textwrap.dedent("""
    import os, sys
    fd = os.open(sys.argv[1], os.O_RDONLY)
    os.execve(fd, ["via-fd", "execveat"], {})   # execveat(fd, "", AT_EMPTY_PATH)
""")


def test_image_is_resolved_from_the_file(start_monitor):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    # execveat on a file descriptor: the kernel's filename is /dev/fd/N
    by_fd = subprocess.Popen([PYTHON, "-c", FEXECVE, ECHO], stdout=subprocess.DEVNULL)
    by_fd.wait(10)
    # a relative path, through the /bin symlink
    relative = subprocess.Popen(["./echo", "relative"], cwd="/bin", stdout=subprocess.DEVNULL)
    relative.wait(10)
    ev = wait_create(mon, by_fd.pid, ECHO)
    assert ev["CommandLine"] == "via-fd execveat"
    ev = wait_create(mon, relative.pid, ECHO)
    assert ev["CommandLine"] == "./echo relative"
    assert ev["CurrentDirectory"] == os.path.realpath("/bin")
    # posix_spawn: glibc's clone(CLONE_VM | CLONE_VFORK), then execve
    spawned = os.posix_spawn(ECHO, [ECHO, "after-vfork"], {})
    os.waitpid(spawned, 0)
    ev = wait_create(mon, spawned, ECHO)
    assert ev["CommandLine"] == ECHO + " after-vfork"
    assert ev["ParentProcessId"] == str(os.getpid())


EXEC_IN = textwrap.dedent("""
    import os, sys
    os.chdir("/")
    for part in sys.argv[1].split("/"):   # step by step: the whole may exceed PATH_MAX
        if part:
            os.chdir(part)
    os.execv(sys.argv[2], sys.argv[2:])
""")


def expected_partial_path(parts, limit=4096, depth=64):
    """What the kernel side keeps of a path too long or too deep: the
    deepest components that fit, after a '+' marking the lost start."""
    kept, size = [], 0
    for part in reversed(parts):
        if len(kept) == depth or size + 1 + len(part) > limit:
            break
        kept.insert(0, part)
        size += 1 + len(part)
    return "+/" + "/".join(kept)


def test_hostile_sizes(start_monitor, tmp_path):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    base = os.path.realpath(str(tmp_path))
    deep_parts = ["d%02d" % i for i in range(80)]
    long_parts = [("L" * 200) + "%02d" % i for i in range(25)]
    for parts in (deep_parts, long_parts):
        fd = os.open(base, os.O_RDONLY)
        for part in parts:
            os.mkdir(part, dir_fd=fd)
            new = os.open(part, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
        os.close(fd)
    big_args = ["x" * 1000 + "-%d" % i for i in range(200)]   # about 200 KB of argv

    deep = subprocess.Popen([PYTHON, "-c", EXEC_IN, base + "/" + "/".join(deep_parts), TRUE, "deep"])
    long = subprocess.Popen([PYTHON, "-c", EXEC_IN, base + "/" + "/".join(long_parts), TRUE, "long"])
    big = subprocess.Popen([TRUE] + big_args)
    for proc in (deep, long, big):
        assert proc.wait(10) == 0

    base_parts = base.strip("/").split("/")
    ev = wait_create(mon, deep.pid, TRUE)
    assert ev["CurrentDirectory"] == expected_partial_path(base_parts + deep_parts)
    ev = wait_create(mon, long.pid, TRUE)
    assert ev["CurrentDirectory"] == expected_partial_path(base_parts + long_parts)
    assert len(ev["CurrentDirectory"]) <= 4097
    ev = wait_create(mon, big.pid, TRUE)
    argv = ("\0".join([TRUE] + big_args) + "\0")[:16384]
    assert ev["CommandLine"] == argv.rstrip("\0").replace("\0", " ")
    assert mon.proc.poll() is None


EXEC_FROM_THREAD = textwrap.dedent("""
    import os, sys, threading, time
    def run():
        os.execv(sys.argv[1], [sys.argv[1], "exec-from-thread"])
    threading.Thread(target=run).start()
    time.sleep(10)
""")


def test_exec_from_a_thread(start_monitor):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    proc = subprocess.Popen([PYTHON, "-c", EXEC_FROM_THREAD, ECHO], stdout=subprocess.DEVNULL)
    proc.wait(10)
    python_create = wait_create(mon, proc.pid, os.path.realpath(PYTHON))
    echo_create = wait_create(mon, proc.pid, ECHO)
    assert echo_create["CommandLine"] == ECHO + " exec-from-thread"
    # a new image is a new process GUID
    assert echo_create["ProcessGuid"] != python_create["ProcessGuid"]
    term = wait_terminate(mon, proc.pid)
    wait_marker(mon)
    assert len(terminates(mon, proc.pid)) == 1
    assert term["ProcessGuid"] == echo_create["ProcessGuid"]
    assert term["Image"] == ECHO


MANY_THREADS = textwrap.dedent("""
    import os, sys, threading, time
    mode = sys.argv[1]
    stop = threading.Event()
    threads = [threading.Thread(target=stop.wait, args=(5,)) for _ in range(16)]
    for t in threads:
        t.start()
    if mode == "join":
        stop.set()
        for t in threads:
            t.join()
    else:
        os._exit(3)   # every thread dies at once
""")


@pytest.mark.parametrize("mode", ["join", "group-exit"])
def test_terminate_once_per_multithreaded_process(start_monitor, mode):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    pids = []
    for _ in range(5):
        proc = subprocess.Popen([PYTHON, "-c", MANY_THREADS, mode])
        proc.wait(10)
        pids.append(proc.pid)
    for pid in pids:
        create = wait_create(mon, pid)
        term = wait_terminate(mon, pid)
        assert term["ProcessGuid"] == create["ProcessGuid"]
        assert term["Image"] == create["Image"]
    wait_marker(mon)
    for pid in pids:
        assert len(terminates(mon, pid)) == 1, "ProcessTerminate must come once per process"


FORK_WITHOUT_EXEC = textwrap.dedent("""
    import os
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    print(child)
""")


def test_terminate_of_a_fork_that_never_execs(start_monitor):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    proc = subprocess.Popen([PYTHON, "-c", FORK_WITHOUT_EXEC], stdout=subprocess.PIPE)
    out, _ = proc.communicate(timeout=10)
    child = int(out)
    parent_create = wait_create(mon, proc.pid)
    term = wait_terminate(mon, child)
    # it ran its parent's image; a process of its own, with a GUID of its own
    assert term["Image"] == parent_create["Image"]
    assert term["ProcessGuid"] not in ("{00000000-0000-0000-0000-000000000000}",
                                       parent_create["ProcessGuid"])
    assert not creates(mon, child)


DAEMON = textwrap.dedent("""
    import os, sys
    if os.fork() == 0:
        print(os.getpid(), flush=True)
        sys.stdin.readline()
    os._exit(0)
""")


def test_terminate_of_an_adopted_fork_started_before_the_monitor(start_monitor):
    proc = subprocess.Popen([PYTHON, "-c", DAEMON], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    daemon = int(proc.stdout.readline())
    proc.wait(10)
    try:
        mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
        proc.stdin.write(b"exit\n")
        proc.stdin.flush()
        term = wait_terminate(mon, daemon)
        assert term["Image"] == os.path.realpath(PYTHON)
        assert term["ProcessGuid"] != "{00000000-0000-0000-0000-000000000000}"
    finally:
        proc.stdin.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_writes_everything_already_captured(start_monitor, sig):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    pids = []
    for i in range(100):
        proc = subprocess.Popen([TRUE, "drain-%d" % i])
        proc.wait()
        pids.append(proc.pid)
    assert mon.stop(sig=sig) == 0
    for pid in pids:
        assert len(creates(mon, pid)) == 1
        assert len(terminates(mon, pid)) == 1
    assert mon.snapshot()[-1]["State"] == "Stopped"


def test_overload_reports_lost_events(start_monitor):
    # one page of ring buffer holds a handful of records; a stopped monitor
    # reads none, so a burst overflows it deterministically
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"),
                        args=["--ring-buffer-pages", "1"])
    os.kill(mon.pid, signal.SIGSTOP)
    try:
        burst = 300
        for i in range(burst):
            subprocess.run([TRUE, "burst-%d" % i])
    finally:
        os.kill(mon.pid, signal.SIGCONT)
    lost = mon.wait_for(lambda e: e["EventID"] == 255 and "ProcessCreate" in e["Description"],
                        what="a lost-events Error event")
    assert lost["ID"] == "LostEvents"
    count, rest = lost["Description"].split(" ", 1)
    assert rest == "ProcessCreate events lost: ring buffer full"
    logged = len(mon.find(lambda e: e["EventID"] == 1 and e["CommandLine"].startswith(TRUE + " burst-")))
    assert int(count) > 0
    assert int(count) + logged >= burst
    # still alive and capturing
    proc = subprocess.Popen([TRUE, "after-burst"])
    proc.wait()
    wait_create(mon, proc.pid, TRUE)
    assert mon.stop() == 0
    assert "lost" in mon.stderr()


def test_reload_swaps_rules_and_reports_bad_configs(start_monitor, tmp_path):
    mon = start_monitor(config_text=ALL_PROCESS_EVENTS.format(hashes="sha256"))
    config_path = str(tmp_path / "config0.xml")
    mon.wait_for(lambda e: e["EventID"] == 4)
    with open(config_path, "w") as f:
        f.write("""<Sysmon schemaversion="4.81"><EventFiltering>
  <ProcessCreate onmatch="exclude"><CommandLine condition="contains">skip-me</CommandLine></ProcessCreate>
</EventFiltering></Sysmon>
""")
    os.kill(mon.pid, signal.SIGHUP)
    mon.wait_for(lambda e: e["EventID"] == 16, count=2, what="a second event 16")
    skipped = subprocess.Popen([TRUE, "skip-me"])
    kept = subprocess.Popen([TRUE, "keep-me"])
    skipped.wait()
    kept.wait()
    wait_create(mon, kept.pid)
    assert not creates(mon, skipped.pid)

    with open(config_path, "w") as f:
        f.write("<Sysmon schemaversion=\"4.81\"><EventFiltering><Bogus/></EventFiltering></Sysmon>")
    os.kill(mon.pid, signal.SIGHUP)
    error = mon.wait_for(lambda e: e["EventID"] == 255, what="an Error event for the bad config")
    assert error["ID"] == "ConfigReload"
    assert config_path in error["Description"]
    # the old rules stay
    skipped = subprocess.Popen([TRUE, "skip-me"])
    kept = subprocess.Popen([TRUE, "keep-me"])
    skipped.wait()
    kept.wait()
    wait_create(mon, kept.pid)
    assert not creates(mon, skipped.pid)
    assert len(mon.find(lambda e: e["EventID"] == 16)) == 2


def test_second_monitor_refuses_the_same_pid_file(start_monitor, tmp_path):
    pid_file = str(tmp_path / "sysmon.pid")
    mon = start_monitor(args=["--pid-file", pid_file])
    with open(pid_file) as f:
        assert f.read().strip() == str(mon.pid)
    second = subprocess.run([SYSMON, "run", "--no-log", "--pid-file", pid_file],
                            capture_output=True, timeout=20)
    assert second.returncode != 0
    assert b"already running" in second.stderr
    assert mon.stop() == 0
    assert not os.path.exists(pid_file)


def test_stdout_xml_is_one_well_formed_document_per_line(tmp_path):
    config = tmp_path / "config.xml"
    config.write_text(ALL_PROCESS_EVENTS.format(hashes="sha256"))
    mon = subprocess.Popen([SYSMON, "run", "--no-log", "--stdout", "xml", "--config", str(config)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not mon.stderr.readline().decode().startswith(READY_LINE):
            assert time.monotonic() < deadline and mon.poll() is None, "the monitor did not start"
        hostile = [TRUE, "<a href='x'>&amp;</a>", "\"quoted\"", b"\x01\x1b[31m\xff", "tab\there"]
        proc = subprocess.Popen(hostile)
        proc.wait()
        time.sleep(0.5)
    finally:
        mon.send_signal(signal.SIGTERM)
        out, _ = mon.communicate(timeout=20)
    assert mon.returncode == 0
    found = None
    for line in out.decode("utf-8").splitlines():
        root = ElementTree.fromstring(line)
        system = root.find("System")
        assert system.find("Provider").get("Name") == "Linux-Sysmon"
        data = {d.get("Name"): d.text or "" for d in root.find("EventData")}
        if system.find("EventID").text == "1" and data["ProcessId"] == str(proc.pid):
            found = data
    assert found is not None
    assert found["CommandLine"].startswith(TRUE + " <a href='x'>&amp;</a> \"quoted\" ")
    assert found["Image"] == TRUE
