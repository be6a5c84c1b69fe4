# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A 24-host demo fleet as winsec.wmi.baseline really returns it (the action run with replayed wmi_state replies),
for the browser check and the documentation's screenshots of the HTML report."""

from __future__ import annotations

import copy
import typing as t

from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import build_report, normalise_host
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_baseline import COMPLIANT_HOST, DRIFTING_HOST

RUN_AT = "2026-11-30T10:00:00.000000Z"
PREVIOUS_AT = "2026-11-23T10:00:00.000000Z"


def _audit(replies: list[t.Any], **args: t.Any) -> dict[str, t.Any]:
    action = make_action(baseline, {"mode": "audit", "evidence": True, **args}, check_mode=True)
    action._execute_module = Target(replies)
    return action.run(task_vars={})


def _with_exception(result: dict[str, t.Any], *, expired: bool) -> dict[str, t.Any]:
    """The drifting host's WMI-004 finding covered by an exception (or one that expired), as the baseline marks it."""
    result = copy.deepcopy(result)
    for record in result["controls"]:
        if record["id"] == "WMI-004":
            reason = "backup agent needs write access, change CHG-1187"
            for finding in record["findings"]:
                finding["excepted"] = not expired
                finding["reason"] = f"exception expired on 2026-10-31: {reason}" if expired else reason
            if not expired:
                record["status"] = "excepted"
                record["reason"] = reason
        elif record["status"] == "drift" and not expired:
            record.update(status="compliant", findings=[], changes=[])
    statuses = {record["status"] for record in result["controls"]}
    result["status"] = "drift" if "drift" in statuses else "excepted"
    return result


def demo_records(previous: bool = False) -> dict[str, t.Any]:
    compliant, drifting = _audit([COMPLIANT_HOST]), _audit([DRIFTING_HOST])
    error = copy.deepcopy(compliant)
    wmi003 = next(record for record in error["controls"] if record["id"] == "WMI-003")
    wmi003.update(status="error", reason="WBEM_E_ACCESS_DENIED (0x80041003) reading root\\security: access denied")
    error["status"] = "error"
    records: dict[str, t.Any] = {}
    for name in ("web01", "web02", "web03", "web04", "web05", "web06", "web08", "app01", "app02", "app03"):
        records[name] = compliant
    for name in ("print01", "sql03"):
        records[name] = compliant
    for name in ("app04", "sql01", "fs01", "web07"):
        records[name] = drifting
    records["fs02"] = compliant
    records["sql02"] = _with_exception(drifting, expired=True)
    records["backup01"] = _with_exception(drifting, expired=False)
    records["legacy-nt4"] = _audit([], inventory_os="Windows NT 4.0")
    records["legacy-w2k"] = _audit([], inventory_os="Windows 2000")
    records["dc02"] = error
    records["dc03"] = {"unreachable": True, "changed": False, "msg": "ntlm: HTTPConnectionPool(port=5985): timed out"}
    records["hv01"] = {"failed": True, "changed": False, "msg": "winrm: the specified credentials were rejected"}
    if previous:
        # A week earlier app04 was still compliant (new drift now) and fs02 drifted (fixed since).
        records["app04"], records["fs02"] = compliant, drifting
    return {name: copy.deepcopy(record) for name, record in records.items()}


def demo_report(previous: bool = False) -> dict[str, t.Any]:
    run_at = PREVIOUS_AT if previous else RUN_AT
    hosts = [
        normalise_host(host, record, run_at=run_at, check_mode=True) for host, record in demo_records(previous).items()
    ]
    return build_report(hosts, title="WMI compliance report - demo fleet", generated_at=run_at)
