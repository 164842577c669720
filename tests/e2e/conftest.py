"""Shared fixtures of the end-to-end tests: start the real monitor
(build/sysmon run, built beforehand by `make`) as root on the real kernel,
collect the events it prints as JSON lines, stop it with SIGTERM.

    def test_x(start_monitor):
        mon = start_monitor(config_text="<Sysmon ...>")   # or config_path=, args=[...]
        ... run processes ...
        ev = mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid))
        mon.stop()                 # SIGTERM, waits, returns the exit status
"""

import json
import os
import signal
import subprocess
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSMON = os.path.join(ROOT, "build", "sysmon")
READY_LINE = "sysmon: monitoring started"
# A kernel of the matrix under qemu's TCG (tests/kernels/run.sh) runs the suite
# several times slower than a real machine: every timeout of the monitor's
# start, its events and its stop is multiplied by SYSMON_TEST_SLOW (default 1).
SLOW = float(os.environ.get("SYSMON_TEST_SLOW", "1"))
START_TIMEOUT = 20 * SLOW


class Monitor:
    """One running `sysmon run ... --stdout json` and what it printed."""

    def __init__(self, workdir, config_path=None, args=()):
        self.log_path = os.path.join(workdir, "events.db")
        cmd = [SYSMON, "run", "--stdout", "json", "--log", self.log_path]
        if config_path:
            cmd += ["--config", config_path]
        cmd += list(args)
        self.cmd = cmd
        self.events = []
        self.stderr_lines = []
        self.bad_lines = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pid = self.proc.pid
        self._threads = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for t in self._threads:
            t.start()
        if not self._ready.wait(START_TIMEOUT) or self.proc.poll() is not None:
            self.kill()
            pytest.fail("the monitor did not start (%s):\n%s" % (" ".join(cmd), self.stderr()))

    def _read_stdout(self):
        for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                with self._lock:
                    self.bad_lines.append(raw)
                continue
            with self._lock:
                self.events.append(event)

    def _read_stderr(self):
        for raw in self.proc.stderr:
            text = raw.decode("utf-8", "replace")
            with self._lock:
                self.stderr_lines.append(text)
            if text.startswith(READY_LINE):
                self._ready.set()
        self._ready.set()

    def stderr(self):
        with self._lock:
            return "".join(self.stderr_lines)

    def snapshot(self):
        with self._lock:
            return list(self.events)

    def find(self, predicate):
        return [e for e in self.snapshot() if predicate(e)]

    def wait_for(self, predicate, timeout=10, count=1, what="event"):
        """The events matching PREDICATE, once there are at least COUNT."""
        timeout *= SLOW
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(predicate)
            if len(found) >= count:
                return found[0] if count == 1 else found
            if time.monotonic() > deadline or self.proc.poll() is not None:
                errors = [e.get("Description") for e in self.snapshot() if str(e.get("EventID")) == "255"]
                pytest.fail("no %s after %ss (have %d of %d); Error events: %s; monitor stderr:\n%s"
                            % (what, timeout, len(found), count, errors, self.stderr()))
            time.sleep(0.05)

    def stop(self, timeout=20, sig=signal.SIGTERM):
        """SIG (SIGTERM), wait for the exit, return its status (events stay readable)."""
        timeout *= SLOW
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                pytest.fail("the monitor did not stop within %ss after %s" % (timeout, sig.name))
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session", autouse=True)
def _requirements():
    if os.geteuid() != 0:
        pytest.skip("the end-to-end tests load eBPF programs: run them as root")
    if not os.access(SYSMON, os.X_OK):
        pytest.fail("%s is missing: run `make` first" % SYSMON)


def searchable_by_others(path):
    """Let other users pass through PATH's directories (not list them): the
    monitor's forwarders' process runs as an unprivileged user and opens
    the event log and its state directory under the test's tmp_path
    (docs/privsep.md)."""
    path = os.path.abspath(str(path))
    while path != "/":
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            os.chmod(path, (mode & 0o7777) | 0o001)
        path = os.path.dirname(path)


@pytest.fixture
def start_monitor(tmp_path):
    """start_monitor(config_text=None, config_path=None, args=()) -> Monitor.
    Monitors still running at the end of the test are stopped."""
    started = []

    def start(config_text=None, config_path=None, args=()):
        if config_text is not None:
            config_path = str(tmp_path / ("config%d.xml" % len(started)))
            with open(config_path, "w") as f:
                f.write(config_text)
        workdir = tmp_path / ("monitor%d" % len(started))
        workdir.mkdir()
        searchable_by_others(workdir)
        mon = Monitor(str(workdir), config_path, args)
        started.append(mon)
        return mon

    yield start
    for mon in started:
        mon.stop()
