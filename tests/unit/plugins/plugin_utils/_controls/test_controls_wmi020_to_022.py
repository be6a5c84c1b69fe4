# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI-020, WMI-021 and WMI-022 built from the baseline's small option mappings and run by the one runner: all their
reads in one wmi_state call, writes (only the DCOM exception, only when asked) in at most one more."""

from __future__ import annotations

import base64
import typing as t

from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_controls
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._dcom_hardening import DcomHardening
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._namespace_audit import NamespaceAudit
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl, sd_to_bytes
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import EventSubscriptions
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import FakeWmiCaller, facts, per_operation

FACTS = facts(os_caption="Windows Server 2016", os_version="10.0.14393", os_build=14393)
SD = base64.b64encode(sd_to_bytes(sd_from_sddl("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)"))).decode()


def jump01(operation: dict[str, t.Any]) -> dict[str, t.Any]:
    """Answers each operation as the simulator's demo host jump01 would (legacy DCOM exception, no SACL)."""
    reply: dict[str, t.Any] = {"op": operation["op"], "failed": False}
    if operation["op"] == "facts":
        return FACTS
    if operation["op"] == "registry_read":
        if operation["value"] == "dcom_require_integrity_activation_authentication_level":
            return {**reply, "key_exists": True, "exists": True, "type": "REG_DWORD", "data": 0}
        return {**reply, "key_exists": True, "exists": False, "type": None, "data": None}
    if operation["op"] == "event_subscriptions":
        return {**reply, "filters": [], "consumers": [], "bindings": []}
    if operation["op"] == "sd_get":
        entry = {"namespace": "root", "sd": SD, "error": None, "sacl_returned": True}
        return {**reply, "namespaces": [entry], "sacl_read": True}
    if operation["op"] == "registry_write":
        after = {"exists": True, "type": "REG_DWORD", "data": 1}
        return {**reply, "before": {"exists": True, "type": "REG_DWORD", "data": 0}, "after": after}
    raise AssertionError(operation)


def fake_host(*, check_mode: bool) -> FakeWmiCaller:
    return FakeWmiCaller(per_operation(jump01), check_mode=check_mode)


def controls(remove_legacy_exception: bool) -> list[t.Any]:
    return [
        EventSubscriptions.from_options({"allowed": [], "recurse": False}),
        DcomHardening.from_options({"remove_legacy_exception": remove_legacy_exception}),
        NamespaceAudit.from_options({}),
    ]


def test_audit_is_one_call():
    host = fake_host(check_mode=True)
    _context, runs = run_controls(host, controls(True), enforce=False)
    assert len(host.calls) == 1
    assert [run.decision.status for run in runs] == ["compliant", "drift", "drift"]
    assert [run.control.id for run in runs] == ["WMI-020", "WMI-021", "WMI-022"]


def test_enforce_writes_only_the_requested_dcom_fix():
    host = fake_host(check_mode=False)
    _context, runs = run_controls(host, controls(True), enforce=True)
    assert len(host.calls) == 2 and [op["op"] for op in host.calls[1]] == ["registry_write"]
    assert runs[1].decision.status == "remediated"
    untouched = fake_host(check_mode=False)
    run_controls(untouched, controls(False), enforce=True)
    assert len(untouched.calls) == 1  # report only by default: nothing written
