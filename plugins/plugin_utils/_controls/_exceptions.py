# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Exceptions: the findings a user accepted (winsec.wmi.baseline's exceptions, wmi_hardening_exceptions).

Not Python exceptions: an exception here is ``{control, namespace?, principal?, reason, expires?}``, a finding
accepted with a reason. One ControlExceptions object (the run's exceptions as of one day) is given to every control:
a control whose own fix is per finding leaves out what it covers, and the baseline marks the findings it covers.
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
from dataclasses import dataclass, replace

from .._wmi_errors import WmiActionError
from .._wmi_names import namespace_key, wmi_case_key

if t.TYPE_CHECKING:
    from .._control import Control, Decision

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class ControlException:
    """An accepted finding: {control, namespace?, principal?, reason, expires?} (wmi_hardening_exceptions)."""

    control: str
    reason: str
    namespace: str | None = None
    principal: str | None = None
    expires: datetime.date | None = None
    # Where the item was given (exceptions[2]), so a warning about it names it.
    where: str = "exception"

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, control_id: str, finding: t.Mapping[str, t.Any]) -> bool:
        """The one test of "this exception covers this finding", for the findings and for each control's own fix.

        ``namespace`` matches where the finding is reported (``namespace``), where its ACE is explicit
        (``source_namespace``), and every namespace where it applies (``affected_namespaces`` of a grant, the
        ``namespaces`` an unaudited SACL leaves uncovered): the fix of one of them changes them all."""
        if control_id.upper() != self.control.upper():
            return False
        if self.namespace is not None and namespace_key(self.namespace) not in finding_namespaces(finding):
            return False
        if self.principal is not None:
            # Account names compare as Windows compares them (ordinal, case-insensitive per code unit): lower() would
            # let an exception for 'svc_backup' cover a lookalike account 'svc_bac\u212aup' the host reports.
            wanted = wmi_case_key(self.principal)
            if wanted not in {wmi_case_key(str(finding.get(key) or "")) for key in ("principal", "sid")}:
                return False
        return True

    def describe(self) -> str:
        """exceptions[1] (WMI-004, namespace ' root\\cimv2', principal 'Everyone'): the values as written."""
        given = (("namespace", self.namespace), ("principal", self.principal))
        # Quoted as written (a repr would double every backslash): a leading space or a stray \\.\\ must show.
        parts = [self.control, *(f"{key} '{value}'" for key, value in given if value is not None)]
        return f"{self.where} ({', '.join(parts)})"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "control": self.control,
            "namespace": self.namespace,
            "principal": self.principal,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def finding_namespaces(finding: t.Mapping[str, t.Any]) -> set[str]:
    """Every namespace a finding covers (see ControlException.matches), compared case-insensitively."""
    names = [finding.get("namespace"), finding.get("source_namespace")]
    for key in ("affected_namespaces", "namespaces"):
        names.extend(finding.get(key) or [])
    return {namespace_key(str(name)) for name in names if name}


def _expiry(where: str, expires: t.Any) -> datetime.date | None:
    """None (no expiry), a date, or the text YYYY-MM-DD. An empty text is refused: a template default of '' would
    otherwise make the exception permanent without anyone writing so; ISO 8601's other forms (2099-W01-1, 20991231)
    are refused because the documented form is YYYY-MM-DD and a reviewer must read the same date the run does."""
    if expires is None:
        return None
    if isinstance(expires, datetime.datetime):
        return expires.date()
    if isinstance(expires, datetime.date):
        return expires
    text = expires if isinstance(expires, str) else None
    if text is not None and not text.strip():
        raise WmiActionError(
            f"{where}.expires: empty; give the last day the exception applies (YYYY-MM-DD), or leave expires out "
            "(null) for an exception that never expires."
        )
    if text is None or not _ISO_DATE.match(text):
        raise WmiActionError(f"{where}.expires: {str(expires)[:40]!r} is not a date (YYYY-MM-DD).")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise WmiActionError(f"{where}.expires: {text[:40]!r} is not a date (YYYY-MM-DD).") from None


def _parse_items(items: t.Sequence[t.Mapping[str, t.Any]] | None) -> list[ControlException]:
    """The exceptions as validated by the action plugin (see modules/baseline.py); checked again here because a
    null must never become the text "None" (an exception for control "None" matches nothing, silently)."""
    parsed = []
    for index, item in enumerate(items or []):
        where = f"exceptions[{index}]"
        if not isinstance(item, t.Mapping):
            raise WmiActionError(f"{where}: expected a dictionary (control, reason, ...).")
        for key in ("control", "reason", "namespace", "principal"):
            if not isinstance(item.get(key), (str, type(None))):
                raise WmiActionError(f"{where}.{key}: expected a string.")
        control = (item.get("control") or "").strip()
        if not control:
            raise WmiActionError(f"{where}: give a control; an exception for no control matches nothing.")
        reason = (item.get("reason") or "").strip()
        if not reason:
            raise WmiActionError(f"{where}: give a reason; an exception without one cannot be reviewed.")
        parsed.append(
            ControlException(
                control=control,
                reason=reason,
                namespace=item.get("namespace") or None,
                principal=item.get("principal") or None,
                expires=_expiry(where, item.get("expires")),
                where=where,
            )
        )
    return parsed


def unmatched_exception_warning(item: ControlException) -> str:
    """The same text on every host an exception matches nothing on, without the host's name: Ansible prints an
    identical warning once, so a fleet-wide exception meant for a few hosts warns once per run, not once per host
    (each host's result keeps it under unmatched_exceptions)."""
    return (
        f"{item.describe()} matches no finding of {item.control.upper()} on some hosts (their results list it under "
        "unmatched_exceptions); if it was meant for them, check its namespace and principal: the finding stays drift."
    )


@dataclass(frozen=True)
class ControlExceptions:
    """The run's exceptions as of one day (they expire by the controller's calendar day): the one object every
    control receives (Control.exceptions) and the baseline applies to each decision."""

    items: tuple[ControlException, ...]
    today: datetime.date

    @classmethod
    def parse(cls, items: t.Sequence[t.Mapping[str, t.Any]] | None, today: datetime.date) -> ControlExceptions:
        return cls(tuple(_parse_items(items)), today)

    def covers(self, control_id: str, finding: t.Mapping[str, t.Any]) -> bool:
        """Is this finding accepted by an exception that has not expired? (What a control's own fix leaves out.)"""
        return any(item.matches(control_id, finding) and not item.expired(self.today) for item in self.items)

    def unknown(self, known: t.Collection[str]) -> list[ControlException]:
        """The exceptions naming no known control (an exception for WMI-04 would accept nothing, silently)."""
        return [item for item in self.items if item.control.upper() not in known]

    def apply(self, control: Control, decision: Decision) -> Decision:
        """Mark excepted findings; an expired exception does not apply and says so. All excepted -> 'excepted'.

        A control whose fix is not per finding (Control.fix_leaves_out_excepted false) writes one value for all its
        findings, so one excepted finding drops its writes. An exception of this control that matches none of its
        findings on this host is reported: a typo (a namespace spelled \\.\\root\\cimv2, a leading space) must not
        leave the finding drift silently."""
        control_id = control.id
        mine = [item for item in self.items if item.control.upper() == control_id.upper()]
        if not mine or decision.status == "not_applicable":
            return decision
        findings = []
        used: set[int] = set()
        for finding in decision.findings:
            matching = [item for item in mine if item.matches(control_id, finding)]
            used.update(id(item) for item in matching)
            active = [item for item in matching if not item.expired(self.today)]
            if active:
                finding = {**finding, "excepted": True, "reason": active[0].reason}
            elif matching:
                expired = matching[0]
                finding = {
                    **finding,
                    "excepted": False,
                    "reason": f"exception expired on {expired.expires}: {expired.reason}",
                }
            findings.append(finding)
        # A control that could not read everything (status error) may lack the very finding an exception is for.
        unmatched = [item for item in mine if id(item) not in used and decision.status != "error"]
        warnings = [unmatched_exception_warning(item) for item in unmatched]
        decision = replace(decision, findings=findings, warnings=[*decision.warnings, *warnings])
        if (
            decision.writes
            and not control.fix_leaves_out_excepted
            and any(finding.get("excepted") for finding in findings)
        ):
            decision = replace(decision, writes=[], changes=[], diff=None, automatic=False)
        if decision.status == "drift" and findings and all(finding.get("excepted") for finding in findings):
            reasons = sorted({finding["reason"] for finding in findings})
            return replace(decision, status="excepted", reason="; ".join(reasons))
        return decision


# A module (one control, no exceptions option) runs with none.
NO_EXCEPTIONS = ControlExceptions((), datetime.date.min)
