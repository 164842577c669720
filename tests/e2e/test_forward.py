"""End-to-end tests of the outputs (src/output/): the real monitor feeding
real rsyslog daemons started by the tests on loopback.

- forwarding over TCP (RFC 5424, octet counting): every logged event
  arrives, parsed by rsyslog as RFC 5424, XML intact;
- an outage of the collector: everything logged meanwhile arrives, in
  order, duplicates only around the reconnect (same recordId);
- TLS (rsyslog's ossl driver, a CA and certificates made here): delivered
  encrypted; a wrong host name or an untrusted certificate is refused with
  a clear error and no plaintext is sent;
- a collector that accepts but never reads stalls neither capture nor the
  event log;
- the local syslog sink in Sysmon for Linux's form (rsyslog imuxsock on a
  private socket), with oversized events cut into valid XML.

The monitor finds its outputs.conf through $SYSMON_OUTPUTS.
"""

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT, SLOW, SYSMON

RSYSLOGD = "/usr/sbin/rsyslogd"
OSSL_DRIVER = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so"

# Logs every process start and end.
CONFIG = """<Sysmon schemaversion="4.81"><EventFiltering>
<ProcessCreate onmatch="exclude"/><ProcessTerminate onmatch="exclude"/>
</EventFiltering></Sysmon>"""

# rsyslog writes each message's RFC 5424 parts separated by tabs (the
# message comes last, so tabs in it stay part of it).
FIELDS_TEMPLATE = ('template(name="fields" type="string" string="%pri%\\t%timereported:::date-rfc3339%'
                   '\\t%hostname%\\t%app-name%\\t%procid%\\t%msgid%\\t%structured-data%\\t%msg%\\n")')

# A line of Sysmon for Linux's syslog output (the recorded samples):
# "2026-11-26T06:48:44.417752+00:00 vm sysmon: <Event>...</Event>"
SYSLOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d \S+ sysmon: (<Event>.*</Event>)$")
SAMPLES = os.path.join(os.path.dirname(ROOT), "shared", "reference", "sysmonforlinux-samples")

SD_RE = re.compile(r'^\[sysmon@32473 recordId="(\d+)" eventId="(\d+)" hostId="([0-9a-f]{32})"\]$')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("nothing listens on port %d" % port)


class Rsyslog:
    """A private rsyslogd -n with CONF_BODY, in WORKDIR."""

    def __init__(self, workdir, conf_body, name="rsyslog"):
        os.makedirs(workdir, exist_ok=True)
        self.workdir = workdir
        self.conf = os.path.join(workdir, name + ".conf")
        self.pidfile = os.path.join(workdir, name + ".pid")
        spool = os.path.join(workdir, name + ".spool")
        os.makedirs(spool, exist_ok=True)
        with open(self.conf, "w") as f:
            # a TAB in an event is written as is (rsyslog would write #011)
            f.write('global(workDirectory="%s" parser.escapeControlCharacterTab="off")\n' % spool
                    + conf_body)
        self.errors = open(os.path.join(workdir, name + ".stderr"), "w")
        self.proc = subprocess.Popen([RSYSLOGD, "-n", "-f", self.conf, "-i", self.pidfile],
                                     stdout=self.errors, stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.errors.close()


@pytest.fixture
def rsyslogs():
    started = []

    def start(workdir, conf_body, name="rsyslog"):
        rs = Rsyslog(str(workdir), conf_body, name)
        started.append(rs)
        return rs

    yield start
    for rs in started:
        rs.stop()


def tcp_collector_conf(port, out_path, tls=None):
    body = ""
    if tls:
        body += ('global(DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="%s" '
                 'DefaultNetstreamDriverCertFile="%s" DefaultNetstreamDriverKeyFile="%s")\n'
                 % (tls["ca"], tls["cert"], tls["key"]))
        body += ('module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="%s")\n'
                 % tls.get("auth", "anon"))
    else:
        body += 'module(load="imtcp")\n'
    body += 'input(type="imtcp" port="%d" address="127.0.0.1")\n' % port
    body += FIELDS_TEMPLATE + "\n"
    body += '*.* action(type="omfile" file="%s" template="fields")\n' % out_path
    return body


def write_outputs(tmp_path, body, syslog=False):
    path = tmp_path / "outputs.conf"
    text = ("status_file = %s\nstate_dir = %s\n" % (tmp_path / "status.json", tmp_path / "state"))
    if not syslog:
        text += "[syslog]\nenabled = no\n"
    path.write_text(text + body)
    return str(path)


def read_status(tmp_path):
    with open(tmp_path / "status.json") as f:
        status = json.load(f)
    return {s["name"]: s for s in status["sinks"]}


def wait_status(tmp_path, name, predicate, timeout=20, what="status"):
    timeout *= SLOW
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


def parse_collected(path):
    """The messages rsyslog wrote with FIELDS_TEMPLATE, in order."""
    messages = []
    if not os.path.exists(path):
        return messages
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 7)
            assert len(parts) == 8, "not an RFC 5424 message as rsyslog parsed it: %r" % line[:300]
            pri, timestamp, hostname, app, procid, msgid, sd, msg = parts
            m = SD_RE.match(sd)
            assert m, "structured data %r" % sd
            messages.append({"pri": int(pri), "time": timestamp, "hostname": hostname, "app": app,
                             "procid": procid, "msgid": msgid, "record_id": int(m.group(1)),
                             "event_id": int(m.group(2)), "host_id": m.group(3), "msg": msg})
    return messages


def log_record_ids(mon):
    db = sqlite3.connect("file:%s?mode=ro" % mon.log_path, uri=True)
    try:
        return [r[0] for r in db.execute("SELECT EventRecordID FROM events ORDER BY 1")]
    finally:
        db.close()


def wait_collected(paths, wanted_ids, timeout=30):
    """Wait until the files in PATHS together hold every id in WANTED_IDS."""
    deadline = time.monotonic() + timeout
    while True:
        got = set()
        for p in paths:
            got |= {m["record_id"] for m in parse_collected(p)}
        missing = set(wanted_ids) - got
        if not missing:
            return
        if time.monotonic() > deadline:
            pytest.fail("%d of %d logged events never arrived (first missing: %s)"
                        % (len(missing), len(wanted_ids), sorted(missing)[:10]))
        time.sleep(0.2)


def xml_text(value):
    """VALUE as the XML formatter writes it: control characters XML cannot
    carry become the text \\xNN (JSON carries them escaped)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", lambda m: "\\x%02x" % ord(m.group()), value)


def check_message(message, by_id):
    """One collected message: RFC 5424 parts as Sysmon's, XML intact."""
    assert message["app"] == "sysmon"
    assert message["procid"] == "-" and message["msgid"] == "-"
    assert message["hostname"] == socket.gethostname()
    assert message["pri"] == (11 if message["event_id"] == 255 else 14)   # user.err / user.info
    root = ET.fromstring(message["msg"])
    system = root.find("System")
    assert int(system.find("EventRecordID").text) == message["record_id"]
    assert int(system.find("EventID").text) == message["event_id"]
    event = by_id.get(message["record_id"])
    if event is not None:
        # the same values the monitor printed (JSON) for this record
        data = {d.get("Name"): d.text or "" for d in root.find("EventData")}
        for name, value in data.items():
            full = xml_text(event[name])
            # equal, or cut to fit the message size ("..." at the end)
            cut = value.endswith("...") and full.startswith(value[:-3]) and len(full) > len(value) - 3
            assert full == value or cut, (name, event[name], value)


def file_workload(marker, count, extra=()):
    for i in range(count):
        subprocess.run(["/bin/echo", "%s-%d" % (marker, i), 'a&b<c>"q\'', *extra],
                       stdout=subprocess.DEVNULL, check=True)


def forward_to_tcp_collector(tmp_path, monkeypatch, rsyslogs):
    """A real rsyslog collecting TCP syslog, and outputs.conf with one
    forwarder "central" to it: the collector's port and output file."""
    port = free_port()
    out = str(tmp_path / "collected.log")
    rsyslogs(tmp_path / "rs", tcp_collector_conf(port, out))
    wait_port(port)
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward central]
host = 127.0.0.1
port = %d
reconnect_min = 200ms
reconnect_max = 1s
""" % port))
    return port, out


def test_forward_tcp_every_event(tmp_path, monkeypatch, start_monitor, rsyslogs):
    port, out = forward_to_tcp_collector(tmp_path, monkeypatch, rsyslogs)
    mon = start_monitor(config_text=CONFIG)
    marker = "fwd-" + uuid.uuid4().hex[:8]
    file_workload(marker, 40)
    # one event far over rsyslog's 8 KB message limit: cut values, valid XML
    subprocess.run(["/bin/echo", marker + "-big", "<&>" * 6000], stdout=subprocess.DEVNULL, check=True)
    ours = mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=41,
                        what="workload")
    last = max(e["EventRecordID"] for e in ours)
    # (other processes on the machine keep the log growing: wait for ours)
    status = wait_status(tmp_path, "central", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                         what="caught-up status")
    assert status["target"] == "tcp://127.0.0.1:%d" % port
    # `sysmon status` finds the status file through the same outputs.conf
    shown = subprocess.run([SYSMON, "status"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "monitor: running (pid %d)" % mon.pid in shown.stdout
    assert "forward central: connected, tcp://127.0.0.1:%d" % port in shown.stdout
    assert re.search(r"cursor=\d+ .*backlog=\d+", shown.stdout)
    assert mon.stop() == 0
    stopped = subprocess.run([SYSMON, "status"], capture_output=True, text=True)
    assert stopped.returncode == 1 and "monitor: not running" in stopped.stdout

    ids = log_record_ids(mon)
    wait_collected([out], ids)
    messages = parse_collected(out)
    received = [m["record_id"] for m in messages]
    assert received == sorted(set(received)), "out of order or duplicated without a reconnect"
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    big = None
    for m in messages:
        if marker + "-big" in m["msg"]:
            big = m
            continue
        check_message(m, by_id)
    assert big is not None
    assert len(big["msg"].encode()) < 8192
    root = ET.fromstring(big["msg"])
    cmd = [d.text for d in root.find("EventData") if d.get("Name") == "CommandLine"][0]
    assert cmd.startswith("/bin/echo " + marker + "-big <&><&>") and cmd.endswith("...")
    # the cursor was persisted at the last record
    cursor = (tmp_path / "state" / "forward-central.cursor").read_text()
    assert "record_id=%d\n" % ids[-1] in cursor


def test_forward_outage(tmp_path, monkeypatch, start_monitor, rsyslogs):
    port = free_port()
    out1, out2 = str(tmp_path / "before.log"), str(tmp_path / "after.log")
    rs1 = rsyslogs(tmp_path / "rs1", tcp_collector_conf(port, out1))
    wait_port(port)
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward central]
host = 127.0.0.1
port = %d
reconnect_min = 200ms
reconnect_max = 1s
""" % port))
    mon = start_monitor(config_text=CONFIG)
    marker = "outage-" + uuid.uuid4().hex[:8]
    stop_workload = threading.Event()

    def workload():
        i = 0
        while not stop_workload.is_set():
            subprocess.run(["/bin/true", "%s-%d" % (marker, i)])
            i += 1
            time.sleep(0.005)

    worker = threading.Thread(target=workload)
    worker.start()
    try:
        wait_status(tmp_path, "central", lambda s: s["events_sent"] > 0, what="first delivery")
        confirmed_before = read_status(tmp_path)["central"]["cursor"]
        rs1.stop()
        outage_start = log_record_ids(mon)[-1]
        # The collector is away until the forwarder has failed to reach it
        # and the workload has logged 300 more records.
        during = wait_status(tmp_path, "central",
                             lambda s: s["state"] != "connected" and s["failures"] >= 1
                             and len([i for i in log_record_ids(mon) if i > outage_start]) > 300,
                             timeout=60, what="outage status")
        assert during["backlog"] > 0 and during["failures"] >= 1
        rsyslogs(tmp_path / "rs2", tcp_collector_conf(port, out2))
        # The workload goes on while the forwarder reconnects and sends.
        wait_status(tmp_path, "central", lambda s: s["state"] == "connected" and s["cursor"] > outage_start,
                    what="delivery after the outage")
    finally:
        stop_workload.set()
        worker.join()
    last = log_record_ids(mon)[-1]
    wait_status(tmp_path, "central", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                what="caught-up status")
    assert mon.stop() == 0

    ids = log_record_ids(mon)
    logged_during_outage = [i for i in ids if i > outage_start]
    assert len(logged_during_outage) > 300, "the workload did not run during the outage"
    wait_collected([out1, out2], ids)
    first = [m["record_id"] for m in parse_collected(out1)]
    second = [m["record_id"] for m in parse_collected(out2)]
    # each connection delivers in EventRecordID order, without repeats
    assert first == sorted(set(first)) and second == sorted(set(second))
    # none missing
    assert set(ids) <= set(first) | set(second)
    # duplicates only around the reconnect: the tail of the first connection
    duplicates = set(first) & set(second)
    assert all(i in duplicates for i in first if i >= second[0])
    assert second[0] <= first[-1] + 1
    # and nothing that was confirmed delivered before the outage is sent again
    assert not duplicates or min(duplicates) > confirmed_before
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    for m in parse_collected(out1) + parse_collected(out2):
        check_message(m, by_id)
    # the monitor reported the outage as an Error event, which was forwarded too
    errors = [e for e in mon.snapshot() if e["EventID"] == 255 and "forwarder central" in e["Description"]]
    assert errors, "no Error event about the lost collector"
    assert any(m["event_id"] == 255 and m["pri"] == 11 for m in parse_collected(out2))


def make_certificates(directory):
    """A test CA with a server certificate for collector.test and
    127.0.0.1, and a second, unrelated CA."""
    d = str(directory)
    os.makedirs(d, exist_ok=True)

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=sysmon test CA")
    run("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.pem", "-days", "2",
        "-subj", "/CN=unrelated CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=collector.test")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:collector.test,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    run("req", *ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=sysmon-client")
    with open(os.path.join(d, "client.ext"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    run("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "client.pem", "-days", "2", "-extfile", "client.ext")
    return {n: os.path.join(d, n) for n in ("ca.pem", "other.pem", "server.pem", "server.key",
                                             "client.pem", "client.key")}


class CapturingProxy:
    """A TCP proxy to TARGET_PORT that records what the client sends."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.sent = bytearray()
        self.lock = threading.Lock()
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    with self.lock:
                        self.sent += data
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def captured(self):
        with self.lock:
            return bytes(self.sent)

    def close(self):
        self.server.close()


@pytest.mark.skipif(not os.path.exists(OSSL_DRIVER), reason="rsyslog-openssl is not installed (make deps)")
def test_forward_tls(tmp_path, monkeypatch, start_monitor, rsyslogs):
    certs = make_certificates(tmp_path / "pki")
    port = free_port()
    out = str(tmp_path / "collected.log")
    rsyslogs(tmp_path / "rs", tcp_collector_conf(port, out, tls={"ca": certs["ca.pem"],
                                                                 "cert": certs["server.pem"],
                                                                 "key": certs["server.key"]}))
    wait_port(port)
    proxies = {name: CapturingProxy(port) for name in ("good", "wrongname", "untrusted")}
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward good]
protocol = tls
host = 127.0.0.1
port = {good}
server_name = collector.test
ca_file = {ca}
reconnect_max = 1s

[forward wrongname]
protocol = tls
host = 127.0.0.1
port = {wrongname}
server_name = elsewhere.test
ca_file = {ca}
reconnect_max = 1s

[forward untrusted]
protocol = tls
host = 127.0.0.1
port = {untrusted}
server_name = collector.test
ca_file = {other}
reconnect_max = 1s
""".format(ca=certs["ca.pem"], other=certs["other.pem"],
           **{n: p.port for n, p in proxies.items()})))
    try:
        mon = start_monitor(config_text=CONFIG)
        marker = "tls-" + uuid.uuid4().hex[:8]
        file_workload(marker, 20)
        mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=20, what="workload")
        last = log_record_ids(mon)[-1]
        good = wait_status(tmp_path, "good", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                           what="caught-up status")
        assert good["target"] == "tls://127.0.0.1:%d" % proxies["good"].port
        wrong = wait_status(tmp_path, "wrongname", lambda s: s["last_error"], what="TLS error")
        untrusted = wait_status(tmp_path, "untrusted", lambda s: s["last_error"], what="TLS error")
        assert mon.stop() == 0
    finally:
        for p in proxies.values():
            p.close()

    # refused with a clear error naming the reason
    assert "certificate is refused" in wrong["last_error"]
    assert "hostname mismatch" in wrong["last_error"].lower()
    assert "elsewhere.test" in wrong["last_error"]
    assert wrong["state"] != "connected" and wrong["events_sent"] == 0
    assert "certificate is refused" in untrusted["last_error"]
    assert re.search(r"self[- ]signed|unable to get local issuer", untrusted["last_error"])
    assert untrusted["events_sent"] == 0
    descriptions = [e["Description"] for e in mon.snapshot() if e["EventID"] == 255]
    assert any("forwarder wrongname" in d and "certificate is refused" in d for d in descriptions)
    assert any("forwarder untrusted" in d and "certificate is refused" in d for d in descriptions)
    # no plaintext on any wire, and none from the refused ones at all
    for name, proxy in proxies.items():
        wire = proxy.captured()
        assert b"<Event>" not in wire and b"sysmon@32473" not in wire, name
    ids = log_record_ids(mon)
    wait_collected([out], ids)
    messages = parse_collected(out)
    assert [m["record_id"] for m in messages] == ids
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    for m in messages:
        check_message(m, by_id)


def test_collector_that_never_reads(tmp_path, monkeypatch, start_monitor):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def accept():
        while True:
            try:
                held.append(server.accept()[0])   # and never read
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward stuck]
host = 127.0.0.1
port = %d
send_timeout = 3s
reconnect_min = 500ms
reconnect_max = 1s
""" % server.getsockname()[1]))
    try:
        mon = start_monitor(config_text=CONFIG)
        marker = "stuck-" + uuid.uuid4().hex[:8]
        padding = "p" * 3000
        count = 2000
        for i in range(count):
            subprocess.run(["/bin/true", "%s-%d" % (marker, i), padding])
        # capture keeps up: every process is logged and printed promptly
        mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=count,
                     timeout=15, what="workload events")
        status = wait_status(tmp_path, "stuck", lambda s: "accepted no data" in s["last_error"],
                             what="send timeout")
        assert status["backlog"] > 0
        db = sqlite3.connect("file:%s?mode=ro" % mon.log_path, uri=True)
        try:
            deadline = time.monotonic() + 5
            while True:
                logged = db.execute("SELECT count(*) FROM events WHERE CommandLine LIKE ?",
                                    ("%" + marker + "%",)).fetchone()[0]
                if logged == count or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            db.close()
        assert logged == count, "the event log fell behind"
        stop_started = time.monotonic()
        assert mon.stop() == 0
        assert time.monotonic() - stop_started < 10, "a stuck collector held up the stop"
    finally:
        server.close()
        for c in held:
            c.close()


def test_local_syslog_as_sysmon_for_linux(tmp_path, monkeypatch, start_monitor, rsyslogs):
    sock = str(tmp_path / "log.sock")
    lines, kinds = str(tmp_path / "syslog.log"), str(tmp_path / "kinds.log")
    rsyslogs(tmp_path / "rs", """
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="%s")
template(name="kinds" type="string" string="%%syslogfacility-text%%.%%syslogseverity-text%% %%syslogtag%%|%%msg%%\\n")
*.* action(type="omfile" file="%s" template="RSYSLOG_FileFormat")
*.* action(type="omfile" file="%s" template="kinds")
""" % (sock, lines, kinds))
    deadline = time.monotonic() + 10
    while not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
    # a forwarder to a closed port makes the monitor log an Error event
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[syslog]
socket = %s
[forward nobody]
host = 127.0.0.1
port = %d
""" % (sock, free_port()), syslog=True))
    mon = start_monitor(config_text=CONFIG)
    marker = "local-" + uuid.uuid4().hex[:8]
    file_workload(marker, 10)
    subprocess.run(["/bin/echo", marker + "-big", "\u00e9<&>" * 5000], stdout=subprocess.DEVNULL, check=True)
    mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=11, what="workload")
    mon.wait_for(lambda e: e["EventID"] == 255, what="Error event")
    time.sleep(1.5)
    assert mon.stop() == 0
    time.sleep(1)

    # The same line shape as the recorded Sysmon for Linux samples
    # (test_syslog_line_shape_is_the_samples checks the pattern against them).
    with open(lines, encoding="utf-8") as f:
        logged = [line.rstrip("\n") for line in f]
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    seen = set()
    big = None
    for line in logged:
        m = SYSLOG_LINE_RE.match(line)
        assert m, line[:200]
        root = ET.fromstring(m.group(1))
        record_id = int(root.find("System").find("EventRecordID").text)
        seen.add(record_id)
        if marker + "-big" in m.group(1):
            big = m.group(1)
    assert set(by_id) <= seen, "events missing from syslog"
    assert big is not None and len(big.encode()) < 8192
    # facility user, severity info, err for Error events; tag without pid
    with open(kinds, encoding="utf-8") as f:
        for line in f:
            head, msg = line.split("|", 1)
            event_id = int(ET.fromstring(msg).find("System").find("EventID").text)
            assert head == ("user.err sysmon:" if event_id == 255 else "user.info sysmon:"), head


@pytest.mark.skipif(not os.path.exists(OSSL_DRIVER), reason="rsyslog-openssl is not installed (make deps)")
def test_syslog_line_shape_is_the_samples():
    """SYSLOG_LINE_RE, which the local syslog test holds our lines to, is
    the shape of every line that Sysmon for Linux wrote in the samples."""
    if not os.path.isdir(SAMPLES):
        pytest.skip("no recorded samples at %s (shared/ beside the repository)" % SAMPLES)
    logs = sorted(name for name in os.listdir(SAMPLES) if name.endswith(".log"))
    assert logs, SAMPLES
    for name in logs:
        with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip()]
        assert lines, name
        for line in lines:
            assert SYSLOG_LINE_RE.match(line), "%s: %s" % (name, line[:200])


def test_forward_tls_client_certificate(tmp_path, monkeypatch, start_monitor, rsyslogs):
    """A collector that demands a client certificate gets ours; without
    one, nothing is delivered."""
    certs = make_certificates(tmp_path / "pki")
    tls = {"ca": certs["ca.pem"], "cert": certs["server.pem"], "key": certs["server.key"],
           "auth": "x509/certvalid"}
    port_with, port_without = free_port(), free_port()
    out_with, out_without = str(tmp_path / "with.log"), str(tmp_path / "without.log")
    rsyslogs(tmp_path / "rs-with", tcp_collector_conf(port_with, out_with, tls=tls))
    rsyslogs(tmp_path / "rs-without", tcp_collector_conf(port_without, out_without, tls=tls))
    wait_port(port_with)
    wait_port(port_without)
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward withcert]
protocol = tls
host = 127.0.0.1
port = {p1}
server_name = collector.test
ca_file = {ca}
cert_file = {cert}
key_file = {key}
reconnect_max = 1s

[forward nocert]
protocol = tls
host = 127.0.0.1
port = {p2}
server_name = collector.test
ca_file = {ca}
reconnect_max = 1s
""".format(p1=port_with, p2=port_without, ca=certs["ca.pem"], cert=certs["client.pem"],
           key=certs["client.key"])))
    mon = start_monitor(config_text=CONFIG)
    marker = "cert-" + uuid.uuid4().hex[:8]
    file_workload(marker, 10)
    mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=10, what="workload")
    last = log_record_ids(mon)[-1]
    wait_status(tmp_path, "withcert", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                what="caught-up status")
    refused = wait_status(tmp_path, "nocert", lambda s: s["failures"] >= 2, what="refusals")
    assert mon.stop() == 0
    # "TLS connection failed: ...: tlsv13 alert certificate required", or a
    # reset when the collector's close comes first
    assert refused["cursor"] == 0 and refused["last_error"]
    wait_collected([out_with], log_record_ids(mon))
    assert parse_collected(out_without) == []


def test_outputs_reload_on_sighup(tmp_path, monkeypatch, start_monitor, rsyslogs):
    """outputs.conf changes take effect live on SIGHUP; an invalid file
    keeps the running outputs and is reported."""
    port = free_port()
    out = str(tmp_path / "collected.log")
    rsyslogs(tmp_path / "rs", tcp_collector_conf(port, out))
    wait_port(port)
    conf = write_outputs(tmp_path, "")
    monkeypatch.setenv("SYSMON_OUTPUTS", conf)
    mon = start_monitor(config_text=CONFIG)
    time.sleep(1.5)
    assert read_status(tmp_path) == {}
    with open(conf, "a") as f:
        f.write("[forward late]\nhost = 127.0.0.1\nport = %d\nstart = oldest\n" % port)
    mon.proc.send_signal(signal.SIGHUP)
    marker = "reload-" + uuid.uuid4().hex[:8]
    file_workload(marker, 5)
    mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=5, what="workload")
    last = log_record_ids(mon)[-1]
    wait_status(tmp_path, "late", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                what="forwarder added by the reload")
    # a broken file: the forwarder keeps running, an Error event says why
    with open(conf, "a") as f:
        f.write("[forward broken]\nport = 1\n")
    mon.proc.send_signal(signal.SIGHUP)
    error = mon.wait_for(lambda e: e["EventID"] == 255 and e["ID"] == "OutputsReload", what="reload error")
    assert "has no host" in error["Description"] and "outputs.conf:" in error["Description"]
    file_workload(marker + "-after", 3)
    mon.wait_for(lambda e: e["EventID"] == 1 and marker + "-after" in e["CommandLine"], count=3,
                 what="workload")
    last = log_record_ids(mon)[-1]
    status = wait_status(tmp_path, "late", lambda s: s["cursor"] >= last, what="forwarder kept")
    assert status["connects"] == 1, "the unchanged forwarder was reconnected"
    assert mon.stop() == 0
    # everything from the oldest record on (start = oldest) arrived
    wait_collected([out], log_record_ids(mon))


def test_outage_longer_than_the_log_keeps(tmp_path, monkeypatch, start_monitor, rsyslogs):
    """While the collector is away the log's size bound drops records: the
    forwarder sends what is left, counts and reports the rest."""
    port = free_port()
    out1, out2 = str(tmp_path / "before.log"), str(tmp_path / "after.log")
    rs1 = rsyslogs(tmp_path / "rs1", tcp_collector_conf(port, out1))
    wait_port(port)
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[forward central]
host = 127.0.0.1
port = %d
reconnect_min = 200ms
reconnect_max = 1s
""" % port))
    mon = start_monitor(config_text=CONFIG)
    file_workload("bound-" + uuid.uuid4().hex[:8], 5)
    wait_status(tmp_path, "central", lambda s: s["cursor"] > 0, what="first delivery")
    rs1.stop()
    subprocess.run([SYSMON, "log", "set", "--max-size", "1M", "--log", mon.log_path], check=True,
                   capture_output=True)
    padding = "b" * 3000
    for i in range(1500):
        subprocess.run(["/bin/true", "bound-%d" % i, padding])
    time.sleep(1)
    rsyslogs(tmp_path / "rs2", tcp_collector_conf(port, out2))
    status = wait_status(tmp_path, "central", lambda s: s["skipped"] > 0, what="skipped count")
    last = log_record_ids(mon)[-1]
    wait_status(tmp_path, "central", lambda s: s["cursor"] >= last, what="caught-up status")
    error = mon.wait_for(lambda e: e["EventID"] == 255 and "dropped from the event log" in e["Description"],
                         what="Error event about dropped records")
    assert mon.stop() == 0
    assert "forwarder central" in error["Description"]
    # what the log still holds arrived, each connection in order
    wait_collected([out1, out2], log_record_ids(mon))
    second = [m["record_id"] for m in parse_collected(out2)]
    assert second == sorted(set(second))
    first = [m["record_id"] for m in parse_collected(out1)]
    gap = second[0] - (max(first) if first else 0) - 1
    assert gap > 0 and status["skipped"] >= gap


def test_json_lines_file_rotation_and_ecs(tmp_path, monkeypatch, start_monitor):
    plain, ecs = tmp_path / "events.json", tmp_path / "events.ecs.json"
    monkeypatch.setenv("SYSMON_OUTPUTS", write_outputs(tmp_path, """
[json plain]
path = %s
max_size = 64k
keep = 100
[json ecs]
path = %s
ecs = yes
""" % (plain, ecs)))
    mon = start_monitor(config_text=CONFIG)
    marker = "json-" + uuid.uuid4().hex[:8]
    file_workload(marker, 60, extra=["x" * 1500])
    mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=60, what="workload")
    assert mon.stop() == 0

    # every event, once, whole lines, across the rotated files (oldest first)
    files = sorted(tmp_path.glob("events.json.*"), key=lambda p: -int(p.suffix[1:])) + [plain]
    assert len(files) > 2, "no rotation"
    records = []
    for path in files:
        assert path.stat().st_size <= 64 * 1024
        with open(path, encoding="utf-8") as f:
            records += [json.loads(line) for line in f]
    ids = [r["EventRecordID"] for r in records]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert set(e["EventRecordID"] for e in mon.snapshot()) <= set(ids)
    by_id = {r["EventRecordID"]: r for r in records}
    for e in mon.snapshot():
        assert by_id[e["EventRecordID"]] == e   # the same flat JSON as --stdout json

    with open(ecs, encoding="utf-8") as f:
        ecs_records = [json.loads(line) for line in f]
    ours = [r for r in ecs_records if r["event"]["code"] == "1" and marker in r["process"]["command_line"]]
    assert len(ours) == 60
    r = ours[0]
    assert r["process"]["executable"] == "/usr/bin/echo" and r["process"]["name"] == "echo"
    assert isinstance(r["process"]["pid"], int) and r["event"]["provider"] == "Linux-Sysmon"
    assert r["process"]["hash"]["sha256"] and r["host"]["name"] == socket.gethostname()
    assert r["@timestamp"].endswith("Z") and "sysmon" in r


def test_json_lines_stdout(tmp_path):
    conf = write_outputs(tmp_path, "[json out]\npath = -\necs = yes\n")
    config = tmp_path / "config.xml"
    config.write_text(CONFIG)
    env = dict(os.environ, SYSMON_OUTPUTS=conf)
    proc = subprocess.Popen([SYSMON, "run", "--config", str(config), "--log", str(tmp_path / "events.db")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        for line in proc.stderr:                   # wait until it monitors
            if line.startswith(b"sysmon: monitoring started"):
                break
        marker = "stdout-" + uuid.uuid4().hex[:8]
        file_workload(marker, 5)
        time.sleep(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert sum(1 for r in lines if r["event"]["code"] == "1" and marker in r["process"]["command_line"]) == 5
