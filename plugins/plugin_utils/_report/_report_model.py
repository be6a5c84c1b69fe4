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

import datetime
import re
import typing as t
from collections.abc import Iterable, Mapping, Sequence

# A report's major version changes only when an existing field changes meaning; readers refuse other majors.
SCHEMA_VERSION = "1.1"
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


# How deep a value from a result may nest before the report stores it as text (a security descriptor's evidence is
# three levels deep; a renderer that recursed through 50,000 levels would stop with RecursionError).
MAX_DEPTH = 32
# UTF-16 surrogate code points: valid in a Python str (json.loads and surrogateescape make them) but not in UTF-8,
# so a file written with one fails half way. They are stored as \\uXXXX text instead.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(value: str) -> str:
    text = str(value)
    if text.isascii():
        return text
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def plain(value: t.Any, depth: int = 0) -> t.Any:
    """A JSON-ready copy: str subclasses (Ansible's tagged text) become str, mappings dicts, the rest text.

    Values nested deeper than MAX_DEPTH become their (shortened) text, lone surrogates \\uXXXX escapes: every
    renderer can then write what this returns.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        return _clean_text(value)
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple | set | frozenset):
        return f"({type(value).__name__} nested deeper than {MAX_DEPTH} levels, not kept)"
    if isinstance(value, Mapping):
        return {_clean_text(key): plain(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item, depth + 1) for item in value]
    return _clean_text(str(value))


def _text(value: t.Any, default: str = "") -> str:
    return default if value is None else _clean_text(value)


def _optional_text(value: t.Any) -> str | None:
    return None if value is None or value == "" else _clean_text(value)


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
        **({"evidence": plain(raw["evidence"])} if raw.get("evidence") is not None else {}),
    }


def _first_line(text: t.Any) -> str:
    return _text(text).strip() or "no message"


def normalise_host(
    host: str, record: t.Any, *, run_at: str, check_mode: bool | None = None, job_id: str | None = None
) -> dict[str, t.Any]:
    """One host of the report, from whatever the host registered (or None when it registered nothing)."""
    entry: dict[str, t.Any] = {
        "host": _clean_text(host),
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
    if record.get("failed") and status not in _WORST_FIRST:
        # Ansible marked the task failed (failed_when, a write whose read-back failed, a results dict built by
        # hand) yet it carries a good verdict: a failed task proves nothing, so the host is an error. Its controls
        # stay as the evidence of what the task said; the renderers show the host's own error beside them.
        claimed = status
        status = "error"
        entry["reason"] = f"the baseline task failed although it reported {claimed!r}: " + _first_line(
            record.get("msg") or ("failed_when matched" if record.get("failed_when_result") else None)
        )
    entry["status"] = status
    entry["reason"] = (
        entry["reason"]
        or _optional_text(record.get("reason"))
        or (_first_line(record.get("msg")) if status == "error" and record.get("msg") else None)
    )
    return entry


def host_needs_own_row(host: Mapping[str, t.Any]) -> bool:
    """Whether a renderer must show the host's own verdict beside (or instead of) its controls' rows.

    True when the host has no controls, or when its bad status (error, drift, unreachable) is carried by none of
    its controls, e.g. a failed task whose controls all say compliant: a reader of the control rows alone (JUnit,
    CSV, the Markdown table) would otherwise see only passes.
    """
    statuses = {control["status"] for control in host["controls"]}
    return not statuses or (host["status"] in (*_WORST_FIRST, "unreachable") and host["status"] not in statuses)


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
    earlier: Iterable[Mapping[str, t.Any]], current: Iterable[Mapping[str, t.Any]]
) -> list[Mapping[str, t.Any]]:
    """One entry per host: this run's entry replaces the earlier report's entry for the same host.

    "Newer" means the run that writes the report now, not the larger run_at: the report file is read, merged and
    written under one lock, so what is on disk was written by runs that finished before this one. run_at is the
    recorded clock of whichever controller wrote the entry (AWX execution nodes differ), so a skewed or hand-edited
    clock - an entry dated in the future - must not keep a host's old verdict in place for ever.

    Hosts that are not in this run (another AWX job slice, a run with --limit) keep their entries. A host that is in
    it without a result (it failed or was skipped before the baseline task in this run) is reported so, even if an
    earlier run had a verdict for it: an old verdict must not stand in for a run that did not evaluate the host. In
    a play with serial batches each batch's report lists every host of the play, the later batches' hosts as
    "no_result", and the last batch's report has every host's result.
    """
    merged: dict[str, Mapping[str, t.Any]] = {host["host"]: host for host in earlier}
    merged.update((host["host"], host) for host in current)
    return list(merged.values())


# The report's fixed-width UTC timestamp (docs/schemas/wmi-compliance.schema.json, $defs/timestamp).
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def _is_text_or_none(value: t.Any) -> bool:
    return value is None or isinstance(value, str)


def _is_count(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


_CONTROL_KEYS = (
    "id",
    "title",
    "severity",
    "status",
    "reason",
    "expected",
    "actual",
    "findings",
    "remediation",
    "references",
    "changes",
    "evidence",
)
_HOST_KEYS = (
    "host",
    "status",
    "cause",
    "reason",
    "changed",
    "run_at",
    "check_mode",
    "job_id",
    "os",
    "counts",
    "controls",
)


# A value kept by plain() sits at most this deep in a report (document > hosts > host > controls > control > value).
_MAX_DOCUMENT_DEPTH = MAX_DEPTH + 8


def value_problem(value: t.Any, depth: int = 0) -> str | None:
    """What makes a value unfit for the renderers: nesting deeper than MAX_DEPTH, a lone surrogate (not UTF-8), or a
    type JSON does not have. None when every renderer can write it."""
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        return None if value.isascii() or not _SURROGATE.search(value) else "holds a lone UTF-16 surrogate"
    if depth >= _MAX_DOCUMENT_DEPTH:
        return f"nests deeper than {_MAX_DOCUMENT_DEPTH} levels"
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = value_problem(key, depth + 1) or value_problem(item, depth + 1)
            if problem:
                return f"[{str(key)[:40]!r}] {problem}"
        return None
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = value_problem(item, depth + 1)
            if problem:
                return f"[{index}] {problem}"
        return None
    return f"is a {type(value).__name__}, not a JSON value"


def _finding_entry_problem(finding: t.Any) -> str | None:
    """The schema's finding: text id and message, a known severity, and typed evidence fields."""
    if (
        not isinstance(finding, Mapping)
        or not isinstance(finding.get("id"), str)
        or not isinstance(finding.get("message"), str)
        or finding.get("severity") not in SEVERITIES
    ):
        return "is not a finding with text id and message and a known severity"
    for key in ("namespace", "principal", "sid", "file", "reason"):
        if not _is_text_or_none(finding.get(key)):
            return f"{key} is not text or null"
    rights = finding.get("rights", [])
    if not isinstance(rights, list) or not all(isinstance(right, str) for right in rights):
        return "rights is not a list of texts"
    line = finding.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
        return "line is not an integer or null"
    if "excepted" in finding and not isinstance(finding["excepted"], bool):
        return "excepted is not a boolean"
    return None


def _control_entry_problem(control: t.Any) -> str | None:
    """What is wrong with one control of an earlier report (the schema's $defs/control), or None."""
    if not isinstance(control, Mapping):
        return "is not a mapping"
    # An absent reason reads as null (the renderers use .get); the merge writes it back as null.
    missing = [key for key in _CONTROL_KEYS if key not in control and key not in ("evidence", "reason")]
    if missing:
        return f"lacks {', '.join(missing)}"
    for key in ("id", "title"):
        if not isinstance(control.get(key), str):
            return f"{key} is not text"
    if control.get("severity") not in SEVERITIES:
        return f"severity {control.get('severity')!r} is not one of {', '.join(SEVERITIES)}"
    if control.get("status") not in CONTROL_STATUSES:
        return f"status {control.get('status')!r} is not one of {', '.join(CONTROL_STATUSES)}"
    if not _is_text_or_none(control.get("reason")):
        return "reason is not text or null"
    findings = control.get("findings")
    if not isinstance(findings, list):
        return "findings is not a list"
    for index, finding in enumerate(findings):
        problem = _finding_entry_problem(finding)
        if problem:
            return f"findings[{index}] {problem}"
    unknown = sorted(set(control) - set(_CONTROL_KEYS))
    if unknown:
        return f"has keys the report schema does not know: {', '.join(map(repr, unknown[:5]))}"
    remediation = control.get("remediation")
    if (
        not isinstance(remediation, Mapping)
        or not isinstance(remediation.get("automatic"), bool)
        or not isinstance(remediation.get("text"), str)
    ):
        return "remediation is not {automatic: boolean, text: text}"
    references = control.get("references")
    if not isinstance(references, list) or not all(
        isinstance(ref, Mapping) and isinstance(ref.get("title"), str) and isinstance(ref.get("url"), str)
        for ref in references
    ):
        return "references is not a list of {title, url} texts"
    changes = control.get("changes")
    if not isinstance(changes, list) or not all(isinstance(change, str) for change in changes):
        return "changes is not a list of texts"
    return None


def host_entry_problem(host: Mapping[str, t.Any]) -> str | None:
    """What is wrong with one host entry of an earlier report, or None when the renderers can trust it.

    The checks are the report schema's (docs/schemas/wmi-compliance.schema.json, $defs/host) plus its honesty
    rules: counts are the counts of the controls, a host without a verdict of its own is never compliant, and a
    host is never better than its worst control.
    """
    if not isinstance(host.get("host"), str) or not host["host"]:
        return "host is not a non-empty text"
    missing = [key for key in _HOST_KEYS if key not in host and key != "reason"]
    if missing:
        return f"lacks {', '.join(missing)}"
    unknown = sorted(set(host) - set(_HOST_KEYS))
    if unknown:
        return f"has keys the report schema does not know: {', '.join(map(repr, unknown[:5]))}"
    problem = value_problem(host)
    if problem:
        return f"a value {problem}"
    if host.get("status") not in HOST_STATUSES:
        return f"status {host.get('status')!r} is not one of {', '.join(HOST_STATUSES)}"
    if host.get("cause") is not None and host.get("cause") not in CAUSES:
        return f"cause {host.get('cause')!r} is not null or one of {', '.join(CAUSES)}"
    for key in ("reason", "job_id"):
        if not _is_text_or_none(host.get(key)):
            return f"{key} is not text or null"
    if not isinstance(host.get("run_at"), str) or not _TIMESTAMP.fullmatch(host["run_at"]):
        return f"run_at {host.get('run_at')!r} is not a UTC timestamp like 2026-01-31T12:00:00.000000Z"
    if not isinstance(host.get("changed"), bool):
        return "changed is not a boolean"
    if host.get("check_mode") is not None and not isinstance(host.get("check_mode"), bool):
        return "check_mode is not a boolean or null"
    if not isinstance(host.get("os"), Mapping):
        return "os is not a mapping"
    controls = host.get("controls")
    if not isinstance(controls, list):
        return "controls is not a list"
    for index, control in enumerate(controls):
        problem = _control_entry_problem(control)
        if problem:
            return f"controls[{index}] {problem}"
    counts = host.get("counts")
    expected_counts = zero_counts()
    for control in controls:
        expected_counts[control["status"]] += 1
    if not isinstance(counts, Mapping) or set(counts) != set(CONTROL_STATUSES):
        return f"counts does not have exactly the keys {', '.join(CONTROL_STATUSES)}"
    if not all(_is_count(value) for value in counts.values()) or dict(counts) != expected_counts:
        return f"counts {dict(counts)} are not the counts of its controls {expected_counts}"
    if host.get("cause") is not None and (
        host["status"] not in ("error", "unreachable") or not host.get("reason") or controls
    ):
        return f"a host with cause {host['cause']!r} must be error or unreachable, with a reason and no controls"
    if (host["status"] == "unreachable") != (host.get("cause") == "unreachable"):
        return "status unreachable and cause unreachable go together"
    worst = next((bad for bad in _WORST_FIRST if expected_counts[bad]), None)
    if worst and host["status"] not in (*_WORST_FIRST, "unreachable"):
        return f"status {host['status']!r} is better than its worst control ({worst})"
    return None


def hosts_of_existing_report(document: t.Any) -> list[Mapping[str, t.Any]]:
    """The hosts of an earlier report, validated entry by entry (the renderers trust the model).

    An invalid entry refuses the whole merge rather than being dropped: a compliance report that silently loses a
    host, or keeps a verdict nobody can read, is worse than a task that fails and names the entry to fix.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("hosts"), list):
        raise ReportMergeError("the existing report is not a winsec.wmi compliance report (no 'hosts' list)")
    version = str(document.get("schema_version", ""))
    if version.split(".", maxsplit=1)[0] != SCHEMA_VERSION.split(".", maxsplit=1)[0]:
        raise ReportMergeError(
            f"the existing report has schema_version {version!r}; this version writes {SCHEMA_VERSION!r} "
            "and merges only the same major version: move the old report away or set merge=false"
        )
    problem = hosts_problem(document["hosts"])
    if problem:
        raise ReportMergeError(
            f"the existing report has a malformed host entry {problem}. Fix or remove that entry, move the report "
            "away, or set merge=false"
        )
    hosts: list[Mapping[str, t.Any]] = []
    for host in document["hosts"]:
        controls = [{"reason": None, **control} for control in host["controls"]]
        hosts.append({"reason": None, **host, "controls": controls})
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


_REPORT_KEYS = ("schema_version", "generator", "title", "generated_at", "runs", "summary", "hosts")


def report_problem(report: Mapping[str, t.Any]) -> str | None:
    """What makes a whole report invalid under the shipped schema's rules (and the renderers'), or None.

    The action checks the merged document with this before it writes anything: an entry carried over from an
    earlier file, or a value that slipped past normalise_host, is refused with its path instead of a renderer
    failing after the JSON was already written.
    """
    missing = [key for key in _REPORT_KEYS if key not in report]
    if missing:
        return f"the report lacks {', '.join(missing)}"
    if not _TIMESTAMP.fullmatch(str(report["generated_at"])):
        return f"generated_at {report['generated_at']!r} is not a UTC timestamp"
    problem = value_problem({key: value for key, value in report.items() if key != "hosts"})
    if problem:
        return f"a value {problem}"
    return hosts_problem(report["hosts"])


def hosts_problem(hosts: Sequence[t.Any]) -> str | None:
    """'hosts[3] (host 'web01'): <problem>' for the first invalid or repeated host entry, or None."""
    seen: set[str] = set()
    for index, host in enumerate(hosts):
        problem = host_entry_problem(host) if isinstance(host, Mapping) else "is not a mapping"
        if problem is None and host["host"] in seen:
            problem = "names a host that an earlier entry already has"
        if problem:
            name = host.get("host") if isinstance(host, Mapping) else None
            return f"hosts[{index}]" + (f" (host {str(name)[:100]!r})" if name is not None else "") + f": {problem}"
        seen.add(host["host"])
    return None


# --- retention of merged hosts ---------------------------------------------------------------------------------------


def _days_before(timestamp: str, days: int) -> str:
    moment = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ") - datetime.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def retained_hosts(
    earlier: Iterable[Mapping[str, t.Any]], current_names: Iterable[str], *, run_at: str, max_age_days: int
) -> tuple[list[Mapping[str, t.Any]], list[str]]:
    """The earlier entries a merge carries over, and the names of those it drops as too old.

    An entry of a host that is not in this run is kept while it is at most max_age_days old (0 keeps every entry):
    the slices of one AWX job or the batches of one play finish within hours, a decommissioned host stops being
    reported after the retention instead of staying in every report for ever under a new "Generated" date.
    """
    current = set(current_names)
    if max_age_days <= 0:
        return list(earlier), []
    cutoff = _days_before(run_at, max_age_days)
    kept, dropped = [], []
    for host in earlier:
        if host["host"] in current or host["run_at"] >= cutoff:
            kept.append(host)
        else:
            dropped.append(host["host"])
    return kept, dropped


def carried_over(report_hosts: Sequence[Mapping[str, t.Any]], run_at: str, dropped: Sequence[str]) -> dict[str, t.Any]:
    """What of a merged report is not from this run: how many hosts, the oldest entry, how many were dropped."""
    older = [host["run_at"] for host in report_hosts if host["run_at"] != run_at]
    return {"hosts": len(older), "oldest_run_at": min(older) if older else None, "dropped": len(dropped)}


# --- change since an earlier report -----------------------------------------------------------------------------------

# A result that asks for action: the change categories compare these, not the exact status.
PROBLEM_STATUSES = ("drift", "error", "unreachable")
CHANGE_KINDS = ("new", "fixed", "changed", "unchanged", "gone")


def _change_kind(before: str | None, after: str | None) -> str:
    if after is None:
        return "gone"
    if before == after:
        return "unchanged"
    if after in PROBLEM_STATUSES and before not in PROBLEM_STATUSES:
        return "new"
    if before in PROBLEM_STATUSES and after not in PROBLEM_STATUSES:
        return "fixed"
    return "changed"


def _cells(host: Mapping[str, t.Any]) -> dict[str, str]:
    """Control ID -> status of one host; a host without controls is one cell '' with its own status."""
    cells = {control["id"]: control["status"] for control in host["controls"]}
    return cells or {"": host["status"]}


def changes_since(
    previous: Mapping[str, t.Any], hosts: Sequence[Mapping[str, t.Any]], *, list_cap: int = 10_000
) -> dict[str, t.Any]:
    """Per host and control: new (a problem now, none before), fixed (the reverse), changed (another status),
    unchanged, gone (in the earlier report only). Counts are exact; the entries (all but unchanged) are capped.

    previous is an earlier report document whose hosts were validated (hosts_of_existing_report).
    """
    before = {host["host"]: _cells(host) for host in previous["hosts"]}
    counts = dict.fromkeys(CHANGE_KINDS, 0)
    entries: list[dict[str, t.Any]] = []

    def add(host: str, control: str, was: str | None, now: str | None) -> None:
        kind = _change_kind(was, now)
        counts[kind] += 1
        if kind != "unchanged" and len(entries) < list_cap:
            entries.append({"host": host, "control": control, "change": kind, "previous": was, "status": now})

    for host in hosts:
        earlier = before.pop(host["host"], {})
        for control, status in _cells(host).items():
            add(host["host"], control, earlier.get(control), status)
        for control, status in earlier.items():
            if control not in _cells(host):
                add(host["host"], control, status, None)
    for name, earlier in before.items():
        for control, status in earlier.items():
            add(name, control, status, None)
    return {
        "previous_generated_at": previous.get("generated_at"),
        "counts": counts,
        "entries": entries,
        "truncated": sum(counts[kind] for kind in CHANGE_KINDS if kind != "unchanged") > len(entries),
    }


def change_index(report: Mapping[str, t.Any]) -> dict[tuple[str, str], str]:
    """(host, control) -> change kind, for the renderers that mark cells (empty without a previous report)."""
    delta = report.get("changes_since") or {}
    return {(entry["host"], entry["control"]): entry["change"] for entry in delta.get("entries", [])}


# --- what an auditor reads beside the verdicts -----------------------------------------------------------------------

_EXPIRED = re.compile(r"exception expired on ([0-9]{4}-[0-9]{2}-[0-9]{2}): ?(.*)", re.DOTALL)


def configured_exceptions(items: Iterable[Mapping[str, t.Any]], report_day: str) -> list[dict[str, t.Any]]:
    """The exceptions the baseline ran with, each with whether it has expired on report_day (YYYY-MM-DD).

    An exception applies through its expires day (winsec.wmi.baseline: expired when today > expires)."""
    rows = []
    for item in items:
        expires = _optional_text(item.get("expires"))
        rows.append(
            {
                "control": _text(item.get("control")),
                "namespace": _optional_text(item.get("namespace")),
                "principal": _optional_text(item.get("principal")),
                "reason": _text(item.get("reason")),
                "expires": expires,
                "expired": expires is not None and report_day > expires[:10],
            }
        )
    return rows


def exception_rows(report: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """Every finding an exception covered, or would have covered had it not expired, host by host.

    winsec.wmi.baseline marks a finding it accepted with excepted=true and the exception's reason, and one whose
    exception expired with excepted=false and the reason 'exception expired on <date>: <reason>'.
    """
    # An active exception's expiry is known only from the configured list (the baseline marks the finding with
    # its reason alone): matched by control and reason.
    expiry = {(item["control"].upper(), item["reason"]): item["expires"] for item in report.get("exceptions", [])}
    rows = []
    for host in report["hosts"]:
        for control in host["controls"]:
            for finding in control["findings"]:
                if "excepted" not in finding:
                    continue
                reason = finding.get("reason") or ""
                expired = _EXPIRED.match(reason) if not finding["excepted"] else None
                rows.append(
                    {
                        "host": host["host"],
                        "control": control["id"],
                        "where": finding.get("namespace") or finding.get("file") or "",
                        "principal": finding.get("principal") or finding.get("sid") or "",
                        "reason": expired.group(2) if expired else reason,
                        "expires": expired.group(1) if expired else expiry.get((control["id"].upper(), reason)),
                        "expired": not finding["excepted"],
                        "status": control["status"],
                    }
                )
    return rows


def not_applicable_rows(report: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """Hosts judged not applicable, with why and what mitigates the risk instead (the controls' remediation)."""
    rows = []
    for host in report["hosts"]:
        if host["status"] != "not_applicable":
            continue
        controls = host["controls"]
        reason = next((c["reason"] for c in controls if c.get("reason")), None) or host.get("reason") or ""
        mitigation = next((c["remediation"]["text"] for c in controls if c["remediation"]["text"]), "")
        rows.append({"host": host["host"], "os": host.get("os") or {}, "reason": reason, "mitigation": mitigation})
    return rows


def change_rows(report: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """Every change a control made (run mode) or would make (check mode), host by host."""
    return [
        {
            "host": host["host"],
            "control": control["id"],
            "change": change,
            "predicted": host.get("check_mode") is not False and control["status"] != "remediated",
        }
        for host in report["hosts"]
        for control in host["controls"]
        for change in control["changes"]
    ]


def run_mode(report: Mapping[str, t.Any]) -> str:
    """'check' when every host of the report was evaluated in check mode, 'run' when none was, else 'mixed'."""
    modes = {host.get("check_mode") for host in report["hosts"]}
    if modes <= {True}:
        return "check" if modes else "run"
    if modes <= {False, None}:
        return "run"
    return "mixed"


def mode_sentence(report: Mapping[str, t.Any]) -> str:
    return {
        "check": "CHECK MODE (audit): nothing was changed on any host; changes listed are predictions.",
        "run": "Run mode: changes listed were made.",
        "mixed": "Mixed: some hosts were evaluated in check mode (predicted changes), some in run mode (changes made).",
    }[run_mode(report)]
