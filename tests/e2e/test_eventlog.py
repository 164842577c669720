"""End-to-end tests of the event log and its tools (issue 4) with the real
monitor (`build/sysmon run`), real processes and real SQLite files:

- a small bound set while the monitor runs, wrapped several times by many
  file creations (cheap even in an emulated guest, where a process is not):
  the file keeps to the bound, records stay in order with no gaps, the
  newest survive, and what `sysmon query` renders from the log is what the
  monitor printed;
- SIGKILL of the monitor mid-batch, in a loop, on one log: it always opens
  cleanly and the committed record ids have no gap;
- `sysmon query --follow` and `--tree`, the wevtutil verbs, and bad input
  (one clear message, exit 87 for usage, 1 for I/O).
"""

import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from conftest import SLOW, SYSMON

PROCESS_CONFIG = ('<Sysmon schemaversion="4.82"><EventFiltering>'
                  '<ProcessCreate onmatch="exclude"/><ProcessTerminate onmatch="exclude"/>'
                  '</EventFiltering></Sysmon>')
USAGE, IO_ERROR = 87, 1


def file_config(directory):
    """FileCreate of the files under DIRECTORY (and ProcessCreate)."""
    return ('<Sysmon schemaversion="4.82"><EventFiltering>'
            '<ProcessCreate onmatch="exclude"/>'
            '<FileCreate onmatch="include"><TargetFilename condition="begin with">%s/</TargetFilename>'
            '</FileCreate></EventFiltering></Sysmon>' % directory)


def sysmon(*args, check=True, timeout=60):
    res = subprocess.run([SYSMON] + [str(a) for a in args], capture_output=True, text=True,
                         timeout=timeout)
    if check and res.returncode != 0:
        pytest.fail("sysmon %s: exit %d\n%s%s" % (" ".join(map(str, args)), res.returncode,
                                                   res.stdout, res.stderr))
    return res


def query_json(log, *args):
    out = sysmon("query", "--log", log, "--format", "json", *args).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def wait_in_log(log, marker, timeout=15):
    """The logged ProcessCreate of `/bin/echo MARKER` (the queries that look
    for it have MARKER in their command lines too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = query_json(log, "--event", "1", "--where", "CommandLine contains " + marker,
                           "--where", "Image end with /echo")
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail("%s never reached the log %s" % (marker, log))


def create_files(directory, count, prefix="f"):
    """COUNT FileCreate events: files created and removed in DIRECTORY, in
    rounds of 500 with a pause, so that the monitor keeps up (nothing may be
    lost here)."""
    for i in range(count):
        path = os.path.join(directory, "%s%d" % (prefix, i))
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(path)
        if i % 500 == 499:
            time.sleep(0.05 * SLOW)


def wait_for_file_in_log(log, name, timeout=15):
    """The logged FileCreate of a file named NAME."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        found = query_json(log, "--event", "11", "--where", "TargetFilename end with /" + name)
        if found:
            return found[0]
        time.sleep(0.1)
    pytest.fail("%s never reached the log %s" % (name, log))


def assert_contiguous(records):
    ids = [r["EventRecordID"] for r in records]
    assert ids, "the log is empty"
    assert ids == list(range(ids[0], ids[0] + len(ids))), "record ids out of order or with a gap"


def test_small_bound_wraps_keeps_order_and_newest(start_monitor, tmp_path):
    directory = str(tmp_path / "wrap")
    os.mkdir(directory)
    mon = start_monitor(config_text=file_config(directory))
    log = mon.log_path
    bound = 1 << 20
    sysmon("log", "set", "--max-size", bound, "--log", log)
    assert "maxSize: %d" % bound in sysmon("log", "gl", "--log", log).stdout

    # Watch the file size while the log wraps.
    biggest = [0]
    done = threading.Event()

    def watch():
        while not done.is_set():
            try:
                biggest[0] = max(biggest[0], os.path.getsize(log))
            except OSError:
                pass
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    create_files(directory, 20000)   # several times what 1 MiB holds
    marker = "marker-" + uuid.uuid4().hex
    create_files(directory, 1, prefix=marker)
    newest = wait_for_file_in_log(log, marker + "0", timeout=60)
    done.set()
    watcher.join()

    info = sysmon("log", "info", "--log", log).stdout
    records = query_json(log)
    printed = {e["EventRecordID"]: e for e in mon.snapshot()}
    # The bound: the file never grew past it by more than one batch.
    assert biggest[0] <= bound + 512 * 1024, "log file reached %d bytes (bound %d)" % (biggest[0], bound)
    assert os.path.getsize(log) <= bound + 512 * 1024
    # It wrapped several times, and keeps what fits (whatever else runs on
    # the machine meanwhile: the monitor logs every process).
    assert max(printed) > 3 * len(records), info
    in_use = int(info.split("in use:")[1].split()[0])
    assert in_use >= bound * 3 // 4, info
    # Order kept, no gaps, the newest survive.
    assert_contiguous(records)
    assert records[-1]["EventRecordID"] >= newest["EventRecordID"]
    assert newest in records
    # Rendered from the log = what the monitor printed.
    for rec in records[-200:]:
        if rec["EventRecordID"] in printed:
            assert rec == printed[rec["EventRecordID"]]
    # After growing the bound, nothing is dropped while the log fills it.
    sysmon("log", "sl", "Microsoft-Windows-Sysmon/Operational", "/ms:%d" % (8 << 20), "--log", log)
    first = query_json(log, "--limit", "1")[0]["EventRecordID"]
    create_files(directory, 4000, prefix="g")
    marker = "marker-" + uuid.uuid4().hex
    create_files(directory, 1, prefix=marker)
    wait_for_file_in_log(log, marker + "0", timeout=60)
    assert query_json(log, "--limit", "1")[0]["EventRecordID"] == first


def start_raw_monitor(log, config, args=(), stdout=subprocess.DEVNULL):
    """`sysmon run` on LOG (the fixture picks its own log path)."""
    proc = subprocess.Popen([SYSMON, "run", "--config", config, "--log", log] + list(args),
                            stdout=stdout, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    for raw in proc.stderr:
        if raw.startswith(b"sysmon: monitoring started"):
            break
        if time.monotonic() > deadline:
            break
    if proc.poll() is not None:
        pytest.fail("the monitor did not start on %s" % log)
    threading.Thread(target=lambda: proc.stderr.read(), daemon=True).start()
    return proc


def test_sigkill_mid_batch_leaves_a_clean_log(tmp_path):
    config = tmp_path / "config.xml"
    config.write_text(PROCESS_CONFIG)
    log = str(tmp_path / "events.db")
    rounds = 6
    for n in range(rounds):
        proc = start_raw_monitor(log, str(config))
        load = subprocess.Popen(["/bin/sh", "-c", "while :; do /bin/true; done"])
        time.sleep(0.3 + random.random() * 0.7)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        load.kill()
        load.wait()
        # Opens cleanly: readable by the tools, intact for SQLite.
        assert "records:" in sysmon("log", "info", "--log", log).stdout
        records = query_json(log)
        assert_contiguous(records)
        assert records[0]["EventRecordID"] == 1
        db = sqlite3.connect("file:%s?mode=ro" % log, uri=True)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()
    # Never treated as damaged.
    assert not [p for p in os.listdir(tmp_path) if ".damaged-" in p]
    # A last clean run continues the ids.
    proc = start_raw_monitor(log, str(config))
    before = query_json(log)[-1]["EventRecordID"]
    marker = "marker-" + uuid.uuid4().hex
    subprocess.run(["/bin/echo", marker], stdout=subprocess.DEVNULL, check=True)
    wait_in_log(log, marker)
    proc.send_signal(signal.SIGTERM)
    proc.wait(20)
    records = query_json(log)
    assert_contiguous(records)
    assert records[-1]["EventRecordID"] > before


def test_damaged_log_is_moved_aside_with_an_error_event(tmp_path):
    config = tmp_path / "config.xml"
    config.write_text(PROCESS_CONFIG)
    log = tmp_path / "events.db"
    junk = b"\x00garbage, not SQLite\n" * 1000
    log.write_bytes(junk)
    proc = start_raw_monitor(str(log), str(config))
    try:
        moved = [p for p in os.listdir(tmp_path) if p.startswith("events.db.damaged-")]
        assert len(moved) == 1
        assert (tmp_path / moved[0]).read_bytes() == junk
        deadline = time.monotonic() + 10
        errors = []
        while time.monotonic() < deadline and not errors:
            errors = query_json(str(log), "--event", "255")
            time.sleep(0.1)
        assert errors and moved[0] in errors[0]["Description"], errors
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def test_xml_from_the_log_is_the_monitors_line(tmp_path):
    config = tmp_path / "config.xml"
    config.write_text(PROCESS_CONFIG)
    log = str(tmp_path / "events.db")
    printed = tmp_path / "out.xml"
    with open(printed, "wb") as out:
        proc = start_raw_monitor(log, str(config), ["--stdout", "xml"], out)
        try:
            marker = "marker-" + uuid.uuid4().hex
            subprocess.run(["/bin/echo", marker], stdout=subprocess.DEVNULL, check=True)
            record_id = wait_in_log(log, marker)["EventRecordID"]
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)
    line = [l for l in printed.read_text().splitlines()
            if "<EventRecordID>%d</EventRecordID>" % record_id in l]
    assert len(line) == 1
    from_log = sysmon("query", "--log", log, "*[System[EventRecordID=%d]]" % record_id).stdout
    assert from_log == line[0] + "\n"


def test_follow_prints_new_records(start_monitor):
    mon = start_monitor(config_text=PROCESS_CONFIG)
    marker = "marker-" + uuid.uuid4().hex
    follower = subprocess.Popen([SYSMON, "query", "--follow", "--format", "json", "--log", mon.log_path,
                                 "--event", "1", "--where", "Image end with /echo"],
                                stdout=subprocess.PIPE, text=True)
    lines = []
    # Read all the time, so the follower never blocks on a full pipe.
    reader = threading.Thread(target=lambda: lines.extend(follower.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        seen = []
        while time.monotonic() < deadline and not seen:
            subprocess.run(["/bin/echo", marker], stdout=subprocess.DEVNULL, check=True)
            time.sleep(0.5)
            seen = [json.loads(l) for l in list(lines) if marker in l]
        assert seen, "--follow never printed the new process"
        assert all(e["EventID"] == 1 for e in map(json.loads, list(lines)))
        ids = [e["EventRecordID"] for e in map(json.loads, list(lines))]
        assert ids == sorted(set(ids)), "--follow repeated or reordered records"
    finally:
        follower.send_signal(signal.SIGINT)
        assert follower.wait(10) == 0
        reader.join(5)


def test_tree_shows_ancestors_and_descendants(start_monitor, tmp_path):
    mon = start_monitor(config_text=PROCESS_CONFIG)
    marker = "tree-" + uuid.uuid4().hex
    pidfile = tmp_path / "pid"
    subprocess.run(["/bin/sh", "-c", 'echo $$ > %s; /bin/sh -c "/bin/echo %s-child >/dev/null"; true'
                    % (pidfile, marker)], check=True)
    wait_in_log(mon.log_path, marker + "-child")
    pid = pidfile.read_text().strip()
    out = sysmon("query", "--tree", pid, "--log", mon.log_path).stdout
    lines = out.splitlines()
    target = [l for l in lines if l.lstrip().startswith("* ")]
    assert len(target) == 1 and "[%s]" % pid in target[0], out
    below = lines[lines.index(target[0]) + 1:]
    assert any(marker + "-child" in l for l in below), out
    # The ancestors (this test's own process chain) come first, less indented.
    indent = len(target[0]) - len(target[0].lstrip())
    child = [l for l in below if marker + "-child" in l][0]
    assert len(child) - len(child.lstrip()) > indent
    # By ProcessGuid too.
    guid = [e for e in query_json(mon.log_path, "--event", "1", "--where", "ProcessId is " + pid)][-1]["ProcessGuid"]
    assert "[%s]" % pid in sysmon("query", "--tree", guid, "--log", mon.log_path).stdout


def test_tools_and_bad_input(tmp_path):
    log = str(tmp_path / "logs" / "events.db")
    # `set` creates the log (root only).
    sysmon("log", "set", "--max-size", "2M", "--log", log)
    assert os.stat(os.path.dirname(log)).st_mode & 0o777 == 0o700
    assert os.stat(log).st_mode & 0o777 == 0o600
    assert "maximum size:   2097152 bytes" in sysmon("log", "info", "--log", log).stdout
    assert sysmon("query", "--log", log).stdout == ""
    assert sysmon("log", "qe", "Microsoft-Windows-Sysmon/Operational", "/q:*[System[EventID=1]]",
                  "/c:5", "/rd:true", "/f:text", "--log", log).stdout == ""

    bad = [
        (["query", "--where", "Nonsense is 1"], USAGE, "unknown field"),
        (["query", "--where", "image is x"], USAGE, "did you mean 'Image'"),
        (["query", "--where", "Image equals x"], USAGE, "unknown condition"),
        (["query", "*[System[EventID=]]"], USAGE, "XPath"),
        (["query", "--xpath", "*[EventData[Data[@Name='Nope']='1']]"], USAGE, "unknown field"),
        (["query", "--since", "yesterday"], USAGE, "is not a time"),
        (["query", "--limit", "many"], USAGE, "not a number"),
        (["query", "--format", "csv"], USAGE, "--format"),
        (["query", "--count-by", "Imag"], USAGE, "unknown field"),
        (["query", "--event", "42"], USAGE, "not an event id"),
        (["query", "--bogus"], USAGE, "unknown argument"),
        (["log", "set", "--max-size", "lots"], USAGE, "not a size"),
        (["log", "sl", "/ms:1000"], USAGE, "at least"),
        (["log", "frobnicate"], USAGE, "unknown action"),
    ]
    for args, status, message in bad:
        res = sysmon(*(args + ["--log", log]), check=False)
        assert res.returncode == status, (args, res.returncode, res.stderr)
        assert message in res.stderr, (args, res.stderr)
        assert len([l for l in res.stderr.splitlines() if l.startswith("sysmon")]) == 1, res.stderr

    # Missing log, and a file that is not SQLite: I/O errors, file untouched.
    missing = str(tmp_path / "missing.db")
    res = sysmon("query", "--log", missing, check=False)
    assert res.returncode == IO_ERROR and "no event log" in res.stderr
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all\n" * 100)
    for args in (["query"], ["log", "info"], ["log", "clear"], ["query", "--count-by", "Image"]):
        res = sysmon(*(args + ["--log", str(junk)]), check=False)
        assert res.returncode == IO_ERROR, (args, res.stderr)
        assert "not an event log" in res.stderr
    assert junk.read_bytes() == b"not a database at all\n" * 100


def test_clear_export_and_queries_over_real_events(start_monitor, tmp_path):
    mon = start_monitor(config_text=PROCESS_CONFIG)
    log = mon.log_path
    marker = "marker-" + uuid.uuid4().hex
    subprocess.run(["/bin/echo", marker], stdout=subprocess.DEVNULL, check=True)
    logged = wait_in_log(log, marker)

    # One command per question.
    counts = sysmon("query", "--log", log, "--event", "1", "--count-by", "Image").stdout
    assert "/usr/bin/echo" in counts and counts.splitlines()[0].split() == ["Count", "Image"]
    assert "/usr/bin/echo" in sysmon("query", "--log", log, "--distinct", "Image").stdout.splitlines()
    table = sysmon("query", "--log", log, "--format", "table", "--fields", "EventRecordID,Image,CommandLine",
                   "--where", "CommandLine contains " + marker).stdout.splitlines()
    assert table[0].split() == ["EventRecordID", "Image", "CommandLine"] and marker in table[1]
    xml = sysmon("query", "--log", log, "--xpath",
                 "*[System[EventID=1]] and *[EventData[Data[@Name='CommandLine']='/bin/echo %s']]" % marker).stdout
    assert xml.startswith("<Event><System><Provider Name=\"Linux-Sysmon\"") and xml.count("\n") == 1
    assert "<EventRecordID>%d</EventRecordID>" % logged["EventRecordID"] in xml
    text = sysmon("query", "--log", log, "--format", "text", "--where", "CommandLine contains " + marker).stdout
    assert "Event ID: 1" in text and "CommandLine: /bin/echo " + marker in text
    assert query_json(log, "--since", "10m", "--where", "CommandLine contains " + marker,
                      "--where", "Image end with /echo") == [logged]
    assert query_json(log, "--until", "2000-01-01") == []

    # Export, then clear with a backup while the monitor writes.
    exported = tmp_path / "export.json"
    sysmon("log", "export", exported, "--log", log)
    assert logged in [json.loads(l) for l in exported.read_text().splitlines()]
    backup = tmp_path / "backup.db"
    last = query_json(log, "--newest-first", "--limit", "1")[0]["EventRecordID"]
    sysmon("log", "cl", "/bu:%s" % backup, "--log", log)
    assert logged in query_json(str(backup))
    assert all(r["EventRecordID"] > last for r in query_json(log))
    marker2 = "marker-" + uuid.uuid4().hex
    subprocess.run(["/bin/echo", marker2], stdout=subprocess.DEVNULL, check=True)
    after = wait_in_log(log, marker2)
    assert after["EventRecordID"] > logged["EventRecordID"]
