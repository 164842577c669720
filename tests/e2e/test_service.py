"""End-to-end tests of the installed service: `sysmon -accepteula -i`,
`sysmon -c`, `sysmon -u` and `sysmon service`, as root, into the real system
paths (/usr/bin/sysmon, /etc/sysmon, /etc/init.d/sysmon, /run/sysmon.pid).

Every test starts and ends with `sysmon -u force`, so a failure leaves
nothing installed for the tests that run later.  Events are read from the
service's event log (/var/log/sysmon/events.db) with SQLite, counting only
records newer than those present when the test began; the processes and
connections the tests make carry markers (a unique command-line word, the
client's own source port) that tell them apart from whatever else runs.
"""
import errno
import hashlib
import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import SLOW

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSMON = os.path.join(REPO, "build", "sysmon")
TUTORIAL = os.path.realpath(os.path.join(REPO, "..", "shared", "configs", "tutorial", "tutorial.xml"))

BIN = "/usr/bin/sysmon"
CONFIG_DIR = "/etc/sysmon"
CONFIG = "/etc/sysmon/config.xml"
PID_FILE = "/run/sysmon.pid"
INIT_SCRIPT = "/etc/init.d/sysmon"
LOG_DIR = "/var/log/sysmon"
LOG = "/var/log/sysmon/events.db"
WAIT = 10.0

# The tutorial's rules, plus port 8080 and, for ProcessCreate, only command
# lines with the word KEEP: applied live with -c in the middle of a test.
CHANGED = """<Sysmon schemaversion="4.22">
  <HashAlgorithms>*</HashAlgorithms>
  <EventFiltering>
    <ProcessCreate onmatch="include">
      <CommandLine condition="contains">{keep}</CommandLine>
    </ProcessCreate>
    <ProcessTerminate onmatch="include" />
    <NetworkConnect onmatch="include">
      <DestinationPort>443</DestinationPort>
      <DestinationPort>80</DestinationPort>
      <DestinationPort>8080</DestinationPort>
    </NetworkConnect>
  </EventFiltering>
</Sysmon>
"""

BROKEN = """<Sysmon schemaversion="4.22">
  <EventFiltering>
    <NetworkConnect onmatch="include">
      <NoSuchField>443</NoSuchField>
    </NetworkConnect>
  </EventFiltering>
</Sysmon>
"""


def sysmon(*args, binary=SYSMON, user=None, timeout=60):
    cmd = [binary] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def uninstall_everything():
    """What every test starts and ends with: nothing of the service left."""
    for binary in (SYSMON, BIN):
        if os.access(binary, os.X_OK):
            sysmon("-u", "force", binary=binary)
            break


@pytest.fixture
def clean_system():
    uninstall_everything()
    try:
        yield
    finally:
        uninstall_everything()


def last_record():
    rows = log_rows("SELECT max(EventRecordID) AS id FROM events", ())
    return (rows[0]["id"] or 0) if rows else 0


def log_rows(sql, params):
    if not os.path.exists(LOG):
        return []
    con = sqlite3.connect("file:%s?mode=ro" % LOG, uri=True, timeout=10)
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        con.close()


def events_after(record_id, event_id=None):
    if event_id is None:
        return log_rows("SELECT * FROM events WHERE EventRecordID > ? ORDER BY EventRecordID",
                        (record_id,))
    return log_rows("SELECT * FROM events WHERE EventRecordID > ? AND EventID = ? "
                    "ORDER BY EventRecordID", (record_id, event_id))


def wait_event(after, predicate, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in events_after(after) if predicate(e)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail("no %s in %s after %ss" % (what, LOG, timeout))
        time.sleep(0.02)


class Listener:
    """A TCP listener on 127.0.0.1:PORT (retrying while another test holds
    the port) that accepts and closes connections in a thread."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.sock.bind(("127.0.0.1", port))
                break
            except OSError as e:
                if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.sock.listen(16)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        # close() alone leaves the port listening while the thread waits in
        # accept(): shutdown wakes it, then the port is free for later tests
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)


def connect(port):
    """Connect to 127.0.0.1:PORT; returns the client's source port."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        return c.getsockname()[1]


def is_connection(event, source_port, port):
    return (event["EventID"] == 3 and str(event["SourcePort"]) == str(source_port)
            and str(event["DestinationPort"]) == str(port))


def run_marked(word):
    subprocess.run(["/bin/true", word], check=True)


def is_process(event, word):
    return event["EventID"] == 1 and word in (event["CommandLine"] or "")


def daemon_pid():
    with open(PID_FILE) as f:
        return int(f.read().split()[0])


def installed_paths():
    return [p for p in (BIN, CONFIG_DIR, INIT_SCRIPT, PID_FILE) if os.path.exists(p)]


def rc_links():
    return [os.path.join(d, n) for d in ("/etc/rc%s.d" % r for r in "0123456S")
            if os.path.isdir(d) for n in os.listdir(d) if n.endswith("sysmon")]


def test_unprivileged_is_refused(clean_system):
    # The program and the config go where nobody can reach them (the
    # repository and pytest's tmp_path may be private to root).
    nobody = 65534
    shared = tempfile.mkdtemp(prefix="sysmon-e2e-")
    try:
        os.chmod(shared, 0o755)
        program = os.path.join(shared, "sysmon")
        shutil.copy(SYSMON, program)
        broken = os.path.join(shared, "broken.xml")
        with open(broken, "w") as f:
            f.write(BROKEN)
        os.chmod(broken, 0o644)
        tutorial = os.path.join(shared, "tutorial.xml")
        shutil.copy(TUTORIAL, tutorial)
        os.chmod(tutorial, 0o644)
        for args in (["-accepteula", "-i"], ["-i", tutorial], ["-c"], ["-c", "--"], ["-u"],
                     ["-u", "force"], ["service", "start"]):
            r = sysmon(*args, binary=program, user=nobody)
            # 228 as Sysmon; the init script's actions use the LSB status 4
            assert r.returncode == (4 if args[0] == "service" else 228), (args, r.stdout, r.stderr)
            assert "You need to run Sysmon as root" in r.stderr, (args, r.stderr)
        assert installed_paths() == []
        # A bad config is reported to anyone, before the root check (as Sysmon).
        r = sysmon("-i", broken, binary=program, user=nobody)
        assert r.returncode == 87 and "%s:4:" % broken in r.stderr, r.stderr
    finally:
        shutil.rmtree(shared)


def test_usage_lists_every_switch_and_command():
    r = sysmon("-?")
    assert r.returncode == 0
    for word in ("-accepteula -i", "-c [CONFIG | --]", "-u [force]", "-s [version|all]",
                 "run", "config", "service", "228", "87"):
        assert word in r.stdout, word
    for form in ("-h", "-help", "--help", "/?", "-H"):
        assert sysmon(form).stdout == r.stdout, form
    assert sysmon("-accepteula").returncode == 87
    assert sysmon("-i", "-u").returncode == 87
    r = sysmon("--")
    assert r.returncode == 87 and "must be used with -c" in r.stderr
    r = sysmon("-u", "now")
    assert r.returncode == 87 and "Invalid option for -u" in r.stderr


def test_invalid_config_installs_nothing(clean_system, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text(BROKEN)
    r = sysmon("-accepteula", "-i", str(broken))
    assert r.returncode == 87, r.stdout + r.stderr
    assert "%s:4:" % broken in r.stderr
    assert installed_paths() == [] and rc_links() == []


def test_install_reconfigure_kill_uninstall(clean_system, tmp_path):
    before = last_record()

    # --- install with the tutorial config: start-up to first event logged
    t0 = time.time()
    r = sysmon("-accepteula", "-i", TUTORIAL)
    install_seconds = time.time() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Sysmon started" in r.stdout and LOG in r.stdout
    first = events_after(before)
    assert first, "the install logged nothing"
    startup = first[0]["TimeCreated"] / 1e9 - t0
    started = [e for e in first if e["EventID"] == 4]
    assert first[0]["EventID"] == 16 and started and started[0]["State"] == "Started"
    print("\nstart-up: `sysmon -i` to first event logged: %.3f s; `sysmon -i` returned after "
          "%.3f s (monitoring)" % (startup, install_seconds))
    assert startup < 3.0 * SLOW      # (a TCG guest is several times slower)

    # files, modes, boot links, and a running daemon holding its pid file
    assert os.access(BIN, os.X_OK)
    with open(CONFIG, "rb") as f, open(TUTORIAL, "rb") as g:
        assert f.read() == g.read()
    assert stat.S_IMODE(os.stat(CONFIG_DIR).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(CONFIG).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(LOG_DIR).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(LOG).st_mode) & 0o077 == 0
    assert os.access(INIT_SCRIPT, os.X_OK)
    assert any("/rc2.d/S" in p for p in rc_links()) and any("/rc0.d/K" in p for p in rc_links())
    pid = daemon_pid()
    os.kill(pid, 0)
    assert sysmon("service", "status").returncode == 0
    r = subprocess.run([INIT_SCRIPT, "status"], capture_output=True, text=True)
    assert r.returncode == 0 and str(pid) in r.stdout

    # a second -i changes nothing
    mtime = os.stat(CONFIG).st_mtime_ns
    r = sysmon("-accepteula", "-i")
    assert r.returncode == 1 and "already installed" in r.stdout
    assert os.stat(CONFIG).st_mtime_ns == mtime and daemon_pid() == pid

    # --- the tutorial's rules: 443 logged, 8080 not; ProcessCreate logged
    with Listener(443) as l443, Listener(8080) as l8080:
        mark = last_record()
        p8080 = connect(8080)
        p443 = connect(443)
        wait_event(mark, lambda e: is_connection(e, p443, 443), "port-443 connection")
        assert not [e for e in events_after(mark) if is_connection(e, p8080, 8080)]
        other = "sysmon-e2e-other-%s" % uuid.uuid4().hex
        run_marked(other)
        wait_event(mark, lambda e: is_process(e, other), "ProcessCreate under the tutorial")

        # --- -c prints the active config
        r = sysmon("-c")
        assert r.returncode == 0, r.stderr
        for line in (" - Service name:                  sysmon",
                     " - Config file:                   " + TUTORIAL,
                     " - Config hash:                   SHA256=" +
                     hashlib.sha256(open(TUTORIAL, "rb").read()).hexdigest(),
                     " - HashingAlgorithms:             SHA1,MD5,SHA256",
                     " - Network connection:            enabled",
                     "running (pid %d)" % pid,
                     "Rule configuration (version 4.22):",
                     "\tDestinationPort                filter: is           value: '443'"):
            assert line in r.stdout, line

        # --- -c FILE: live, confirmed, no process event lost or doubled
        keep = "sysmon-e2e-keep-%s" % uuid.uuid4().hex
        changed = tmp_path / "changed.xml"
        changed.write_text(CHANGED.format(keep=keep))
        stop = threading.Event()
        spawned = []

        def spawn_through_the_switch():
            while not stop.is_set() or len(spawned) < 20:
                word = "%s-%d" % (keep, len(spawned))
                run_marked(word)
                spawned.append(word)

        mark = last_record()
        spawner = threading.Thread(target=spawn_through_the_switch)
        spawner.start()
        time.sleep(0.2)
        t0 = time.monotonic()
        r = sysmon("-c", str(changed))
        switch_seconds = time.monotonic() - t0
        time.sleep(0.2)
        stop.set()
        spawner.join()
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Configuration updated." in r.stdout
        print("`sysmon -c FILE` applied and confirmed in %.3f s" % switch_seconds)
        assert switch_seconds < 1.0 * SLOW   # (a TCG guest is several times slower)

        # after the switch: 8080 logged, unmarked processes not
        after_switch = last_record()
        p8080 = connect(8080)
        run_marked(other)
        last_word = "%s-last" % keep
        run_marked(last_word)
        logged_8080 = wait_event(mark, lambda e: is_connection(e, p8080, 8080),
                                 "port-8080 connection under the new config")
        wait_event(mark, lambda e: is_process(e, last_word), "marked ProcessCreate")
        assert not [e for e in events_after(after_switch) if is_process(e, other)]
        config_events = events_after(mark, 16)
        assert len(config_events) == 1
        assert (config_events[0]["ConfigurationFileHash"] ==
                "SHA256=" + hashlib.sha256(changed.read_bytes()).hexdigest())
        assert mark < config_events[0]["EventRecordID"] < logged_8080["EventRecordID"]
        logged = [e["CommandLine"].split()[-1] for e in events_after(mark, 1)
                  if keep in (e["CommandLine"] or "")]
        for word in spawned:
            assert logged.count(word) == 1, (word, logged.count(word))

        # --- -c with a broken config: refused, the old one stays
        broken = tmp_path / "broken.xml"
        broken.write_text(BROKEN)
        mark = last_record()
        r = sysmon("-c", str(broken))
        assert r.returncode == 87 and "%s:4:" % broken in r.stderr, r.stderr
        with open(CONFIG) as f:
            assert keep in f.read()
        p8080 = connect(8080)
        wait_event(mark, lambda e: is_connection(e, p8080, 8080), "8080 under the kept config")
        assert not events_after(mark, 16)

        # --- the file replaced with garbage, then deleted: the monitor keeps
        # the rules it loaded, and a reload that fails is not confirmed
        mark = last_record()
        with open(CONFIG, "w") as f:
            f.write("<Sysmon schemaversion=\"4.22\"><EventFiltering><garbage")
        r = sysmon("service", "reload")
        assert r.returncode == 1, r.stdout + r.stderr
        wait_event(mark, lambda e: e["EventID"] == 255 and e["ID"] == "ConfigReload",
                   "Error event for the garbage config")
        os.unlink(CONFIG)
        r = sysmon("service", "reload")
        assert r.returncode == 1, r.stdout + r.stderr
        os.kill(pid, 0)
        mark = last_record()
        p8080 = connect(8080)
        wait_event(mark, lambda e: is_connection(e, p8080, 8080), "8080 after garbage config")
        r = sysmon("-c", "--")
        assert r.returncode == 0 and "Updating configuration to use all defaults." in r.stdout

        # --- kill -9: the state is reported, -i changes nothing, -u works
        started_mark = last_record()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while sysmon("service", "status").returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = sysmon("service", "status")
        assert r.returncode == 1 and "without stopping cleanly" in r.stdout, r.stdout
        r = sysmon("-c")
        assert r.returncode == 0 and "NOT running" in r.stdout
        r = sysmon("-accepteula", "-i", TUTORIAL)
        assert r.returncode == 1 and "NOT running" in r.stdout, r.stdout

        # restart through the init script: 'Started' with no 'Stopped' before it
        r = subprocess.run([INIT_SCRIPT, "start"], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        states = [e["State"] for e in events_after(started_mark, 4)]
        assert states == ["Started"], states
        everything = [e["State"] for e in events_after(before, 4)]
        assert everything == ["Started", "Started"], everything
        pid = daemon_pid()
        os.kill(pid, signal.SIGKILL)

        # --- -u after a kill: stops nothing, removes everything but the log
        deadline = time.monotonic() + WAIT
        while sysmon("service", "status").returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        r = sysmon("-u")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "The event log is kept: %s" % LOG in r.stdout
        assert installed_paths() == [] and rc_links() == []
        assert os.path.exists(LOG)
        assert sysmon("-u").returncode == 1   # nothing left to uninstall

        # --- a fresh install after all that, then a clean -u: Stopped logged
        mark = last_record()
        r = sysmon("-accepteula", "-i")
        assert r.returncode == 0, r.stdout + r.stderr
        r = sysmon("-u")
        assert r.returncode == 0 and "Sysmon stopped." in r.stdout, r.stdout + r.stderr
        assert [e["State"] for e in events_after(mark, 4)] == ["Started", "Stopped"]
        assert installed_paths() == [] and rc_links() == []


def test_config_event_names_the_file_given(clean_system, tmp_path):
    """Event 16's Configuration is the file given to -i or -c (as Sysmon
    writes it), not the copy in /etc/sysmon; "Defaults" for the default
    config."""
    mark = last_record()
    r = sysmon("-accepteula", "-i", TUTORIAL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [e["Configuration"] for e in events_after(mark, 16)] == [TUTORIAL]
    changed = tmp_path / "changed.xml"
    changed.write_text(CHANGED.format(keep="x"))
    mark = last_record()
    assert sysmon("-c", str(changed)).returncode == 0
    assert [e["Configuration"] for e in events_after(mark, 16)] == [str(changed)]
    mark = last_record()
    assert sysmon("-c", "--").returncode == 0
    assert [e["Configuration"] for e in events_after(mark, 16)] == ["Defaults"]


def test_uninstall_force_cleans_a_partial_install(clean_system):
    r = sysmon("-accepteula", "-i")
    assert r.returncode == 0, r.stdout + r.stderr
    pid = daemon_pid()
    os.unlink(INIT_SCRIPT)             # half-removed by hand
    r = sysmon("-u")
    assert r.returncode == 1 and "sysmon -u force" in r.stderr
    os.kill(pid, 0)                    # left alone
    r = sysmon("-u", "force")
    assert r.returncode == 0, r.stdout + r.stderr
    assert installed_paths() == [] and rc_links() == []
    deadline = time.monotonic() + WAIT
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    r = sysmon("-u", "force")          # nothing there: still fine
    assert r.returncode == 0, r.stdout + r.stderr
