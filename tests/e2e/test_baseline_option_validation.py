# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.baseline over the real path (ansible-playbook -> WinRM -> simulator): a string "false" (as -e or a
quoted YAML value gives it) never turns the lock-out guard off, and hosts whose inventory names NT 4.0, 2000, XP or
Server 2003 in a common spelling are never contacted."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

# Administrators denied Enable, ReadSecurity and WriteSecurity before their allow: nobody could repair the namespace.
LOCKOUT_SDDL = "O:BAG:BAD:(D;CI;CCRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)"
SPELLINGS = {
    "s2003-caption": "Microsoft(R) Windows(R) Server 2003, Enterprise Edition",
    "s2003-r2": "Windows Server 2003 R2 (x64)",
    "s2003-short": "w2k3",
    "s2003-bare": "Windows 2003",
    "xp-pro": "Microsoft Windows XP Professional",
    "nt4-server": "Windows NT Server 4.0",
    "w2000-sp4": "Windows 2000 Professional, SP4",
}
PROFILES = {"s2003": "2003", "xp": "xp", "nt4": "nt4", "w2000": "2000"}


@pytest.fixture
def validation_fleet(fleet_from_text):
    lines = ["hosts:", '  - {name: modern, profile: "2022"}']
    for name, spelling in SPELLINGS.items():
        profile = PROFILES[name.split("-")[0]]
        lines.append(f'  - {{name: {name}, profile: "{profile}", inventory_vars: {{winsec_wmi_os: "{spelling}"}}}}')
    return fleet_from_text("\n".join(lines) + "\n")


def test_string_false_keeps_the_lockout_guard_and_legacy_spellings_are_never_contacted(validation_fleet, run_playbook):
    fleet = validation_fleet
    before = fleet.state("modern")["namespaces"]
    lockout = {"mode": "enforce", "controls": ["WMI-002"], "fail_on_error": False}
    tasks = [
        {
            # On root the arguments alone decide: refused before the host is contacted.
            "name": "root, quoted string false",
            "winsec.wmi.baseline": {
                **lockout,
                "namespace_sds": [{"namespace": "root", "sddl": LOCKOUT_SDDL, "allow_lockout": "false"}],
            },
            "when": "inventory_hostname == 'modern'",
            "ignore_errors": True,
        },
        {
            # Below root the refusal comes after the read, still before any write; the value comes from -e.
            "name": "cimv2, string from -e",
            "winsec.wmi.baseline": {
                **lockout,
                "namespace_sds": [
                    {"namespace": "root\\cimv2", "sddl": LOCKOUT_SDDL, "allow_lockout": "{{ guard_off }}"}
                ],
            },
            "when": "inventory_hostname == 'modern'",
            "ignore_errors": True,
        },
        {
            "name": "legacy",
            "winsec.wmi.baseline": {"mode": "enforce", "inventory_os": "{{ winsec_wmi_os }}"},
            "when": "winsec_wmi_os is defined",
        },
    ]
    run = run_playbook(fleet, tasks, extra_vars={"guard_off": "no"})

    root = run.result("modern", "root, quoted string false")
    assert run.status("modern", "root, quoted string false") == "failed" and root["refusal"] == "lockout"
    assert "before contacting the host" in root["msg"]
    cimv2 = run.result("modern", "cimv2, string from -e")
    record = cimv2["controls"][0]
    assert record["id"] == "WMI-002" and record["status"] == "error" and cimv2["status"] == "error"
    assert record["reason"].startswith("Refused to write the security descriptor of root\\cimv2 (lockout,")
    assert fleet.counters("modern")["writes"] == 0
    assert fleet.state("modern")["namespaces"] == before

    for host, spelling in SPELLINGS.items():
        result = run.result(host, "legacy")
        assert result["contacted"] is False and result["status"] == "not_applicable", (spelling, result.get("msg"))
        assert fleet.counters(host)["requests"] == 0, f"{host} ({spelling}) was contacted"
