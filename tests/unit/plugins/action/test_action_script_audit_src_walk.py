# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""script_audit src: the controller's walk of a repository a contributor controls reads regular files under src only,
reports everything else, never hangs, never stops the scan, and never says compliant about what it did not read."""

from __future__ import annotations

import os
import sys

import pytest
from ansible_collections.winsec.wmi.plugins.action import script_audit
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_audit import NOT_SCANNED, ScriptAudit
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import scan_files
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import make_action

PATTERNS = ["*.vbs", "*.js"]
CLEAN = b"WScript.Echo 1\r\n"
SECRET = b'Set c = GetObject("LDAP://CN=SECRET,DC=corp")\r\nWScript.Echo c.WMIObjectPath\r\n'


def read(src, max_file_bytes=1000, max_total_bytes=10**6, max_files=1000):
    return script_audit.read_repository(str(src), PATTERNS, max_file_bytes, max_total_bytes, max_files)


def by_name(files):
    return {script_file.path: script_file for script_file in files}


def verdict(files):
    scan = scan_files(files, lockdown=None)
    return ScriptAudit([]).decision(scan, lockdown=None)


@pytest.fixture
def repository(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.vbs").write_bytes(CLEAN)
    return root


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_named_like_a_script_is_reported_not_opened(repository):
    os.mkfifo(repository / "pipe.vbs")
    files = by_name(read(repository)[0])  # would block forever on a plain open()
    assert "FIFO" in files["pipe.vbs"].error and files["pipe.vbs"].content is None
    assert files["ok.vbs"].content == CLEAN
    assert verdict(list(files.values())).status == "error"


def test_dangling_and_looping_symlinks_are_reported_and_the_scan_goes_on(repository):
    (repository / "dangling.vbs").symlink_to(repository / "missing.vbs")
    (repository / "loop.vbs").symlink_to(repository / "loop.vbs")
    (repository / "zz.vbs").write_bytes(CLEAN)
    files = by_name(read(repository)[0])
    assert "dangling" in files["dangling.vbs"].error
    assert "loop" in files["loop.vbs"].error
    assert files["zz.vbs"].content == CLEAN  # the scan did not stop at the links


def test_a_directory_link_loop_is_walked_once(repository):
    (repository / "sub").mkdir()
    (repository / "sub" / "inner.vbs").write_bytes(CLEAN)
    (repository / "sub" / "back").symlink_to(repository)
    files, stopped = read(repository)
    assert stopped is None
    assert sorted(f.path for f in files if f.content is not None) == ["ok.vbs", "sub/inner.vbs"]
    (loop,) = [f for f in files if f.content is None]
    assert loop.path == "sub/back" and "loop" in loop.skipped
    scan = scan_files(files)
    assert {record["file"]: record["status"] for record in scan.files}["sub/back"] == "skipped"
    assert verdict(files).status == "compliant"  # every script was read: the loop hides none


def test_links_out_of_src_are_never_read_or_quoted(repository, tmp_path):
    outside = tmp_path / "outside.vbs"
    outside.write_bytes(SECRET)
    (tmp_path / "outside_dir").mkdir()
    (tmp_path / "outside_dir" / "x.vbs").write_bytes(SECRET)
    (repository / "leak.vbs").symlink_to(outside)
    (repository / "zero.vbs").symlink_to("/dev/zero")
    (repository / "linked_dir").symlink_to(tmp_path / "outside_dir")
    files = read(repository)[0]
    named = by_name(files)
    for name in ("leak.vbs", "zero.vbs", "linked_dir"):
        assert "outside src" in named[name].error and named[name].content is None
    decision = verdict(files)
    assert decision.status == "error"
    assert "SECRET" not in repr(decision.result)
    assert {f["file"] for f in decision.findings if f["id"] == NOT_SCANNED} == {"leak.vbs", "zero.vbs", "linked_dir"}


def test_links_inside_src_are_followed(repository):
    (repository / "real").mkdir()
    (repository / "real" / "a.vbs").write_bytes(SECRET)
    (repository / "alias.vbs").symlink_to(repository / "real" / "a.vbs")
    files = by_name(read(repository)[0])
    assert files["alias.vbs"].content == SECRET


def test_a_thousand_nested_directories_are_walked(repository):
    deep = str(repository)
    try:
        for _level in range(1000):  # one level at a time: os.makedirs itself recurses per level
            deep = os.path.join(deep, "d")
            os.mkdir(deep)
    except OSError as exc:  # the file system's own path limit
        pytest.skip(f"cannot create 1,000 nested directories here: {exc}")
    with open(os.path.join(deep, "deep.vbs"), "wb") as handle:
        handle.write(SECRET)
    assert sys.getrecursionlimit() < 1000 * 2  # a recursive walk would need more frames than this
    files = by_name(read(repository)[0])
    deepest = "d/" * 1000 + "deep.vbs"
    assert files[deepest].content == SECRET
    # Removed here, level by level: shutil.rmtree recurses per level on Python 3.11, so pytest's own clean-up of
    # the next run's base temp would hit the recursion limit.
    os.remove(os.path.join(deep, "deep.vbs"))
    while deep != str(repository):
        os.rmdir(deep)
        deep = os.path.dirname(deep)


def test_an_unreadable_directory_is_reported(repository, monkeypatch):
    locked = repository / "locked"
    locked.mkdir()
    (locked / "hidden.vbs").write_bytes(SECRET)
    real_scandir = os.scandir

    def scandir(path):  # root ignores chmod 000, so the refusal is simulated where the walk lists a directory
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(script_audit.os, "scandir", scandir)
    files = read(repository)[0]
    named = by_name(files)
    assert "cannot list" in named["locked"].error and "Permission denied" in named["locked"].error
    assert verdict(files).status == "error"


def test_a_path_longer_than_path_max_is_reported(repository, monkeypatch):
    (repository / "long").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if os.fspath(path).endswith("long"):
            raise OSError(36, "File name too long", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(script_audit.os, "scandir", scandir)
    named = by_name(read(repository)[0])
    assert "File name too long" in named["long"].error


def test_reads_stop_at_max_file_bytes_plus_one(repository, monkeypatch):
    (repository / "big.vbs").write_bytes(b"'" * 5000)
    asked = []
    real_read = os.read

    def bounded_read(descriptor, count):
        asked.append(count)
        return real_read(descriptor, count)

    monkeypatch.setattr(script_audit.os, "read", bounded_read)
    named = by_name(read(repository, max_file_bytes=1000)[0])
    assert named["big.vbs"].truncated and named["big.vbs"].content is None
    assert sum(asked) <= 2 * 1001


def test_a_20_mb_src_file_is_never_compliant(tmp_path):
    src = tmp_path / "huge.vbs"
    src.write_bytes(b"' padding\r\n" * (20 * 1024 * 1024 // 11))
    plugin = make_action(script_audit, {"src": str(src)}, windows=False)
    result = plugin.run(task_vars={})
    assert not result.get("failed"), result
    assert result["compliant"] is False
    assert result["files"][0]["status"] == "too_large"


def test_a_real_path_past_path_max_is_reported_not_skipped(repository):
    # Built one level at a time relative to the parent's descriptor: the full path is longer than PATH_MAX.
    name = "n" * 200
    descriptor = os.open(repository, os.O_RDONLY)
    try:
        for _level in range(25):  # 25 * 201 characters > 4096
            os.mkdir(name, dir_fd=descriptor)
            child = os.open(name, os.O_RDONLY, dir_fd=descriptor)
            os.close(descriptor)
            descriptor = child
        script = os.open("deep.vbs", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=descriptor)
        os.write(script, CLEAN)
        os.close(script)
    except OSError as exc:
        pytest.skip(f"this file system refuses the tree: {exc}")
    finally:
        os.close(descriptor)
    files = read(repository)[0]
    problems = [f for f in files if f.error and "too long" in f.error]
    assert problems, [f.path for f in files]
    assert verdict(files).status == "error"
