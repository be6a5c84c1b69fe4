# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The WMI hardening baseline (winsec.wmi.baseline) on one host: its controls read in one round trip, fixed in
enforce mode in at most one more (see _control), exceptions applied, and the host's result.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import datetime
import typing as t
from dataclasses import replace

from .._control import STATUSES, ControlRun, Decision, HostContext, host_verdict, read_host, settle_writes, write_host
from .._controls._exceptions import ControlExceptions, unmatched_exception_warning
from .._controls._namespace_controls import BroadGrants, ExplicitSds, contradictions
from .._controls._registry import build_controls
from .._diff import labelled
from .._wmi_errors import WmiActionError, WmiCaller
from ._inventory_os import SERVER_2003, unmanageable_os
from ._verdict import host_warnings, verdict_line


def _record(run: ControlRun, evidence: bool) -> dict[str, t.Any]:
    if run.error is not None or run.decision is None:
        # An error wins over any decision made before it (a write that failed leaves the drift it was to fix).
        error = run.error
        planned = run.decision or Decision("error")
        decision = replace(planned, status="error", reason=error.msg if error else "the control did not run")
        record = run.control.outcome(decision)
        if error is not None and "error" in error.result:
            record["error"] = error.result["error"]
        return record
    record = run.control.outcome(run.decision)
    if not evidence:
        record.pop("evidence", None)
    return record


def not_applicable_result(
    params: t.Mapping[str, t.Any], exceptions: ControlExceptions, family: str, reason: str, mitigation: str
) -> dict[str, t.Any]:
    """A host the inventory says Ansible cannot manage: every control not applicable, never contacted. Its options
    and exceptions are refused as on any host (a misspelt control ID is the same mistake on a Server 2003 host), but
    no exception is matched: no finding is judged."""
    controls = build_controls(params, exceptions)
    records = [
        control.outcome(Decision("not_applicable", reason=reason, remediation=mitigation)) for control in controls
    ]
    return summarise(
        records,
        {"family": family, "pre_2003": family != SERVER_2003, "source": "inventory"},
        contacted=False,
        changed=False,
    )


def summarise(
    records: list[dict[str, t.Any]], os_facts: t.Mapping[str, t.Any], *, contacted: bool, changed: bool
) -> dict[str, t.Any]:
    counts = {status: 0 for status in STATUSES}
    for record in records:
        counts[record["status"]] += 1
    status = host_verdict(record["status"] for record in records)
    return {
        "changed": changed,
        "status": status,
        "os": dict(os_facts),
        "contacted": contacted,
        "counts": counts,
        "controls": records,
    }


def enforce_diff(host: HostContext, runs: t.Sequence[ControlRun]) -> list[dict[str, t.Any]] | None:
    """--diff of an enforce run: each write's diff, its header led by the control ID, as planned from the read (check
    mode shows what the real run then writes). A control that ended in error shows none: its error says what
    happened. None without diff mode or without a write."""
    if not host.diff_mode:
        return None
    diffs = [
        labelled(run.control.id, run.decision.diff)
        for run in runs
        if run.decision is not None and run.error is None and run.decision.writes
    ]
    flat = [item for items in diffs for item in items]
    return flat or None


def run_baseline(
    caller: WmiCaller, params: t.Mapping[str, t.Any], today: datetime.date, *, host_name: str | None = None
) -> dict[str, t.Any]:
    """The host's result. ``host_name`` (the inventory name) prefixes its warnings: Ansible prints warnings without
    the host and collapses identical ones, so 11 drifting hosts must give 11 different lines."""
    exceptions = ControlExceptions.parse(params.get("exceptions"), today)
    result = _baseline_result(caller, params, exceptions)
    warnings = host_warnings(host_name, result, {unmatched_exception_warning(item) for item in exceptions.items})
    if warnings:
        result["warnings"] = warnings
    return result


def _baseline_result(
    caller: WmiCaller, params: t.Mapping[str, t.Any], exceptions: ControlExceptions
) -> dict[str, t.Any]:
    unmanageable = unmanageable_os(params.get("inventory_os"))
    if unmanageable is not None:
        result = not_applicable_result(params, exceptions, *unmanageable)
        result["msg"] = verdict_line(result)
        return result
    controls = build_controls(params, exceptions)
    by_id = {control.id: control for control in controls}
    explicit, broad = by_id.get(ExplicitSds.id), by_id.get(BroadGrants.id)
    if isinstance(explicit, ExplicitSds) and isinstance(broad, BroadGrants):
        problems = contradictions(explicit, broad)
        if problems:
            raise WmiActionError(
                "; ".join(problems) + ". The two settings would undo each other on every run: change the entry, or "
                f"record a {broad.id} exception (control, namespace, principal, reason) if the grant is wanted. "
                "Nothing was contacted."
            )
    enforce = params["mode"] == "enforce"
    host, runs = read_host(caller, controls, enforce=enforce)
    for run in runs:
        if run.decision is not None:
            run.decision = exceptions.apply(run.control, run.decision)
            if run.decision.status == "excepted":
                # An accepted finding is never "fixed", nor shown as a change.
                run.decision = replace(run.decision, writes=[], diff=None)
    own_warnings = {id(run): run.decision.warnings for run in runs if run.decision is not None}
    settle_writes(runs)
    planned = enforce and any(run.decision is not None and run.decision.writes for run in runs)
    written = write_host(caller, host, runs)
    if not enforce:
        # Audit never writes: "not fixed in this run, run again" (two writers of one target) is enforce's news.
        for run in runs:
            if run.decision is not None and id(run) in own_warnings:
                run.decision = replace(run.decision, warnings=own_warnings[id(run)])
    records = [_record(run, params["evidence"]) for run in runs]
    # Check mode predicts; a real run reports what it wrote, not what it planned (a refused write changes nothing).
    changed = written > 0 if host.will_write else planned
    result = summarise(records, host.os_facts, contacted=True, changed=changed)
    diff = enforce_diff(host, runs) if enforce else None
    if diff:
        result["diff"] = diff
    if host.profile.pre_2003 and result["status"] in ("compliant", "remediated", "excepted"):
        # Before Server 2003 the unsecapp check does not exist: such a host is never called compliant.
        result["status"] = "not_applicable"
    result["msg"] = verdict_line(result, writes=("run" if host.will_write else "check") if enforce else None)
    unmatched = [
        item.describe()
        for item in exceptions.items
        if any(unmatched_exception_warning(item) in run.decision.warnings for run in runs if run.decision is not None)
    ]
    if unmatched:
        result["unmatched_exceptions"] = unmatched
    warnings: list[str] = []
    for run in runs:
        # A control that ended in error did not do what its warnings announce ("now 1", "after a restart").
        if run.decision is not None and run.error is None:
            warnings.extend(run.decision.warnings)
    if warnings:
        result["warnings"] = warnings
    if result["status"] == "error" and params["fail_on_error"]:
        result["failed"] = True
    elif params["fail_on_drift"] and result["status"] == "drift":
        result["failed"] = True
        result["msg"] = f"{result['msg']} (fail_on_drift)"
    return result
