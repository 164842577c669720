"""End-to-end tests of ProcessTampering (25): executing an image with no
file name behind it (memfd_create + fexecve, a deleted binary run through
/proc/self/fd, a binary run through a descriptor), on the real monitor and
kernel.  An ordinary exec is not tampering."""

import os
import subprocess

PYTHON = os.path.realpath("/usr/bin/python3")
TRUE = os.path.realpath("/bin/true")

CONFIG = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ProcessTampering onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# Each scenario forks a child that execs `true` one way, and prints
# "name pid" lines; a plain exec of `true` comes last (the marker).
SCENARIOS = r"""
import os, shutil, sys
true, work = sys.argv[1], sys.argv[2]

def run(name, how):
    pid = os.fork()
    if pid == 0:
        try:
            how()
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    assert status == 0, (name, status)
    print(name, pid, flush=True)

memfd = os.memfd_create("payload", 0)
os.write(memfd, open(true, "rb").read())
run("memfd", lambda: os.execve(memfd, ["payload"], {}))

deleted = os.path.join(work, "deleted-true")
shutil.copy(true, deleted)
held = os.open(deleted, os.O_RDONLY)
os.unlink(deleted)
run("deleted", lambda: os.execv("/proc/self/fd/%d" % held, ["deleted"]))

named = os.path.join(work, "named-true")
shutil.copy(true, named)
fd = os.open(named, os.O_RDONLY)
run("fexecve", lambda: os.execve(fd, ["fexecve"], {}))
run("procfd", lambda: os.execv("/proc/self/fd/%d" % fd, ["procfd"]))
run("plain", lambda: os.execv(named, ["plain"]))
"""


def test_fileless_and_deleted_images(start_monitor, tmp_path):
    mon = start_monitor(config_text=CONFIG)
    assert "ProcessTampering (25): active" in mon.stderr()
    out = subprocess.run([PYTHON, "-c", SCENARIOS, TRUE, str(tmp_path)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    pids = dict((name, int(pid)) for name, pid in (line.split() for line in out.splitlines()))
    named = str(tmp_path / "named-true")

    expected = {
        "memfd": ("Image is memfd", "/memfd:payload (deleted)"),
        "deleted": ("Image is deleted", str(tmp_path / "deleted-true")),
        "fexecve": ("Image is fd path", named),
        "procfd": ("Image is fd path", named),
    }
    # the plain exec is logged as a process, never as tampering
    mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pids["plain"]),
                 what="ProcessCreate of the plain exec")
    for name, (kind, image) in expected.items():
        pid = str(pids[name])
        ev = mon.wait_for(lambda e: e["EventID"] == 25 and e["ProcessId"] == pid,
                          what="ProcessTampering of %s" % name)
        create = mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == pid,
                              what="ProcessCreate of %s" % name)
        assert ev["Type"] == kind, name
        assert ev["Image"] == image, name
        assert create["Image"] == image, name
        assert ev["ProcessGuid"] == create["ProcessGuid"], name
        assert ev["User"] == "root"
        assert ev["UtcTime"] >= create["UtcTime"][:19]
    assert not mon.find(lambda e: e["EventID"] == 25 and e["ProcessId"] == str(pids["plain"]))


def test_rule_on_type(start_monitor, tmp_path):
    config = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ProcessTampering onmatch="include">
      <Type condition="is">Image is memfd</Type>
    </ProcessTampering>
  </EventFiltering>
</Sysmon>
"""
    mon = start_monitor(config_text=config)
    out = subprocess.run([PYTHON, "-c", SCENARIOS, TRUE, str(tmp_path)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    pids = dict((name, pid) for name, pid in (line.split() for line in out.splitlines()))
    mon.wait_for(lambda e: e["EventID"] == 25 and e["ProcessId"] == pids["memfd"],
                 what="memfd tampering")
    mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == pids["plain"],
                 what="ProcessCreate of the plain exec")
    logged = [e["ProcessId"] for e in mon.find(lambda e: e["EventID"] == 25)
              if e["ProcessId"] in pids.values()]
    assert logged == [pids["memfd"]]
