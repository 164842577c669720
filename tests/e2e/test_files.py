"""End-to-end tests of the file events: FileCreate (11), FileDelete (23),
FileDeleteDetected (26), FileCreateTime (2) and RawAccessRead (9).  The real
monitor (conftest.py's Monitor) on the real kernel, real file operations in
a temporary directory and on a loop device, as root.

Every operation runs in its own short-lived process (a Python snippet, or
touch / dd), so its events are told apart by ProcessId from whatever else the
machine does.  One process's file events leave the kernel in the order it
made the calls, so once the event of its last call is logged, every earlier
call has been decided: that is how "not logged" is checked.
"""
import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import SLOW, Monitor

PYTHON = os.path.realpath("/usr/bin/python3")
WAIT = 10.0
ZERO_GUID = "{00000000-0000-0000-0000-000000000000}"

ALL_FILE_EVENTS = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <FileCreate onmatch="exclude"/>
    <FileDelete onmatch="exclude"/>
    <FileDeleteDetected onmatch="exclude"/>
    <FileCreateTime onmatch="exclude"/>
    <RawAccessRead onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""


@pytest.fixture(scope="module")
def monitor(tmp_path_factory):
    """One monitor logging every file event, shared by the tests below."""
    workdir = tmp_path_factory.mktemp("files-monitor")
    config = workdir / "config.xml"
    config.write_text(ALL_FILE_EVENTS)
    mon = Monitor(str(workdir), str(config))
    yield mon
    assert mon.stop() == 0


@pytest.fixture
def work(tmp_path):
    return str(tmp_path)


def run(cmd, **kwargs):
    """Run CMD to its end (it must succeed); returns its pid."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, "%s: %s" % (cmd, err)
    return proc.pid


def run_python(code, cwd=None, user=None):
    """Run CODE in a new Python process; returns its pid once it ended."""
    return run([PYTHON, "-c", "import os, sys\n" + code], cwd=cwd, user=user)


def events_of(mon, pid, event_id):
    return mon.find(lambda e: e.get("EventID") == event_id and e.get("ProcessId") == str(pid))


def wait_event(mon, pid, event_id, target, field="TargetFilename"):
    """The first event EVENT_ID of PID whose FIELD is TARGET."""
    return mon.wait_for(lambda e: e.get("EventID") == event_id and e.get("ProcessId") == str(pid)
                        and e.get(field) == target, timeout=WAIT,
                        what="event %d for %s (pid %d)" % (event_id, target, pid))


def skip_if_missed(mon, event, what):
    """Skip when the monitor's own line for EVENT ("FileCreate (11)") says this
    kernel misses WHAT (file_source.c: a kernel with no inode journal)."""
    for line in mon.stderr().splitlines():
        if line.startswith("sysmon: %s: active (" % event) and what in line:
            pytest.skip(line[len("sysmon: "):])


def utc_ms(seconds, nanoseconds=0):
    """Sysmon's UtcTime text for a time since the epoch (ms truncated)."""
    moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + ".%03d" % (nanoseconds // 1000000)


def parse_utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def birth_time(path):
    """The file's birth time as Sysmon writes it (stat %W: seconds.ns)."""
    out = subprocess.run(["stat", "--format=%.9W", path], capture_output=True, text=True,
                         check=True).stdout.strip()
    seconds, fraction = out.split(".")
    return utc_ms(int(seconds), int(fraction))


def check_process_fields(mon, event, pid, image=PYTHON, user="root", started=None):
    create = mon.wait_for(lambda e: e.get("EventID") == 1 and e.get("ProcessId") == str(pid),
                          timeout=WAIT, what="ProcessCreate of %d" % pid)
    assert event["ProcessGuid"] == create["ProcessGuid"] != ZERO_GUID
    assert event["ProcessId"] == str(pid)
    assert event["Image"] == image
    assert event["User"] == user
    assert event["RuleName"] == "-"
    when = parse_utc(event["UtcTime"])
    if started is not None:
        assert started - 1 <= when <= time.time() + 1


def test_file_create_new_file_and_not_an_existing_one(monitor, work):
    existing = os.path.join(work, "existing")
    with open(existing, "w") as f:
        f.write("data")
    new = os.path.join(work, "new")
    marker = os.path.join(work, "marker")
    started = time.time()
    pid = run_python("""
for path in %r:
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
""" % [existing, new, marker])
    event = wait_event(monitor, pid, 11, new)
    wait_event(monitor, pid, 11, marker)
    check_process_fields(monitor, event, pid, started=started)
    assert event["CreationUtcTime"] == event["UtcTime"]
    # O_CREAT on an existing file without O_TRUNC creates nothing
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 11)] == [new, marker]


def test_file_create_overwrite_symlink_link_rename(monitor, work):
    skip_if_missed(monitor, "FileCreate (11)", "renames not seen")
    old = os.path.join(work, "old")
    with open(old, "w") as f:
        f.write("old content")
    old_birth = birth_time(old)
    names = {k: os.path.join(work, k) for k in ("sym", "hard", "hard2", "renamed", "fifo", "node")}
    pid = run_python("""
import stat
old, sym, hard, hard2, renamed, fifo, node = %r
with open(old, "w") as f:          # O_TRUNC of an existing file: overwritten
    f.write("new")
os.symlink("does-not-matter", sym)
os.link(old, hard)
os.link(old, hard2)
os.rename(hard2, renamed)
os.mknod(fifo, 0o600 | stat.S_IFIFO)      # not a file
os.mknod(node, 0o600 | stat.S_IFREG)      # an empty regular file
""" % [old, names["sym"], names["hard"], names["hard2"], names["renamed"], names["fifo"],
       names["node"]])
    node = wait_event(monitor, pid, 11, names["node"])
    renamed = wait_event(monitor, pid, 11, names["renamed"])
    overwrite = wait_event(monitor, pid, 11, old)
    symlink = wait_event(monitor, pid, 11, names["sym"])
    hard = wait_event(monitor, pid, 11, names["hard"])
    for event in (overwrite, symlink, hard, renamed, node):
        check_process_fields(monitor, event, pid)
    # an overwritten or newly named file keeps its birth time; a symlink is new
    assert overwrite["CreationUtcTime"] == old_birth
    assert hard["CreationUtcTime"] == old_birth
    assert renamed["CreationUtcTime"] == old_birth
    assert symlink["CreationUtcTime"] == symlink["UtcTime"]
    assert node["CreationUtcTime"] == node["UtcTime"]
    # the symlink's own name, not its target
    assert symlink["TargetFilename"] == names["sym"]
    # a rename onto a free name deletes nothing
    assert events_of(monitor, pid, 23) == [] and events_of(monitor, pid, 26) == []
    assert names["fifo"] not in [e["TargetFilename"] for e in events_of(monitor, pid, 11)]
    assert len(events_of(monitor, pid, 11)) == 6


def test_file_create_creat_openat2_and_tmpfile_linked_in(monitor, work):
    names = [os.path.join(work, n) for n in ("by-creat", "by-openat2", "linked-tmpfile")]
    pid = run_python("""
import ctypes, struct
creat_path, openat2_path, linked = %r
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def check(fd):
    if fd < 0:
        raise OSError(ctypes.get_errno(), "syscall")
    os.close(fd)
check(libc.syscall(85, creat_path.encode(), 0o644))                 # creat
how = ctypes.create_string_buffer(struct.pack("QQQ", os.O_CREAT | os.O_WRONLY, 0o644, 0))
check(libc.syscall(437, -100, openat2_path.encode(), how, 24))       # openat2
fd = os.open(os.path.dirname(linked), os.O_TMPFILE | os.O_WRONLY, 0o600)
os.write(fd, b"unnamed until linked")
if libc.linkat(fd, b"", -100, linked.encode(), 0x1000) != 0:          # AT_EMPTY_PATH
    raise OSError(ctypes.get_errno(), "linkat")
os.close(fd)
""" % names)
    wait_event(monitor, pid, 11, names[2])
    # the O_TMPFILE open itself has no name: not a FileCreate
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 11)] == names


COMPAT_SYSCALL = r"""
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	/* argv[1] an existing regular file, argv[2] a symlink to a 3-byte
	 * target, argv[3] a file to create natively, argv[4] one to create
	 * and delete with 32-bit calls */
	int fd = open(argv[1], O_WRONLY);
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long ret;

	if (fd != 3 || low == MAP_FAILED)
		return 1;
	strcpy(low, argv[2]);
	/* ia32 readlink (85) by int 0x80 returns 3; x86_64's 85 is creat,
	 * and descriptor 3 is a regular file opened for writing */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(85), "b"(low), "c"(low + 1024), "d"(100) : "memory");
	if (ret != 3)
		return 2;
	/* ia32 creat (8) and unlink (10): seen as what they are */
	strcpy(low, argv[4]);
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(8), "b"(low), "c"(0644) : "memory");
	if (ret < 0)
		return 3;
	/* ia32 utimensat (320) with 32-bit timespecs: mtime 2000-01-01 */
	int *times = (int *)(low + 2048);
	times[0] = 0; times[1] = 0; times[2] = 946684800; times[3] = 0;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(320), "b"(-100), "c"(low), "d"(times), "S"(0) : "memory");
	if (ret != 0)
		return 6;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(10), "b"(low) : "memory");
	if (ret != 0)
		return 4;
	/* then a native creat */
	return syscall(SYS_creat, argv[3], 0644) < 0 ? 5 : 0;
}
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="int 0x80 is x86's")
def test_32_bit_syscalls_are_read_as_what_they_are(monitor, work):
    skip_if_missed(monitor, "FileCreateTime (2)", "no PreviousCreationUtcTime")
    source = os.path.join(work, "compat.c")
    program = os.path.join(work, "compat")
    with open(source, "w") as f:
        f.write(COMPAT_SYSCALL)
    if shutil.which("cc") is None or subprocess.run(["cc", "-O1", "-o", program, source]).returncode != 0:
        pytest.skip("cannot build the test program")
    existing = os.path.join(work, "existing")
    with open(existing, "w") as f:
        f.write("x")
    os.symlink("abc", os.path.join(work, "link"))
    created = os.path.join(work, "created")
    by_ia32 = os.path.join(work, "by-ia32")
    pid = run([program, existing, os.path.join(work, "link"), created, by_ia32])
    wait_event(monitor, pid, 11, created)
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 11)] == [by_ia32, created]
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 23)] == [by_ia32]
    [stamp] = events_of(monitor, pid, 2)
    assert stamp["TargetFilename"] == by_ia32
    assert stamp["CreationUtcTime"] == "2000-01-01 00:00:00.000"
    assert stamp["PreviousCreationUtcTime"] != "-"


def test_file_create_relative_paths_are_absolute(monitor, work):
    os.makedirs(os.path.join(work, "a", "b"))
    os.makedirs(os.path.join(work, "c"))
    pid = run_python("""
os.chdir("a/b")
os.close(os.open("../rel1", os.O_CREAT | os.O_WRONLY, 0o644))
os.close(os.open(".//./rel2", os.O_CREAT | os.O_WRONLY, 0o644))
dirfd = os.open("../../c", os.O_RDONLY | os.O_DIRECTORY)
os.symlink("x", "../sub-link", dir_fd=dirfd)
os.close(os.open("at-dirfd", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=dirfd))
""", cwd=work)
    expected = [os.path.join(work, "a", "rel1"), os.path.join(work, "a", "b", "rel2"),
                os.path.join(work, "sub-link"), os.path.join(work, "c", "at-dirfd")]
    wait_event(monitor, pid, 11, expected[-1])
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 11)] == expected


def test_paths_of_a_chrooted_process(monitor, work):
    jail = os.path.join(work, "jail")
    os.makedirs(os.path.join(jail, "etc"))
    open(os.path.join(jail, "etc", "gone"), "w").close()
    pid = run_python("""
os.chroot(%r)
os.close(os.open("/etc/opened", os.O_CREAT | os.O_WRONLY, 0o644))
os.symlink("opened", "/etc/named")
os.unlink("/etc/gone")
""" % jail)
    wait_event(monitor, pid, 23, os.path.join(jail, "etc", "gone"))
    assert [e["TargetFilename"] for e in events_of(monitor, pid, 11)] == [
        os.path.join(jail, "etc", "opened"), os.path.join(jail, "etc", "named")]


def test_overlayfs_calls_are_never_misread(monitor, work):
    skip_if_missed(monitor, "FileCreate (11)", "renames not seen")
    # a container's file system: a rename or unlink there touches the
    # overlay's inodes, the real ones and copies made on the way
    layers = {k: os.path.join(work, k) for k in ("lower", "upper", "work", "merged")}
    for path in layers.values():
        os.makedirs(path)
    for name, mode in (("script", 0o755), ("data", 0o644)):
        with open(os.path.join(layers["lower"], name), "w") as f:
            f.write("x")
        os.chmod(os.path.join(layers["lower"], name), mode)
    mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                              "lowerdir=%(lower)s,upperdir=%(upper)s,workdir=%(work)s" % layers,
                              layers["merged"]], capture_output=True, text=True, timeout=WAIT)
    if mounted.returncode != 0:
        pytest.skip("no overlayfs: %s" % mounted.stderr.strip())
    merged = layers["merged"]
    try:
        pid = run_python("""
os.chdir(%r)
os.rename("script", "moved")      # onto a free name
os.unlink("data")
os.unlink("moved")
""" % merged)
        wait_event(monitor, pid, 26, os.path.join(merged, "moved"))
    finally:
        subprocess.run(["umount", merged], timeout=WAIT)
    creates = events_of(monitor, pid, 11)
    assert [e["TargetFilename"] for e in creates] == [os.path.join(merged, "moved")]
    deletes = events_of(monitor, pid, 23)
    assert [e["TargetFilename"] for e in deletes] == [os.path.join(merged, "data"),
                                                      os.path.join(merged, "moved")]
    assert [e["IsExecutable"] for e in deletes] == ["false", "true"]


def test_file_create_user_of_an_unprivileged_process(monitor):
    # pytest's own directories are root's alone
    shared = tempfile.mkdtemp(prefix="sysmon-files-")
    try:
        os.chmod(shared, 0o777)
        target = os.path.join(shared, "by-nobody")
        pid = run_python("open(%r, 'w').close()" % target, user="nobody")
        event = wait_event(monitor, pid, 11, target)
    finally:
        shutil.rmtree(shared)
    check_process_fields(monitor, event, pid, user="nobody")


def test_file_delete_unlink_unlinkat_and_rename_over(monitor, work):
    skip_if_missed(monitor, "FileDelete (23)", "renames over a file not seen")
    plain = os.path.join(work, "plain")
    script = os.path.join(work, "script.sh")
    os.makedirs(os.path.join(work, "d", "gone-dir"))
    at_dirfd = os.path.join(work, "d", "at-dirfd")
    replaced = os.path.join(work, "replaced")
    source = os.path.join(work, "source")
    for path, mode in ((plain, 0o644), (script, 0o755), (at_dirfd, 0o600), (replaced, 0o644),
                       (source, 0o644)):
        with open(path, "w") as f:
            f.write("x")
        os.chmod(path, mode)
    source_birth = birth_time(source)
    started = time.time()
    pid = run_python("""
plain, script, d, replaced, source = %r
os.unlink(plain)
os.unlink(script)
dirfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
os.rmdir("gone-dir", dir_fd=dirfd)          # a directory: not a file delete
os.unlink("at-dirfd", dir_fd=dirfd)
os.replace(source, replaced)
""" % [plain, script, os.path.join(work, "d"), replaced, source])
    wait_event(monitor, pid, 26, replaced)
    wait_event(monitor, pid, 23, replaced)
    deletes = events_of(monitor, pid, 23)
    detected = events_of(monitor, pid, 26)
    assert [e["TargetFilename"] for e in deletes] == [plain, script, at_dirfd, replaced]
    assert [e["TargetFilename"] for e in detected] == [plain, script, at_dirfd, replaced]
    for event in deletes + detected:
        check_process_fields(monitor, event, pid, started=started)
        assert event["Hashes"] == "-"
    assert [e["IsExecutable"] for e in deletes] == ["false", "true", "false", "false"]
    assert [e["IsExecutable"] for e in detected] == ["false", "true", "false", "false"]
    assert all(e["Archived"] == "false" for e in deletes)
    assert all("Archived" not in e for e in detected)
    # the replaced name now holds another file: a FileCreate too, with
    # the renamed file's birth time
    [create] = events_of(monitor, pid, 11)
    assert create["TargetFilename"] == replaced
    assert create["CreationUtcTime"] == source_birth


def test_file_delete_detected_alone_without_file_delete_rules(start_monitor, work):
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90"><EventFiltering>
      <FileDeleteDetected onmatch="exclude"/>
    </EventFiltering></Sysmon>""")
    assert "FileDelete (23)" not in mon.stderr()
    target = os.path.join(work, "victim")
    open(target, "w").close()
    pid = run_python("os.unlink(%r); open(%r, 'w').close()" % (target, target + "2"))
    wait_event(mon, pid, 26, target)
    assert events_of(mon, pid, 23) == []
    # no FileCreate rules: the kernel side does not even send it
    assert events_of(mon, pid, 11) == []


def test_reload_changes_the_file_events_captured(start_monitor, work):
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90"><EventFiltering>
      <FileDeleteDetected onmatch="exclude"/>
    </EventFiltering></Sysmon>""")
    mon.wait_for(lambda e: e.get("EventID") == 4, what="the Started event")
    code = "open(sys.argv[1], 'w').close(); os.unlink(sys.argv[1])"
    target = os.path.join(work, "before")
    pid = run([PYTHON, "-c", "import os, sys\n" + code, target])
    wait_event(mon, pid, 26, target)
    assert events_of(mon, pid, 11) == [] and events_of(mon, pid, 23) == []

    with open(os.path.join(work, "config0.xml"), "w") as f:   # start_monitor wrote it there
        f.write("""<Sysmon schemaversion="4.90"><EventFiltering>
      <FileCreate onmatch="exclude"/><FileDelete onmatch="exclude"/>
    </EventFiltering></Sysmon>""")
    os.kill(mon.pid, signal.SIGHUP)
    mon.wait_for(lambda e: e.get("EventID") == 16, count=2, what="a second event 16")
    target = os.path.join(work, "after")
    pid = run([PYTHON, "-c", "import os, sys\n" + code, target])
    wait_event(mon, pid, 23, target)
    assert [e["TargetFilename"] for e in events_of(mon, pid, 11)] == [target]
    assert events_of(mon, pid, 26) == []


def test_a_full_ring_buffer_is_reported(start_monitor, work):
    # one page of ring buffer holds a handful of records; a stopped monitor
    # reads none, so a burst overflows it
    mon = start_monitor(config_text=ALL_FILE_EVENTS, args=["--ring-buffer-pages", "1"])
    os.kill(mon.pid, signal.SIGSTOP)
    try:
        pid = run_python("""
for i in range(300):
    open(os.path.join(%r, "burst-%%d" %% i), "w").close()
""" % work)
    finally:
        os.kill(mon.pid, signal.SIGCONT)
    lost = mon.wait_for(lambda e: e.get("EventID") == 255 and "FileCreate" in e["Description"],
                        what="a lost-events Error event")
    count, rest = lost["Description"].split(" ", 1)
    assert rest == "FileCreate events lost: ring buffer full"
    assert int(count) > 0
    assert int(count) + len(events_of(mon, pid, 11)) >= 300
    # still capturing
    target = os.path.join(work, "after-burst")
    pid = run_python("open(%r, 'w').close()" % target)
    wait_event(mon, pid, 11, target)


def test_file_create_paths_no_rule_can_log_are_dropped_in_the_kernel(start_monitor, work):
    # the default config's kind of rules: only these paths can be logged, so
    # the kernel sends nothing else; a stopped monitor with a one-page ring
    # would lose a burst of other creates otherwise (as in the test above)
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90"><EventFiltering>
      <FileCreate onmatch="include">
        <TargetFilename condition="begin with">%s/KEEP</TargetFilename>
        <TargetFilename condition="end with">/.BashRC</TargetFilename>
        <TargetFilename condition="is any">%s/exact;/nowhere</TargetFilename>
      </FileCreate>
    </EventFiltering></Sysmon>""" % (work, work), args=["--ring-buffer-pages", "1"])
    mon.wait_for(lambda e: e.get("EventID") == 4, what="the Started event")
    skip_if_missed(mon, "FileCreate (11)", "no in-kernel path filter")
    os.kill(mon.pid, signal.SIGSTOP)
    try:
        run_python("""
for i in range(300):
    open(os.path.join(%r, "drop-%%d" %% i), "w").close()
open(os.path.join(%r, "exact-not"), "w").close()
""" % (work, work))
    finally:
        os.kill(mon.pid, signal.SIGCONT)
    os.mkdir(os.path.join(work, "home"))
    kept = [os.path.join(work, "keep-1"), os.path.join(work, "home", ".bashrc"),
            os.path.join(work, "exact")]
    pid = run([PYTHON, "-c", "import sys\nfor p in sys.argv[1:]: open(p, 'w').close()"] + kept)
    for target in kept:
        wait_event(mon, pid, 11, target)
    time.sleep(1.5)
    assert not mon.find(lambda e: e.get("EventID") == 255 and "FileCreate" in e.get("Description", ""))
    assert mon.stop() == 0
    assert not [e for e in mon.find(lambda e: e.get("EventID") == 11)
                if os.path.basename(e["TargetFilename"]).startswith(("drop-", "exact-not"))]


def test_file_create_time_touch_and_utimensat(monitor, work):
    skip_if_missed(monitor, "FileCreateTime (2)", "no PreviousCreationUtcTime")
    target = os.path.join(work, "stamped")
    with open(target, "w") as f:
        f.write("x")
    os.utime(target, ns=(1234567891_234567891, 1234567891_234567891))
    env = dict(os.environ, TZ="UTC")
    touch_pid = run(["touch", "-d", "2001-01-01 00:00:00", target], env=env)
    event = wait_event(monitor, touch_pid, 2, target)
    check_process_fields(monitor, event, touch_pid, image=os.path.realpath(shutil.which("touch")))
    assert event["CreationUtcTime"] == "2001-01-01 00:00:00.000"
    assert event["PreviousCreationUtcTime"] == "2009-02-13 23:31:31.234"
    assert os.stat(target).st_mtime == 978307200

    # by name (utimensat with a path), then "now" (not a stamp: not logged)
    marker = os.path.join(work, "marker")
    open(marker, "w").close()
    pid = run_python("""
target, marker = %r
os.utime(target, ns=(0, 946684800_500000000))
os.utime(target)
os.utime(marker, ns=(0, 0))
""" % [target, marker])
    wait_event(monitor, pid, 2, marker)
    stamps = events_of(monitor, pid, 2)
    assert [e["TargetFilename"] for e in stamps] == [target, marker]
    assert stamps[0]["CreationUtcTime"] == "2000-01-01 00:00:00.500"
    assert stamps[0]["PreviousCreationUtcTime"] == "2001-01-01 00:00:00.000"
    assert stamps[1]["CreationUtcTime"] == "1970-01-01 00:00:00.000"
    check_process_fields(monitor, stamps[0], pid)


def test_raw_access_read_from_a_loop_device(monitor, work):
    image = os.path.join(work, "disk.img")
    with open(image, "wb") as f:
        f.truncate(1 << 20)
    device = subprocess.run(["losetup", "-f", "--show", image], capture_output=True, text=True,
                            timeout=WAIT)
    if device.returncode != 0:
        pytest.skip("no loop device: %s" % device.stderr.strip())
    device = device.stdout.strip()
    dd = os.path.realpath(shutil.which("dd"))
    try:
        writer_pid = run(["dd", "if=/dev/zero", "of=" + device, "bs=4096", "count=1", "status=none"])
        reader_pid = run(["dd", "if=" + device, "of=/dev/null", "bs=4096", "count=4", "status=none"])
        event = wait_event(monitor, reader_pid, 9, device, field="Device")
    finally:
        subprocess.run(["losetup", "-d", device], timeout=WAIT)
    check_process_fields(monitor, event, reader_pid, image=dd)
    assert len(events_of(monitor, reader_pid, 9)) == 1
    # opened for writing only: no raw read; a device is never "created"
    assert events_of(monitor, writer_pid, 9) == []
    assert events_of(monitor, writer_pid, 11) == []


def test_file_create_storm(monitor, work):
    count = 5000
    pid = run_python("""
d, count = %r, %d
for i in range(count):
    path = "%%s/f%%d" %% (d, i)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    os.unlink(path)
""" % (work, count))
    last = os.path.join(work, "f%d" % (count - 1))
    wait_event(monitor, pid, 26, last)
    assert monitor.proc.poll() is None
    lost = [e for e in monitor.snapshot() if e.get("EventID") == 255]
    assert lost == [], lost
    assert len(events_of(monitor, pid, 11)) == count
    assert len(events_of(monitor, pid, 23)) == count
    assert len(events_of(monitor, pid, 26)) == count


def test_concurrent_storms_keep_each_event_whole(monitor, work):
    # Several processes at once, more than the CPUs.  Where the kernel
    # preempts eBPF programs (7.x), one task's program must not write into
    # a record another task's program on that CPU is still filling, and a
    # run the kernel skips (the program held by a preempted task) must be
    # reported: an event is never lost silently.
    workers, count = 6, 600
    code = """
d, k, count = %r, int(sys.argv[1]), %d
for i in range(count):
    path = "%%s/w%%d-f%%d" %% (d, k, i)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))
    os.unlink(path)
""" % (work, count)
    procs = [subprocess.Popen([PYTHON, "-c", "import os, sys\n" + code, str(k)]) for k in range(workers)]
    for proc in procs:
        assert proc.wait(timeout=WAIT * 6) == 0
    # the unlink of each worker's last file, or a loss reported; then the
    # monitor's next check of skipped runs
    for k in range(workers):
        last = os.path.join(work, "w%d-f%d" % (k, count - 1))
        monitor.wait_for(lambda e: e.get("EventID") == 255 or e.get("TargetFilename") == last,
                         timeout=WAIT, what="worker %d's last unlink" % k)
    time.sleep(2 * SLOW)
    missing = 0
    for k, proc in enumerate(procs):
        expected = set(os.path.join(work, "w%d-f%d" % (k, i)) for i in range(count))
        for event_id in (11, 23):
            events = events_of(monitor, proc.pid, event_id)
            got = [e["TargetFilename"] for e in events]
            assert set(got) <= expected and len(got) == len(set(got)), \
                "event %d of worker %d (pid %d): not its own or twice: %s" % (
                    event_id, k, proc.pid, sorted(set(got) - expected)[:5])
            assert all(e["Image"] == PYTHON for e in events)
            missing += count - len(got)
    errors = [e for e in monitor.snapshot() if e.get("EventID") == 255]
    reported = sum(int(e["Description"].split("): ")[1].split()[0]) for e in errors
                   if e.get("ID") == "LostEvents" and e["Description"].startswith("file (")
                   and "runs skipped" in e["Description"])
    assert missing <= reported, "%d events missing, %d reported lost: %s" % (missing, reported, errors)
    assert [e for e in errors if "runs skipped" not in e.get("Description", "")] == []


# Files created, named and deleted through io_uring (IORING_OP_OPENAT with
# O_CREAT, LINKAT, SYMLINKAT, RENAMEAT, UNLINKAT) make no syscall of their
# own.  Raw io_uring calls (liburing is not installed): each request
# submitted and waited for in turn; then a plain unlink of a marker, logged
# after the others.
URING_FILES_C = r"""
/* Create, name and delete files through io_uring, in the working directory. */
#include <fcntl.h>
#include <linux/io_uring.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct io_uring_params p;
static char *sq;
static struct io_uring_sqe *sqes;
static int ring;

/* Submit SQE and wait for its completion; returns its result. */
static int complete(struct io_uring_sqe *sqe)
{
	unsigned *tail = (unsigned *)(sq + p.sq_off.tail);
	unsigned *array = (unsigned *)(sq + p.sq_off.array);
	unsigned *head = (unsigned *)(sq + p.cq_off.head);
	struct io_uring_cqe *cqes = (struct io_uring_cqe *)(sq + p.cq_off.cqes);
	unsigned index = *tail & *(unsigned *)(sq + p.sq_off.ring_mask);

	sqes[index] = *sqe;
	array[index] = index;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) != 1)
		return -1000;
	int res = cqes[*head & *(unsigned *)(sq + p.cq_off.ring_mask)].res;
	__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
	return res;
}

int main(int argc, char **argv)
{
	struct io_uring_sqe sqe;

	if (argc != 3)
		return 9;
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return 1;
	size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (cq_size > sq_size)
		sq_size = cq_size;
	sq = mmap(NULL, sq_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || sqes == MAP_FAILED || !(p.features & IORING_FEAT_SINGLE_MMAP))
		return 2;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = IORING_OP_OPENAT;
	sqe.fd = AT_FDCWD;
	sqe.addr = (unsigned long)argv[1];
	sqe.open_flags = O_CREAT | O_WRONLY;
	sqe.len = 0755;
	int fd = complete(&sqe);
	if (fd < 0)
		return 3;
	close(fd);

	/* two names (from to), or one (to): link, symlink, rename, unlink */
	static const struct {
		int opcode;
		const char *from, *to;
	} steps[] = {
		{ IORING_OP_LINKAT, "by-uring", "linked" },
		{ IORING_OP_SYMLINKAT, "by-uring", "sym" },
		{ IORING_OP_RENAMEAT, "linked", "renamed" },
		{ IORING_OP_UNLINKAT, NULL, "renamed" },
		{ IORING_OP_UNLINKAT, NULL, "sym" },
		{ IORING_OP_UNLINKAT, NULL, "by-uring" },
	};
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		memset(&sqe, 0, sizeof(sqe));
		sqe.opcode = steps[i].opcode;
		sqe.fd = AT_FDCWD;
		if (steps[i].opcode == IORING_OP_UNLINKAT) {
			sqe.addr = (unsigned long)steps[i].to;
		} else if (steps[i].opcode == IORING_OP_SYMLINKAT) {
			sqe.addr = (unsigned long)steps[i].from;
			sqe.addr2 = (unsigned long)steps[i].to;
		} else {
			sqe.addr = (unsigned long)steps[i].from;
			sqe.len = (unsigned)AT_FDCWD;
			sqe.addr2 = (unsigned long)steps[i].to;
		}
		if (complete(&sqe) != 0)
			return 10 + i;
	}
	return unlink(argv[2]) == 0 ? 0 : 5;
}
"""


def test_io_uring_create_and_delete(monitor, work):
    # the syscall hooks (tp_btf sys_exit: 5.10, 6.18) never see io_uring
    skip_if_missed(monitor, "FileCreate (11)", "io_uring's requests not seen")
    skip_if_missed(monitor, "FileDelete (23)", "io_uring's requests not seen")
    source = os.path.join(work, "ufiles.c")
    with open(source, "w") as f:
        f.write(URING_FILES_C)
    program = os.path.join(work, "ufiles")
    if subprocess.run(["cc", "-O2", "-o", program, source]).returncode != 0:
        pytest.skip("cannot build the test program")
    target = os.path.join(work, "by-uring")
    marker = os.path.join(work, "marker")
    open(marker, "w").close()
    proc = subprocess.Popen([program, "by-uring", marker], cwd=work)
    proc.wait(timeout=WAIT)
    if proc.returncode == 1:
        pytest.skip("io_uring is disabled on this kernel")
    assert proc.returncode == 0, "io_uring helper failed with %d" % proc.returncode
    pid = proc.pid
    wait_event(monitor, pid, 23, marker)
    named = {name: os.path.join(work, name) for name in ("linked", "sym", "renamed")}
    creates = events_of(monitor, pid, 11)
    assert [e["TargetFilename"] for e in creates] == [target, named["linked"], named["sym"],
                                                      named["renamed"]]
    check_process_fields(monitor, creates[0], pid, image=program)
    deletes = events_of(monitor, pid, 23)
    assert [e["TargetFilename"] for e in deletes] == [named["renamed"], named["sym"], target, marker]
    assert [e["IsExecutable"] for e in deletes] == ["true", "false", "true", "false"]
    check_process_fields(monitor, deletes[0], pid, image=program)


def test_the_monitor_never_reports_itself(monitor):
    # it has written its event log all along
    assert monitor.find(lambda e: e.get("ProcessId") == str(monitor.pid)) == []
