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

from conftest import SLOW, SYSMON

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
    # (a guest under TCG execs a few dozen times a second, 5 a second seen on
    # 5.10 with two other guests running: SLOW scales the floor)
    assert len(logged) > STORM_SECONDS * 10 / SLOW, "the storm was too slow to say anything"
    assert logged - seen == set(), "%d of %d ProcessCreate events never reached syslog" % (
        len(logged - seen), len(logged))


class PrivateRsyslog:
    """rsyslogd -n reading the socket SOCK (imuxsock, no system socket),
    writing every message to OUT."""

    def __init__(self, workdir, sock, out):
        os.makedirs(workdir, exist_ok=True)
        conf = os.path.join(workdir, "rsyslog.conf")
        spool = os.path.join(workdir, "spool")
        os.makedirs(spool, exist_ok=True)
        with open(conf, "w") as f:
            f.write('global(workDirectory="%s")\n'
                    'module(load="imuxsock" SysSock.Use="off")\n'
                    'input(type="imuxsock" Socket="%s")\n'
                    '*.* action(type="omfile" file="%s" template="RSYSLOG_FileFormat")\n' % (spool, sock, out))
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", conf, "-i", os.path.join(workdir, "pid")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert os.path.exists(sock), "rsyslogd made no %s" % sock

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(15)


@pytest.fixture
def private_rsyslogs():
    started = []

    def start(workdir, sock, out):
        rs = PrivateRsyslog(str(workdir), sock, out)
        started.append(rs)
        return rs

    yield start
    for rs in started:
        rs.stop()


def collected_ids(*paths):
    """EventRecordIDs of the events rsyslog wrote to PATHS, in order."""
    ids = []
    for path in paths:
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                ids += [int(m.group(1)) for m in map(RECORD_RE.search, f) if m]
    return ids


def missed_in(description):
    m = re.match(r"syslog: (\d+) events left the event log", description)
    return int(m.group(1)) if m else 0


def test_log_wrap_past_the_cursor_is_counted_exactly(tmp_path, monkeypatch, start_monitor, private_rsyslogs):
    """syslog is away while the log's size bound drops records it has not
    read: every record is either delivered or counted as missed, and the
    Error events add up to the count in the status."""
    sock = str(tmp_path / "log.sock")
    out1, out2 = str(tmp_path / "before.log"), str(tmp_path / "after.log")
    rs = private_rsyslogs(tmp_path / "rs1", sock, out1)
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, "[syslog]\nsocket = %s\ndaemon_log = none\n"
                                                        % sock))
    mon = start_monitor(config_text=CONFIG)
    for i in range(5):
        subprocess.run(["/bin/true", "wrap-before-%d" % i])
    last = log_rows(mon.log_path, "SELECT max(EventRecordID) FROM events")[0][0]
    wait_status(tmp_path, "syslog", lambda s: s["cursor"] >= last, what="first delivery")
    rs.stop()
    subprocess.run([SYSMON, "log", "set", "--max-size", "1M", "--log", mon.log_path], check=True,
                   capture_output=True)
    padding = "w" * 3000
    for i in range(1500):
        subprocess.run(["/bin/true", "wrap-%d" % i, padding])
    time.sleep(1)
    private_rsyslogs(tmp_path / "rs2", sock, out2)
    last = log_rows(mon.log_path, "SELECT max(EventRecordID) FROM events")[0][0]
    wait_status(tmp_path, "syslog", lambda s: s["cursor"] >= last and s["missed"] > 0, what="catch-up")
    mon.wait_for(lambda e: e["EventID"] == 255 and missed_in(e["Description"]), what="Error event about it")
    assert mon.stop() == 0
    status = read_status(tmp_path)["syslog"]
    first = log_rows(mon.log_path, "SELECT min(EventRecordID) FROM events")[0][0]
    assert first > 1, "the log did not wrap"
    # wait until rsyslog wrote everything delivered (the status' cursor)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = collected_ids(out1, out2)
        if got and got[-1] >= status["cursor"]:
            break
        time.sleep(0.2)
    assert got == sorted(set(got)), "delivered twice or out of order"
    # every record up to the cursor: delivered, or missed and counted
    assert len(got) + status["missed"] == status["cursor"], (len(got), status)
    missing = sorted(set(range(1, status["cursor"] + 1)) - set(got))
    assert missing == list(range(missing[0], missing[0] + status["missed"])), "not one gap"
    assert missing[-1] + 1 == min(collected_ids(out2)), "the gap is not where the log lost records"
    reported = sum(missed_in(e["Description"]) for e in mon.snapshot() if e["EventID"] == 255)
    assert reported == status["missed"]
    assert "syslog: " in mon.stderr() and "%d missed" % status["missed"] in mon.stderr()


def test_no_log_drops_are_counted_exactly(tmp_path, private_rsyslogs):
    """Without an event log a syslog that stops reading fills the bounded
    queue: every event is sent or counted as dropped, the Error events and
    the exit statistics say how many, and none claims the log has them."""
    sock, out = str(tmp_path / "log.sock"), str(tmp_path / "syslog.log")
    rs = private_rsyslogs(tmp_path / "rs", sock, out)
    outputs = write_outputs(tmp_path, "[syslog]\nsocket = %s\nqueue_size = 64k\ndaemon_log = none\n" % sock)
    config = tmp_path / "config.xml"
    config.write_text(CONFIG)
    proc = subprocess.Popen([SYSMON, "run", "--config", str(config), "--no-log", "--stdout", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, SYSMON_OUTPUTS=outputs))
    try:
        for line in proc.stderr:
            if line.startswith(b"sysmon: monitoring started"):
                break
        subprocess.run(["/bin/true", "nolog-first"])
        time.sleep(1)
        rs.proc.send_signal(signal.SIGSTOP)     # syslog reads nothing now
        for i in range(1500):
            subprocess.run(["/bin/true", "nolog-%d" % i, "n" * 500])
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
        rs.proc.send_signal(signal.SIGCONT)
    stderr = stderr.decode()
    assert proc.returncode == 0, stderr
    events = [json.loads(line) for line in stdout.decode().splitlines()]
    stopped = next(i for i, e in enumerate(events) if e["EventID"] == 4 and e["State"] == "Stopped")
    m = re.search(r"outputs: syslog: (\d+) sent, (\d+) dropped", stderr)
    assert m, stderr
    sent, dropped = int(m.group(1)), int(m.group(2))
    assert dropped > 0, "the queue never filled"
    # everything up to the Stopped event went to syslog or was dropped
    assert sent + dropped == stopped + 1, (sent, dropped, stopped + 1)
    reports = [e["Description"] for e in events if e["EventID"] == 255]
    counts = [int(re.match(r"syslog: (\d+) events not sent", d).group(1)) for d in reports
              if d.startswith("syslog: ") and "events not sent" in d]
    assert sum(counts) == dropped, reports
    assert all("in the event log" not in d for d in reports), reports
    # what was sent arrived
    deadline = time.monotonic() + 30
    while len(collected_ids(out)) < sent and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(collected_ids(out)) == sent


def test_rsyslog_rate_limiting_is_detected_and_counted(tmp_path, monkeypatch, start_monitor):
    """An rsyslog whose imuxsock rate-limits us drops messages on its side:
    the monitor reads rsyslog's own report and counts exactly what it lost."""
    sock, out = str(tmp_path / "log.sock"), str(tmp_path / "syslog.log")
    conf = tmp_path / "rsyslog.conf"
    spool = tmp_path / "spool"
    spool.mkdir()
    # 100 messages per interval; the interval is longer where execs are
    # slower (a guest under emulation makes 15 a second), so that 400
    # execs still go over
    interval = int(2 * SLOW)
    conf.write_text('global(workDirectory="%s" processInternalMessages="on")\n'
                    'module(load="imuxsock" SysSock.Name="%s" SysSock.RateLimit.Interval="%d" '
                    'SysSock.RateLimit.Burst="100")\n'
                    '*.* action(type="omfile" file="%s")\n' % (spool, sock, interval, out))
    rs = subprocess.Popen([RSYSLOGD, "-n", "-f", str(conf), "-i", str(tmp_path / "rsyslog.pid")],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, "[syslog]\nsocket = %s\ndaemon_log = %s\n"
                                                            % (sock, out)))
        mon = start_monitor(config_text=CONFIG)
        time.sleep(interval + 0.5)         # a fresh rate-limit interval
        for i in range(400):
            subprocess.run(["/bin/true", "limited-%d" % i])
        error = mon.wait_for(lambda e: e["EventID"] == 255 and "imuxsock rate limiting" in e["Description"],
                             what="Error event")
        assert "SysSock.RateLimit" in error["Description"]
        # rsyslog tells how many it dropped when the next message comes after
        # its interval: every event sent either arrived or is in its count
        for _ in range(10):
            time.sleep(interval + 0.5)
            subprocess.run(["/bin/true", "limited-after"])
            time.sleep(1.5)
            status = read_status(tmp_path)["syslog"]
            with open(out, encoding="utf-8", errors="replace") as f:
                arrived = sum(1 for line in f if " sysmon: <Event>" in line)
            if status["backlog"] == 0 and arrived + status["daemon_lost"] == status["sent"]:
                break
        assert status["rate_limited"] >= 1 and status["daemon_lost"] > 0
        assert arrived + status["daemon_lost"] == status["sent"], (arrived, status)
        assert mon.stop() == 0
    finally:
        rs.send_signal(signal.SIGTERM)
        rs.wait(15)
