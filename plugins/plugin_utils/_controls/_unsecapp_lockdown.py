# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The unsecapp lock-out control (winsec.wmi.unsecapp_lockdown, baseline WMI-001): UnsecAppAccessControlDefault."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import replace

from .._control import Control, Decision, HostContext, Reference
from .._os_profile import PRE_2003_MITIGATION, PRE_2003_WHY
from .._wmi_errors import op_value
from ._exceptions import NO_EXCEPTIONS, ControlExceptions
from ._unsecapp import REGISTRY_PATH, REGISTRY_VALUE, WRITE_TYPES, diff, normalise, plan, shown_data

if t.TYPE_CHECKING:
    from ._registry import BaselineOptions

DOCS_ASYNC_SECURITY = Reference(
    "Setting Security on an Asynchronous Call (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call",
)
DOCS_2003_CHANGES = Reference(
    "Security changes in WMI in Windows Server 2003 (Microsoft Learn, 'Maintaining WMI Security')",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/maintaining-wmi-security",
)


class UnsecappLockdown(Control):
    id = "WMI-001"
    title = "unsecapp.exe accepts only authenticated callbacks (UnsecAppAccessControlDefault = 1)"
    severity = "high"
    references = (DOCS_ASYNC_SECURITY, DOCS_2003_CHANGES)

    def __init__(
        self, state: str = "enabled", value_type: str = "auto", *, exceptions: ControlExceptions = NO_EXCEPTIONS
    ) -> None:
        self.state = state
        self.value_type = value_type
        self.exceptions = exceptions

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> UnsecappLockdown:
        return cls("enabled", options.params["unsecapp_value_type"], exceptions=options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return [{"op": "registry_read", "value": REGISTRY_VALUE}]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        read = op_value(results[0], f"reading {REGISTRY_PATH}")
        current = normalise(read)
        result: dict[str, t.Any] = {
            "os": host.os_facts,
            "before": current.to_dict(),
            "after": current.to_dict(),
            "observed_type": current.type,
            "written_type": None,
        }
        expected = f"{REGISTRY_PATH} = {1 if self.state == 'enabled' else 0}"
        actual = current.describe().strip()
        if host.profile.pre_2003:
            reason = f"Not applicable on {host.profile.family}. {PRE_2003_WHY}"
            result.update(applicable=False, compliant=False, msg=f"{reason} {PRE_2003_MITIGATION}")
            return Decision(
                "not_applicable", expected, actual, reason=reason, remediation=PRE_2003_MITIGATION, result=result
            )

        decision = plan(read, self.state, self.value_type, check_mode=not host.will_write)
        result.update(applicable=True)
        if not decision.needs_write:
            result.update(compliant=True, msg=f"UnsecAppAccessControlDefault is already {decision.desired}.")
            return Decision("compliant", expected, actual, result=result)

        written_type = WRITE_TYPES[decision.write_type]
        finding = {
            "id": "unsecapp_not_enforced" if decision.before.value != decision.desired else "unsecapp_type",
            "severity": self.severity if decision.before.value != decision.desired else "info",
            "message": f"{actual}; expected {decision.desired} ({written_type}).",
        }
        verb = "would be set" if host.check_mode or not host.enforce else "set"
        result.update(
            compliant=False,
            after=decision.after.to_dict(),
            written_type=written_type,
            msg=f"UnsecAppAccessControlDefault {verb} to {decision.desired} ({written_type}).",
        )
        return Decision(
            "drift",
            expected,
            actual,
            findings=[finding],
            writes=[decision.write_operation()],
            changes=[f"{actual} -> {decision.desired} ({written_type})"],
            remediation=f"Set {REGISTRY_PATH} to {decision.desired} (winsec.wmi.unsecapp_lockdown).",
            automatic=True,
            diff=diff(decision.before, decision.after),
            result=result,
            warnings=list(decision.warnings) if host.enforce else [],
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        written = op_value(results[0], f"writing {REGISTRY_PATH}")
        after = normalise(written["after"])
        result = {**decision.result, "after": after.to_dict()}
        desired = 1 if self.state == "enabled" else 0
        if after.value != desired:
            result.update(
                failed=True,
                compliant=False,
                msg=f"{REGISTRY_PATH} reads {shown_data(after.data)} after writing {desired}.",
            )
            return Decision(
                "error",
                decision.expected,
                after.describe().strip(),
                decision.findings,
                decision.writes,
                decision.changes,
                reason=result["msg"],
                diff=decision.diff,
                result=result,
            )
        result.update(compliant=True, msg=f"UnsecAppAccessControlDefault set to {desired} ({after.type}).")
        # Everything else is the drift decision's: the diff stays the one planned from the read (the host's echo of
        # before/after is checked above, never reported as it).
        return replace(decision, status="remediated", actual=after.describe().strip(), result=result)
