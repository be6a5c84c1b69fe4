# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.compliance_report: the fleet report, written on the controller (no connection to any host)."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import stat
import tempfile
import typing as t
from collections.abc import Mapping
from pathlib import Path

from ansible import constants as C
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible_collections.winsec.wmi.plugins.modules.compliance_report import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (
    ReportMergeError,
    build_report,
    carried_over,
    changes_since,
    compact_summary,
    configured_exceptions,
    hosts_of_existing_report,
    merge_hosts,
    normalise_host,
    report_problem,
    retained_hosts,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (
    console_summary,
    render_csv,
    render_json,
    render_junit,
    render_markdown,
)

# Stable file names: pipelines and AWX notifications point at them.
FILE_NAMES = {
    "json": "wmi-compliance.json",
    "junit": "wmi-compliance.junit.xml",
    "html": "wmi-compliance.html",
    "csv": "wmi-compliance.csv",
    "markdown": "wmi-compliance.md",
}
RENDERERS: dict[str, t.Callable[[Mapping[str, t.Any]], str]] = {
    "json": render_json,
    "junit": render_junit,
    "html": render_html,
    "csv": render_csv,
    "markdown": render_markdown,
}
STATS_NAME = "wmi_compliance_summary"
# AWX and Automation Controller pass the job's id to the playbook as extra variables (awx_* and, older, tower_*).
JOB_ID_VARS = ("awx_job_id", "tower_job_id")


class ReportError(Exception):
    pass


def utc_timestamp() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The largest earlier report a merge reads: 10,000 hosts x 10 controls are about 50 MB of JSON, and json.loads needs
# several times the file's size in memory.
MAX_REPORT_BYTES = 512 * 1024 * 1024


def read_report_file(path: Path, max_bytes: int | None = None) -> t.Any:
    """The parsed JSON of an earlier report, or ReportError saying why not (the caller names the file).

    Only a regular file is read: a FIFO would block every slice waiting on the lock for ever (hence O_NONBLOCK on
    open, then fstat), a device such as /dev/zero never ends. A file larger than max_bytes is refused before it is
    read, and a document that nests too deep for the parser (RecursionError) is refused like any invalid JSON.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise ReportError(f"{error.strerror or error}") from error
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise ReportError("not a regular file (a FIFO, device, socket or directory)")
    max_bytes = MAX_REPORT_BYTES if max_bytes is None else max_bytes
    with os.fdopen(descriptor, "rb") as stream:
        if info.st_size > max_bytes:
            raise ReportError(
                f"{info.st_size} bytes is more than the {max_bytes} a report may have; move it away or set merge=false"
            )
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ReportError(f"it grew past {max_bytes} bytes while being read")
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise ReportError("its JSON nests too deep to be a report") from None
    except ValueError as error:
        raise ReportError(f"not valid UTF-8 JSON ({error})") from error


def open_lock(path: Path) -> int:
    """The lock file's descriptor, created if missing and never truncated, never through a symbolic link.

    O_NOFOLLOW: a link planted at the lock's name (pointing at any file the controller user may write) is refused
    instead of opened; without O_TRUNC nothing that is already there is emptied.
    """
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise ReportError(
            f"cannot open the lock file {path}: {error.strerror or error}"
            + (" (it is a symbolic link; remove it)" if path.is_symlink() else "")
        ) from error
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ReportError(f"cannot use the lock file {path}: not a regular file; remove it")
    return descriptor


def write_atomically(path: Path, text: str) -> None:
    """Readers (a web server, the next merge) see the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def registered_result(hostvars: t.Any, host: str, name: str) -> t.Any:
    """The value a host registered under ``name``, or None. A registered result is a task's result, which Ansible
    never templates again (a module's output is untrusted, ansible-core 2.19; marked unsafe, 2.18): it is read as
    stored (HostVars.raw_get), since rendering it through hostvars walked every value of every host's result and
    took about 2/3 of a 200-host report's time. Any other value (a variable defined as a template) is rendered."""
    raw_get = getattr(hostvars, "raw_get", None)
    if raw_get is not None and host in hostvars:
        variables = raw_get(host)
        value = variables.get(name) if isinstance(variables, Mapping) else None
        if value is None or isinstance(value, Mapping):
            return value
    # A host missing from the inventory gives Ansible's Undefined, not a mapping: it has no result.
    variables = hostvars.get(host) if isinstance(hostvars, Mapping) else None
    return variables.get(name) if isinstance(variables, Mapping) else None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    # The report is controller-side: no connection is opened to the host the task runs for.
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        outcome = ArgumentSpecValidator(argspec_from_doc(DOCUMENTATION)).validate(dict(self._task.args))
        if outcome.error_messages:
            msg = outcome.errors.msg
            if isinstance(outcome.errors[0], UnsupportedError):
                msg = f"Unsupported parameters for ({self._task.action}) module: {msg}"
            return {**result, "failed": True, "msg": msg}
        params = outcome.validated_parameters
        try:
            result.update(self._report(params, task_vars))
        except ReportError as error:
            return {**result, "failed": True, "changed": False, "msg": str(error)}
        return result

    def _records(self, params: Mapping[str, t.Any], task_vars: Mapping[str, t.Any]) -> dict[str, t.Any]:
        """Host name -> registered result (None when the host has none)."""
        hosts = params["hosts"]
        if params["results"] is not None:
            records = dict(params["results"])
            return {host: records.get(host) for host in hosts} if hosts is not None else records
        if hosts is None:
            hosts = task_vars.get("ansible_play_hosts_all") or []
        hostvars = task_vars.get("hostvars") or {}
        records = {}
        for host in hosts:
            records[str(host)] = registered_result(hostvars, str(host), params["result_var"])
        return records

    def _report(self, params: Mapping[str, t.Any], task_vars: Mapping[str, t.Any]) -> dict[str, t.Any]:
        run_at = utc_timestamp()
        job_id = next((str(task_vars[name]) for name in JOB_ID_VARS if task_vars.get(name) is not None), None)
        # --check sets ansible_check_mode; a play or task keyword (winsec.wmi.audit's check_mode: true) sets only the
        # task's own flag. Either makes the run a check-mode run.
        check_mode = bool(task_vars.get("ansible_check_mode")) or bool(self._task.check_mode)
        hosts: list[Mapping[str, t.Any]] = [
            normalise_host(host, record, run_at=run_at, check_mode=check_mode, job_id=job_id)
            for host, record in self._records(params, task_vars).items()
        ]
        formats = list(dict.fromkeys(params["formats"]))
        if params["merge"] and "json" not in formats:
            formats.insert(0, "json")
        report_dir = Path(params["report_dir"])
        warnings: list[str] = []
        try:
            report_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ReportError(f"cannot write the report to {report_dir}: {error}") from error
        # Slices or batches that write to the same directory at once take turns (read, merge, write).
        lock = open_lock(report_dir / ".wmi-compliance.lock")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if params["merge"]:
                existing = self._existing_hosts(report_dir / FILE_NAMES["json"])
                # Timestamps are fixed-width UTC text, so text order is time order.
                future = sorted(host["host"] for host in existing if host["run_at"] > run_at)
                if future:
                    warnings.append(
                        f"{FILE_NAMES['json']} has {len(future)} host entr{'y' if len(future) == 1 else 'ies'} "
                        f"dated after this run ({', '.join(future[:5])}{' ...' if len(future) > 5 else ''}): a "
                        "controller clock is wrong or the file was edited. This run's entries replace them; "
                        "hosts not in this run keep them."
                    )
                existing, dropped = retained_hosts(
                    existing, [host["host"] for host in hosts], run_at=run_at, max_age_days=params["max_age_days"]
                )
                hosts = merge_hosts(existing, hosts)
            report = build_report(
                hosts, title=params["title"], generated_at=run_at, list_cap=params["max_hosts_listed"]
            )
            if params["merge"]:
                report["carried_over"] = {
                    **carried_over(report["hosts"], run_at, dropped),
                    "max_age_days": params["max_age_days"],
                }
            if params["exceptions"]:
                report["exceptions"] = configured_exceptions(params["exceptions"], run_at[:10])
            if params["previous"]:
                previous = self._previous_report(Path(params["previous"]), warnings)
                if previous is not None:
                    report["changes_since"] = changes_since(previous, report["hosts"])
            problem = report_problem(report)
            if problem:
                raise ReportError(f"the report to write is not valid, nothing was written: {problem}")
            # Every format is rendered before the first file is written: a renderer that fails leaves the directory
            # as it was, never a new JSON beside old HTML.
            texts = {name: RENDERERS[name](report) for name in formats}
            files = {}
            for name, text in texts.items():
                path = report_dir / FILE_NAMES[name]
                write_atomically(path, text)
                files[name] = str(path)
        except OSError as error:
            raise ReportError(f"cannot write the report to {report_dir}: {error}") from error
        finally:
            os.close(lock)
        stats = compact_summary(report)
        drifting = report["summary"]["hosts_with_drift"]
        result: dict[str, t.Any] = {
            "changed": False,
            "files": files,
            "summary": report["summary"],
            "stats": stats,
            "drift": bool(drifting["total"]),
        }
        if "carried_over" in report:
            result["carried_over"] = report["carried_over"]
        if "changes_since" in report:
            delta = report["changes_since"]
            result["changes_since"] = {key: delta[key] for key in ("previous_generated_at", "counts")}
        if warnings:
            result["warnings"] = warnings
        # Displayed, not returned as warnings: the default callback hides ok results and their warnings under
        # ANSIBLE_DISPLAY_OK_HOSTS=false, and a fleet's drift must not vanish with them.
        for line in console_summary(report, params["console_hosts"]):
            Display().display(line, color=C.COLOR_WARN if line.startswith("  ") else None)
        if params["set_stats"]:
            # The shape ansible.builtin.set_stats returns; the strategy stores it as a run-wide custom statistic.
            result["ansible_stats"] = {"data": {STATS_NAME: stats}, "per_host": False, "aggregate": False}
        if params["fail_on_drift"] and drifting["total"]:
            names = ", ".join(drifting["names"]) + (" ..." if drifting["truncated"] else "")
            result["failed"] = True
            result["msg"] = f"{drifting['total']} host(s) have drift: {names}. The report is in {report_dir}."
        else:
            counts = report["summary"]["host_status_counts"]
            result["msg"] = (
                "Report written: " + (", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no hosts") + "."
            )
        return result

    @staticmethod
    def _previous_report(path: Path, warnings: list[str]) -> Mapping[str, t.Any] | None:
        """An earlier report to compare with (validated like a merge input), or None when there is none yet."""
        if not os.path.lexists(path):
            warnings.append(f"previous: {path} does not exist (yet), so this report shows no change since it.")
            return None
        try:
            document = read_report_file(path)
            hosts = hosts_of_existing_report(document)
        except (ReportError, ReportMergeError) as error:
            raise ReportError(f"cannot compare with the previous report {path}: {error}") from error
        return {"generated_at": document.get("generated_at"), "hosts": hosts}

    @staticmethod
    def _existing_hosts(path: Path) -> list[Mapping[str, t.Any]]:
        if not os.path.lexists(path):
            return []
        try:
            return hosts_of_existing_report(read_report_file(path))
        except (ReportError, ReportMergeError) as error:
            raise ReportError(f"cannot merge with {path}: {error}") from error
