"""End-to-end tests with Microsoft's MSTIC configs for Sysmon for Linux
(../shared/configs/mstic-linux/): the real monitor loads them unchanged,
and commands their rules name are logged with the rule's name as RuleName,
while what no rule names is not.

As in test_files.py, every action runs in its own process and is told apart
by ProcessId; one process's events leave the kernel in the order of its
calls, so once its last expected event is logged, an earlier event that is
missing was not logged.
"""
import os
import shutil
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSTIC = os.path.join(REPO, "..", "shared", "configs", "mstic-linux")
PYTHON = os.path.realpath("/usr/bin/python3")
WAIT = 10.0

ACCOUNT_DISCOVERY = "TechniqueID=T1087.001,TechniqueName=Account Discovery: Local Account"
SYSTEMD_SERVICE = "TechniqueID=T1543.002,TechniqueName=Create or Modify System Process: Systemd Service"
TOOL_TRANSFER = "TechniqueID=T1105,TechniqueName=Ingress Tool Transfer"


def run(cmd, **kwargs):
    """Run CMD to its end (it must succeed); returns its pid."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, "%s: %s" % (cmd, err)
    return proc.pid


def events_of(mon, pid, event_id):
    return mon.find(lambda e: e.get("EventID") == event_id and e.get("ProcessId") == str(pid))


def wait_event(mon, pid, event_id, what, predicate=lambda e: True):
    return mon.wait_for(lambda e: e.get("EventID") == event_id and e.get("ProcessId") == str(pid)
                        and predicate(e), timeout=WAIT, what="%s (pid %d)" % (what, pid))


def test_main_config_names_the_rules_that_matched(start_monitor, tmp_path):
    mon = start_monitor(config_path=os.path.join(MSTIC, "main.xml"))
    assert "ProcessCreate (1): active" in mon.stderr()
    assert "FileCreate (11): active" in mon.stderr()
    # <FileDelete onmatch="include"/>, <RawAccessRead onmatch="include"/>:
    # an include set without filters matches nothing (Sysmon's semantics,
    # REF's `-c` output agrees), so their programs are not even attached
    assert "FileDelete (23)" not in mon.stderr()
    assert "RawAccessRead (9)" not in mon.stderr()

    # ProcessCreate, T1087.001: a command line that reads /etc/passwd
    head = os.path.realpath(shutil.which("head"))
    pid = run([head, "-c", "1", "/etc/passwd"])
    event = wait_event(mon, pid, 1, "ProcessCreate of head /etc/passwd")
    assert event["RuleName"] == ACCOUNT_DISCOVERY
    assert event["Image"] == head
    assert event["CommandLine"] == "%s -c 1 /etc/passwd" % head

    # FileCreate, T1543.002: a unit file under a systemd/user/ directory;
    # a file no rule names, created first, is not logged
    unit_dir = tmp_path / "home" / ".config" / "systemd" / "user"
    unit_dir.mkdir(parents=True)
    plain = str(tmp_path / "plain.txt")
    unit = str(unit_dir / "persist.service")
    pid = run([PYTHON, "-c", "import sys\nfor p in sys.argv[1:]: open(p, 'w').close()", plain, unit])
    event = wait_event(mon, pid, 11, "FileCreate of the unit file", lambda e: e["TargetFilename"] == unit)
    assert event["RuleName"] == SYSTEMD_SERVICE
    assert event["Image"] == PYTHON
    assert event["User"] == "root"
    assert [e["TargetFilename"] for e in events_of(mon, pid, 11)] == [unit]

    # FileCreate, T1105: any file written by a program called curl
    curl = str(tmp_path / "curl")
    shutil.copy(PYTHON, curl)
    download = str(tmp_path / "payload.bin")
    pid = run([curl, "-c", "import sys; open(sys.argv[1], 'wb').write(b'x')", download])
    event = wait_event(mon, pid, 11, "FileCreate by curl", lambda e: e["TargetFilename"] == download)
    assert event["RuleName"] == TOOL_TRANSFER
    assert event["Image"] == curl

    # FileDelete: nothing (see above); the process's last call is logged,
    # so its delete before it was decided
    unit2 = str(unit_dir / "second.service")
    pid = run([PYTHON, "-c", "import os, sys\nos.unlink(sys.argv[1])\nopen(sys.argv[2], 'w').close()",
               download, unit2])
    wait_event(mon, pid, 11, "FileCreate of the second unit", lambda e: e["TargetFilename"] == unit2)
    assert events_of(mon, pid, 23) == [] and events_of(mon, pid, 26) == []


def test_collect_all_config_logs_everything(start_monitor, tmp_path):
    mon = start_monitor(config_path=os.path.join(MSTIC, "collect-all.xml"))
    target = str(tmp_path / "collected")
    pid = run([PYTHON, "-c", "import os, sys\nopen(sys.argv[1], 'w').close()\nos.unlink(sys.argv[1])",
               target])
    create = wait_event(mon, pid, 11, "FileCreate", lambda e: e["TargetFilename"] == target)
    delete = wait_event(mon, pid, 23, "FileDelete", lambda e: e["TargetFilename"] == target)
    process = wait_event(mon, pid, 1, "ProcessCreate")
    wait_event(mon, pid, 5, "ProcessTerminate")
    for event in (create, delete):
        assert event["RuleName"] == "-"
        assert event["ProcessGuid"] == process["ProcessGuid"]
        assert event["Image"] == PYTHON
    # 5.10 keeps no inode journal: its FileDelete line says "no IsExecutable"
    assert delete["IsExecutable"] == ("-" if "no IsExecutable" in mon.stderr() else "false")
    assert delete["Archived"] == "false"
    assert "RawAccessRead (9): active" in mon.stderr()
    assert mon.proc.poll() is None
