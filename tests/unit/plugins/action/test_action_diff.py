# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""--diff of every module that writes, and of the baseline in enforce mode, through the real action plugins against a
simulated host's wmi_state in-process (simulator/wmi_state.py).

What a user relies on: with diff mode on, a run that changes (or in check mode would change) something returns
Ansible's ``diff``; check mode writes nothing and shows the same diff the real run then returns; without diff mode,
and when nothing changes, there is no diff.
"""

from __future__ import annotations

import copy
import sys
import typing as t
from pathlib import Path

import pytest
from ansible.plugins.callback import CallbackBase
from ansible_collections.winsec.wmi.plugins.action import (
    baseline,
    event_subscription,
    namespace_sd,
    unsecapp_lockdown,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import make_action

REPO_ROOT = Path(__file__).resolve().parents[4]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from simulator import wmi_state as sim_wmi_state  # noqa: E402
from simulator.fleet import build_host  # noqa: E402

# One host drifting on everything a write fixes: unsecapp absent (WMI-001), Everyone writing to root\cimv2 (WMI-004),
# the DCOM legacy exception on a build it still affects (WMI-021), no SACL (WMI-022), a malicious subscription.
DRIFTING = {
    "name": "drift01",
    "profile": "2016",
    "namespaces": {"root\\cimv2": "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)"},
    "dcom": {"require_integrity": 0},
    "subscriptions": ["scm", "malicious"],
}
SUBSCRIPTION_SDDL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCDC;;;AU)"
ENFORCE_ALL = {
    "mode": "enforce",
    "namespace_sds": [{"namespace": "root\\subscription", "sddl": SUBSCRIPTION_SDDL}],
    "dcom": {"remove_legacy_exception": True},
    "namespace_audit": {"enabled": True, "set_sacl": True},
    "controls": ["WMI-001", "WMI-002", "WMI-004", "WMI-021", "WMI-022"],
}
MODULES: dict[str, tuple[t.Any, dict[str, t.Any]]] = {
    "unsecapp_lockdown": (unsecapp_lockdown, {}),
    "namespace_sd": (
        namespace_sd,
        {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;WD)"},
    ),
    "event_subscription": (
        event_subscription,
        {"consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer", "state": "absent"},
    ),
    "baseline": (baseline, ENFORCE_ALL),
}


def writes(host: t.Any) -> int:
    return sum(host.counters.writes.values()) + sum(host.counters.refused_writes.values())


def run(host: t.Any, module: t.Any, args: dict[str, t.Any], *, check_mode: bool, diff: bool) -> dict[str, t.Any]:
    plugin = make_action(module, copy.deepcopy(args), check_mode=check_mode, diff=diff)
    admin = next(caller for caller in host.callers.values() if caller.admin)

    def execute(module_name: str = "", module_args: dict[str, t.Any] | None = None, **_kwargs: t.Any) -> t.Any:
        reply, _wrote = sim_wmi_state.run(host, admin, copy.deepcopy(module_args or {}), check_mode)
        return reply

    plugin._execute_module = execute
    return plugin.run(task_vars={})


def shown(diff: t.Any) -> str:
    """The diff as ansible-core's default callback prints it (CallbackBase._get_diff)."""
    return CallbackBase()._get_diff(copy.deepcopy(diff))


@pytest.mark.parametrize("name", sorted(MODULES))
def test_check_mode_shows_the_diff_the_real_run_returns(name):
    module, args = MODULES[name]
    host = build_host(DRIFTING)

    quiet = run(host, module, args, check_mode=True, diff=False)
    assert quiet["changed"] is True and "diff" not in quiet, quiet  # no diff mode: no diff
    predicted = run(host, module, args, check_mode=True, diff=True)
    assert writes(host) == 0  # nothing sent, nothing refused
    assert predicted["changed"] is True and predicted.get("diff"), predicted
    printed = shown(predicted["diff"])
    assert printed.count("\n-") + printed.count("\n+") > 0, printed  # a unified diff with changed lines

    applied = run(host, module, args, check_mode=False, diff=True)
    assert applied["changed"] is True and writes(host) > 0
    assert applied["diff"] == predicted["diff"]  # what check mode showed is what the real run reports

    again = run(host, module, args, check_mode=False, diff=True)
    assert again["changed"] is False and "diff" not in again, again  # nothing changes: no diff


def test_baseline_diff_has_one_entry_per_write_led_by_its_control():
    host = build_host(DRIFTING)
    result = run(host, baseline, ENFORCE_ALL, check_mode=True, diff=True)
    headers = [entry["before_header"] for entry in result["diff"]]
    assert headers == [
        "WMI-001 HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault (registry value)",
        "WMI-002 root\\subscription (namespace security descriptor)",
        "WMI-004 root\\CIMV2 (namespace security descriptor)",  # as the host spells it
        "WMI-021 HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat\\RequireIntegrityActivationAuthenticationLevel "
        "(registry value)",
        "WMI-022 root (namespace SACL)",
    ]
    printed = shown(result["diff"])
    assert "-HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault (absent: counts as 0)\n" in printed
    assert "+HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault = REG_DWORD 1\n" in printed
    assert (
        "+HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat\\RequireIntegrityActivationAuthenticationLevel = REG_DWORD 1"
        in (printed)
    )
    # WMI-004: Everyone's explicit ACE loses FullWrite, PartialWrite and RemoteAccess, in words and in SDDL.
    assert (
        "-  allow Everyone (S-1-1-0): Enable, MethodExecute, FullWrite, PartialWrite, ProviderWrite, RemoteAccess;"
        in (printed)
    )
    assert "+  allow Everyone (S-1-1-0): Enable, MethodExecute, ProviderWrite;" in printed
    assert "+sacl: S:(AU;CISA;WD;;;WD)\n" in printed
    assert writes(host) == 0


def test_audit_mode_returns_no_diff_nothing_would_change():
    host = build_host(DRIFTING)
    result = run(host, baseline, {**ENFORCE_ALL, "mode": "audit"}, check_mode=False, diff=True)
    assert result["status"] == "drift" and result["changed"] is False and "diff" not in result
    assert writes(host) == 0


def test_excepted_write_shows_no_diff():
    host = build_host(DRIFTING)
    exception = {"control": "WMI-001", "reason": "pre-2000 callers until the migration"}
    result = run(
        host, baseline, {**ENFORCE_ALL, "controls": ["WMI-001"], "exceptions": [exception]}, check_mode=True, diff=True
    )
    assert result["changed"] is False and "diff" not in result


def test_subscription_restore_diff_lists_what_is_created():
    host = build_host(DRIFTING)
    removal = MODULES["event_subscription"][1]
    removed = run(host, event_subscription, removal, check_mode=False, diff=True)
    definition = removed["removed"]
    restore = {"state": "present", "definition": definition}
    predicted = run(host, event_subscription, restore, check_mode=True, diff=True)
    assert predicted["diff"]["before"] == "" and predicted["diff"]["after"] == removed["diff"]["before"]
    applied = run(host, event_subscription, restore, check_mode=False, diff=True)
    assert applied["diff"] == predicted["diff"]
    assert "CommandLineEventConsumer 'WindowsUpdateHealth' in root\\subscription\n" in applied["diff"]["after"]
