# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user hit, end to end over WinRM against the simulator: SDDL written over several YAML lines, a REG_SZ
UnsecAppAccessControlDefault holding digits that are not ASCII, and the pre-Windows 2000 warning's tense.

The tests' runs are three steps of one scenario (check mode, the real run, the SD stated again on one line): each
step is one ansible-playbook run with one play per test, on that test's own hosts, and each test asserts its hosts'
slice of it.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from simulator.harness import Step, run_plays_step

pytestmark = pytest.mark.e2e

FLEET = """\
hosts:
  - name: superscript
    profile: "2022"
    unsecapp: {type: REG_SZ, data: "\u00b2"}
  - name: arabic
    profile: "2022"
    unsecapp: {type: REG_SZ, data: "\u0661"}
  - name: fullwidth
    profile: "2022"
    unsecapp: {type: REG_SZ, data: "\uff11"}
  - name: string_one
    profile: "2022"
    unsecapp: {type: REG_SZ, data: "1"}
  - name: absent
    profile: "2022"
  - name: sd_target
    profile: "2022"
"""
ENABLE = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled"}}]
ENABLE_AS_DWORD = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled", "value_type": "dword"}}]
PRE_2000 = "pre-Windows 2000"
SDDL_OVER_LINES = """\
- name: sd
  winsec.wmi.namespace_sd:
    namespace: root\\cimv2
    sddl: |
      O:BA
      G:BA
      D:
      (A;CI;CCDCLCSWRPWPRCWD;;;BA)
      (A;CI;CCDCWPRC;;;S-1-5-32-558)
"""
SDDL_ONE_LINE = [
    {
        "name": "sd",
        "winsec.wmi.namespace_sd": {
            "namespace": "root\\cimv2",
            "sddl": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWPRC;;;S-1-5-32-558)",
        },
    }
]


class Scenario(NamedTuple):
    checked: Step  # check mode
    applied: Step  # the real run
    applied_sd: str  # sd_target's root\\cimv2 as the real run left it
    again: Step  # the same SD stated on one line


@pytest.fixture(scope="module")
def new_user_steps(module_fleet_from_text) -> Scenario:
    fleet = module_fleet_from_text(FLEET)
    # sd_target is a plain 2022 host of its own: absent's write count stays the unsecapp test's.
    plays = [
        {"hosts": "absent", "tasks": ENABLE},
        {"hosts": "string_one", "tasks": ENABLE_AS_DWORD},
        {"hosts": "sd_target", "tasks": SDDL_OVER_LINES},
    ]
    checked = run_plays_step(fleet, [{"hosts": "superscript:arabic:fullwidth", "tasks": ENABLE}, *plays], check=True)
    applied = run_plays_step(fleet, plays)
    applied_sd = fleet.state("sd_target")["namespaces"]["root\\cimv2"]
    again = run_plays_step(fleet, [{"hosts": "sd_target", "tasks": SDDL_ONE_LINE}])
    return Scenario(checked, applied, applied_sd, again)


def test_non_ascii_digits_are_drift_shown_as_read(new_user_steps):
    checked = new_user_steps.checked
    assert checked.run.rc == 0, checked.run.stdout
    for host, data in (("superscript", "\u00b2"), ("arabic", "\u0661"), ("fullwidth", "\uff11")):
        result = checked.run.result(host, "unsecapp")
        assert result["compliant"] is False and result["changed"] is True, result
        assert result["before"] == {"exists": True, "type": "REG_SZ", "data": data, "value": None}
        assert any(f"holds '{data}' (REG_SZ), which is not a number" in w for w in result["warnings"]), result
        assert checked.writes(host) == 0


def test_pre_2000_warning_says_what_happens_in_this_run(new_user_steps):
    checked = new_user_steps.checked
    assert checked.run.rc == 0, checked.run.stdout
    warnings = checked.run.result("absent", "unsecapp")["warnings"]
    assert any(PRE_2000 in w and "would fail" in w for w in warnings), warnings
    assert not any("now fail" in w for w in warnings), warnings
    assert checked.writes("absent") == 0

    applied = new_user_steps.applied
    assert applied.run.rc == 0, applied.run.stdout
    warnings = applied.run.result("absent", "unsecapp")["warnings"]
    assert any(PRE_2000 in w and "now fail" in w for w in warnings), warnings
    assert applied.writes("absent") == 1


@pytest.mark.parametrize("check", [True, False])
def test_no_pre_2000_warning_when_only_the_type_changes(new_user_steps, check):
    run = (new_user_steps.checked if check else new_user_steps.applied).run
    assert run.rc == 0, run.stdout
    result = run.result("string_one", "unsecapp")
    assert result["changed"] is True  # REG_SZ '1' -> REG_DWORD 1, as asked
    assert not any(PRE_2000 in w for w in result.get("warnings", [])), result


def test_namespace_sd_takes_sddl_written_one_ace_per_line(new_user_steps):
    checked = new_user_steps.checked
    assert checked.run.rc == 0, checked.run.stdout
    assert checked.run.result("sd_target", "sd")["changed"] is True
    assert checked.writes("sd_target") == 0

    applied = new_user_steps.applied
    assert applied.run.rc == 0, applied.run.stdout
    assert "(A;CI;CCDCWPRC;;;MU)" in new_user_steps.applied_sd  # MU is S-1-5-32-558

    # the same SD written on one line: nothing left to change
    again = new_user_steps.again.run
    assert again.rc == 0, again.stdout
    assert again.result("sd_target", "sd")["changed"] is False
