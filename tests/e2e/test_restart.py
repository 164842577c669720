"""End-to-end tests of the monitor's restart without a gap (docs/restart.md):
with --bpf-pins the eBPF programs, rings and maps are pinned in bpffs, keep
recording while no monitor runs (a crash: SIGKILL; a restart: SIGUSR1) and
are taken over by the next monitor, which logs what was captured meanwhile,
enriched from what the kernel recorded (image, argv, cwd).  A clean stop
(SIGTERM) removes the pins.  The last test does the same with the installed
service: a crash, then start.sh's reinstall.
"""
import os
import shutil
import signal
import subprocess
import time

import pytest

EXECS = 1000
WAIT = 60.0
PINS = "/sys/fs/bpf/sysmon-e2e-restart"
SERVICE_PINS = "/sys/fs/bpf/sysmon"   # the installed service's

CONFIG = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# Another config for the next monitor: one more source (files), so the
# handover also meets a source the previous monitor had not loaded.
CONFIG_MORE = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <FileCreate onmatch="include">
      <TargetFilename condition="end with">.sysmon-restart-test</TargetFilename>
    </FileCreate>
  </EventFiltering>
</Sysmon>
"""


@pytest.fixture
def pins():
    if not os.path.isdir("/sys/fs/bpf"):
        pytest.skip("no /sys/fs/bpf")
    shutil.rmtree(PINS, ignore_errors=True)
    yield PINS
    shutil.rmtree(PINS, ignore_errors=True)


@pytest.fixture
def marker(tmp_path):
    """A copy of true(1) under a name of its own, and a cwd of its own."""
    program = str(tmp_path / "restart-marker")
    shutil.copy("/bin/true", program)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return program, str(cwd)


def run_markers(program, cwd):
    for i in range(EXECS):
        subprocess.run([program, "gap-%d" % i], cwd=cwd, check=True)


def marker_creates(mon, program):
    return mon.find(lambda e: str(e.get("EventID")) == "1" and e.get("Image") == program)


def losses(mon):
    return [e for e in mon.snapshot() if str(e.get("EventID")) == "255"]


def check_gap_logged(mon, program, cwd):
    mon.wait_for(lambda e: str(e.get("EventID")) == "1" and e.get("Image") == program,
                 timeout=WAIT, count=EXECS, what="ProcessCreate of every marker run in the gap")
    time.sleep(0.5)     # anything doubled would be there by now
    creates = marker_creates(mon, program)
    lines = sorted(e["CommandLine"] for e in creates)
    assert lines == sorted("%s gap-%d" % (program, i) for i in range(EXECS)), \
        "every exec of the gap once, with its argv"
    assert all(e["CurrentDirectory"] == cwd for e in creates)
    assert all(e["ParentImage"] != "-" and e["ParentProcessGuid"] for e in creates)
    assert losses(mon) == [], "no event lost"
    return len(creates)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGUSR1], ids=["crash", "restart"])
def test_gap_is_logged_by_the_next_monitor(start_monitor, pins, marker, sig):
    program, cwd = marker
    first = start_monitor(config_text=CONFIG, args=["--bpf-pins", pins])
    assert os.path.exists(os.path.join(pins, "process", "control"))
    if sig == signal.SIGKILL:
        first.kill()
    else:
        assert first.stop(sig=sig) == 0
    assert os.path.exists(os.path.join(pins, "process", "control")), "the pins outlive it"
    run_markers(program, cwd)

    second = start_monitor(config_text=CONFIG, args=["--bpf-pins", pins, "--log", first.log_path])
    logged = check_gap_logged(second, program, cwd)
    print("execs during the gap: %d, logged: %d, lost: 0" % (EXECS, logged))
    assert "took over from the previous daemon" in second.stderr()

    assert second.stop() == 0
    assert not os.path.exists(pins), "a clean stop removes the pins"


def test_next_monitor_with_another_config(start_monitor, pins, marker, tmp_path):
    program, cwd = marker
    first = start_monitor(config_text=CONFIG, args=["--bpf-pins", pins])
    first.kill()
    run_markers(program, cwd)
    second = start_monitor(config_text=CONFIG_MORE, args=["--bpf-pins", pins])
    check_gap_logged(second, program, cwd)

    # after the handover, one event per exec: the old links are gone
    subprocess.run([program, "after"], cwd=cwd, check=True)
    target = tmp_path / "x.sysmon-restart-test"
    target.write_text("x")
    second.wait_for(lambda e: str(e.get("EventID")) == "11" and e.get("TargetFilename") == str(target),
                    timeout=WAIT, what="FileCreate from the new source")
    second.wait_for(lambda e: e.get("CommandLine") == program + " after", timeout=WAIT,
                    what="ProcessCreate after the handover")
    time.sleep(0.5)
    assert len(second.find(lambda e: e.get("CommandLine") == program + " after")) == 1
    assert second.stop() == 0
    assert not os.path.exists(pins)


def test_another_build_counts_what_it_cannot_decode(start_monitor, pins, marker):
    """The records of a different eBPF build are counted in a 255 event, not
    decoded: their layout may differ.  A build is told by a hash of its
    object, the name of its pin directory; renaming it makes the next
    monitor see the same build as another one."""
    program, cwd = marker
    first = start_monitor(config_text=CONFIG, args=["--bpf-pins", pins])
    first.kill()
    run_markers(program, cwd)
    process_dir = os.path.join(pins, "process")
    (build,) = [d for d in os.listdir(process_dir) if os.path.isdir(os.path.join(process_dir, d))]
    os.rename(os.path.join(process_dir, build), os.path.join(process_dir, "0000000000000000"))

    second = start_monitor(config_text=CONFIG, args=["--bpf-pins", pins])
    lost = second.wait_for(lambda e: str(e.get("EventID")) == "255" and
                           "different eBPF build" in e.get("Description", ""),
                           timeout=WAIT, what="255 event for the old build's records")
    count = int(lost["Description"].split()[0])
    # one exec and one exit record per marker, and whatever else ran
    assert count >= 2 * EXECS
    assert marker_creates(second, program) == []
    assert not os.path.exists(os.path.join(process_dir, "0000000000000000"))
    subprocess.run([program, "after"], cwd=cwd, check=True)
    second.wait_for(lambda e: e.get("CommandLine") == program + " after", timeout=WAIT,
                    what="ProcessCreate after the handover")
    assert second.stop() == 0
    assert not os.path.exists(pins)


def test_installed_service_across_a_crash_and_a_reinstall(tmp_path):
    """The installed service: SIGKILL it, 1,000 execs, `sysmon service
    start`; then start.sh's reinstall (`sysmon -u upgrade`,
    1,000 execs, `sysmon -accepteula -i`): every exec of both gaps is in the
    event log; `sysmon -u` removes the pins."""
    import test_service as svc

    config = tmp_path / "config.xml"
    config.write_text(CONFIG)
    svc.uninstall_everything()
    try:
        before = svc.last_record()
        r = svc.sysmon("-accepteula", "-i", str(config))
        assert r.returncode == 0, r.stdout + r.stderr
        assert os.path.exists(os.path.join(SERVICE_PINS, "process", "control"))

        def gap(word):
            for i in range(EXECS):
                subprocess.run(["/bin/true", "%s-%d" % (word, i)], check=True)

        def logged(word):
            deadline = time.monotonic() + WAIT
            while True:
                rows = svc.log_rows("SELECT CommandLine FROM events WHERE EventRecordID > ? AND "
                                    "EventID = 1 AND CommandLine LIKE ?", (before, "%" + word + "-%"))
                if len(rows) >= EXECS or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            time.sleep(0.5)
            rows = svc.log_rows("SELECT CommandLine FROM events WHERE EventRecordID > ? AND "
                                "EventID = 1 AND CommandLine LIKE ?", (before, "%" + word + "-%"))
            return sorted(row["CommandLine"] for row in rows)

        crash = "sysmon-e2e-crash-%d" % os.getpid()
        os.kill(svc.daemon_pid(), signal.SIGKILL)
        time.sleep(0.2)
        gap(crash)
        r = svc.sysmon("service", "start")
        assert r.returncode == 0, r.stdout + r.stderr
        assert logged(crash) == sorted("/bin/true %s-%d" % (crash, i) for i in range(EXECS))

        reinstall = "sysmon-e2e-reinstall-%d" % os.getpid()
        r = svc.sysmon("-u", "upgrade")
        assert r.returncode == 0, r.stdout + r.stderr
        assert os.path.exists(os.path.join(SERVICE_PINS, "process", "control"))
        gap(reinstall)
        r = svc.sysmon("-accepteula", "-i", str(config))
        assert r.returncode == 0, r.stdout + r.stderr
        assert logged(reinstall) == sorted("/bin/true %s-%d" % (reinstall, i) for i in range(EXECS))
        lost = svc.log_rows("SELECT * FROM events WHERE EventRecordID > ? AND EventID = 255",
                            (before,))
        assert lost == []

        r = svc.sysmon("-u")
        assert r.returncode == 0, r.stdout + r.stderr
        assert not os.path.exists(SERVICE_PINS)
    finally:
        svc.uninstall_everything()
