# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.namespace_sd_info: read namespace descriptors (one round trip) and report findings."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t

from ._namespace_findings import namespace_reports, normalise_namespace
from ._os_profile import host_facts, os_profile
from ._sd import SecurityDescriptorError
from ._wmi_errors import WmiActionError, WmiCaller


def run_namespace_sd_info(caller: WmiCaller, params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The whole module: one round trip per host, whatever the number of namespaces."""
    try:
        namespaces = [normalise_namespace(name) for name in params["namespaces"]]
    except ValueError as exc:
        raise WmiActionError(f"namespaces: {exc}") from None
    if not namespaces:
        raise WmiActionError("namespaces: give at least one namespace, e.g. root (with recurse=true for all)")
    operations: list[dict[str, t.Any]] = [{"op": "facts"}]
    operations += [
        {"op": "sd_get", "namespace": name, "recurse": params["recurse"], "resolve_names": params["resolve_names"]}
        for name in namespaces
    ]
    facts_result, *sd_results = caller.wmi_call(operations)
    facts = caller.op_value(facts_result, "reading the host's OS facts")
    profile = os_profile(facts)
    entries: list[t.Mapping[str, t.Any]] = []
    resolved: dict[str, str | None] | None = {} if params["resolve_names"] else None
    for name, sd_result in zip(namespaces, sd_results, strict=True):
        value = caller.op_value(sd_result, f"reading the security descriptors of {name}")
        entries.extend(value.get("namespaces") or [])
        if resolved is not None:
            resolved.update(value.get("principals") or {})
    try:
        reports = namespace_reports(entries, resolved)
    except SecurityDescriptorError as exc:
        raise WmiActionError(f"The host returned a security descriptor this collection cannot parse: {exc}") from None
    findings = [finding for report in reports for finding in report["findings"]]
    result: dict[str, t.Any] = {
        "changed": False,
        "os": {**host_facts(facts), "family": profile.family, "pre_2003": profile.pre_2003},
        "namespaces": reports,
        "findings": findings,
        "finding_count": len(findings),
    }
    unreadable = [report for report in reports if "error" in report]
    if unreadable:
        listed = "; ".join(report["msg"] for report in unreadable[:3])
        more = f" (and {len(unreadable) - 3} more)" if len(unreadable) > 3 else ""
        result.update(
            failed=True,
            msg=f"Could not read {len(unreadable)} of {len(reports)} namespaces: {listed}{more}",
            # The first named error at the top, as every winsec.wmi module reports a failure; all are per namespace.
            error=unreadable[0]["error"],
        )
    else:
        result["msg"] = f"Read {len(reports)} namespaces: {len(findings)} findings."
    return result
