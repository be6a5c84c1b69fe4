# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._dcom_hardening import DcomHardening
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiOperationError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts


def host(version="10.0.14393", check_mode=False, enforce=True):
    f = facts(os_caption="Windows", os_version=version, os_build=int(version.split(".")[2]))
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


def test_odd_non_zero_values_are_reported_not_drift():
    decision = decide(read("2", "REG_SZ"), read(7))
    assert decision.status == "compliant"
    assert {f["id"] for f in decision.findings} == {"dcom_raise_level_unknown", "dcom_require_integrity_unknown"}


# A 0 in every type the registry has, as wmi_state reports it (binary and REG_NONE base64, multi-string a list).
ZERO_IN_ANY_TYPE = [
    (0, "REG_QWORD"),
    ("0", "REG_SZ"),
    (" 00 ", "REG_SZ"),
    ("0", "REG_EXPAND_SZ"),
    (["0"], "REG_MULTI_SZ"),
    ("AAAAAA==", "REG_BINARY"),  # four zero bytes
    ("AAAAAAAAAAA=", "REG_BINARY"),  # eight
    ("AA==", "REG_NONE"),
    ("", "REG_BINARY"),  # no data at all
]
NOT_ZERO = [
    (1, "REG_QWORD"),
    ("1", "REG_SZ"),
    ("zero", "REG_SZ"),
    ("\u0660", "REG_SZ"),  # ARABIC-INDIC DIGIT ZERO: not the ASCII text of 0
    (["1", "0"], "REG_MULTI_SZ"),
    ([], "REG_MULTI_SZ"),
    ("AQAAAA==", "REG_BINARY"),  # 1 as four little-endian bytes
    ("AAAAAQ==", "REG_BINARY"),
    ("not base64!", "REG_BINARY"),
]


@pytest.mark.parametrize(("data", "reg_type"), ZERO_IN_ANY_TYPE)
def test_zero_in_an_undocumented_type_is_drift_and_enforce_writes_a_dword_one(data, reg_type):
    decision = decide(read(data, reg_type), read(2), remove_legacy_exception=True)
    assert decision.status == "drift" and decision.result["legacy_exception"] is True
    [finding] = decision.findings
    assert finding["id"] == "dcom_legacy_exception" and finding["severity"] == "medium"
    assert reg_type in finding["message"] and "REG_DWORD only" in finding["message"]
    wire = " ".join(data) if isinstance(data, list) else str(data)
    assert decision.writes == [
        {
            "op": "registry_write",
            "value": "dcom_require_integrity_activation_authentication_level",
            "data": "1",
            "value_type": "dword",
            "expected": {"exists": True, "type": reg_type, "data": wire},
        }
    ]
    [change] = decision.changes
    assert change.endswith(f"({reg_type}) -> 1 (REG_DWORD)")


@pytest.mark.parametrize(("data", "reg_type"), ZERO_IN_ANY_TYPE)
def test_zero_in_an_undocumented_type_is_reported_only_by_default(data, reg_type):
    decision = decide(read(data, reg_type))
    assert decision.status == "drift" and decision.writes == [] and decision.automatic is False


@pytest.mark.parametrize(("data", "reg_type"), NOT_ZERO)
def test_a_value_that_does_not_read_as_zero_stays_compliant_with_an_info_finding(data, reg_type):
    decision = decide(read(data, reg_type), read(2), remove_legacy_exception=True)
    assert decision.status == "compliant" and decision.writes == []
    assert [f["id"] for f in decision.findings] == ["dcom_require_integrity_unknown"]
