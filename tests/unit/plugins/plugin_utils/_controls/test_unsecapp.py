# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._unsecapp import (
    PRE_2000_CALLERS_WARNING_CHECK_MODE,
    PRE_2000_CALLERS_WARNING_WRITTEN,
    REGISTRY_PATH,
    normalise,
    plan,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile, parse_version


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
    decision = plan(value, state, value_type, check_mode=False)
    assert decision.needs_write is write
    assert decision.write_type == write_type
    if write:
        assert decision.after.value == decision.desired
        assert decision.write_operation()["expected"] == normalise(value).wire()


@pytest.mark.parametrize("data", ["1", " 1 ", "\t1\r\n", "01", "\x0b1\x0c"])
def test_ascii_digits_with_ascii_whitespace_are_a_number(data):
    assert normalise(read(True, "REG_SZ", data)).value == 1
    assert plan(read(True, "REG_SZ", data), "enabled", "auto", check_mode=True).needs_write is False


@pytest.mark.parametrize(
    "data",
    [
        "\u0661",  # ARABIC-INDIC DIGIT ONE: str.isdigit() is true, int() gives 1
        "\uff11",  # FULLWIDTH DIGIT ONE: likewise
        "\u00b2",  # SUPERSCRIPT TWO: str.isdigit() is true, int() raises
        "\u00b9",  # SUPERSCRIPT ONE: likewise
        "1\u00a0",  # a non-ASCII space after the digit
        "\u20021",  # EN SPACE before it
        "+1",
        "-1",
        "1.0",
        "0x1",
        "",
        "   ",
    ],
)
@pytest.mark.parametrize("reg_type", ["REG_SZ", "REG_EXPAND_SZ"])
def test_anything_but_ascii_digits_is_drift_with_the_value_shown(data, reg_type):
    state = normalise(read(True, reg_type, data))
    assert state.value is None
    decision = plan(read(True, reg_type, data), "enabled", "auto", check_mode=True)
    assert decision.needs_write is True
    assert decision.after.value == 1
    assert decision.warnings[0] == (
        f"{REGISTRY_PATH} holds '{data}' ({reg_type}), which is not a number (only ASCII digits 0-9 count); it is "
        "treated as non-compliant and would be replaced."
    )
    assert f"= '{data}' ({reg_type})" in state.describe()


def test_a_long_value_is_shown_bounded():
    decision = plan(read(True, "REG_SZ", "x" * 100_000), "enabled", "auto", check_mode=False)
    assert "(100000 characters in all)" in decision.warnings[0]
    assert len(decision.warnings[0]) < 500
    assert len(decision.before.describe()) < 400


@pytest.mark.parametrize(
    ("value", "state", "value_type"),
    [
        (read(True, "REG_SZ", "1"), "enabled", "dword"),  # only the type changes: no caller sees a difference
        (read(True, "REG_DWORD", 1), "enabled", "string"),
        (read(True, "REG_DWORD", 1), "enabled", "auto"),
        (read(True, "REG_DWORD", 1), "disabled", "auto"),
        (read(False), "disabled", "auto"),
        (read(True, "REG_DWORD", 0), "disabled", "dword"),
    ],
)
@pytest.mark.parametrize("check_mode", [True, False])
def test_no_pre_2000_warning_when_behaviour_does_not_change(value, state, value_type, check_mode):
    assert plan(value, state, value_type, check_mode=check_mode).warnings == []


@pytest.mark.parametrize(
    "value",
    [read(False), read(True, "REG_DWORD", 0), read(True, "REG_SZ", "0"), read(True, "REG_DWORD", 2)],
)
def test_pre_2000_warning_in_the_tense_of_what_happens(value):
    predicted = plan(value, "enabled", "auto", check_mode=True)
    assert predicted.warnings == [PRE_2000_CALLERS_WARNING_CHECK_MODE]
    assert "would fail" in predicted.warnings[0] and "now fail" not in predicted.warnings[0]
    written = plan(value, "enabled", "auto", check_mode=False)
    assert written.warnings == [PRE_2000_CALLERS_WARNING_WRITTEN]
    assert "now fail" in written.warnings[0] and "would" not in written.warnings[0]


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


@pytest.mark.parametrize("reg_type", ["REG_QWORD", "REG_BINARY", "REG_NONE"])
def test_a_1_in_an_undocumented_type_never_counts_as_enabled(reg_type):
    read = {"exists": True, "type": reg_type, "data": 1}
    assert normalise(read).value is None
    decision = plan(read, "enabled", "auto", check_mode=True)
    assert decision.needs_write and decision.after.type == "REG_DWORD"
