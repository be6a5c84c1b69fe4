# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.compliance_report: the fleet report, written on the controller (no connection to any host)."""

from __future__ import annotations

import datetime
import fcntl
import json
import os
import tempfile
import typing as t
from collections.abc import Mapping
from pathlib import Path

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible_collections.winsec.wmi.plugins.modules.compliance_report import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_html import render_html
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_model import (
    ReportMergeError,
    build_report,
    compact_summary,
    hosts_of_existing_report,
    merge_hosts,
    normalise_host,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_render import (
    render_csv,
    render_json,
    render_junit,
    render_markdown,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import argspec_from_doc

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
            # A host missing from the inventory gives Ansible's Undefined, not a mapping: it has no result.
            variables = hostvars.get(host) if isinstance(hostvars, Mapping) else None
            records[str(host)] = variables.get(params["result_var"]) if isinstance(variables, Mapping) else None
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
            # Slices or batches that write to the same directory at once take turns (read, merge, write).
            with open(report_dir / ".wmi-compliance.lock", "w") as lock:
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
                    hosts = merge_hosts(existing, hosts)
                report = build_report(
                    hosts, title=params["title"], generated_at=run_at, list_cap=params["max_hosts_listed"]
                )
                files = {}
                for name in formats:
                    path = report_dir / FILE_NAMES[name]
                    write_atomically(path, RENDERERS[name](report))
                    files[name] = str(path)
        except OSError as error:
            raise ReportError(f"cannot write the report to {report_dir}: {error}") from error
        stats = compact_summary(report)
        drifting = report["summary"]["hosts_with_drift"]
        result: dict[str, t.Any] = {
            "changed": False,
            "files": files,
            "summary": report["summary"],
            "stats": stats,
            "drift": bool(drifting["total"]),
        }
        if warnings:
            result["warnings"] = warnings
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
    def _existing_hosts(path: Path) -> list[Mapping[str, t.Any]]:
        if not path.exists():
            return []
        try:
            return hosts_of_existing_report(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, ReportMergeError) as error:
            raise ReportError(f"cannot merge with {path}: {error}") from error
