# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX configuration as code (awx/): surveys that AWX accepts and can launch with their defaults, job templates
that point at playbooks and surveys that exist, and an execution environment ansible-builder 3 can build."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
SURVEYS = sorted((AWX / "surveys").glob("*.json"))
ROLE_SPECS = ROOT / "roles" / "wmi_hardening" / "meta" / "argument_specs.yml"

# AWX's survey rules (awx/api/views JobTemplateSurveySpec and the survey mixin's launch-time element validation):
# the question types and the Python type a non-empty default must have.
ALLOWED_TYPES: dict[str, type | tuple[type, ...]] = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (float, int),
}
ANSIBLE_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def survey_errors(survey: t.Any) -> list[str]:
    """What AWX would refuse when the survey is saved, or when a job is launched with every default."""
    if not isinstance(survey, dict):
        return ["the survey is not a JSON object"]
    errors = [
        f"'{field}' must be a {kind.__name__}"
        for field, kind in (("name", str), ("description", str), ("spec", list))
        if not isinstance(survey.get(field), kind)
    ]
    if errors:
        return errors
    if not survey["spec"]:
        return ["'spec' doesn't contain any items"]
    seen: set[str] = set()
    for index, item in enumerate(survey["spec"]):
        where = f"question {index}"
        if not isinstance(item, dict):
            errors.append(f"{where} is not a JSON object")
            continue
        for field, kind in (("type", str), ("question_name", str), ("variable", str), ("required", bool)):
            if not isinstance(item.get(field), kind):
                errors.append(f"{where}: '{field}' missing or not a {kind.__name__}")
        if errors:
            continue
        variable, qtype = item["variable"], item["type"]
        if variable in seen:
            errors.append(f"{where}: variable {variable!r} duplicated")
        seen.add(variable)
        if not ANSIBLE_VARIABLE.match(variable):
            errors.append(f"{where}: {variable!r} is not a valid Ansible variable name")
        if qtype not in ALLOWED_TYPES:
            errors.append(f"{where}: type {qtype!r} is not one of {sorted(ALLOWED_TYPES)}")
            continue
        default = item.get("default", "")
        if default != "" and (isinstance(default, bool) or not isinstance(default, ALLOWED_TYPES[qtype])):
            errors.append(f"{where}: default {default!r} must be {qtype}")
        for limit in ("min", "max"):
            value = item.get(limit)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                errors.append(f"{where}: {limit} must be an integer")
        if qtype in ("multiplechoice", "multiselect"):
            choices = item.get("choices")
            if isinstance(choices, str):
                choices = [choice for choice in choices.splitlines() if choice.strip()]
            if not choices:
                errors.append(f"{where}: a {qtype} question must list its choices")
                continue
            defaults = [d for d in default.splitlines() if d.strip()] if isinstance(default, str) else default
            if qtype == "multiplechoice" and len(defaults) > 1:
                errors.append(f"{where}: a multiplechoice question has one default at most")
            if any(choice not in choices for choice in defaults):
                errors.append(f"{where}: default {defaults} not among the choices {choices}")
        errors += launch_errors(where, item, default)
    return errors


def launch_errors(where: str, item: dict[str, t.Any], answer: t.Any) -> list[str]:
    """AWX's launch-time checks of one answer; a survey launched with its defaults must pass them."""
    if answer == "":
        return [f"{where}: required and without a default"] if item["required"] else []
    # A limit that is not an integer is reported by survey_errors; here it limits nothing.
    low, high = (item.get(limit) if isinstance(item.get(limit), int) else None for limit in ("min", "max"))
    if item["type"] in ("text", "textarea", "password"):
        size = len(answer)
        if (low is not None and size < low) or (high is not None and size > high):
            return [f"{where}: default length {size} outside {low}..{high}"]
    if item["type"] in ("integer", "float") and (
        (low is not None and answer < low) or (high is not None and answer > high)
    ):
        return [f"{where}: default {answer} outside {low}..{high}"]
    return []


def load(path: Path) -> t.Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_rules_catch_what_awx_refuses():
    question = {"type": "text", "question_name": "q", "variable": "v", "required": False, "default": "x"}
    good = {"name": "s", "description": "", "spec": [question]}
    assert survey_errors(good) == []
    assert survey_errors({**good, "spec": []}) == ["'spec' doesn't contain any items"]
    broken = [
        ({"type": "boolean"}, "type 'boolean'"),
        ({"required": "yes"}, "'required' missing or not a bool"),
        ({"type": "integer", "default": "5"}, "must be integer"),
        ({"type": "multiplechoice", "choices": ["a", "b"], "default": "c"}, "not among the choices"),
        ({"type": "multiplechoice", "choices": ["a", "b"], "default": "a\nb"}, "one default at most"),
        ({"type": "multiselect", "default": "a"}, "must list its choices"),
        ({"min": "1"}, "min must be an integer"),
        ({"min": 2, "default": "x"}, "outside 2..None"),
        ({"required": True, "default": ""}, "required and without a default"),
        ({"variable": "not valid"}, "not a valid Ansible variable name"),
    ]
    for change, message in broken:
        errors = survey_errors({**good, "spec": [{**good["spec"][0], **change}]})
        assert any(message in error for error in errors), (change, errors)
    twice = {**good, "spec": [good["spec"][0], good["spec"][0]]}
    assert any("duplicated" in error for error in survey_errors(twice))


@pytest.mark.parametrize("path", SURVEYS, ids=[path.name for path in SURVEYS])
def test_each_survey_is_one_awx_accepts_and_launches_with_its_defaults(path):
    assert survey_errors(load(path)) == []


def role_options() -> dict[str, t.Any]:
    if not ROLE_SPECS.exists():
        pytest.skip("roles/wmi_hardening is not in this checkout")
    return yaml.safe_load(ROLE_SPECS.read_text(encoding="utf-8"))["argument_specs"]["main"]["options"]


@pytest.mark.parametrize("path", SURVEYS, ids=[path.name for path in SURVEYS])
def test_each_survey_asks_only_for_variables_the_content_reads(path):
    options = role_options()
    playbooks = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "playbooks").glob("*.yml"))
    for item in load(path)["spec"]:
        variable = item["variable"]
        if variable.startswith("wmi_hardening_"):
            assert variable in options, f"{variable} is not a documented role variable"
            # A survey answer arrives as text; the role's choices must accept each offered choice as given.
            if item["type"] in ("multiplechoice", "multiselect") and options[variable].get("choices"):
                assert set(item["choices"]) <= set(options[variable]["choices"]), variable
            if options[variable].get("type") == "bool":
                assert set(item["choices"]) == {"true", "false"}, variable
        else:
            assert variable in playbooks, f"{variable} is read by no playbook"


def test_job_templates_point_at_existing_playbooks_and_surveys():
    (play,) = yaml.safe_load((AWX / "job_templates.yml").read_text(encoding="utf-8"))
    templates = {template["name"]: template for template in play["vars"]["awx_templates"]}
    assert {name: template["job_type"] for name, template in templates.items()} == {
        "WMI compliance audit": "check",
        "WMI hardening": "run",
    }
    for template in templates.values():
        assert (AWX / template["survey"]).exists()
        playbook = yaml.safe_load((AWX / "project" / template["playbook"]).read_text(encoding="utf-8"))
        collection_playbook = playbook[0]["ansible.builtin.import_playbook"].removeprefix("winsec.wmi.")
        assert (ROOT / "playbooks" / f"{collection_playbook}.yml").exists()
    modules = [next(key for key in task if key.startswith("awx.awx.")) for key in [None] for task in play["tasks"]]
    assert modules == ["awx.awx.execution_environment", "awx.awx.project", "awx.awx.job_template"]
    job_template = play["tasks"][2]["awx.awx.job_template"]
    assert job_template["survey_enabled"] is True
    assert "from_json" in job_template["survey_spec"]
    # "Show Changes" is on for the hardening template (its writes' before/after), and either may ask at launch.
    assert templates["WMI hardening"].get("diff_mode") is True and "diff_mode" not in templates["WMI compliance audit"]
    assert job_template["ask_diff_mode_on_launch"] is True and "item.diff_mode" in job_template["diff_mode"]
    requirements = yaml.safe_load((AWX / "project" / "collections" / "requirements.yml").read_text(encoding="utf-8"))
    assert [c["name"] for c in requirements["collections"]] == ["winsec.wmi"]


def test_the_collection_declares_both_connection_libraries_for_execution_environments():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    requirements = (ROOT / meta["dependencies"]["python"]).read_text(encoding="utf-8")
    names = {re.split(r"[<>=\[ ]", line)[0] for line in requirements.splitlines() if line and not line.startswith("#")}
    assert names == {"pywinrm", "pypsrp"}


def test_ansible_builder_creates_the_execution_environment_build_context(tmp_path):
    pytest.importorskip("ansible_builder", reason="ansible-builder (tests/requirements/test.txt) reads the file")
    definition = yaml.safe_load((AWX / "execution-environment.yml").read_text(encoding="utf-8"))
    assert definition["version"] == 3
    completed = subprocess.run(
        [sys.executable, "-m", "ansible_builder", "create", "-f", str(AWX / "execution-environment.yml"),
         "-c", str(tmp_path / "context"), "--output-filename", "Containerfile"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    containerfile = (tmp_path / "context" / "Containerfile").read_text(encoding="utf-8")
    assert "COPY _build/configs/krb5.conf /etc/krb5.conf" in containerfile
    requirements = (tmp_path / "context" / "_build" / "requirements.txt").read_text(encoding="utf-8")
    assert "pywinrm[kerberos,credssp]" in requirements
    assert "pypsrp[kerberos,credssp]" in requirements
    assert "krb5-devel" in (tmp_path / "context" / "_build" / "bindep.txt").read_text(encoding="utf-8")
