# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry of controls (_controls/_registry.py) is the one list of the baseline's controls: their IDs, how each
is built from the baseline's options, which option turns each on, and what the documentation lists. Every test here
loops over the registry, so a new control that is not documented, not buildable or not opt-in as documented fails."""

from __future__ import annotations

import datetime
import re
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._role import ROLE_ARGUMENTS, controls_from_tags
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import SEVERITIES, Control, Decision
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._exceptions import NO_EXCEPTIONS, ControlExceptions
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._registry import (
    CONTROL_IDS,
    CONTROLS,
    RegisteredControl,
    build_controls,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError

REPO = Path(__file__).resolve().parents[5]
TODAY = datetime.date(2026, 12, 7)
OPT_INS = sorted({entry.opt_in for entry in CONTROLS if entry.opt_in is not None}, key=lambda opt_in: opt_in.option)
BY_ID = {entry.id: entry for entry in CONTROLS}
ids = pytest.mark.parametrize("entry", CONTROLS, ids=[entry.id for entry in CONTROLS])


def baseline_params(**args: t.Any) -> dict[str, t.Any]:
    """The options as winsec.wmi.baseline's action plugin validates them (defaults filled in)."""
    outcome = ArgumentSpecValidator(argspec_from_doc(DOCUMENTATION)).validate(args)
    assert not outcome.error_messages, outcome.error_messages
    return outcome.validated_parameters


def opted_in(*opt_ins: t.Any) -> dict[str, t.Any]:
    """The arguments that turn these opt-ins on (a script path, namespace_audit.enabled ...)."""
    args: dict[str, dict[str, t.Any]] = {}
    for opt_in in opt_ins:
        group, key = opt_in.option
        args.setdefault(group, {})[key] = ["C:\\Scripts"] if key == "paths" else True
    return args


def every_control(exceptions: ControlExceptions = NO_EXCEPTIONS) -> list[Control]:
    return build_controls(baseline_params(**opted_in(*OPT_INS)), exceptions)


# --- IDs and construction -----------------------------------------------------------------------------------------


def test_ids_are_unique_and_every_control_states_what_a_report_shows():
    assert len(CONTROL_IDS) == len(CONTROLS)
    for entry in CONTROLS:
        assert re.fullmatch(r"WMI-[0-9]{3}", entry.id), entry.id
        assert entry.control.title and entry.control.severity in SEVERITIES and entry.control.references


def test_every_control_is_built_from_the_options_in_id_order_with_the_one_exceptions_object():
    exceptions = ControlExceptions.parse([{"control": CONTROLS[-1].id, "reason": "accepted"}], TODAY)
    controls = every_control(exceptions)
    assert [control.id for control in controls] == sorted(CONTROL_IDS)
    assert [type(control) for control in controls] == [BY_ID[control.id].control for control in controls]
    assert all(control.exceptions is exceptions for control in controls)


@ids
def test_each_control_is_selected_and_skipped_by_its_id(entry: RegisteredControl):
    on = opted_in(*OPT_INS)
    (only,) = build_controls(baseline_params(controls=[entry.id.lower()], **on), NO_EXCEPTIONS)
    assert only.id == entry.id
    rest = build_controls(baseline_params(skip_controls=[entry.id], **on), NO_EXCEPTIONS)
    assert sorted(control.id for control in rest) == sorted(CONTROL_IDS - {entry.id})


@ids
def test_each_control_is_selected_and_skipped_by_a_tag_named_after_its_id(entry: RegisteredControl):
    """The role's --tags WMI-004 / --skip-tags WMI-005 (ansible_run_tags / ansible_skip_tags)."""
    on = baseline_params(**opted_in(*OPT_INS))
    (only,) = build_controls(controls_from_tags(on, [entry.id.lower(), "all"], []), NO_EXCEPTIONS)
    assert only.id == entry.id
    rest = build_controls(controls_from_tags(on, ["all"], [entry.id]), NO_EXCEPTIONS)
    assert entry.id not in {control.id for control in rest} and len(rest) == len(CONTROLS) - 1


@ids
def test_an_opt_in_control_runs_only_with_its_option_and_says_which(entry: RegisteredControl):
    default = {control.id for control in build_controls(baseline_params(), NO_EXCEPTIONS)}
    if entry.opt_in is None:
        assert entry.id in default
        return
    assert entry.id not in default
    with pytest.raises(WmiActionError) as refused:
        build_controls(baseline_params(controls=[entry.id]), NO_EXCEPTIONS)
    assert f"{entry.id} needs {entry.opt_in.describe()}" in refused.value.msg
    enabled = build_controls(baseline_params(controls=[entry.id], **opted_in(entry.opt_in)), NO_EXCEPTIONS)
    assert [control.id for control in enabled] == [entry.id]


@pytest.mark.parametrize("option", ["controls", "skip_controls"])
def test_an_unknown_id_is_refused_with_the_registered_ones(option: str):
    with pytest.raises(WmiActionError) as refused:
        build_controls(baseline_params(**{option: ["WMI-4"]}), NO_EXCEPTIONS)
    assert refused.value.msg.endswith(f"known: {', '.join(sorted(CONTROL_IDS))}")


def test_an_exception_may_name_every_registered_control_and_no_other():
    every = [{"control": control_id.lower(), "reason": "accepted"} for control_id in sorted(CONTROL_IDS)]
    build_controls(baseline_params(), ControlExceptions.parse(every, TODAY))  # opt-in controls off: still known
    with pytest.raises(WmiActionError, match=r"exceptions\[1\]\.control: unknown control ID 'WMI-04'"):
        build_controls(
            baseline_params(), ControlExceptions.parse([*every[:1], {"control": "WMI-04", "reason": "x"}], TODAY)
        )


# --- exceptions, per control ----------------------------------------------------------------------------------------


def drift(writes: list[dict[str, t.Any]]) -> Decision:
    findings = [{"id": "a", "namespace": "root\\cimv2"}, {"id": "b", "namespace": "root\\default"}]
    return Decision("drift", findings=findings, writes=writes, changes=["a change"], automatic=True)


@ids
def test_an_excepted_finding_keeps_exactly_the_writes_the_controls_fix_leaves_it_out_of(entry: RegisteredControl):
    """A control whose fix is per finding has already left the excepted one out: its other writes stay. Any other
    control writes one value for all its findings: one excepted finding drops them all."""
    (control,) = build_controls(baseline_params(controls=[entry.id], **opted_in(*OPT_INS)), NO_EXCEPTIONS)
    exceptions = ControlExceptions.parse([{"control": entry.id, "namespace": "root\\cimv2", "reason": "kept"}], TODAY)
    writes = [{"op": "sd_set", "namespace": "root\\default"}]
    after = exceptions.apply(control, drift(writes))
    assert [finding.get("excepted") for finding in after.findings] == [True, None]
    assert after.status == "drift"  # the other finding is not excepted
    if control.fix_leaves_out_excepted:
        assert after.writes == writes and after.automatic is True
    else:
        assert after.writes == [] and after.changes == [] and after.automatic is False


@ids
def test_every_finding_excepted_is_excepted_and_an_expired_exception_is_drift_again(entry: RegisteredControl):
    (control,) = build_controls(baseline_params(controls=[entry.id], **opted_in(*OPT_INS)), NO_EXCEPTIONS)
    accepted = [{"control": entry.id, "reason": "kept", "expires": "2026-12-07"}]
    assert ControlExceptions.parse(accepted, TODAY).apply(control, drift([])).status == "excepted"
    expired = ControlExceptions.parse(accepted, TODAY + datetime.timedelta(days=1)).apply(control, drift([]))
    assert expired.status == "drift" and expired.findings[0]["reason"].startswith("exception expired on 2026-12-07")


# --- what the documentation lists ---------------------------------------------------------------------------------


def ids_in(text: str | list[str]) -> set[str]:
    """The control IDs a text (or a documentation field's list of paragraphs) names."""
    return set(re.findall(r"WMI-[0-9]{3}", text if isinstance(text, str) else " ".join(text)))


def test_the_module_documentation_lists_every_control():
    paragraphs = yaml.safe_load(DOCUMENTATION)["description"]
    (listing,) = [paragraph for paragraph in paragraphs if paragraph.startswith("The controls:")]
    assert ids_in(listing) == CONTROL_IDS


def test_the_role_readme_lists_every_control():
    readme = (REPO / "roles" / "wmi_hardening" / "README.md").read_text(encoding="utf-8")
    (bullet,) = re.findall(r"^- Controls:.*?(?=^- |\Z)", readme, flags=re.MULTILINE | re.DOTALL)
    assert ids_in(bullet) == CONTROL_IDS


def test_the_hardening_guide_lists_every_control_with_its_severity():
    guide = (REPO / "docs" / "docsite" / "rst" / "guide_hardening.rst").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^  \* - (WMI-[0-9]{3})\n    - ([a-z]+)$", guide, flags=re.MULTILINE))
    assert rows == {entry.id: entry.control.severity for entry in CONTROLS}


@pytest.mark.parametrize("opt_in", OPT_INS, ids=[opt_in.describe() for opt_in in OPT_INS])
def test_the_option_turning_controls_on_is_documented_and_set_by_the_role(opt_in: t.Any):
    turned_on = {entry.id for entry in CONTROLS if entry.opt_in == opt_in}
    group, key = opt_in.option
    option = yaml.safe_load(DOCUMENTATION)["options"][group]
    assert turned_on <= ids_in(option["description"]) | ids_in(option["suboptions"][key]["description"])

    role = REPO / "roles" / "wmi_hardening"
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    variable = spec["argument_specs"]["main"]["options"][opt_in.role_variable]
    assert turned_on <= ids_in(variable["description"])
    # The role's baseline task passes no arguments: the action sets each option from its role variable.
    assert ((group, key), opt_in.role_variable) in ROLE_ARGUMENTS
