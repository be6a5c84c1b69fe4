# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the baseline prints on the console: warnings that name their host, the verdict of a host a person must act
on as one line, what check mode would change, no enforce-only advice in an audit, refused unknown control IDs."""

from __future__ import annotations

import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._role import (
    controls_from_tags,
    unknown_role_variables,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_baseline import (
    COMPLIANT_HOST,
    DRIFTING_HOST,
)

# A WMI-002 entry that writes root\cimv2, where WMI-004 also removes Everyone's rights: one writer per target.
SHARED_TARGET = {
    "controls": ["WMI-002", "WMI-004"],
    "namespace_sds": [
        {
            "namespace": "root\\cimv2",
            "mode": "present",
            "aces": [{"principal": "NT AUTHORITY\\SYSTEM", "rights": ["FullControl"]}],
        }
    ],
}


def run_on(host: str, args: dict[str, t.Any], replies: list[t.Any], *, check_mode: bool = False) -> dict[str, t.Any]:
    action = make_action(baseline, args, check_mode=check_mode, action_name="winsec.wmi.baseline")
    action._execute_module = Target(replies)
    return action.run(task_vars={"inventory_hostname": host})


def test_each_drifting_host_has_its_own_verdict_warning():
    # Ansible prints identical warnings once: without the host's name, 11 drifting hosts gave 3 lines.
    first = run_on("web01", {"mode": "audit"}, [DRIFTING_HOST])
    second = run_on("web02", {"mode": "audit"}, [DRIFTING_HOST])
    assert first["warnings"][0] == f"web01: {first['msg']}"
    assert second["warnings"][0] == f"web02: {second['msg']}"
    assert first["msg"].startswith("drift (WMI-001 drift, WMI-004 drift)")
    assert all(warning.startswith("web01: ") for warning in first["warnings"])


def test_a_compliant_host_prints_no_warning():
    assert "warnings" not in run_on("dc01", {"mode": "audit"}, [COMPLIANT_HOST])


def test_check_mode_verdict_says_what_a_real_run_would_change():
    result = run_on("web01", {"mode": "enforce"}, [DRIFTING_HOST], check_mode=True)
    assert result["msg"].endswith("; a real run would change WMI-001, WMI-004"), result["msg"]
    assert result["warnings"][0] == f"web01: {result['msg']}"


def test_an_audit_never_says_run_again():
    audit = run_on("web01", {"mode": "audit", **SHARED_TARGET}, [DRIFTING_HOST])
    assert not any("not fixed in this run" in warning for warning in audit.get("warnings", [])), audit["warnings"]
    # ... while enforce, which writes, still says which control waits for the next run.
    enforce = run_on("web01", {"mode": "enforce", **SHARED_TARGET}, [DRIFTING_HOST], check_mode=True)
    assert any("WMI-004 is not fixed in this run" in warning for warning in enforce["warnings"]), enforce["warnings"]


@pytest.mark.parametrize("option", ["skip_controls", "controls"])
def test_an_unknown_control_id_is_refused_with_the_known_ones(option):
    target = Target([DRIFTING_HOST])
    action = make_action(baseline, {"mode": "audit", option: ["WMI-4"]}, action_name="winsec.wmi.baseline")
    action._execute_module = target
    result = action.run(task_vars={"inventory_hostname": "web01"})
    assert result["failed"] is True and target.calls == []
    assert f"{option}: unknown control ID(s) WMI-4; known: WMI-001, WMI-002" in result["msg"]


def test_misspelt_role_variables_are_named_with_the_nearest_known_one():
    known = ["wmi_hardening_mode", "wmi_hardening_report_dir", "wmi_hardening_exceptions"]
    defined = ["wmi_hardening_mod", "wmi_hardening_report_directory", "wmi_hardening_mode", "wmi_hardening_result"]
    assert unknown_role_variables([*defined, "inventory_hostname", "__wmi_hardening_selected"], known) == [
        "wmi_hardening_mod is not a variable of the winsec.wmi.wmi_hardening role and is ignored (did you mean "
        "wmi_hardening_mode?).",
        "wmi_hardening_report_directory is not a variable of the winsec.wmi.wmi_hardening role and is ignored (did "
        "you mean wmi_hardening_report_dir?).",
    ]


def test_tags_named_after_controls_add_to_the_roles_selection():
    params = {"controls": ["WMI-001"], "skip_controls": ["WMI-003"], "mode": "audit"}
    chosen = controls_from_tags(params, ["all", "wmi-004", "deploy"], ["WMI-005", "slow"])
    assert chosen["controls"] == ["WMI-001", "WMI-004"] and chosen["skip_controls"] == ["WMI-003", "WMI-005"]
    # No control tag: the selection is left as it is (no controls means every control).
    assert controls_from_tags({"controls": None, "skip_controls": []}, ["all"], []) == {
        "controls": None,
        "skip_controls": [],
    }


@pytest.mark.parametrize(
    ("control", "option"),
    [("WMI-010", "scripts.paths (wmi_hardening_script_paths)"), ("WMI-022", "namespace_audit.enabled")],
)
def test_a_known_control_that_is_not_enabled_says_which_option_turns_it_on(control, option):
    target = Target([DRIFTING_HOST])
    action = make_action(baseline, {"mode": "audit", "controls": [control]}, action_name="winsec.wmi.baseline")
    action._execute_module = target
    result = action.run(task_vars={"inventory_hostname": "web01"})
    assert result["failed"] is True and target.calls == []
    assert f"controls: {control} selected but not enabled; {control} needs {option}" in result["msg"]
    assert "unknown" not in result["msg"]
