# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import errno
import fnmatch
import json
import os
import stat
import typing as t

from ansible.plugins.action import ActionBase
from ansible_collections.winsec.wmi.plugins.modules.script_audit import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_audit import ScriptAudit, limit_message
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_sarif import sarif_log
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import ScriptFile, scan_files
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiAction
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError

COLLECTION_VERSION = "0.1.0"


LOOP_SKIPPED = "a symbolic link to a directory already walked (a link loop): not walked again"


def read_repository(
    src: str, patterns: t.Sequence[str], max_file_bytes: int, max_total_bytes: int, max_files: int
) -> tuple[list[ScriptFile], str | None]:
    """The script files under src (paths relative to it), read with the same budgets the host applies.

    Returns the files and why reading stopped early ('max_files', 'max_total_bytes' or None). Only regular files are
    read; whatever the walk meets and does not read (a FIFO, a device, a symbolic link leading out of src, dangling
    or looping, a directory it cannot list) is listed with the reason, so the verdict can say it was not scanned."""
    if not os.path.lexists(src):
        raise WmiActionError(f"src '{src}' does not exist on the controller")
    root = os.path.realpath(src)
    if not os.path.isdir(root):
        entries: t.Iterable[tuple[str, str, str | None]] = [(root, os.path.basename(src) or src, None)]
        # (a FIFO or device given as src is refused by _read_regular_file's fstat, after a non-blocking open)
    else:
        entries = _walk(root, patterns)
    files: list[ScriptFile] = []
    total = 0
    for path, relative, problem in entries:
        if len(files) >= max_files:
            return files, "max_files"
        if problem == LOOP_SKIPPED:
            files.append(ScriptFile(relative, None, None, skipped=problem))
            continue
        if problem is not None:
            files.append(ScriptFile(relative, None, None, error=problem))
            continue
        script_file = _read_regular_file(path, relative, max_file_bytes, max_total_bytes - total)
        files.append(script_file)
        if script_file.error and script_file.error.startswith("BUDGET"):
            return files, "max_total_bytes"
        total += len(script_file.content or b"")
    return files, None


def _walk(root: str, patterns: t.Sequence[str]) -> t.Iterator[tuple[str, str, str | None]]:
    """(path, path relative to root, why it is not read or None) for each name under root that matches patterns,
    and for each directory the walk cannot enter. Iterative (no recursion limit, so 1,000 nested directories are
    fine); symbolic links are followed only when they resolve inside root, and a directory already walked (a link
    loop) is not walked again. A directory whose path the system cannot open (longer than PATH_MAX: ENAMETOOLONG)
    is reported like any other directory it cannot list."""
    seen: set[tuple[int, int]] = set()
    root_stat = os.stat(root)
    seen.add((root_stat.st_dev, root_stat.st_ino))
    pending = [(root, "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            with os.scandir(directory) as listing:
                children = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            reason = f"DIRECTORY: cannot list it ({exc.strerror or exc}): its scripts were not read"
            yield directory, prefix.rstrip("/") or ".", reason
            continue
        subdirectories = []
        for entry in children:
            relative = f"{prefix}{entry.name}"
            wanted = any(fnmatch.fnmatch(entry.name.lower(), pattern.lower()) for pattern in patterns)
            try:
                if entry.is_symlink():
                    target, problem = _link_target(root, entry.path)
                    if problem is None and os.path.isdir(target):
                        target_stat = os.stat(target)
                        if (target_stat.st_dev, target_stat.st_ino) in seen:
                            # A link back to a directory already walked (a loop): its files are listed once.
                            yield entry.path, relative, LOOP_SKIPPED
                            continue
                        seen.add((target_stat.st_dev, target_stat.st_ino))
                        subdirectories.append((target, relative + "/"))
                    elif problem is not None and (wanted or os.path.isdir(target)):
                        yield entry.path, relative, problem  # a script, or a directory that may hold scripts
                    elif wanted and problem is None:
                        yield target, relative, _special_file(os.stat(target))
                elif entry.is_dir(follow_symlinks=False):
                    entry_stat = entry.stat(follow_symlinks=False)
                    if (entry_stat.st_dev, entry_stat.st_ino) not in seen:
                        seen.add((entry_stat.st_dev, entry_stat.st_ino))
                        subdirectories.append((entry.path, relative + "/"))
                elif wanted:
                    yield entry.path, relative, _special_file(entry.stat(follow_symlinks=False))
            except OSError as exc:
                yield entry.path, relative, f"FILE: {exc.strerror or exc}"
        pending.extend(reversed(subdirectories))  # depth first, in name order


def _special_file(info: os.stat_result) -> str | None:
    """Why a file is not read without opening it (opening a FIFO waits for a writer, a device may act on open), or
    None for a regular file."""
    if stat.S_ISREG(info.st_mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(info.st_mode) else "a device, socket or other special file"
    return f"FILE: not a regular file ({kind}): not read"


def _link_target(root: str, link: str) -> tuple[str, str | None]:
    """Where a symbolic link under root leads, or why it is not followed: dangling, a loop, or out of root."""
    try:
        os.stat(link)  # follows the link: ELOOP for a loop, ENOENT for a dangling link
    except OSError as exc:
        kind = "a symbolic link loop" if exc.errno == errno.ELOOP else "a dangling symbolic link"
        return link, f"SYMLINK: {kind} ({exc.strerror}): not followed"
    target = os.path.realpath(link)
    if os.path.commonpath([root, target]) != root:
        return target, "SYMLINK: a symbolic link to a path outside src: not followed, not read"
    return target, None


def _read_regular_file(path: str, relative: str, max_file_bytes: int, bytes_left: int) -> ScriptFile:
    """Read a regular file, at most max_file_bytes + 1 bytes (one more shows it is too large). O_NONBLOCK keeps the
    open of a FIFO from waiting for a writer, O_NOFOLLOW refuses a link swapped in after the walk, and fstat on the
    open descriptor decides what it is: only a regular file is read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        return ScriptFile(relative, None, None, error=f"FILE: {exc.strerror or exc}")
    try:
        info = os.fstat(descriptor)
        special = _special_file(info)
        if special:
            return ScriptFile(relative, None, None, error=special)
        if info.st_size > max_file_bytes:
            return ScriptFile(relative, info.st_size, None, truncated=True)
        if info.st_size > bytes_left:
            return ScriptFile(relative, info.st_size, None, error="BUDGET: not read, max_total_bytes reached")
        chunks, length = [], 0
        while length <= max_file_bytes:
            chunk = os.read(descriptor, min(65536, max_file_bytes + 1 - length))
            if not chunk:
                break
            chunks.append(chunk)
            length += len(chunk)
    except OSError as exc:
        return ScriptFile(relative, None, None, error=f"FILE: {exc.strerror or exc}")
    finally:
        os.close(descriptor)
    if length > max_file_bytes:  # grew after fstat
        return ScriptFile(relative, length, None, truncated=True)
    return ScriptFile(relative, length, b"".join(chunks))


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION
    REQUIRED_ONE_OF: t.ClassVar[list[list[str]]] = [["paths", "src"]]
    MUTUALLY_EXCLUSIVE: t.ClassVar[list[list[str]]] = [["paths", "src"]]

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        if self._task.args.get("src") is None:
            return super().run(tmp, task_vars)
        # A repository on the controller: no Windows shell is needed and the connection is never used (winrm and
        # psrp connect lazily, on the first command), so this path skips the base class's Windows check.
        self._supports_check_mode = True
        self._supports_async = False
        result = ActionBase.run(self, tmp, task_vars)
        validated, no_log_values, error = self._validate(dict(self._task.args))
        try:
            if error is not None:
                raise WmiActionError(error)
            result.update(self.scan_repository(validated))
        except WmiActionError as failure:
            result.update(failure.to_result())
        result.setdefault("changed", False)
        result["invocation"] = {"module_args": validated if error is None else dict(self._task.args)}
        del no_log_values  # the module has no secret options
        return result

    def scan_repository(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        control = self._control(params)
        files, stopped = read_repository(
            params["src"], params["patterns"], params["max_file_bytes"], params["max_total_bytes"], params["max_files"]
        )
        scan = scan_files(files, lockdown=None, rules=control.rules, max_file_bytes=params["max_file_bytes"])
        limit = limit_message(stopped, params)
        if limit:
            scan.limits.append(limit)
        decision = control.decision(scan, lockdown=None)
        module_result = {"changed": False, **decision.result}
        if decision.warnings:
            module_result["warnings"] = decision.warnings
        self._write_sarif(params, module_result, source_root=params["src"])
        return module_result

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        module_result = run_module(self, self._control(params))
        self._write_sarif(params, module_result, host=self._task_host())
        return module_result

    @staticmethod
    def _control(params: dict[str, t.Any]) -> ScriptAudit:
        rules = sorted(params["rules"] or [])
        if not rules:
            raise WmiActionError("rules must name at least one of: adsi, async")
        return ScriptAudit(
            params.get("paths") or [],
            params["patterns"],
            params["max_file_bytes"],
            params["max_total_bytes"],
            params["max_files"],
            rule_set=rules[0] if len(set(rules)) == 1 else "all",
        )

    def _task_host(self) -> str | None:
        return (getattr(self, "_wmi_task_vars", None) or {}).get("inventory_hostname")

    def _write_sarif(self, params: dict[str, t.Any], module_result: dict[str, t.Any], **where: t.Any) -> None:
        if not params.get("sarif_path"):
            return
        log = sarif_log(module_result["findings"], module_result["files"], version=COLLECTION_VERSION, **where)
        path = params["sarif_path"]
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(log, handle, indent=2)
        except OSError as exc:
            raise WmiActionError(f"cannot write the SARIF log to '{path}': {exc.strerror or exc}") from None
        module_result["sarif_path"] = path
