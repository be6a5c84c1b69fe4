# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet compliance report: per-host baseline results turned into one versioned document, merged, summarised.

The input is what each host registered from winsec.wmi.baseline (or Ansible's own result when the host was
unreachable or the task failed, or nothing when it never ran). The output is the report model that every renderer
reads and that ``meta/wmi-compliance.schema.json`` describes. Pure: no I/O, no clock (the caller passes the time).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from collections.abc import Iterable, Mapping, Sequence

# A report's major version changes only when an existing field changes meaning; readers refuse other majors.
SCHEMA_VERSION = "1.0"
GENERATOR = "winsec.wmi.compliance_report"

# The verdict of one control on one host (winsec.wmi.baseline).
CONTROL_STATUSES = ("compliant", "drift", "remediated", "not_applicable", "excepted", "error")
# A host's report status adds 'unreachable': Ansible could not connect, so nothing was evaluated.
HOST_STATUSES = (*CONTROL_STATUSES, "unreachable")
SEVERITIES = ("critical", "high", "medium", "low", "info")
# Why a host has no verdict of its own (a host with a baseline result has cause None).
CAUSES = ("unreachable", "failed", "skipped", "no_result", "invalid_result")
# Statuses that mean "not proven compliant, act on it"; used to keep a host's verdict honest.
_WORST_FIRST = ("error", "drift")
DEFAULT_LIST_CAP = 50


def plain(value: t.Any) -> t.Any:
    """A JSON-ready copy: str subclasses (Ansible's tagged text) become str, mappings dicts, the rest text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    return str(value)


def _text(value: t.Any, default: str = "") -> str:
    return default if value is None else str(value)


def _optional_text(value: t.Any) -> str | None:
    return None if value is None or value == "" else str(value)


def zero_counts(statuses: Iterable[str] = CONTROL_STATUSES) -> dict[str, int]:
    return dict.fromkeys(statuses, 0)


def _finding(raw: t.Any) -> dict[str, t.Any]:
    if not isinstance(raw, Mapping):
        return {"id": "", "severity": "info", "message": _text(raw)}
    finding = plain(raw)
    finding["id"] = _text(raw.get("id"))
    finding["message"] = _text(raw.get("message"))
    severity = _text(raw.get("severity"), "info")
    finding["severity"] = severity if severity in SEVERITIES else "info"
    for key in ("namespace", "principal", "sid", "file", "reason"):
        if key in finding:
            finding[key] = _optional_text(raw.get(key))
    if "line" in finding:
        line = raw.get("line")
        finding["line"] = line if isinstance(line, int) and not isinstance(line, bool) else None
    if "rights" in finding:
        rights = raw.get("rights")
        finding["rights"] = [str(right) for right in rights] if isinstance(rights, list | tuple) else [_text(rights)]
    if "excepted" in finding:
        finding["excepted"] = bool(raw.get("excepted"))
    return finding


def _control(raw: t.Any) -> dict[str, t.Any]:
    if not isinstance(raw, Mapping):
        raw = {"status": "error", "reason": f"not a control record: {_text(raw)[:200]}"}
    status = _text(raw.get("status"))
    reason = _optional_text(raw.get("reason"))
    if status not in CONTROL_STATUSES:
        reason = f"the baseline reported an unknown status {status!r}" + (f": {reason}" if reason else "")
        status = "error"
    severity = _text(raw.get("severity"), "info")
    remediation = raw.get("remediation") if isinstance(raw.get("remediation"), Mapping) else {}
    findings = raw.get("findings") if isinstance(raw.get("findings"), list | tuple) else []
    references = raw.get("references") if isinstance(raw.get("references"), list | tuple) else []
    changes = raw.get("changes") if isinstance(raw.get("changes"), list | tuple) else []
    return {
        "id": _text(raw.get("id"), "unknown"),
        "title": _text(raw.get("title")),
        "severity": severity if severity in SEVERITIES else "info",
        "status": status,
        "reason": reason,
        "expected": plain(raw.get("expected")),
        "actual": plain(raw.get("actual")),
        "findings": [_finding(finding) for finding in findings],
        "remediation": {
            "automatic": bool(remediation.get("automatic")),
            "text": _text(remediation.get("text")),
        },
        "references": [
            {"title": _text(ref.get("title")), "url": _text(ref.get("url"))}
            for ref in references
            if isinstance(ref, Mapping)
        ],
        "changes": [_text(change) for change in changes],
    }


def _first_line(text: t.Any) -> str:
    return _text(text).strip() or "no message"


def normalise_host(
    host: str, record: t.Any, *, run_at: str, check_mode: bool | None = None, job_id: str | None = None
) -> dict[str, t.Any]:
    """One host of the report, from whatever the host registered (or None when it registered nothing)."""
    entry: dict[str, t.Any] = {
        "host": str(host),
        "status": "error",
        "cause": None,
        "reason": None,
        "changed": False,
        "run_at": run_at,
        "check_mode": check_mode,
        "job_id": job_id,
        "os": {},
        "counts": zero_counts(),
        "controls": [],
    }
    if record is None:
        entry["cause"] = "no_result"
        entry["reason"] = (
            "no baseline result in this run: the host did not run the baseline task (it failed or was skipped "
            "before it, or its serial batch has not run yet)"
        )
        return entry
    if not isinstance(record, Mapping):
        entry["cause"] = "invalid_result"
        entry["reason"] = f"the registered result is not a mapping but {type(record).__name__}"
        return entry
    entry["changed"] = bool(record.get("changed"))
    if isinstance(record.get("os"), Mapping):
        entry["os"] = plain(record["os"])
    if record.get("unreachable"):
        entry.update(status="unreachable", cause="unreachable", reason=_first_line(record.get("msg")))
        return entry
    controls = record.get("controls")
    has_verdict = record.get("status") in CONTROL_STATUSES and isinstance(controls, list | tuple)
    if not has_verdict:
        # Ansible's own result of a task that did not produce a baseline verdict.
        if record.get("failed"):
            entry.update(cause="failed", reason=_first_line(record.get("msg")))
        elif record.get("skipped"):
            entry.update(
                cause="skipped", reason=f"the baseline task was skipped: {_first_line(record.get('skip_reason'))}"
            )
        else:
            entry.update(cause="invalid_result", reason="the registered result has no baseline status and controls")
        return entry
    entry["controls"] = [_control(control) for control in t.cast(list, controls)]
    for control in entry["controls"]:
        entry["counts"][control["status"]] += 1
    status = str(record["status"])
    # A host is never better than its worst control (a baseline with fail_on_drift also sets failed=true; its
    # verdict stays 'drift', which is what the report must say).
    worst = next((bad for bad in _WORST_FIRST if entry["counts"][bad]), None)
    if worst and status not in _WORST_FIRST:
        status = worst
    entry["status"] = status
    entry["reason"] = _optional_text(record.get("reason")) or (
        _first_line(record.get("msg")) if status == "error" and record.get("msg") else None
    )
    return entry


def _capped(names: list[str], cap: int) -> dict[str, t.Any]:
    return {"names": names[:cap], "total": len(names), "truncated": len(names) > cap}


def summarise(hosts: Sequence[Mapping[str, t.Any]], list_cap: int = DEFAULT_LIST_CAP) -> dict[str, t.Any]:
    """Counts per host status and per control, and the hosts to act on (lists capped at list_cap names)."""
    host_counts = zero_counts(HOST_STATUSES)
    control_totals = zero_counts()
    per_control: dict[str, dict[str, t.Any]] = {}
    for host in hosts:
        host_counts[host["status"]] += 1
        for control in host["controls"]:
            control_totals[control["status"]] += 1
            entry = per_control.setdefault(
                control["id"],
                {
                    "id": control["id"],
                    "title": control["title"],
                    "severity": control["severity"],
                    "counts": zero_counts(),
                },
            )
            entry["counts"][control["status"]] += 1
    return {
        "hosts": len(hosts),
        "host_status_counts": host_counts,
        "control_status_counts": control_totals,
        "controls": [per_control[key] for key in sorted(per_control)],
        "hosts_with_drift": _capped([h["host"] for h in hosts if h["status"] == "drift"], list_cap),
        "hosts_with_errors": _capped([h["host"] for h in hosts if h["status"] in ("error", "unreachable")], list_cap),
    }


def _host_sort_key(host: Mapping[str, t.Any]) -> tuple[str, str]:
    return (host["host"].casefold(), host["host"])


def build_report(
    hosts: Iterable[Mapping[str, t.Any]], *, title: str, generated_at: str, list_cap: int = DEFAULT_LIST_CAP
) -> dict[str, t.Any]:
    """The report document from normalised hosts (one entry per host name; the last one given wins)."""
    by_name = {host["host"]: dict(host) for host in hosts}
    ordered = sorted(by_name.values(), key=_host_sort_key)
    runs = sorted(
        {(h["run_at"], h.get("job_id")) for h in ordered},
        key=lambda run: (run[0], run[1] or ""),
    )
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": GENERATOR,
        "title": str(title),
        "generated_at": generated_at,
        "runs": [{"run_at": run_at, "job_id": job_id} for run_at, job_id in runs],
        "summary": summarise(ordered, list_cap),
        "hosts": ordered,
    }


class ReportMergeError(ValueError):
    """An earlier report that cannot be merged (another major schema version, or not a report at all)."""


def merge_hosts(
    earlier: Iterable[Mapping[str, t.Any]], later: Iterable[Mapping[str, t.Any]]
) -> list[Mapping[str, t.Any]]:
    """One entry per host: the one from the latest run wins (ties: the later report).

    Hosts that are not in the later report (another AWX job slice, a run with --limit) keep their entries. A host
    that is in it without a result (it failed or was skipped before the baseline task in that run) is reported so,
    even if an earlier run had a verdict for it: an old verdict must not stand in for a run that did not evaluate
    the host. In a play with serial batches each batch's report lists every host of the play, the later batches'
    hosts as "no_result", and the last batch's report has every host's result.
    """
    merged: dict[str, Mapping[str, t.Any]] = {host["host"]: host for host in earlier}
    for host in later:
        current = merged.get(host["host"])
        if current is None or host["run_at"] >= current["run_at"]:
            merged[host["host"]] = host
    return list(merged.values())


def hosts_of_existing_report(document: t.Any) -> list[Mapping[str, t.Any]]:
    """The hosts of an earlier report, checked enough to merge safely (the renderers trust the model)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("hosts"), list):
        raise ReportMergeError("the existing report is not a winsec.wmi compliance report (no 'hosts' list)")
    version = str(document.get("schema_version", ""))
    if version.split(".", maxsplit=1)[0] != SCHEMA_VERSION.split(".", maxsplit=1)[0]:
        raise ReportMergeError(
            f"the existing report has schema_version {version!r}; this version writes {SCHEMA_VERSION!r} "
            "and merges only the same major version: move the old report away or set merge=false"
        )
    hosts: list[Mapping[str, t.Any]] = []
    for host in document["hosts"]:
        if (
            not isinstance(host, Mapping)
            or not isinstance(host.get("host"), str)
            or host.get("status") not in HOST_STATUSES
            or not isinstance(host.get("run_at"), str)
            or not isinstance(host.get("controls"), list)
        ):
            raise ReportMergeError(f"the existing report has a malformed host entry: {str(host)[:200]}")
        hosts.append(host)
    return hosts


def compact_summary(report: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """What set_stats publishes as wmi_compliance_summary (small: AWX stores it with the job and passes it on)."""
    summary = report["summary"]
    return {
        "schema_version": report["schema_version"],
        "generated_at": report["generated_at"],
        "hosts": summary["hosts"],
        "status_counts": dict(summary["host_status_counts"]),
        "hosts_with_drift": list(summary["hosts_with_drift"]["names"]),
        "hosts_with_drift_total": summary["hosts_with_drift"]["total"],
        "hosts_with_errors": list(summary["hosts_with_errors"]["names"]),
        "hosts_with_errors_total": summary["hosts_with_errors"]["total"],
    }
