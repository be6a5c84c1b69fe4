# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host text never drives the console: a host whose malicious consumer is named with a clear-screen, colour codes, an
OSC 8 link, U+202E and a newline followed by a forged verdict line is audited over the real path (ansible-playbook,
WinRM, the simulator), and the run's stdout and stderr hold none of those characters raw and no forged line: every
warning and msg passes the one console sanitizer (plugins/plugin_utils/_text.py, console_text)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.e2e

HOSTILE = (
    "Updater\x1b[2J\x1b[1;1H\x1b[32m\x1b]8;;http://198.51.100.7/\x07docs\x1b]8;;\x07\u202etxt.exe"
    "\nfake: [OK] all hosts compliant"
)
# What a terminal acts on instead of showing (newline and tab excepted: Ansible's own output uses them).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def strings(value: object) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*map(strings, value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*map(strings, value)) if value else set()
    return set()


def test_hostile_names_reach_the_console_escaped(fleet_from_text, run_playbook):
    fleet_doc = {"hosts": [{"name": "hostile", "profile": "2022", "unsecapp": 1,
                            "subscriptions": ["scm", {"preset": "malicious", "name": HOSTILE}]}]}  # fmt: skip
    fleet = fleet_from_text(json.dumps(fleet_doc))  # JSON is YAML, and keeps every character escaped
    verdict = "{{ _baseline.msg }}"
    tasks = [
        {
            "name": "baseline",
            "winsec.wmi.baseline": {"mode": "audit", "controls": ["WMI-020"]},
            "register": "_baseline",
        },
        {"name": "inventory", "winsec.wmi.event_subscription_info": {}},
        {"name": "verdict", "ansible.builtin.debug": {"msg": verdict}},
    ]
    run = run_playbook(fleet, tasks, check=True)
    assert run.rc == 0, run.stdout
    # The host's name did reach the console (the warning names the consumer), escaped.
    output = run.stdout + run.stderr
    assert "\\x1b[2J" in output and "\\u202e" in output
    assert not RAW.findall(output), sorted({hex(ord(char)) for char in RAW.findall(output)})
    assert not [line for line in output.splitlines() if re.match(r"\s*fake: \[OK\]", line)]
    # The data keeps the name as the host spelled it (reports and the inventory need it whole).
    assert run.result("hostile", "baseline")["controls"][0]["status"] == "drift"
    assert HOSTILE in strings(run.result("hostile", "inventory"))
    assert fleet.counters("hostile")["writes"] == 0
