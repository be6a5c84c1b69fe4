# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.baseline inside the wmi_hardening role: the role's variables are its options (the role's task passes
no arguments), the role's argument spec and every module's DOCUMENTATION are parsed once per process, not per
host."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path
from unittest.mock import MagicMock

import pytest
import yaml
from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils import _argspec, _wmi_action
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline import _role
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._role import ROLE_ARGUMENTS, RoleSpec
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_baseline import DRIFTING_HOST

ROLE = Path(baseline.__file__).resolve().parents[2] / "roles" / "wmi_hardening"
ROLE_DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
# Role variables that are not the baseline's options: the report's, read by report.yml.
REPORT_VARIABLES = {name for name in ROLE_DEFAULTS if name.startswith("wmi_hardening_report_")}


def in_role(args: dict[str, t.Any], *, path: Path = ROLE) -> t.Any:
    action = make_action(baseline, args, action_name="winsec.wmi.baseline")
    role = MagicMock()
    role.get_role_path.return_value = str(path)
    action._task._role = role
    return action


def role_run(variables: dict[str, t.Any], args: dict[str, t.Any] | None = None, **kwargs: t.Any) -> tuple[dict, t.Any]:
    action = in_role(args or {}, **kwargs)
    target = Target([DRIFTING_HOST])
    action._execute_module = target
    return action.run(task_vars={**ROLE_DEFAULTS, "inventory_hostname": "web01", **variables}), target


def test_every_role_variable_but_the_reports_is_a_baseline_option():
    # A variable added to the role but not here would be validated by the role and then silently ignored.
    spec = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = set(spec["argument_specs"]["main"]["options"])
    mapped = {variable for _path, variable in ROLE_ARGUMENTS}
    assert options - REPORT_VARIABLES == mapped - {"winsec_wmi_os"}
    baseline_options = _argspec.argspec_from_doc(baseline.ActionModule.DOCUMENTATION)
    nested = in_role({}).nested_options()
    for path, _variable in ROLE_ARGUMENTS:
        options_here = baseline_options
        for name in path[:-1]:
            # event_subscriptions takes winsec.wmi.event_subscription_info's options (its OptionSpec).
            options_here = nested[name].options if nested.get(name) else options_here[name]["options"]
        assert path[-1] in options_here, path


def test_the_role_variables_are_the_options():
    result, target = role_run(
        {"wmi_hardening_mode": "audit", "wmi_hardening_namespaces": ["root", "root\\cimv2"], "ansible_run_tags": []}
    )
    assert not result.get("failed"), result
    assert result["invocation"]["module_args"]["namespaces"] == ["root", "root\\cimv2"]
    assert result["invocation"]["module_args"]["fail_on_error"] is True  # wmi_hardening_fail_on_unjudged
    # Empty wmi_hardening_controls means every control, as "{{ wmi_hardening_controls or omit }}" did.
    assert result["invocation"]["module_args"]["controls"] is None
    assert len(target.calls) == 1


def test_a_wrong_role_variable_is_refused_before_any_host_is_contacted():
    result, target = role_run({"wmi_hardening_namespace_sds": [{"namespace": "root", "mode": "sideways"}]})
    assert result["failed"] is True and target.calls == []
    assert "namespace_sds[0].mode" in result["msg"] and "sideways" in result["msg"]


def test_role_arguments_keep_the_tasks_own_and_leave_out_what_is_undefined():
    templated: list[t.Any] = []

    def template(value: t.Any) -> t.Any:
        templated.append(value)
        return "enforce" if value == "{{ chosen }}" else value

    variables = {
        "wmi_hardening_mode": "{{ chosen }}",
        "wmi_hardening_script_paths": ["C:\\Scripts"],
        "wmi_hardening_script_patterns": [],
        "wmi_hardening_namespace_audit": True,
        "wmi_hardening_namespace_audit_set_sacl": True,
    }
    arguments = _role.role_arguments({"namespace_audit": {"set_sacl": False}}, variables, template)
    assert arguments == {
        "mode": "enforce",
        # Empty patterns are the module's default patterns (omitted); the task's set_sacl wins over the variable.
        "scripts": {"paths": ["C:\\Scripts"]},
        "namespace_audit": {"set_sacl": False, "enabled": True},
    }
    # winsec_wmi_os is not defined: inventory_os is left out, as default(omit) did; only given values templated.
    assert "inventory_os" not in arguments and "{{ chosen }}" in templated


def test_outside_the_role_the_variables_are_not_read(tmp_path: Path):
    action = make_action(baseline, {"mode": "audit"}, action_name="winsec.wmi.baseline")
    assert action.arguments({"wmi_hardening_namespaces": ["root\\cimv2"]}) == {"mode": "audit"}
    # A user's own role whose name ends like ours (or a copy of ours) is not the role either.
    for other in (tmp_path / "roles" / "my_wmi_hardening", tmp_path / "roles" / "wmi_hardening"):
        other.mkdir(parents=True)
        action = in_role({"mode": "audit"}, path=other)
        assert action.arguments({"wmi_hardening_namespaces": ["root\\cimv2"]}) == {"mode": "audit"}


def test_no_yaml_is_parsed_per_host(monkeypatch: pytest.MonkeyPatch):
    # The role's argument spec and the DOCUMENTATION of baseline, namespace_sd and event_subscription_info were
    # parsed on every host (~20 ms each, in a freshly forked worker); now once, when the action is imported.
    def refuse(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        raise AssertionError("YAML parsed while running a host")

    monkeypatch.setattr(yaml, "safe_load", refuse)
    monkeypatch.setattr(yaml, "load", refuse)
    result, _target = role_run({"wmi_hardening_mod": "enforce"})
    assert not result.get("failed"), result


@pytest.fixture
def yaml_loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per yaml.load call from here on (the calls still parse)."""
    loads: list[int] = []
    real_load = yaml.load

    def counted_load(*args: t.Any, **kwargs: t.Any) -> t.Any:
        loads.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(yaml, "load", counted_load)
    return loads


def test_the_role_spec_is_read_again_only_when_it_changes(tmp_path: Path, yaml_loads: list[int]):
    path = tmp_path / "argument_specs.yml"
    path.write_text("argument_specs: {main: {options: {wmi_hardening_mode: {type: str}}}}\n", encoding="utf-8")
    spec = RoleSpec(path)  # read here, once
    loads = yaml_loads
    loads.clear()
    assert spec.option_names() == {"wmi_hardening_mode"} and loads == []
    path.write_text("argument_specs: {main: {options: {wmi_hardening_modes: {type: str}}}}\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))
    assert spec.option_names() == {"wmi_hardening_modes"} and loads == [1]
    path.unlink()
    assert spec.option_names() == frozenset()


def test_a_documentation_is_parsed_once_per_process(yaml_loads: list[int]):
    calls = yaml_loads
    documentation = "options:\n  name: {type: str, required: true}\n"

    class Action(_wmi_action.WmiAction):
        DOCUMENTATION = documentation

        def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
            return {}

    assert calls == [1]  # parsed when the class was defined (ansible-playbook's main process, before forking)
    first = _argspec.argspec_from_doc(documentation)
    first["name"]["required"] = False  # a caller changing its copy changes no other caller's
    assert _argspec.argspec_from_doc(documentation)["name"]["required"] is True and calls == [1]


def test_an_unknown_variable_name_is_shown_through_the_console_sanitizer(monkeypatch: pytest.MonkeyPatch):
    shown: list[str] = []
    monkeypatch.setattr(baseline.display, "warning", shown.append)
    role_run({"wmi_hardening_mode\x1b[2J\u202e": "audit"})
    (warning,) = [text for text in shown if "is not a variable" in text]
    assert "\x1b" not in warning and "\u202e" not in warning and "\\x1b" in warning
