"""tests/integration/targets/wmi_state (written for real Windows) runs green against the simulator too.

The simulator plays a Server 2022 host that already has the target's test namespace (the simulator does not emulate
ansible.windows.win_powershell, which creates it on a real host). A task here that fails means the simulator and
the contract a real host is tested against have drifted apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = REPO_ROOT / "tests" / "integration" / "targets" / "wmi_state" / "tasks" / "main.yml"


@pytest.mark.parametrize("sd_denial", ["return_value", "cim_error"])
def test_wmi_state_integration_target_passes_against_the_simulator(fleet_from_text, run_playbook, sd_denial):
    fleet = fleet_from_text(
        "hosts:\n"
        f'  - {{name: target, profile: "2022", unsecapp: 1, sd_denial: {sd_denial},'
        " extra_namespaces: ['root\\winsecWmiStateTest']}\n"
    )
    task = {
        "name": "target",
        "ansible.builtin.include_tasks": str(TARGET),
        "vars": {
            "wmi_state_create_namespace": False,
            "wmi_state_real_host": False,
            "wmi_state_nonadmin_user": "simuser",
            "wmi_state_nonadmin_password": "Sim-User-Pass1",
        },
    }
    run = run_playbook(fleet, [task])
    assert run.rc == 0, run.stdout[-6000:]
    assert "failed=0" in run.stdout and "unreachable=0" in run.stdout
    counters = fleet.counters("target")
    # Two SetSD calls reached the host (the change and the restore) and one registry write; every refusal wrote
    # nothing.
    assert counters["writes_by_kind"] == {"namespace_sd": 2, "registry": 1}, counters
    # The target put its namespace back: like root\default, it holds only what it inherits from root.
    namespaces = fleet.state("target")["namespaces"]
    assert namespaces["root\\winsecwmistatetest"] == namespaces["root\\default"]
