# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.namespace_sd: read the namespace's descriptor, plan, write only when needed."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import replace

from ._namespace_findings import decode_sd
from ._namespace_policy import same_explicit_state
from ._namespace_sd_plan import _check_aces, acl_table, describe_changes, encode_sd, parse_request, plan, resolve
from ._os_profile import host_facts, os_profile
from ._sd import SecurityDescriptorError, sd_to_sddl
from ._wmi_errors import WmiActionError, WmiCaller


def run_namespace_sd(caller: WmiCaller, params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The whole module: refuse from the input alone, read (1 round trip), write + read back (1 more) if needed."""
    request = parse_request(params)
    operations: list[dict[str, t.Any]] = [
        {"op": "facts"},
        {"op": "sd_get", "namespace": request.namespace, "resolve_names": True},
    ]
    if request.lookups:
        operations.append({"op": "sid_lookup", "names": request.lookups})
    facts_result, sd_result, *lookup_result = caller.wmi_call(operations)
    facts = caller.op_value(facts_result, "reading the host's OS facts")
    profile = os_profile(facts)
    read = caller.op_value(sd_result, f"reading the security descriptor of {request.namespace}")
    entry = (read.get("namespaces") or [{}])[0]
    if entry.get("error") or not entry.get("sd"):
        caller.op_value(
            {"failed": True, "error": entry.get("error")}, f"reading the security descriptor of {request.namespace}"
        )
    resolved: dict[str, str | None] = dict(read.get("principals") or {})
    if lookup_result:
        accounts = caller.op_value(lookup_result[0], "translating principal names").get("accounts") or []
        request = resolve(request, accounts)
        resolved.update({str(a["sid"]): str(a["name"]) for a in accounts if a.get("sid")})
        _check_aces(request, contacted=True)
    current_b64 = str(entry["sd"])
    try:
        current = decode_sd(current_b64)
    except SecurityDescriptorError as exc:
        raise WmiActionError(f"The host returned a security descriptor this collection cannot parse: {exc}") from None
    decision = plan(request, current)
    result: dict[str, t.Any] = {
        "changed": decision.changed,
        "namespace": str(entry.get("namespace") or request.namespace),
        "previous_sddl": sd_to_sddl(current),
        "sddl": sd_to_sddl(decision.predicted),
        "changes": describe_changes(current, decision.candidate, resolved),
        "os": {**host_facts(facts), "family": profile.family, "pre_2003": profile.pre_2003},
    }
    if decision.changed and not caller.check_mode:
        operation = {
            "op": "sd_set",
            "namespace": request.namespace,
            "sd": encode_sd(decision.candidate),
            "expected_sd": current_b64,
        }
        (write_result,) = caller.wmi_call([operation])
        written = caller.op_value(write_result, f"writing the security descriptor of {request.namespace}")
        after = decode_sd(str(written["sd"]))
        result["sddl"] = sd_to_sddl(after)
        if not same_explicit_state(after, decision.candidate):
            raise WmiActionError(
                f"{request.namespace}: the descriptor read back after SetSD differs from the one written",
                **{**result, "changed": True, "expected_sddl": sd_to_sddl(decision.candidate)},
            )
        decision = replace(decision, predicted=after)
    if caller.diff_mode and decision.changed:
        result["diff"] = {
            "before_header": f"{result['namespace']} (before)",
            "after_header": f"{result['namespace']} (after)",
            "before": acl_table(current, resolved),
            "after": acl_table(decision.predicted, resolved),
        }
    verb = "would change" if caller.check_mode else "changed"
    result["msg"] = (
        f"{request.namespace}: {verb} ({len(result['changes'])} changes)."
        if decision.changed
        else (f"{request.namespace} already has the requested security descriptor.")
    )
    return result
