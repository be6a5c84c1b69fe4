# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Namespace descriptor reads (winsec.wmi.namespace_sd_info): one round trip, readable reports and findings."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t

from .._control import Control, Decision, HostContext
from .._text import plural
from .._wmi_errors import WmiActionError
from ._namespace_findings import normalise_namespace, read_reports


def sd_reads(namespaces: t.Sequence[str], *, recurse: bool, resolve_names: bool) -> list[dict[str, t.Any]]:
    return [
        {"op": "sd_get", "namespace": name, "recurse": recurse, "resolve_names": resolve_names} for name in namespaces
    ]


def parse_namespaces(names: t.Sequence[str], option: str = "namespaces") -> list[str]:
    try:
        namespaces = [normalise_namespace(name) for name in names]
    except ValueError as exc:
        raise WmiActionError(f"{option}: {exc}") from None
    if not namespaces:
        raise WmiActionError(f"{option}: give at least one namespace, e.g. root (with recurse=true for all)")
    return namespaces


class NamespaceSdInfo(Control):
    """Read-only: the descriptors of the namespaces asked for, in words, with findings."""

    id = "WMI-INFO"
    title = "Namespace security descriptors"
    severity = "info"

    def __init__(self, params: t.Mapping[str, t.Any]) -> None:
        self.namespaces = parse_namespaces(params["namespaces"])
        self.recurse = bool(params["recurse"])
        self.resolve_names = bool(params["resolve_names"])
        self.findings_only = params.get("output") == "findings"

    def reads(self) -> list[dict[str, t.Any]]:
        return sd_reads(self.namespaces, recurse=self.recurse, resolve_names=self.resolve_names)

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        reports = read_reports(self.namespaces, results, resolve_names=self.resolve_names)
        findings = [finding for report in reports for finding in report["findings"]]
        result: dict[str, t.Any] = {
            "os": host.os_facts,
            "namespaces": [self._shown(report) for report in reports],
            "findings": findings,
            "finding_count": len(findings),
        }
        unreadable = [report for report in reports if "error" in report]
        if unreadable:
            listed = "; ".join(report["msg"] for report in unreadable[:3])
            more = f" (and {len(unreadable) - 3} more)" if len(unreadable) > 3 else ""
            result.update(
                failed=True,
                msg=f"Could not read {len(unreadable)} of {plural(len(reports), 'namespace')}: {listed}{more}",
                # The first named error at the top, as every winsec.wmi module reports a failure; all are per namespace.
                error=unreadable[0]["error"],
            )
            return Decision("error", findings=findings, reason=result["msg"], result=result)
        result["msg"] = f"Read {plural(len(reports), 'namespace')}: {plural(len(findings), 'finding')}."
        return Decision("drift" if findings else "compliant", findings=findings, result=result)

    def _shown(self, report: dict[str, t.Any]) -> dict[str, t.Any]:
        """The whole report (one ACE list, each ACE says whether it is inherited); with output=findings, only what
        is wrong."""
        if self.findings_only:
            return {key: report[key] for key in ("namespace", "findings", "error", "msg") if key in report}
        return report
