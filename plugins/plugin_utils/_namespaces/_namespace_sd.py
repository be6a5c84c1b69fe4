# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The explicit-SD control (winsec.wmi.namespace_sd): read the namespace and its subtree, plan, write when needed."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import replace

from .._control import Control, Decision, HostContext, Reference
from .._diff import descriptor_diff
from .._sd._access_check import control_holders
from .._sd._sd import Acl, SecurityDescriptor, SecurityDescriptorError, sd_from_sddl, sd_to_sddl
from .._text import plural
from .._wmi_errors import WmiActionError, op_value, written_value
from ._namespace_policy import same_explicit_state
from ._namespace_sd_plan import (
    Request,
    _check_aces,
    describe_changes,
    encode_sd,
    parse_request,
    plan,
    resolve,
)
from ._namespace_tree import decode_descriptor, namespace_trees

DOCS_SETSD = Reference(
    "__SystemSecurity.SetSD method (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsd-method-in-class---systemsecurity",
)
DOCS_NAMESPACE_SECURITY = Reference(
    "Securing a Remote WMI Connection: namespace security (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/securing-a-remote-wmi-connection",
)


def rollback_params(params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The request that restores a saved ``previous_sddl``: exactly its explicit ACEs and its DACL protection.

    Its inherited ACEs are left out (SetSD recomputes them from the parent), its owner and group are kept so that
    a namespace whose owner changed since is refused rather than half restored.
    """
    if params.get("mode", "exact") != "exact":
        raise WmiActionError("rollback_from restores a whole descriptor: it needs mode=exact (the default).")
    try:
        saved = sd_from_sddl(str(params["rollback_from"]).strip())
    except SecurityDescriptorError as exc:
        raise WmiActionError(
            f"rollback_from: not a previous_sddl returned by this module: {exc}", refusal="invalid_sddl"
        ) from None
    if saved.dacl is None:
        raise WmiActionError(
            "rollback_from: the saved descriptor has no DACL; it cannot be restored.", refusal="no_dacl"
        )
    explicit = Acl(tuple(ace for ace in saved.dacl.aces if not ace.inherited))
    restored = SecurityDescriptor(control=saved.control, owner=saved.owner, group=saved.group, dacl=explicit)
    return {**params, "sddl": sd_to_sddl(restored), "aces": None, "mode": "exact"}


class NamespaceSd(Control):
    """Make one namespace's explicit DACL ACEs what the request says (module parameters of namespace_sd)."""

    id = "WMI-002"
    title = "Namespace carries the explicit security descriptor the baseline sets"
    severity = "high"
    references = (DOCS_SETSD, DOCS_NAMESPACE_SECURITY)

    def __init__(self, params: t.Mapping[str, t.Any]) -> None:
        # Everything the arguments alone can refuse is refused here, before any contact with the host.
        self.request: Request = parse_request(rollback_params(params) if params.get("rollback_from") else params)

    def reads(self) -> list[dict[str, t.Any]]:
        # The whole subtree: the lock-out check judges every descendant's effective DACL after the write.
        operations: list[dict[str, t.Any]] = [
            {"op": "sd_get", "namespace": self.request.namespace, "recurse": True, "resolve_names": True}
        ]
        if self.request.lookups:
            operations.append({"op": "sid_lookup", "names": self.request.lookups})
        return operations

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        request = self.request
        context = f"reading the security descriptor of {request.namespace}"
        (tree,) = namespace_trees(results[:1], [context])
        if not tree.entries or tree.entries[0].unread:
            op_value({"failed": True, "error": tree.entries[0].error if tree.entries else None}, context)
        entry, below = tree.entries[0], tree.entries[1:]
        resolved: dict[str, str | None] = dict(tree.principals)
        if len(results) > 1:
            accounts = op_value(results[1], "translating principal names").get("accounts") or []
            request = resolve(request, accounts)
            resolved.update({str(a["sid"]): str(a["name"]) for a in accounts if a.get("sid")})
            _check_aces(request, contacted=True)
        current_b64 = t.cast(str, entry.sd_base64)
        current = entry.descriptor
        descendants = [(child.name, child.descriptor) for child in below if not child.unread]
        unreadable = [child.name for child in below if child.unread]
        decision = plan(
            request, current, descendants=descendants, unreadable=unreadable, holders=control_holders(host.facts)
        )
        namespace = entry.name
        changes = describe_changes(current, decision.candidate, resolved)
        result: dict[str, t.Any] = {
            "namespace": namespace,
            "previous_sddl": sd_to_sddl(current),
            "sddl": sd_to_sddl(decision.predicted),
            "changes": changes,
            "os": host.os_facts,
        }
        warnings = []
        if unreadable and decision.changed:
            # Only a change that adds rights gets here (plan refuses the others unless allow_lockout is true).
            warnings.append(
                f"{plural(len(unreadable), 'descendant namespace')} of {namespace} could not be read "
                f"({', '.join(unreadable[:5])}); the lock-out check could not judge them."
            )
        expected = sd_to_sddl(decision.candidate)
        if not decision.changed:
            result["msg"] = f"{request.namespace} already has the requested security descriptor."
            return Decision("compliant", expected, result["previous_sddl"], result=result, warnings=warnings)
        verb = "would change" if host.check_mode or not host.enforce else "changed"
        result["msg"] = f"{request.namespace}: {verb} ({plural(len(changes), 'change')})."
        return Decision(
            "drift",
            expected,
            result["previous_sddl"],
            findings=[
                {"id": "explicit_sd_differs", "severity": self.severity, "namespace": namespace, "message": change}
                for change in changes
            ],
            writes=[
                {
                    "op": "sd_set",
                    "namespace": request.namespace,
                    "sd": encode_sd(decision.candidate),
                    "expected_sd": current_b64,
                }
            ],
            changes=changes,
            remediation=f"Apply the explicit descriptor to {namespace} (winsec.wmi.namespace_sd).",
            automatic=True,
            # What SetSD leaves, inherited entries included, as planned from the read (check mode shows the same).
            diff=descriptor_diff(namespace, current, decision.predicted, resolved),
            result=result,
            warnings=warnings,
            # verify() checks the write against the descriptor this decision planned.
            plan=decision.candidate,
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        written = written_value(results[0], f"writing the security descriptor of {self.request.namespace}")
        after = decode_descriptor(str(written["sd"]), self.request.namespace)
        result = {**decision.result, "sddl": sd_to_sddl(after)}
        if not same_explicit_state(after, decision.plan):
            # The planned result's own msg gives way to the failure's (WmiActionError takes msg by name).
            keys = {key: value for key, value in result.items() if key != "msg"}
            raise WmiActionError(
                f"{self.request.namespace}: the descriptor read back after SetSD differs from the one written",
                **{**keys, "changed": True, "expected_sddl": decision.expected},
            )
        # Everything else is the drift decision's: the diff stays the one planned from the read (what the host echoes
        # is checked above, not reported).
        return replace(decision, status="remediated", actual=result["sddl"], result=result)
