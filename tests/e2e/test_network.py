"""End-to-end tests of NetworkConnect (event 3): the real monitor (the
start_monitor fixture of conftest.py) on the real kernel, with real sockets
on loopback, as root.

Clients and servers are separate processes (copies of the system's Python
under chosen names), so that every event can be told apart by its ProcessId
from whatever else the machine does meanwhile.  Network events leave the
kernel in order through one ring buffer, so once the last connection of a
scenario is logged, every earlier one has been decided: that is how the tests
check that something was *not* logged.
"""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TUTORIAL = os.path.join(REPO, "..", "shared", "configs", "tutorial", "tutorial.xml")
PYTHON = os.path.realpath("/usr/bin/python3")
WAIT = 10.0

ALL_NETWORK = """<Sysmon schemaversion="4.90">
  {options}
  <EventFiltering>
    <NetworkConnect onmatch="exclude"/>
    <ProcessCreate onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

# A server: listens on every (family, address, port, kind) given as JSON,
# prints the ports it got, then accepts TCP connections (closing them) and
# reads UDP datagrams until killed: "udp" with recvfrom, "udp-echo" also
# answers each, "udp-noaddr" with recv.
SERVER = r"""
import json, select, socket, sys
sockets = []
for family, address, port, kind in json.loads(sys.argv[1]):
    fam = socket.AF_INET6 if family == 6 else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    if kind == "tcp":
        s.listen(16)
    sockets.append((s, kind))
print(json.dumps([s.getsockname()[1] for s, _ in sockets]), flush=True)
while True:
    ready, _, _ = select.select([s for s, _ in sockets], [], [])
    for s in ready:
        kind = dict((id(x), k) for x, k in sockets)[id(s)]
        if kind == "tcp":
            conn, _ = s.accept()
            conn.close()
        elif kind in ("udp", "udp-echo"):
            data, peer = s.recvfrom(100)
            if kind == "udp-echo":
                s.sendto(b"reply", peer)
            print(json.dumps(["udp", peer[0], peer[1]]), flush=True)
        else:
            s.recv(100)         # no address asked for
            print(json.dumps(["udp"]), flush=True)
"""

# A client: makes the connections given as JSON, in order, and prints the
# local endpoint of each ("refused" for a refused TCP connect).  UDP kinds:
# "udp" sendto COUNT datagrams, "udp-request" sendto and wait for the answer
# COUNT times, "udp-connected" connect and write() COUNT datagrams.
CLIENT = r"""
import json, os, socket, sys
out = []
for family, address, port, kind, count in json.loads(sys.argv[1]):
    fam = socket.AF_INET6 if family == 6 else socket.AF_INET
    if kind == "tcp":
        try:
            s = socket.create_connection((address, port), timeout=5)
        except ConnectionRefusedError:
            out.append("refused")
            continue
    elif kind == "udp-request":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        for _ in range(count):
            s.sendto(b"request", (address, port))
            s.recvfrom(100)
    elif kind == "udp-connected":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.connect((address, port))
        for _ in range(count):
            os.write(s.fileno(), b"datagram")
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        for _ in range(count):
            s.sendto(b"datagram", (address, port))
    out.append(list(s.getsockname()[:2]))
    s.close()
print(json.dumps(out), flush=True)
"""


def is_network(event, pid):
    return str(event.get("EventID")) == "3" and event.get("ProcessId") == str(pid)


def network_events(mon, pid):
    return mon.find(lambda e: is_network(e, pid))


def process_create(mon, pid):
    return mon.find(lambda e: str(e.get("EventID")) == "1" and e.get("ProcessId") == str(pid))


def wait_network(mon, pid, predicate, what):
    """The network events of PID once one of them satisfies PREDICATE."""
    mon.wait_for(lambda e: is_network(e, pid) and predicate(e), timeout=WAIT,
                 what="NetworkConnect event for %s (pid %d)" % (what, pid))
    return network_events(mon, pid)


@pytest.fixture
def programs(tmp_path):
    """Copies of Python named `client` and `chrome.exe`, and `server`."""
    paths = {}
    for name in ("client", "chrome.exe", "server"):
        paths[name] = str(tmp_path / name)
        shutil.copy(PYTHON, paths[name])
    return paths


class Server:
    def __init__(self, image, endpoints):
        self.proc = subprocess.Popen([image, "-c", SERVER, json.dumps(endpoints)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            pytest.fail("the test server could not listen on %s" % endpoints)
        self.ports = json.loads(line)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def start_server(image, endpoints):
    """A server on ENDPOINTS; binding a well-known port may race with a test
    of another session that is finishing, so it is retried for a while."""
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return Server(image, endpoints)
        except pytest.fail.Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def client(image, connections, user=None):
    """Run IMAGE as a client making CONNECTIONS (as USER if given); returns
    its pid and the local endpoint of each connection."""
    proc = subprocess.Popen([image, "-c", CLIENT, json.dumps(connections)],
                            stdout=subprocess.PIPE, text=True, user=user)
    out, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0
    return proc.pid, json.loads(out)


def test_tutorial_config_logs_80_and_443_except_chrome(start_monitor, programs):
    mon = start_monitor(config_path=TUTORIAL)
    server = start_server(programs["server"], [[4, "127.0.0.1", p, "tcp"] for p in (80, 443, 8080)])
    try:
        # Everything that must not be logged first, the last expected event
        # last (see the module comment).
        tcp = lambda port: [4, "127.0.0.1", port, "tcp", 1]
        pid_8080, _ = client(programs["client"], [tcp(8080)])
        chrome_pid, _ = client(programs["chrome.exe"], [tcp(80), tcp(443), tcp(8080)])
        pid, local = client(programs["client"], [tcp(80), tcp(443)])
        events = wait_network(mon, pid, lambda e: e["DestinationPort"] == "443", "the connection to 443")
        time.sleep(0.2)
        events = network_events(mon, pid)
    finally:
        server.stop()

    assert sorted(e["DestinationPort"] for e in events) == ["443", "80"]
    creates = process_create(mon, pid)
    assert len(creates) == 1, "ProcessCreate of the client"
    for event, (ip, port), dport, name in zip(sorted(events, key=lambda e: int(e["DestinationPort"])),
                                              local, (80, 443), ("http", "https")):
        assert event["Image"] == programs["client"]
        assert event["ProcessGuid"] == creates[0]["ProcessGuid"]
        assert event["ProcessGuid"] != "{00000000-0000-0000-0000-000000000000}"
        assert event["User"] == "root"
        assert event["Protocol"] == "tcp"
        assert event["Initiated"] == "true"
        assert event["SourceIsIpv6"] == "false"
        assert event["SourceIp"] == ip == "127.0.0.1"
        assert event["SourcePort"] == str(port)
        assert event["SourceHostname"] == "-"
        assert event["DestinationIsIpv6"] == "false"
        assert event["DestinationIp"] == "127.0.0.1"
        assert event["DestinationPort"] == str(dport)
        assert event["DestinationPortName"] == name
        assert event["DestinationHostname"] == "-"
    assert network_events(mon, chrome_pid) == []
    assert network_events(mon, pid_8080) == []
    # The server's accepts are logged too (their destination is port 80 or
    # 443), but never the one on 8080.
    accepted = network_events(mon, server.pid)
    assert all(e["Initiated"] == "false" for e in accepted)
    assert "8080" not in [e["DestinationPort"] for e in accepted]
    assert [e["SourcePort"] for e in accepted if e["DestinationPort"] == "80"].count(str(local[0][1])) == 1


def test_accept_side(start_monitor, programs):
    # started before the monitor: known from /proc only
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "tcp"]])
    try:
        mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
        port = server.ports[0]
        pid, local = client(programs["client"], [[4, "127.0.0.1", port, "tcp", 1]])
        events = wait_network(mon, server.pid, lambda e: e["SourcePort"] == str(local[0][1]), "the accept")
    finally:
        server.stop()
    [event] = [e for e in events if e["SourcePort"] == str(local[0][1])]
    assert event["Image"] == programs["server"]
    with open("/etc/machine-id") as f:
        assert event["ProcessGuid"].startswith("{" + f.read(8))
    assert event["Protocol"] == "tcp"
    assert event["Initiated"] == "false"
    # inbound: Source = the remote peer, Destination = the local endpoint
    assert event["SourceIp"] == "127.0.0.1"
    assert event["DestinationIp"] == "127.0.0.1"
    assert event["DestinationPort"] == str(port)
    assert event["User"] == "root"
    [outbound] = wait_network(mon, pid, lambda e: True, "the connect")
    assert outbound["Initiated"] == "true"
    assert outbound["SourcePort"] == str(local[0][1])
    assert outbound["DestinationPort"] == str(port)


def test_refused_connection_is_not_logged(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "tcp"]])
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]   # bound, not listening: refused
    try:
        pid, out = client(programs["client"], [[4, "127.0.0.1", closed_port, "tcp", 1],
                                               [4, "127.0.0.1", server.ports[0], "tcp", 1]])
        wait_network(mon, pid, lambda e: e["DestinationPort"] == str(server.ports[0]), "the connect")
        time.sleep(0.2)
    finally:
        server.stop()
        probe.close()
    assert out[0] == "refused"
    assert [e["DestinationPort"] for e in network_events(mon, pid)] == [str(server.ports[0])]


def test_udp_one_event_per_flow(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    # bound to the wildcard address: the local address is the datagram's
    server = start_server(programs["server"], [[4, "0.0.0.0", 0, "udp"]])
    port = server.ports[0]
    try:
        # one flow of three datagrams, then a second flow (a new socket)
        pid, local = client(programs["client"], [[4, "127.0.0.1", port, "udp", 3],
                                                 [4, "127.0.0.1", port, "udp", 1]])
        for _ in range(4):
            server.proc.stdout.readline()
        sent = wait_network(mon, pid, lambda e: e["SourcePort"] == str(local[1][1]), "the second flow")
        received = wait_network(mon, server.pid, lambda e: e["SourcePort"] == str(local[1][1]),
                                    "the second flow's receive")
        time.sleep(0.2)
        sent = network_events(mon, pid)
        received = network_events(mon, server.pid)
    finally:
        server.stop()
    assert len(sent) == 2, sent
    for event, (_, sport) in zip(sent, local):
        assert event["Image"] == programs["client"]
        assert event["Protocol"] == "udp"
        assert event["Initiated"] == "true"
        # an unbound socket: the source address is the one the route picks
        assert event["SourceIp"] == "127.0.0.1"
        assert event["SourcePort"] == str(sport)
        assert event["DestinationIp"] == "127.0.0.1"
        assert event["DestinationPort"] == str(port)
    assert len(received) == 2, received
    for event, (_, sport) in zip(received, local):
        assert event["Image"] == programs["server"]
        assert event["Protocol"] == "udp"
        assert event["Initiated"] == "false"
        assert event["SourceIp"] == "127.0.0.1"
        assert event["SourcePort"] == str(sport)
        assert event["DestinationIp"] == "127.0.0.1"
        assert event["DestinationPort"] == str(port)


def test_ipv6(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[6, "::1", 0, "tcp"], [6, "::1", 0, "udp"]])
    tcp_port, udp_port = server.ports
    try:
        pid, local = client(programs["client"], [[6, "::1", udp_port, "udp", 2],
                                                 [6, "::1", tcp_port, "tcp", 1]])
        server.proc.stdout.readline()
        events = wait_network(mon, pid, lambda e: e["Protocol"] == "tcp", "the IPv6 connect")
        accepted = wait_network(mon, server.pid, lambda e: e["Protocol"] == "tcp", "the IPv6 accept")
    finally:
        server.stop()
    assert sorted(e["Protocol"] for e in events) == ["tcp", "udp"]
    for event in events + accepted:
        assert event["SourceIsIpv6"] == "true"
        assert event["DestinationIsIpv6"] == "true"
        assert event["SourceIp"] == "::1"          # RFC 5952, not 0:0:0:0:0:0:0:1
        assert event["DestinationIp"] == "::1"
    [tcp] = [e for e in events if e["Protocol"] == "tcp"]
    assert tcp["Initiated"] == "true"
    assert tcp["SourcePort"] == str(local[1][1])
    assert tcp["DestinationPort"] == str(tcp_port)
    [udp] = [e for e in events if e["Protocol"] == "udp"]
    assert udp["SourcePort"] == str(local[0][1])
    assert udp["DestinationPort"] == str(udp_port)
    [inbound] = [e for e in accepted if e["Protocol"] == "tcp"]
    assert inbound["Initiated"] == "false"
    assert inbound["SourcePort"] == str(local[1][1])
    assert inbound["DestinationPort"] == str(tcp_port)


def test_dns_lookup_fills_host_names(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options="<DnsLookup>true</DnsLookup>"))
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "tcp"]])
    try:
        pid, _ = client(programs["client"], [[4, "127.0.0.1", server.ports[0], "tcp", 1]])
        [event] = wait_network(mon, pid, lambda e: True, "the connect")
    finally:
        server.stop()
    expected = socket.getnameinfo(("127.0.0.1", 0), socket.NI_NAMEREQD)[0]
    assert event["SourceHostname"] == expected
    assert event["DestinationHostname"] == expected


def test_udp_connected_socket_and_receive_without_address(start_monitor, programs):
    """send() on a connected socket names no address (the peer is the
    socket's); recv() asks for none (the peer is the datagram's)."""
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "udp-noaddr"]])
    port = server.ports[0]
    try:
        pid, local = client(programs["client"], [[4, "127.0.0.1", port, "udp-connected", 2]])
        server.proc.stdout.readline()
        server.proc.stdout.readline()
        [sent] = wait_network(mon, pid, lambda e: True, "the connected send")
        [received] = wait_network(mon, server.pid, lambda e: True, "the receive")
    finally:
        server.stop()
    assert sent["Initiated"] == "true"
    assert (sent["SourceIp"], sent["SourcePort"]) == ("127.0.0.1", str(local[0][1]))
    assert (sent["DestinationIp"], sent["DestinationPort"]) == ("127.0.0.1", str(port))
    assert received["Initiated"] == "false"
    assert (received["SourceIp"], received["SourcePort"]) == ("127.0.0.1", str(local[0][1]))
    assert (received["DestinationIp"], received["DestinationPort"]) == ("127.0.0.1", str(port))


def test_user_is_the_connecting_processes(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "tcp"]])
    try:
        # the private copies are not reachable for another user: the system's
        pid, _ = client(PYTHON, [[4, "127.0.0.1", server.ports[0], "tcp", 1]], user="nobody")
        [event] = wait_network(mon, pid, lambda e: True, "the connect as nobody")
    finally:
        server.stop()
    assert event["User"] == "nobody"
    assert event["Image"] == PYTHON


def test_udp_request_and_answer_are_one_flow(start_monitor, programs):
    """A client's request and the server's answer: one event on each side,
    whatever the sockets are bound to."""
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[4, "0.0.0.0", 0, "udp-echo"]])
    port = server.ports[0]
    try:
        pid, local = client(programs["client"], [[4, "127.0.0.1", port, "udp-request", 3]])
        # the end of the scenario: a second client, whose receive is logged last
        last_pid, last_local = client(programs["client"], [[4, "127.0.0.1", port, "udp-request", 1]])
        wait_network(mon, server.pid, lambda e: e["SourcePort"] == str(last_local[0][1]), "the last request")
        wait_network(mon, last_pid, lambda e: True, "the last client")
        time.sleep(0.2)
        events = network_events(mon, pid)
        received = [e for e in network_events(mon, server.pid) if e["SourcePort"] == str(local[0][1])]
    finally:
        server.stop()
    assert [(e["Initiated"], e["DestinationPort"]) for e in events] == [("true", str(port))]
    assert [(e["Initiated"], e["DestinationPort"]) for e in received] == [("false", str(port))]


FORKING_CLIENT = r"""
import os, socket, sys
pid = os.fork()
if pid == 0:
    socket.create_connection(("127.0.0.1", int(sys.argv[1]))).close()
    os._exit(0)
os.waitpid(pid, 0)
print(pid, flush=True)
"""


def test_forked_child_that_exits_at_once(start_monitor, programs):
    """A child that never exec'd runs its parent's image, even if it is gone
    before the monitor reads its record."""
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    server = start_server(programs["server"], [[4, "127.0.0.1", 0, "tcp"]])
    try:
        out = subprocess.run([programs["client"], "-c", FORKING_CLIENT, str(server.ports[0])],
                             stdout=subprocess.PIPE, text=True, timeout=WAIT, check=True).stdout
        child = int(out)
        [event] = wait_network(mon, child, lambda e: True, "the forked child's connect")
    finally:
        server.stop()
    assert event["Image"] == programs["client"]
    assert event["ProcessGuid"] != "{00000000-0000-0000-0000-000000000000}"
    assert event["Initiated"] == "true"


# Connected UDP sockets used with write() and read(), as Go's resolver does:
# no syscall names an address.  READER binds, connects to the port in argv,
# prints its own port, reads one datagram and answers it with write().
READER = r"""
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.connect(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
os.read(s.fileno(), 100)
os.write(s.fileno(), b"answer")
"""


def test_udp_write_and_read_on_connected_sockets(start_monitor, programs):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    sender_port = sender.getsockname()[1]
    reader = subprocess.Popen([programs["client"], "-c", READER, str(sender_port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        reader_port = int(reader.stdout.readline())
        sender.sendto(b"hello", ("127.0.0.1", reader_port))
        sender.settimeout(WAIT)
        sender.recvfrom(100)
        assert reader.wait(WAIT) == 0
        events = wait_network(mon, reader.pid, lambda e: True, "the read")
        # then a writer that only writes
        writer_pid, local = client(programs["client"], [[4, "127.0.0.1", sender_port, "udp-connected", 2]])
        [written] = wait_network(mon, writer_pid, lambda e: True, "the write")
        time.sleep(0.2)
        events = network_events(mon, reader.pid)
    finally:
        reader.kill()
        reader.wait()
        sender.close()
    # the datagram read and the answer written are one flow, begun by the read
    assert len(events) == 1, events
    [event] = events
    assert event["Protocol"] == "udp"
    assert event["Initiated"] == "false"
    assert (event["SourceIp"], event["SourcePort"]) == ("127.0.0.1", str(sender_port))
    assert (event["DestinationIp"], event["DestinationPort"]) == ("127.0.0.1", str(reader_port))
    assert written["Initiated"] == "true"
    assert written["SourcePort"] == str(local[0][1])
    assert written["DestinationPort"] == str(sender_port)


# A socket of TYPE bound to 127.0.0.1 on a free port (ADDR: where), for the
# C helpers below.
LOOPBACK_SOCKET_C = r"""
static int loopback_socket(int type, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, type, 0);

	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 ||
	    getsockname(fd, (struct sockaddr *)addr, &len) != 0)
		return -1;
	return fd;
}
"""


# recvmmsg and sendmmsg move many datagrams, each with its own peer, in one
# call (DNS servers answer many clients so).  Python has neither: a small C
# program, built by the test.  It prints its ports as JSON.
MMSG_C = r"""
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

""" + LOOPBACK_SOCKET_C + r"""

int main(void)
{
	struct sockaddr_in server, senders[3], targets[2], peers[3];
	struct mmsghdr msgs[3];
	struct iovec iov[3];
	char buf[3][16];
	int fd = loopback_socket(SOCK_DGRAM, &server);

	for (int i = 0; i < 3; i++) {
		int s = loopback_socket(SOCK_DGRAM, &senders[i]);
		if (s < 0 || sendto(s, "q", 1, 0, (struct sockaddr *)&server, sizeof(server)) != 1)
			return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < 3; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &peers[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
	}
	if (recvmmsg(fd, msgs, 3, MSG_WAITFORONE, NULL) != 3)
		return 2;
	for (int i = 0; i < 2; i++) {
		if (loopback_socket(SOCK_DGRAM, &targets[i]) < 0)
			return 3;
		msgs[i].msg_hdr.msg_name = &targets[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(targets[i]);
		iov[i].iov_len = 1;
	}
	if (sendmmsg(fd, msgs, 2, 0) != 2)
		return 4;
	printf("{\"server\": %u, \"senders\": [%u, %u, %u], \"targets\": [%u, %u]}\n",
	       ntohs(server.sin_port), ntohs(senders[0].sin_port), ntohs(senders[1].sin_port),
	       ntohs(senders[2].sin_port), ntohs(targets[0].sin_port), ntohs(targets[1].sin_port));
	return 0;
}
"""


def test_udp_recvmmsg_and_sendmmsg_report_every_peer(start_monitor, tmp_path):
    source = tmp_path / "mmsg.c"
    source.write_text(MMSG_C)
    program = str(tmp_path / "mmsg")
    subprocess.run(["cc", "-O2", "-o", program, str(source)], check=True)
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    proc = subprocess.Popen([program], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, "mmsg helper failed with %d" % proc.returncode
    ports = json.loads(out)
    server = str(ports["server"])
    wait_network(mon, proc.pid, lambda e: e["DestinationPort"] == str(ports["targets"][1]),
                 "the second sendmmsg message")
    events = network_events(mon, proc.pid)
    received = sorted(e["SourcePort"] for e in events
                      if e["Initiated"] == "false" and e["DestinationPort"] == server)
    assert received == sorted(str(p) for p in ports["senders"])
    sent = sorted(e["DestinationPort"] for e in events
                  if e["Initiated"] == "true" and e["SourcePort"] == server)
    assert sent == sorted(str(p) for p in ports["targets"])


# io_uring's requests make no syscall of their own.  Raw io_uring calls
# (liburing is not installed): a ring with one request at a time.
URING_C = r"""
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

struct ring {
	int fd;
	struct io_uring_params p;
	char *sq, *cq;
	struct io_uring_sqe *sqes;
};

/* 0, or 1 if io_uring is disabled, 2 if the ring cannot be mapped. */
static int ring_open(struct ring *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = (int)syscall(__NR_io_uring_setup, 4, &r->p);
	if (r->fd < 0)
		return 1;
	size_t sq_size = r->p.sq_off.array + r->p.sq_entries * sizeof(unsigned);
	size_t cq_size = r->p.cq_off.cqes + r->p.cq_entries * sizeof(struct io_uring_cqe);
	if (cq_size > sq_size)
		sq_size = cq_size;
	r->sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	r->sqes = mmap(NULL, r->p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sq == MAP_FAILED || r->sqes == MAP_FAILED || !(r->p.features & IORING_FEAT_SINGLE_MMAP))
		return 2;
	r->cq = r->sq;
	return 0;
}

/* Submit the request SQE (its slot: r->sqes[0]); 0 or -1. */
static int ring_submit(struct ring *r)
{
	unsigned *tail = (unsigned *)(r->sq + r->p.sq_off.tail);
	unsigned *array = (unsigned *)(r->sq + r->p.sq_off.array);

	array[*tail & *(unsigned *)(r->sq + r->p.sq_off.ring_mask)] = 0;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	return syscall(__NR_io_uring_enter, r->fd, 1, 0, 0, NULL, 0) == 1 ? 0 : -1;
}

/* Wait for the request's completion: its result. */
static int ring_wait(struct ring *r)
{
	if (syscall(__NR_io_uring_enter, r->fd, 0, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return -1000;
	unsigned *head = (unsigned *)(r->cq + r->p.cq_off.head);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(r->cq + r->p.cq_off.cqes);
	int res = cqes[*head & *(unsigned *)(r->cq + r->p.cq_off.ring_mask)].res;
	__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
	return res;
}

""" + LOOPBACK_SOCKET_C

# One accept request (IORING_OP_ACCEPT), then a connect from the same
# process.  It prints the ports as JSON.
URING_ACCEPT_C = URING_C + r"""
int main(void)
{
	struct ring r;
	struct sockaddr_in addr, client;
	socklen_t len = sizeof(client);
	int err = ring_open(&r), lfd, cfd, res;

	if (err)
		return err;
	if ((lfd = loopback_socket(SOCK_STREAM, &addr)) < 0 || listen(lfd, 8) != 0)
		return 3;
	memset(&r.sqes[0], 0, sizeof(r.sqes[0]));
	r.sqes[0].opcode = IORING_OP_ACCEPT;
	r.sqes[0].fd = lfd;
	if (ring_submit(&r) != 0)
		return 4;
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cfd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		return 5;
	if ((res = ring_wait(&r)) < 0)
		return 7;
	getsockname(cfd, (struct sockaddr *)&client, &len);
	printf("{\"port\": %u, \"client_port\": %u, \"fd\": %d}\n", ntohs(addr.sin_port),
	       ntohs(client.sin_port), res);
	return 0;
}
"""

# One datagram sent to an address by IORING_OP_SENDMSG from an unconnected
# socket, and received by IORING_OP_RECVMSG on another.  It prints the ports.
URING_UDP_C = URING_C + r"""
int main(void)
{
	struct ring r;
	struct sockaddr_in sender, receiver, source;
	char byte = 'x';
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int err = ring_open(&r), sfd, rfd;

	if (err)
		return err;
	if ((sfd = loopback_socket(SOCK_DGRAM, &sender)) < 0 || (rfd = loopback_socket(SOCK_DGRAM, &receiver)) < 0)
		return 3;
	msg.msg_name = &receiver;
	msg.msg_namelen = sizeof(receiver);
	memset(&r.sqes[0], 0, sizeof(r.sqes[0]));
	r.sqes[0].opcode = IORING_OP_SENDMSG;
	r.sqes[0].fd = sfd;
	r.sqes[0].addr = (unsigned long)&msg;
	r.sqes[0].len = 1;
	if (ring_submit(&r) != 0 || ring_wait(&r) != 1)
		return 4;
	msg.msg_name = &source;
	msg.msg_namelen = sizeof(source);
	r.sqes[0].fd = rfd;
	r.sqes[0].opcode = IORING_OP_RECVMSG;
	if (ring_submit(&r) != 0 || ring_wait(&r) != 1)
		return 5;
	printf("{\"sender\": %u, \"receiver\": %u}\n", ntohs(sender.sin_port), ntohs(receiver.sin_port));
	return 0;
}
"""


def run_uring_helper(tmp_path, name, source_text):
    """Build and run an io_uring helper: its process and ports (skips if io_uring is off)."""
    source = tmp_path / (name + ".c")
    source.write_text(source_text)
    program = str(tmp_path / name)
    subprocess.run(["cc", "-O2", "-o", program, str(source)], check=True)
    proc = subprocess.Popen([program], stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=WAIT)
    if proc.returncode == 1:
        pytest.skip("io_uring is disabled on this kernel")
    assert proc.returncode == 0, "io_uring helper %s failed with %d" % (name, proc.returncode)
    return program, proc, json.loads(out)


def test_io_uring_accept(start_monitor, tmp_path):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    if "io_uring accepts not seen" in mon.stderr():
        pytest.skip("the monitor says: this kernel's io_uring_complete names no request (before 5.19)")
    program, proc, ports = run_uring_helper(tmp_path, "uaccept", URING_ACCEPT_C)
    events = wait_network(mon, proc.pid, lambda e: e["Initiated"] == "false", "the io_uring accept")
    [accepted] = [e for e in events if e["Initiated"] == "false"]
    assert accepted["Image"] == program
    assert (accepted["SourceIp"], accepted["SourcePort"]) == ("127.0.0.1", str(ports["client_port"]))
    assert (accepted["DestinationIp"], accepted["DestinationPort"]) == ("127.0.0.1", str(ports["port"]))


def test_io_uring_udp_to_and_from_an_address(start_monitor, tmp_path):
    mon = start_monitor(config_text=ALL_NETWORK.format(options=""))
    if "io_uring's datagrams to or from an address not seen" in mon.stderr():
        pytest.skip("the monitor says: UDP to or from an address is seen at the syscalls (no fexit)")
    program, proc, ports = run_uring_helper(tmp_path, "uudp", URING_UDP_C)
    sender, receiver = str(ports["sender"]), str(ports["receiver"])
    events = wait_network(mon, proc.pid, lambda e: e["Initiated"] == "false", "the io_uring receive")
    flows = sorted((e["Initiated"], e["SourcePort"], e["DestinationPort"]) for e in events)
    # a sent datagram is reported from the sender to the receiver; a
    # received one from the remote end (the source) to the local one
    assert flows == [("false", sender, receiver), ("true", sender, receiver)]
    assert all(e["Image"] == program and e["Protocol"] == "udp" for e in events)
