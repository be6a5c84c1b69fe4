# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Controls, the unit of winsec.wmi, and the one runner that batches their round trips.

A control says what it reads (wmi_state operations), decides in pure Python (read results + desired state ->
status, findings, planned writes, diff), and says what it writes. The runner sends the reads of every selected
control in ONE wmi_state call (identical reads are sent once) and the writes of every control in at most one more,
so a module (one control) and the baseline (many) cost the same round trips.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import abc
import json
import typing as t
from dataclasses import dataclass, field, replace

from ._controls._exceptions import NO_EXCEPTIONS, ControlExceptions
from ._namespaces._namespace_tree import NamespaceTree
from ._os_profile import OsProfile, host_facts, os_profile
from ._wmi_errors import WmiActionError, WmiCaller, WmiOperationError, describe_error
from ._wmi_names import namespace_key
from ._wmi_state_contract import MalformedReply, check_results

if t.TYPE_CHECKING:
    from ._controls._registry import BaselineOptions

# The outcome statuses, in the order a host's verdict is decided: the first present among the host's controls wins
# (one error makes the verdict "error"; otherwise one drift makes it "drift"; ...).
STATUSES = ("error", "drift", "remediated", "excepted", "compliant", "not_applicable")
SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Reference:
    title: str
    url: str

    def to_dict(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url}


@dataclass(frozen=True)
class HostContext:
    """What every control may know about the host and the run: the facts read in the same round trip."""

    facts: t.Mapping[str, t.Any]
    profile: OsProfile
    check_mode: bool
    diff_mode: bool
    # Whether the control may plan writes at all (modules: yes; the baseline in audit mode: no).
    enforce: bool

    @property
    def will_write(self) -> bool:
        return self.enforce and not self.check_mode

    @property
    def os_facts(self) -> dict[str, t.Any]:
        """The 'os' key every winsec.wmi module returns: the host's facts and what the controls derive from them."""
        return {**host_facts(self.facts), "family": self.profile.family, "pre_2003": self.profile.pre_2003}


@dataclass
class Decision:
    """A control's verdict before (or, after verify, with) the writes.

    ``writes`` are the wmi_state operations that would fix the drift; the runner sends them only when the run may
    write (HostContext.will_write), so an audit still shows what enforcement would change.

    ``result`` holds the module-specific return keys of a single-module run (e.g. namespace_sd's previous_sddl).
    """

    status: str
    expected: t.Any = None
    actual: t.Any = None
    findings: list[dict[str, t.Any]] = field(default_factory=list)
    writes: list[dict[str, t.Any]] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    remediation: str = ""
    automatic: bool = False
    reason: str | None = None
    # Ansible's diff of the planned writes (see _diff): one {before, after, ...} or a list; None when nothing changes.
    diff: dict[str, t.Any] | list[dict[str, t.Any]] | None = None
    # The full read behind the verdict (e.g. every namespace's SDDL); the baseline returns it only when asked.
    evidence: t.Any = None
    result: dict[str, t.Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # What ``verify`` needs from ``decide`` (e.g. which findings the planned writes take away): it travels in the
    # decision, never on the control, so ``decide`` stays pure and one control object can judge many reads.
    plan: t.Any = None

    @property
    def changed(self) -> bool:
        return bool(self.writes)


class Control(abc.ABC):
    """One hardening control. Subclasses set the class attributes and implement ``reads`` and ``decide``."""

    id: t.ClassVar[str]
    title: t.ClassVar[str]
    severity: t.ClassVar[str]
    references: t.ClassVar[tuple[Reference, ...]] = ()
    # Whether the control's own fix leaves out what an excepted finding covers: its findings each name one place (a
    # namespace, a grant), so one exception keeps one write out. Otherwise the control writes one value for all its
    # findings, and the baseline drops its writes once any finding is excepted (ControlExceptions.apply).
    fix_leaves_out_excepted: t.ClassVar[bool] = False
    # The run's exceptions, given to every control by its constructor (a module runs with none).
    exceptions: ControlExceptions = NO_EXCEPTIONS

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> Control:
        """The control as winsec.wmi.baseline runs it, built from the baseline's options and exceptions (see
        _controls._registry). Controls only a module runs have none."""
        raise NotImplementedError(f"{cls.__name__} is not a control of the baseline")

    def excepted(self, control_id: str, finding: t.Mapping[str, t.Any]) -> bool:
        """Is this finding accepted by an exception that has not expired? (Its fix leaves it out.)"""
        return self.exceptions.covers(control_id, finding)

    @abc.abstractmethod
    def reads(self) -> list[dict[str, t.Any]]:
        """The wmi_state operations this control needs (the runner adds 'facts' for everyone)."""

    @abc.abstractmethod
    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        """Pure: the results of ``reads()`` (same order) -> the decision. Raise WmiActionError on failure."""

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        """Pure: the results of ``decision.writes`` -> the final decision. The default fails on a failed write."""
        for operation, result in zip(decision.writes, results, strict=True):
            if result.get("failed"):
                raise WmiOperationError(f"writing ({operation.get('op')})", describe_error(result.get("error")))
        return replace(decision, status="remediated")

    def outcome(self, decision: Decision) -> dict[str, t.Any]:
        """The uniform record every report reads (see the baseline module's RETURN)."""
        record: dict[str, t.Any] = {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "status": decision.status,
            "expected": decision.expected,
            "actual": decision.actual,
            "findings": decision.findings,
            "remediation": {"automatic": decision.automatic, "text": decision.remediation},
            "references": [reference.to_dict() for reference in self.references],
            "changes": decision.changes,
        }
        if decision.reason:
            record["reason"] = decision.reason
        if decision.evidence is not None:
            record["evidence"] = decision.evidence
        return record


@dataclass
class ControlRun:
    """One control's way through the runner: its decision, or the error that ended it."""

    control: Control
    decision: Decision | None = None
    error: WmiActionError | None = None


def _key(operation: t.Mapping[str, t.Any]) -> str:
    return json.dumps(operation, sort_keys=True, default=str)


def checked_call(caller: WmiCaller, operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """One round trip, its results checked against the wmi_state contract before anything reads them: the one
    boundary where a host's reply enters the controller. A malformed result is its op's MALFORMED_REPLY failure;
    a reply that cannot be matched to the operations fails the host."""
    try:
        return check_results(operations, caller.wmi_call(operations))
    except MalformedReply as problem:
        raise WmiActionError(
            f"The host's wmi_state reply is malformed (MALFORMED_REPLY): {problem}. Nothing from it was used."
        ) from None


# The read models the runner builds once per checked reply, by op, and hands to every control that reads it in place
# of the reply: one parse per host, whichever controls judge it.
READ_MODELS: dict[str, t.Callable[[t.Mapping[str, t.Any]], t.Mapping[str, t.Any]]] = {
    "sd_get": NamespaceTree.from_reply,
}


def read_model(operation: t.Mapping[str, t.Any], reply: dict[str, t.Any]) -> t.Mapping[str, t.Any]:
    """The reply as its op's read model (READ_MODELS), or as checked where the op has none."""
    build = READ_MODELS.get(str(operation.get("op")))
    return build(reply) if build is not None else reply


def read_host(
    caller: WmiCaller, controls: t.Sequence[Control], *, enforce: bool
) -> tuple[HostContext, list[ControlRun]]:
    """Round trip 1: facts and every control's reads (each distinct operation once), each reply checked and turned
    into its read model once; then every decision."""
    wanted = [control.reads() for control in controls]
    operations: dict[str, dict[str, t.Any]] = {_key({"op": "facts"}): {"op": "facts"}}
    for reads in wanted:
        for operation in reads:
            operations.setdefault(_key(operation), operation)
    keys = list(operations)
    checked = checked_call(caller, list(operations.values()))
    replies = {
        key: read_model(operation, reply)
        for key, operation, reply in zip(keys, operations.values(), checked, strict=True)
    }
    facts = caller.op_value(replies[keys[0]], "reading the host's OS facts")
    try:
        profile = os_profile(facts)
    except ValueError as exc:
        raise WmiActionError(f"The host returned OS facts this collection cannot read: {exc}") from None
    host = HostContext(facts, profile, caller.check_mode, caller.diff_mode, enforce)
    runs = []
    for control, reads in zip(controls, wanted, strict=True):
        run = ControlRun(control)
        try:
            run.decision = control.decide(host, [replies[_key(operation)] for operation in reads])
        except WmiActionError as failure:
            run.error = failure
        runs.append(run)
    return host, runs


# Descriptor writes go after the others, SACL writes before DACL writes: each compares the whole descriptor it read
# (sacl_set's read includes the SACL and the DACL, sd_set's only the DACL), so a DACL write first would make the
# SACL write of the same namespace fail as changed since read.
_DESCRIPTOR_WRITES = {"sacl_set": 1, "sd_set": 2}


def _write_order(operation: t.Mapping[str, t.Any]) -> tuple[int, int]:
    """Other writes first, then descriptor writes deepest namespace first: a parent's write changes what its
    children inherit, and each write carries the whole descriptor it read (inherited ACEs included), so writing the
    parent first would make a child's write fail as changed since read."""
    group = _DESCRIPTOR_WRITES.get(str(operation.get("op")), 0)
    if not group:
        return (0, 0)
    return (group, -str(operation.get("namespace", "")).strip("\\").count("\\"))


def _write_target(operation: t.Mapping[str, t.Any]) -> tuple[str, str] | None:
    """What a write replaces as a whole, from the state it read: one namespace's DACL (sd_set) or SACL (sacl_set), one
    registry value. Two writes to the same target in one call cannot both hold: the second fails as changed since
    read, or, unchecked, would undo the first."""
    if operation.get("op") in ("sd_set", "sacl_set"):
        return str(operation["op"]), namespace_key(str(operation.get("namespace", "")))
    if operation.get("op") == "registry_write":
        return "registry_write", str(operation.get("value"))
    return None


def settle_writes(runs: t.Sequence[ControlRun]) -> None:
    """One writer per target per run: a control whose writes touch a target an earlier control (in ID order) writes
    keeps its drift and writes nothing this run, with a warning; the next run judges the state the first write left.
    Done in check mode too, so check mode predicts exactly what a real run does."""
    claimed: dict[tuple[str, str], tuple[str, str]] = {}
    for run in runs:
        decision = run.decision
        if decision is None or not decision.writes:
            continue
        targets = {
            target: str(operation.get("namespace") or operation.get("value"))
            for operation in decision.writes
            if (target := _write_target(operation)) is not None
        }
        clash = next((target for target in targets if target in claimed), None)
        if clash is None:
            claimed.update({target: (run.control.id, shown) for target, shown in targets.items()})
            continue
        writer, shown = claimed[clash]
        note = (
            f"{run.control.id} is not fixed in this run: {writer} writes {shown} ({clash[0]}) in the same "
            "run, and each write replaces what it read. Run again: the next run judges what that write left."
        )
        run.decision = replace(decision, writes=[], changes=[], diff=None, warnings=[*decision.warnings, note])


def write_host(caller: WmiCaller, host: HostContext, runs: t.Sequence[ControlRun]) -> int:
    """Round trip 2 (only when something is to be written and the run may write): every planned write, then
    each control's verification. Nothing is sent in check mode or in audit mode. Returns how many writes were made
    (succeeded, read back or not)."""
    settle_writes(runs)
    pending = [run for run in runs if run.decision is not None and run.decision.writes]
    if not pending or not host.will_write:
        return 0
    planned = [
        (index, position, operation)
        for index, run in enumerate(pending)
        for position, operation in enumerate(t.cast(Decision, run.decision).writes)
    ]
    ordered = sorted(planned, key=lambda item: _write_order(item[2]))
    sent = checked_call(caller, [operation for _index, _position, operation in ordered])
    replies = dict(zip(((index, position) for index, position, _operation in ordered), sent, strict=True))
    written = sum(1 for reply in sent if not reply.get("failed"))
    for index, run in enumerate(pending):
        decision = t.cast(Decision, run.decision)
        results: list[t.Mapping[str, t.Any]] = [replies[(index, position)] for position in range(len(decision.writes))]
        try:
            run.decision = run.control.verify(host, decision, results)
        except WmiActionError as failure:
            run.error = failure
    return written


def run_controls(
    caller: WmiCaller, controls: t.Sequence[Control], *, enforce: bool
) -> tuple[HostContext, list[ControlRun]]:
    """Read (one round trip), decide, and write (at most one more)."""
    host, runs = read_host(caller, controls, enforce=enforce)
    write_host(caller, host, runs)
    return host, runs


def run_module(caller: WmiCaller, control: Control) -> dict[str, t.Any]:
    """A module is one control that may write: its result is the decision's module keys, or its failure."""
    host, (run,) = run_controls(caller, [control], enforce=True)
    if run.error is not None:
        raise run.error
    decision = t.cast(Decision, run.decision)
    result = {"changed": decision.changed, **decision.result}
    if decision.warnings:
        result["warnings"] = decision.warnings
    if host.diff_mode and decision.diff:
        result["diff"] = decision.diff
    return result


def host_verdict(statuses: t.Iterable[str]) -> str:
    """The host's status from its controls' statuses (STATUSES order); no control at all is not compliant."""
    present = set(statuses)
    return next((status for status in STATUSES if status in present), "not_applicable")
