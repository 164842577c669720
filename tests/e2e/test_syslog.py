"""End-to-end tests of the outputs as consumers of the event log
(src/output/consumer.c): the real monitor, the real rsyslogd.

- an exec storm at the machine's full rate with Debian's own rsyslog
  configuration (/etc/rsyslog.conf, imuxsock on /dev/log): every
  ProcessCreate in the event log is in /var/log/syslog too;
- the event log wraps past a stopped consumer's cursor: the exact number
  of events it missed is reported (Error event, `sysmon status`);
- without an event log (--no-log) a syslog that does not read drops from
  a bounded queue, and every drop is counted, at stop too.

SYSMON_STORM_SECONDS sets the storm's length (10 s by default, for CI; the
issue's figure is for 30 s).
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import time
import uuid

import pytest

from conftest import SYSMON

RSYSLOGD = "/usr/sbin/rsyslogd"
SYSTEM_SYSLOG = "/var/log/syslog"
STORM_SECONDS = int(os.environ.get("SYSMON_STORM_SECONDS", "10"))

# Logs process starts only: the storm's events.
CONFIG = """<Sysmon schemaversion="4.90"><EventFiltering>
<ProcessCreate onmatch="exclude"/>
</EventFiltering></Sysmon>"""

RECORD_RE = re.compile(r"<EventRecordID>(\d+)</EventRecordID>")
EVENT_ID_RE = re.compile(r"<EventID>(\d+)</EventID>")


def write_outputs(tmp_path, body):
    path = tmp_path / "outputs.conf"
    path.write_text("status_file = %s\nstate_dir = %s\n" % (tmp_path / "status.json", tmp_path / "state")
                    + body)
    return str(path)


def read_status(tmp_path):
    with open(tmp_path / "status.json") as f:
        return {s["name"]: s for s in json.load(f)["sinks"]}


def wait_status(tmp_path, name, predicate, timeout=60, what="status"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = read_status(tmp_path).get(name)
        except (OSError, ValueError):
            last = None
        if last and predicate(last):
            return last
        time.sleep(0.2)
    pytest.fail("no %s of %s after %ss; last: %r" % (what, name, timeout, last))


def log_rows(log_path, sql):
    db = sqlite3.connect("file:%s?mode=ro" % log_path, uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def rsyslog_running():
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/comm" % pid) as f:
                    if f.read().strip() == "rsyslogd":
                        return True
            except OSError:
                pass
    return False


@pytest.fixture
def system_rsyslog(tmp_path):
    """The system's rsyslogd with Debian's default configuration, started
    here (and stopped after) unless one runs already."""
    proc = None
    if not rsyslog_running():
        proc = subprocess.Popen([RSYSLOGD, "-n", "-f", "/etc/rsyslog.conf", "-i", str(tmp_path / "rsyslog.pid")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not os.path.exists("/dev/log") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.path.exists("/dev/log"), "rsyslogd made no /dev/log"
    yield
    if proc:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def syslog_records(marker, start_offset):
    """EventRecordIDs of the ProcessCreate events naming MARKER that rsyslog
    wrote to /var/log/syslog after START_OFFSET."""
    ids = set()
    with open(SYSTEM_SYSLOG, "rb") as f:
        f.seek(start_offset)
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if " sysmon: <Event>" not in line or marker not in line:
                continue
            if EVENT_ID_RE.search(line).group(1) == "1":
                ids.add(int(RECORD_RE.search(line).group(1)))
    return ids


def storm(marker, seconds, workers=2):
    """exec as fast as WORKERS shells can for SECONDS."""
    script = 'i=0; while [ $SECONDS -lt %d ]; do /bin/true %s-$i; i=$((i+1)); done' % (seconds, marker)
    procs = [subprocess.Popen(["/bin/bash", "-c", script]) for _ in range(workers)]
    for p in procs:
        p.wait()


def test_syslog_keeps_up_with_an_exec_storm(tmp_path, monkeypatch, start_monitor, system_rsyslog):
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, "[syslog]\nenabled = yes\n"))
    start_offset = os.path.getsize(SYSTEM_SYSLOG) if os.path.exists(SYSTEM_SYSLOG) else 0
    mon = start_monitor(config_text=CONFIG)
    marker = "storm-" + uuid.uuid4().hex[:8]
    started = time.monotonic()
    storm(marker, STORM_SECONDS)
    elapsed = time.monotonic() - started
    pattern = "%%%s-%%" % marker
    # the syslog consumer catches up with the log, then the monitor stops
    last = log_rows(mon.log_path, "SELECT max(EventRecordID) FROM events")[0][0]
    status = wait_status(tmp_path, "syslog", lambda s: s.get("cursor", 0) >= last or s.get("dropped", 0) > 0,
                         timeout=120, what="caught-up syslog")
    assert mon.stop() == 0
    logged = {r[0] for r in log_rows(mon.log_path, "SELECT EventRecordID FROM events WHERE EventID = 1 "
                                     "AND CommandLine LIKE '%s'" % pattern)}
    # rsyslog writes asynchronously: wait until the count stays put
    seen, previous = set(), -1
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = syslog_records(marker, start_offset)
        if len(seen) == previous and seen >= logged:
            break
        previous = len(seen)
        time.sleep(1)
    final = json.load(open(tmp_path / "status.json"))
    sink = {s["name"]: s for s in final["sinks"]}["syslog"]
    print("storm: %d ProcessCreate in %.1f s (%.0f/s), %d in %s, %d missing; status %r"
          % (len(logged), elapsed, len(logged) / elapsed, len(seen & logged), SYSTEM_SYSLOG,
             len(logged - seen), sink))
    assert len(logged) > STORM_SECONDS * 50, "the storm was too slow to say anything"
    assert logged - seen == set(), "%d of %d ProcessCreate events never reached syslog" % (
        len(logged - seen), len(logged))
