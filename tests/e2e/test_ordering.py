"""End-to-end test of the order in which the monitor reads its sources' ring
buffers (src/capture/capture.c): every source has its own ring, so a
process's exec record (process ring) and its connect record (network ring)
can be read in either order.  Read connect-first, the network decoder would
miss the pid in the process cache and take a GUID from /proc's start time
instead of the exec's, and the NetworkConnect would not name the
ProcessCreate's ProcessGuid.  The framework reads the process ring before
any other record, which this test stresses: hundreds of short-lived
processes that connect the moment they start.
"""
import os
import shutil
import socket
import subprocess
import time

import pytest

PROCESSES = 300
PARALLEL = 8
WAIT = 30.0

CONFIG = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <NetworkConnect onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# Connects to 127.0.0.1:argv[1] as its first act, then exits: the exec and
# the connect are microseconds apart.
CONNECTOR = r"""
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (argc < 2 || fd < 0)
		return 1;
	to.sin_port = htons((unsigned short)atoi(argv[1]));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return connect(fd, (struct sockaddr *)&to, sizeof(to)) == 0 ? 0 : 2;
}
"""


@pytest.fixture
def connector(tmp_path):
    source = str(tmp_path / "connector.c")
    program = str(tmp_path / "connector")
    with open(source, "w") as f:
        f.write(CONNECTOR)
    if shutil.which("cc") is None or subprocess.run(["cc", "-O1", "-o", program, source]).returncode != 0:
        pytest.skip("cannot build the test program")
    return program


def test_network_connect_names_the_guid_of_its_process_create(start_monitor, connector):
    mon = start_monitor(config_text=CONFIG)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(PROCESSES)      # the kernel completes handshakes; nobody accepts
    port = str(listener.getsockname()[1])
    pids = []
    try:
        running = []
        for _ in range(PROCESSES):
            running.append(subprocess.Popen([connector, port]))
            if len(running) >= PARALLEL:
                proc = running.pop(0)
                assert proc.wait(WAIT) == 0, "the connector could not connect"
                pids.append(proc.pid)
        for proc in running:
            assert proc.wait(WAIT) == 0, "the connector could not connect"
            pids.append(proc.pid)

        wanted = set(str(pid) for pid in pids)
        is_ours = lambda e, id: str(e.get("EventID")) == id and e.get("ProcessId") in wanted
        mon.wait_for(lambda e: is_ours(e, "3"), timeout=WAIT, count=len(pids),
                     what="NetworkConnect of every connector")
        mon.wait_for(lambda e: is_ours(e, "1"), timeout=WAIT, count=len(pids),
                     what="ProcessCreate of every connector")
        time.sleep(0.2)
    finally:
        listener.close()

    events = mon.snapshot()
    creates = {}
    for e in events:
        if is_ours(e, "1") and e["Image"] == connector:
            creates.setdefault(e["ProcessId"], []).append(e["ProcessGuid"])
    connects = [e for e in events if is_ours(e, "3")]
    assert sorted(creates) == sorted(wanted), "one ProcessCreate per connector"
    assert all(len(guids) == 1 for guids in creates.values())
    assert len(connects) == len(pids)
    mismatched = [(e["ProcessId"], e["Image"], e["ProcessGuid"], creates[e["ProcessId"]][0])
                  for e in connects
                  if e["ProcessGuid"] != creates[e["ProcessId"]][0] or e["Image"] != connector]
    assert mismatched == [], "%d of %d NetworkConnect events name another process than their " \
        "ProcessCreate: %s" % (len(mismatched), len(connects), mismatched[:5])
