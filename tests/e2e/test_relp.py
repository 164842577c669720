"""End-to-end tests of forwarding over RELP (protocol = relp,
src/output/relp.c): the real monitor feeding a real rsyslogd with imrelp
(package rsyslog-relp), started by the tests on loopback.

- every logged event arrives, parsed as RFC 5424, in order, once;
- the collector is killed (SIGKILL) while events stream and started
  again: every event arrives; duplicates are counted, none is missing.
  The collector's main queue is Direct, so rsyslog acknowledges a message
  once its file action has written it: the guarantee under test is that
  the forwarder's cursor only passes what the collector acknowledged.

The helpers (private rsyslogd, status file, parsing what rsyslog wrote)
are test_forward.py's.
"""

import os
import threading
import time
import uuid

import pytest

from test_forward import (CONFIG, FIELDS_TEMPLATE, check_message, file_workload, free_port,  # noqa: F401
                          log_record_ids, parse_collected, read_status, rsyslogs, wait_collected,
                          wait_port, wait_status, write_outputs)

IMRELP = "/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so"

pytestmark = pytest.mark.skipif(not os.path.exists(IMRELP),
                                reason="rsyslog-relp is not installed (make deps)")


def relp_collector_conf(port, out_path):
    return ('main_queue(queue.type="Direct")\n'
            'module(load="imrelp")\n'
            'input(type="imrelp" port="%d" address="127.0.0.1")\n' % port
            + FIELDS_TEMPLATE + "\n"
            + '*.* action(type="omfile" file="%s" template="fields")\n' % out_path)


def relp_outputs(tmp_path, port):
    return write_outputs(tmp_path, """
[forward central]
protocol = relp
host = 127.0.0.1
port = %d
reconnect_min = 200ms
reconnect_max = 1s
""" % port)


def test_forward_relp_every_event(tmp_path, monkeypatch, start_monitor, rsyslogs):
    port = free_port()
    out = str(tmp_path / "collected.log")
    rsyslogs(tmp_path / "rs", relp_collector_conf(port, out))
    wait_port(port)
    monkeypatch.setenv("SYSMON_OUTPUTS", relp_outputs(tmp_path, port))
    mon = start_monitor(config_text=CONFIG)
    marker = "relp-" + uuid.uuid4().hex[:8]
    file_workload(marker, 40)
    ours = mon.wait_for(lambda e: e["EventID"] == 1 and marker in e["CommandLine"], count=40,
                        what="workload")
    last = max(e["EventRecordID"] for e in ours)
    # the last messages of a session count once the session is closed
    # cleanly, a second after the last one: the cursor gets there
    status = wait_status(tmp_path, "central", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                         what="caught-up status")
    assert status["target"] == "relp://127.0.0.1:%d" % port
    assert status["failures"] == 0, status["last_error"]
    assert mon.stop() == 0

    ids = log_record_ids(mon)
    wait_collected([out], ids)
    messages = parse_collected(out)
    received = [m["record_id"] for m in messages]
    assert received == ids, "out of order, duplicated or missing without a failure"
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    for m in messages:
        check_message(m, by_id)
    cursor = (tmp_path / "state" / "forward-central.cursor").read_text()
    assert "record_id=%d\n" % ids[-1] in cursor


def test_relp_collector_killed_mid_stream(tmp_path, monkeypatch, start_monitor, rsyslogs):
    """SIGKILL the collector while events stream, start it again: nothing
    is missing; what is sent twice is counted."""
    port = free_port()
    out = str(tmp_path / "collected.log")
    workdir = tmp_path / "rs"
    rs1 = rsyslogs(workdir, relp_collector_conf(port, out))
    wait_port(port)
    monkeypatch.setenv("SYSMON_OUTPUTS", relp_outputs(tmp_path, port))
    mon = start_monitor(config_text=CONFIG)
    marker = "relpkill-" + uuid.uuid4().hex[:8]
    stop_workload = threading.Event()

    def workload():
        i = 0
        while not stop_workload.is_set():
            file_workload("%s-%d" % (marker, i), 1)
            i += 1
            time.sleep(0.002)

    worker = threading.Thread(target=workload)
    worker.start()
    try:
        wait_status(tmp_path, "central", lambda s: s["events_sent"] > 300, what="first deliveries")
        before_kill = read_status(tmp_path)["central"]
        rs1.proc.kill()                              # no chance to flush or answer anything
        rs1.proc.wait()
        killed_at = log_record_ids(mon)[-1]
        time.sleep(2)
        os.unlink(rs1.pidfile)                        # stale after SIGKILL
        rsyslogs(workdir, relp_collector_conf(port, out))
        wait_port(port)
        time.sleep(3)                                # streaming goes on into the new collector
    finally:
        stop_workload.set()
        worker.join()
    last = log_record_ids(mon)[-1]
    status = wait_status(tmp_path, "central", lambda s: s["state"] == "connected" and s["cursor"] >= last,
                         timeout=30, what="caught-up status")
    assert mon.stop() == 0

    ids = log_record_ids(mon)
    assert before_kill["cursor"] < killed_at < ids[-1], "the kill was not in the middle of the stream"
    assert status["failures"] >= 1 and status["connects"] >= 2
    wait_collected([out], ids)
    received = [m["record_id"] for m in parse_collected(out)]
    missing = set(ids) - set(received)
    duplicates = len(received) - len(set(received))
    print("\nRELP collector killed: %d events logged, %d received, %d duplicates, %d missing"
          % (len(ids), len(received), duplicates, len(missing)))
    assert not missing
    # a record is sent twice only when it was not yet known to be
    # acknowledged when the session broke: at most one window per break
    assert duplicates <= 128 * status["failures"]
    by_id = {e["EventRecordID"]: e for e in mon.snapshot()}
    for m in parse_collected(out):
        check_message(m, by_id)
