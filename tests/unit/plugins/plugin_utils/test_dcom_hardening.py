# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._dcom_hardening import DcomHardening
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiOperationError


def facts(version):
    return {"os_caption": "Windows", "os_version": version, "os_build": int(version.split(".")[2]), "product_type": 3}


def host(version="10.0.14393", check_mode=False, enforce=True):
    f = facts(version)
    return HostContext(f, os_profile(f), check_mode=check_mode, diff_mode=True, enforce=enforce)


def read(data=None, reg_type="REG_DWORD"):
    if data is None:
        return {"op": "registry_read", "failed": False, "key_exists": True, "exists": False, "type": None, "data": None}
    return {"op": "registry_read", "failed": False, "key_exists": True, "exists": True, "type": reg_type, "data": data}


def decide(require, raise_level=None, version="10.0.14393", **options):
    return DcomHardening.from_options(options).decide(host(version), [require, raise_level or read()])


@pytest.mark.parametrize("require", [read(), read(1)])
def test_absent_or_one_is_compliant(require):
    decision = decide(require, read(2))
    assert decision.status == "compliant" and decision.findings == [] and decision.writes == []
    assert decision.result["legacy_exception"] is False


def test_zero_on_a_release_the_kb_lists_is_drift_reported_only_by_default():
    decision = decide(read(0))
    assert decision.status == "drift"
    assert decision.writes == [] and decision.automatic is False
    (finding,) = decision.findings
    assert finding["id"] == "dcom_legacy_exception" and finding["severity"] == "medium"
    assert "Legacy exception present" in finding["message"] and "March 14, 2023" in finding["message"]
    assert decision.result["exception_may_take_effect"] is True


def test_zero_after_march_2023_releases_has_no_effect():
    decision = decide(read(0), version="10.0.26100")
    assert decision.status == "compliant"
    assert decision.findings[0]["severity"] == "low" and "ignored" in decision.findings[0]["message"]
    assert decision.result["exception_may_take_effect"] is False


def test_enforcement_removes_the_exception_only_when_asked():
    decision = decide(read(0), remove_legacy_exception=True)
    assert decision.writes == [
        {
            "op": "registry_write",
            "value": "dcom_require_integrity_activation_authentication_level",
            "data": "1",
            "value_type": "dword",
            "expected": {"exists": True, "type": "REG_DWORD", "data": "0"},
        }
    ]
    assert decision.automatic is True and "restart" in decision.warnings[0]
    after = {"exists": True, "type": "REG_DWORD", "data": 1}
    written = [{"op": "registry_write", "failed": False, "before": read(0), "after": after}]
    verified = DcomHardening(remove_legacy_exception=True).verify(host(), decision, written)
    assert verified.status == "remediated" and verified.result["require_integrity"]["value"] == 1


def test_failed_write_raises():
    decision = decide(read(0), remove_legacy_exception=True)
    failed = [{"op": "registry_write", "failed": True, "error": {"code": "CHANGED_SINCE_READ", "message": "x"}}]
    with pytest.raises(WmiOperationError):
        DcomHardening(remove_legacy_exception=True).verify(host(), decision, failed)


def test_before_server_2008_not_applicable():
    assert decide(read(0), version="5.2.3790").status == "not_applicable"


def test_undocumented_values_are_reported():
    decision = decide(read("0", "REG_SZ"), read(7))
    assert decision.status == "compliant"  # a REG_SZ "0" is not the documented REG_DWORD exception
    assert {f["id"] for f in decision.findings} == {"dcom_raise_level_unknown", "dcom_require_integrity_unknown"}
