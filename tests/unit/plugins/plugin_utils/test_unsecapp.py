# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile, parse_version
from ansible_collections.winsec.wmi.plugins.plugin_utils._unsecapp import normalise, plan


def read(exists, reg_type=None, data=None):
    return {"exists": exists, "type": reg_type, "data": data}


@pytest.mark.parametrize(
    ("value", "state", "value_type", "write", "write_type"),
    [
        (read(False), "enabled", "auto", True, "dword"),
        (read(False), "disabled", "auto", False, "dword"),
        (read(False), "disabled", "string", False, "string"),
        (read(True, "REG_DWORD", 1), "enabled", "auto", False, "dword"),
        (read(True, "REG_DWORD", 0), "enabled", "auto", True, "dword"),
        (read(True, "REG_SZ", "1"), "enabled", "auto", False, "string"),
        (read(True, "REG_SZ", " 1 "), "enabled", "auto", False, "string"),
        (read(True, "REG_SZ", "0"), "enabled", "auto", True, "string"),
        (read(True, "REG_SZ", "1"), "enabled", "dword", True, "dword"),
        (read(True, "REG_DWORD", 1), "enabled", "string", True, "string"),
        (read(True, "REG_DWORD", 1), "disabled", "auto", True, "dword"),
        (read(True, "REG_SZ", "on"), "enabled", "auto", True, "string"),
        (read(True, "REG_BINARY", "AQ=="), "disabled", "auto", True, "dword"),
    ],
)
def test_plan_table(value, state, value_type, write, write_type):
    decision = plan(value, state, value_type)
    assert decision.needs_write is write
    assert decision.write_type == write_type
    if write:
        assert decision.after.value == decision.desired
        assert decision.write_operation()["expected"] == normalise(value).wire()


def test_expected_state_is_sent_in_the_contract_string_form():
    assert normalise(read(True, "REG_DWORD", 0)).wire() == {"exists": True, "type": "REG_DWORD", "data": "0"}
    assert normalise(read(False)).wire() == {"exists": False}


@pytest.mark.parametrize(
    ("version", "pre_2003", "family"),
    [
        ("4.0.1381", True, "Windows NT 4.0"),
        ("5.0.2195", True, "Windows 2000"),
        ("5.1.2600", True, "Windows XP"),
        ("5.2.3790", False, "Windows Server 2003 or later"),
        ("10.0.20348", False, "Windows Server 2003 or later"),
    ],
)
def test_os_applicability(version, pre_2003, family):
    profile = os_profile({"os_version": version, "product_type": 3})
    assert profile.pre_2003 is pre_2003
    assert profile.family == family


def test_bad_version_raises():
    with pytest.raises(ValueError):
        parse_version("")
