"""tests/integration/targets/wmi_state (written for real Windows) runs green against the simulator too.

The simulator plays a Server 2022 host that already has the target's test namespace (the simulator does not emulate
ansible.windows.win_powershell, which creates it on a real host). A task here that fails means the simulator and
the contract a real host is tested against have drifted apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.harness import Fleet, Step, run_step

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET = REPO_ROOT / "tests" / "integration" / "targets" / "wmi_state" / "tasks" / "main.yml"


SD_DENIALS = ("return_value", "cim_error")


def target_host(sd_denial: str) -> str:
    return f"target-{sd_denial}"


@pytest.fixture(scope="module")
def target_run(module_fleet_factory, tmp_path_factory) -> tuple[Fleet, Step]:
    """The target once over one host per way the simulator denies an SD (each host's outcome is its own): the fleet
    and the step (its run and every host's counters)."""
    fleet_file = tmp_path_factory.mktemp("wmi-state-target") / "fleet.yml"
    fleet_file.write_text(
        "hosts:\n"
        + "".join(
            f'  - {{name: {target_host(sd_denial)}, profile: "2022", unsecapp: 1, sd_denial: {sd_denial},'
            " extra_namespaces: ['root\\winsecWmiStateTest']}\n"
            for sd_denial in SD_DENIALS
        ),
        encoding="utf-8",
    )
    fleet = module_fleet_factory(fleet_file)
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
    return fleet, run_step(fleet, [task])


@pytest.mark.parametrize("sd_denial", SD_DENIALS)
def test_wmi_state_integration_target_passes_against_the_simulator(target_run, sd_denial):
    fleet, step = target_run
    host = target_host(sd_denial)
    run = step.run
    assert run.rc == 0, run.stdout[-6000:]
    (recap,) = [line for line in run.recap().splitlines() if line.split(" ")[0] == host]
    assert "failed=0" in recap and "unreachable=0" in recap, run.stdout[-6000:]
    counters = step.counters[host]
    # Two SetSD calls reached the host (the change and the restore) and one registry write; every refusal wrote
    # nothing.
    assert counters["writes_by_kind"] == {"namespace_sd": 2, "registry": 1}, counters
    # The target put its namespace back: like root\default, it holds only what it inherits from root.
    namespaces = fleet.state(host)["namespaces"]
    assert namespaces["root\\winsecwmistatetest"] == namespaces["root\\default"]
