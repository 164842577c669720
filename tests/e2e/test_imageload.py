"""End-to-end tests of ImageLoad (7): a test library built here with
cc -shared, loaded with dlopen (Python's ctypes) by a copy of Python under
its own name, on the real monitor and kernel."""

import hashlib
import os
import shutil
import subprocess

import pytest

PYTHON = os.path.realpath("/usr/bin/python3")

CONFIG = """<Sysmon schemaversion="4.90">
  <HashAlgorithms>md5,sha256</HashAlgorithms>
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ImageLoad onmatch="exclude"/>
  </EventFiltering>
</Sysmon>
"""

LOAD = "import ctypes, sys; sys.exit(0 if ctypes.CDLL(sys.argv[1]).answer() == 42 else 1)"


@pytest.fixture
def library(tmp_path):
    if not shutil.which("cc"):
        pytest.skip("no C compiler")
    src = tmp_path / "answer.c"
    src.write_text("int answer(void) { return 42; }\n")
    path = str(tmp_path / "libanswer.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", path, str(src)], check=True)
    return path


@pytest.fixture
def loader(tmp_path):
    path = str(tmp_path / "loader")
    shutil.copy(PYTHON, path)
    return path


def run(args):
    proc = subprocess.Popen(args)
    assert proc.wait(30) == 0
    return proc.pid


def digest(path, name):
    with open(path, "rb") as f:
        return hashlib.new(name, f.read()).hexdigest()


def loads(mon, pid):
    return mon.find(lambda e: e["EventID"] == 7 and e["ProcessId"] == str(pid))


def test_dlopen_and_ld_so_loads(start_monitor, library, loader):
    mon = start_monitor(config_text=CONFIG)
    assert "ImageLoad (7): active" in mon.stderr()
    pid = run([loader, "-c", LOAD, library])
    ev = mon.wait_for(lambda e: e["EventID"] == 7 and e["ProcessId"] == str(pid)
                      and e["ImageLoaded"] == library, what="ImageLoad of the test library")
    create = mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid))
    assert ev["Image"] == loader
    assert ev["ProcessGuid"] == create["ProcessGuid"]
    assert ev["Hashes"] == "MD5=%s,SHA256=%s" % (digest(library, "md5"), digest(library, "sha256"))
    assert ev["User"] == "root"
    assert (ev["Signed"], ev["Signature"], ev["SignatureStatus"]) == ("false", "-", "Unavailable")
    for field in ("FileVersion", "Description", "Product", "Company", "OriginalFileName"):
        assert ev[field] == "-"
    found = loads(mon, pid)
    # ld.so loaded libc at start-up; the executable itself is not a load
    assert any(os.path.basename(e["ImageLoaded"]) == "libc.so.6" for e in found)
    assert not [e for e in found if e["ImageLoaded"] == loader]
    # one event per library mapped
    assert len([e for e in found if e["ImageLoaded"] == library]) == 1


def test_rules_on_image_loaded(start_monitor, library, loader):
    config = """<Sysmon schemaversion="4.90">
  <EventFiltering>
    <ProcessCreate onmatch="exclude"/>
    <ImageLoad onmatch="include">
      <ImageLoaded condition="end with">libanswer.so</ImageLoaded>
    </ImageLoad>
  </EventFiltering>
</Sysmon>
"""
    mon = start_monitor(config_text=config)
    pid = run([loader, "-c", LOAD, library])
    mon.wait_for(lambda e: e["EventID"] == 7 and e["ProcessId"] == str(pid),
                 what="ImageLoad of the test library")
    assert [e["ImageLoaded"] for e in loads(mon, pid)] == [library]


def test_off_unless_configured(start_monitor, library, loader):
    mon = start_monitor(config_text="""<Sysmon schemaversion="4.90">
  <EventFiltering><ProcessCreate onmatch="exclude"/></EventFiltering>
</Sysmon>
""")
    assert "ImageLoad" not in mon.stderr()
    pid = run([loader, "-c", LOAD, library])
    mon.wait_for(lambda e: e["EventID"] == 1 and e["ProcessId"] == str(pid))
    assert not mon.find(lambda e: e["EventID"] == 7)
