# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a new user hit, end to end over WinRM against the simulator: SDDL written over several YAML lines, a REG_SZ
UnsecAppAccessControlDefault holding digits that are not ASCII, and the pre-Windows 2000 warning's tense."""

from __future__ import annotations

import pytest

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
"""
ENABLE = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled"}}]
PRE_2000 = "pre-Windows 2000"


@pytest.fixture
def new_user_fleet(fleet_from_text):
    return fleet_from_text(FLEET)


def test_non_ascii_digits_are_drift_shown_as_read(new_user_fleet, run_playbook):
    fleet = new_user_fleet
    run = run_playbook(fleet, ENABLE, hosts="superscript,arabic,fullwidth", check=True)
    assert run.rc == 0, run.stdout
    for host, data in (("superscript", "\u00b2"), ("arabic", "\u0661"), ("fullwidth", "\uff11")):
        result = run.result(host, "unsecapp")
        assert result["compliant"] is False and result["changed"] is True, result
        assert result["before"] == {"exists": True, "type": "REG_SZ", "data": data, "value": None}
        assert any(f"holds '{data}' (REG_SZ), which is not a number" in w for w in result["warnings"]), result
        assert fleet.counters(host)["writes"] == 0


def test_pre_2000_warning_says_what_happens_in_this_run(new_user_fleet, run_playbook):
    fleet = new_user_fleet
    checked = run_playbook(fleet, ENABLE, hosts="absent", check=True)
    assert checked.rc == 0, checked.stdout
    warnings = checked.result("absent", "unsecapp")["warnings"]
    assert any(PRE_2000 in w and "would fail" in w for w in warnings), warnings
    assert not any("now fail" in w for w in warnings), warnings
    assert fleet.counters("absent")["writes"] == 0

    applied = run_playbook(fleet, ENABLE, hosts="absent")
    assert applied.rc == 0, applied.stdout
    warnings = applied.result("absent", "unsecapp")["warnings"]
    assert any(PRE_2000 in w and "now fail" in w for w in warnings), warnings
    assert fleet.counters("absent")["writes"] == 1


@pytest.mark.parametrize("check", [True, False])
def test_no_pre_2000_warning_when_only_the_type_changes(new_user_fleet, run_playbook, check):
    tasks = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled", "value_type": "dword"}}]
    run = run_playbook(new_user_fleet, tasks, hosts="string_one", check=check)
    assert run.rc == 0, run.stdout
    result = run.result("string_one", "unsecapp")
    assert result["changed"] is True  # REG_SZ '1' -> REG_DWORD 1, as asked
    assert not any(PRE_2000 in w for w in result.get("warnings", [])), result


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


def test_namespace_sd_takes_sddl_written_one_ace_per_line(new_user_fleet, run_playbook):
    fleet = new_user_fleet
    checked = run_playbook(fleet, SDDL_OVER_LINES, hosts="absent", check=True)
    assert checked.rc == 0, checked.stdout
    assert checked.result("absent", "sd")["changed"] is True
    assert fleet.counters("absent")["writes"] == 0

    applied = run_playbook(fleet, SDDL_OVER_LINES, hosts="absent")
    assert applied.rc == 0, applied.stdout
    assert "(A;CI;CCDCWPRC;;;MU)" in fleet.state("absent")["namespaces"]["root\\cimv2"]  # MU is S-1-5-32-558

    # the same SD written on one line: nothing left to change
    again = run_playbook(fleet, SDDL_ONE_LINE, hosts="absent")
    assert again.rc == 0, again.stdout
    assert again.result("absent", "sd")["changed"] is False
