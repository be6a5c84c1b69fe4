# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base: argument specs come from the modules' own DOCUMENTATION, and the docs render."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.winsec.wmi.plugins.modules import baseline, namespace_sd, namespace_sd_info, unsecapp_lockdown
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc, argspec_from_options

ROOT = pathlib.Path(__file__).resolve().parents[4]
ACTION_MODULES = {
    "unsecapp_lockdown": unsecapp_lockdown,
    "namespace_sd": namespace_sd,
    "namespace_sd_info": namespace_sd_info,
    "baseline": baseline,
}


def test_argspec_from_doc_maps_suboptions():
    spec = argspec_from_doc(namespace_sd.DOCUMENTATION)
    assert spec["namespace"] == {"type": "str", "required": True}
    assert spec["aces"]["options"]["type"] == {"type": "str", "choices": ["allow", "deny"], "default": "allow"}
    assert spec["aces"]["elements"] == "dict"
    assert spec["allow_lockout"] == {"type": "bool", "default": False}


@pytest.mark.parametrize("name", sorted(ACTION_MODULES))
def test_spec_is_the_same_whichever_yaml_loader_reads_the_documentation(name):
    # argspec_from_doc prefers libyaml's loader (each task parses the DOCUMENTATION again in a new worker); the
    # spec must be exactly what the pure-Python safe loader reads.
    documentation = ACTION_MODULES[name].DOCUMENTATION
    assert yaml.__with_libyaml__, "PyYAML without libyaml: the fast path is not tested here"
    pure = yaml.load(documentation, Loader=yaml.SafeLoader)
    assert argspec_from_doc(documentation) == argspec_from_options(pure["options"])


@pytest.mark.parametrize("name", sorted(ACTION_MODULES))
def test_every_action_module_spec_validates_its_defaults(name):
    spec = argspec_from_doc(ACTION_MODULES[name].DOCUMENTATION)
    required = {key: "root" for key, option in spec.items() if option.get("required")}
    outcome = ArgumentSpecValidator(spec).validate(required)
    assert not outcome.error_messages


@pytest.mark.parametrize("name", sorted(ACTION_MODULES))
def test_docs_examples_and_return_are_yaml(name):
    module = ACTION_MODULES[name]
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name
    assert doc["attributes"]["check_mode"]["support"] == "full"
    tasks = yaml.safe_load(module.EXAMPLES)
    assert all(
        any(key.startswith("winsec.wmi.") or key.startswith("ansible.builtin.") for key in task) for task in tasks
    )
    assert yaml.safe_load(module.RETURN)


@pytest.fixture(scope="module")
def collections_path(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("collections")
    (path / "ansible_collections" / "winsec").mkdir(parents=True)
    (path / "ansible_collections" / "winsec" / "wmi").symlink_to(ROOT)
    return path


DOCUMENTED_MODULES = [*sorted(ACTION_MODULES), "wmi_state"]


@pytest.fixture(scope="module")
def ansible_doc_output(collections_path: pathlib.Path) -> tuple[dict[str, str], str, dict[str, object]]:
    """``ansible-doc`` once over every module (text, then --json): each module's text section by name, the run's
    stderr, and the JSON by full name. One run per format instead of one per module: ansible-doc starts in ~0.5 s."""
    ansible_doc = pathlib.Path(sys.executable).parent / "ansible-doc"
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(collections_path), "ANSIBLE_NOCOLOR": "1"}
    names = [f"winsec.wmi.{name}" for name in DOCUMENTED_MODULES]
    rendered = subprocess.run(
        [str(ansible_doc), *names], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert rendered.returncode == 0, rendered.stderr
    # Each plugin's text starts with "> MODULE <full name> (<path>)" (ansible-core 2.18 to 2.21).
    parts = re.split(r"^> MODULE (winsec\.wmi\.\w+) ", rendered.stdout, flags=re.MULTILINE)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    as_json = subprocess.run(
        [str(ansible_doc), "--json", *names], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return sections, rendered.stderr, json.loads(as_json.stdout)


@pytest.mark.parametrize("name", DOCUMENTED_MODULES)
def test_ansible_doc_renders(name, ansible_doc_output):
    sections, stderr, as_json = ansible_doc_output
    section = sections.get(f"winsec.wmi.{name}", "")
    assert "EXAMPLES" in section and "RETURN VALUES" in section
    assert "ERROR" not in stderr and "WARNING" not in stderr, stderr
    assert f"winsec.wmi.{name}" in as_json


def _action(args, replies):
    from ansible_collections.winsec.wmi.plugins.action import unsecapp_lockdown as action_module
    from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action

    action = make_action(action_module, args, action_name="winsec.wmi.unsecapp_lockdown")
    action._execute_module = Target(replies)
    return action


def test_a_huge_bad_argument_is_not_echoed_whole():
    result = _action({"state": "x" * 100_000}, []).run(task_vars={})
    assert result["failed"] is True and "state" in result["msg"]
    assert len(result["msg"]) < 1_000 and "characters in all" in result["msg"]


def test_tagged_arguments_are_validated_as_plain_data():
    pytest.importorskip("ansible._internal._datatag._tags")  # ansible-core 2.19+ tags task data
    from ansible._internal._datatag._tags import Origin

    origin = Origin(path="/playbook.yml")
    result = _action({"state": origin.tag({"bad": origin.tag("dict")})}, []).run(task_vars={})
    assert result["failed"] is True
    assert "Tagged" not in result["msg"] and "Tagged" not in repr(result["invocation"])


def test_a_connection_lost_after_writes_says_the_writes_may_have_happened():
    from ansible.errors import AnsibleConnectionFailure

    def lost(operations):
        raise AnsibleConnectionFailure("Connection reset by peer")

    action = _action({"state": "enabled"}, [])
    action._execute_module = lambda **kwargs: lost(kwargs)
    with pytest.raises(AnsibleConnectionFailure):  # nothing was written: the host is simply unreachable
        action.run(task_vars={})
    action.round_trips = 0
    action._wmi_task_vars, action._target_warnings = {}, []
    with pytest.raises(Exception, match="may or may not have applied"):
        action.wmi_call([{"op": "registry_write", "value": "unsecapp_access_control_default"}])
