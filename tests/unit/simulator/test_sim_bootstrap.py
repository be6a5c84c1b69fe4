"""Which hosts Ansible can reach: no WinRM before Server 2003, and ansible-core's PowerShell floor at bootstrap."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import winrm
from sim_testdata import DATA

from simulator import bootstrap
from simulator.fleet import Fleet, build_host, load_fleet
from simulator.inventory import inventory_for
from simulator.profiles import PROFILES, with_wmf51
from simulator.server import FleetServer

pytestmark = pytest.mark.filterwarnings("ignore:'pywinrm' will use an environment variable:DeprecationWarning")
# The exact lines of ansible-core's bootstrap_wrapper.ps1 (2.19+) and of the 2.18 bootstrap.
V51 = b'{"failed":true,"msg":"Ansible requires PowerShell v5.1"}'
V30 = b'{"failed":true,"msg":"Ansible requires PowerShell v3.0 or newer"}'


def installed_bootstrap_line() -> bytes:
    """The refusal line of the ansible-core this test runs with (2.19+ in every venv here)."""
    import ansible.executor.powershell as ps

    text = (Path(ps.__file__).parent / "bootstrap_wrapper.ps1").read_bytes()
    return next(line.strip().strip(b"'") for line in text.splitlines() if b"Ansible requires PowerShell" in line)


def test_the_floor_line_is_ansible_cores_own() -> None:
    # ansible-core 2.19+ sends the exec manifest and refuses below 5.1; 2.18 sends legacy JSON, refuses below 3.0.
    from ansible.release import __version__

    generation = (
        "exec_manifest" if tuple(int(part) for part in __version__.split(".")[:2]) >= (2, 19) else "legacy_json"
    )
    assert installed_bootstrap_line() == bootstrap.FLOORS[generation][1]
    assert bootstrap.FLOORS["exec_manifest"][1] == V51 and bootstrap.FLOORS["legacy_json"][1] == V30


@pytest.mark.parametrize(
    ("ps", "fmt", "refused"),
    [
        ("2.0", "exec_manifest", V51),
        ("4.0", "exec_manifest", V51),
        ("5.1", "exec_manifest", None),
        ("2.0", "legacy_json", V30),
        ("3.0", "legacy_json", None),
        ("4.0", "legacy_json", None),
    ],
)
def test_refusal_by_ansible_core_generation(ps: str, fmt: str, refused: bytes | None) -> None:
    answer = bootstrap.refusal(ps, fmt)
    assert (answer.strip() if answer else None) == refused


def test_profiles_say_who_has_winrm_and_which_powershell() -> None:
    assert [k for k, p in PROFILES.items() if not p.winrm] == ["nt4", "2000", "xp"]
    assert {k: p.ps_version for k, p in PROFILES.items() if p.winrm} == {
        "2003": "2.0",
        "2008r2": "2.0",
        "2012r2": "4.0",
        "2016": "5.1",
        "2019": "5.1",
        "2022": "5.1",
        "2025": "5.1",
    }
    assert with_wmf51(PROFILES["2008r2"], True).ps_version == "5.1"
    assert with_wmf51(PROFILES["2012r2"], False).ps_version == "4.0"
    with pytest.raises(ValueError, match=r"WMF 5\.1 does not install"):
        with_wmf51(PROFILES["2003"], True)


def test_fleet_hosts_default_to_wmf51_where_it_installs() -> None:
    assert build_host({"name": "a", "profile": "2008r2"}).profile.ps_version == "5.1"
    assert build_host({"name": "b", "profile": "2012r2", "wmf51": False}).profile.ps_version == "4.0"
    demo = load_fleet("demo")
    assert {h.profile.ps_version for h in demo.hosts.values() if h.profile.key in ("2008r2", "2012r2")} == {"5.1"}


def test_inventory_points_hosts_without_winrm_at_a_refusing_port() -> None:
    fleet = load_fleet("demo")
    hosts = {
        name: host_vars
        for group in inventory_for(fleet, 5999, refused_port=6000)["all"]["children"].values()
        for name, host_vars in (group.get("hosts") or {}).items()
    }
    assert {n for n, v in hosts.items() if v.get("ansible_port") == 6000} == {"nt4-lab", "w2k-scada", "xp-kiosk"}


@pytest.fixture
def server(serve_fleet: Callable[[Fleet], FleetServer]) -> FleetServer:
    specs: dict[str, dict[str, object]] = {
        "w2016": {"profile": "2016"},
        "w2012": {"profile": "2012r2", "wmf51": False},
        "w2003": {"profile": "2003"},
        "w2000": {"profile": "2000"},
    }
    return serve_fleet(
        Fleet("bootstrap", {name: build_host({"name": name, **spec}) for name, spec in specs.items()}, {})
    )


def run_payload(server: FleetServer, host: str, payload: bytes) -> tuple[bytes, int]:
    client = winrm.Protocol(
        f"http://127.0.0.1:{server.port}/wsman/{host}",
        transport="basic",
        username="simadmin",
        password="Sim-Admin-Pass1",
        operation_timeout_sec=5,
        read_timeout_sec=10,
        proxy=None,
    )
    shell = client.open_shell()
    command = client.run_command(shell, "powershell", [])
    client.send_command_input(shell, command, payload, end=True)
    stdout, _stderr, rc = client.get_command_output(shell, command)
    client.close_shell(shell)
    return stdout, rc


@pytest.mark.parametrize(
    ("host", "payload", "expected"),
    [
        ("w2016", "payload-2.21-win_ping.bin", None),
        ("w2012", "payload-2.21-win_ping.bin", V51),  # PowerShell 4.0 without WMF 5.1
        ("w2003", "payload-2.21-win_ping.bin", V51),
        ("w2012", "payload-2.18-win_ping.bin", None),  # 4.0 >= 3.0: ansible-core 2.18 still runs it
        ("w2003", "payload-2.18-win_ping.bin", V30),
    ],
)
def test_bootstrap_floor_through_winrm(server: FleetServer, host: str, payload: str, expected: bytes | None) -> None:
    stdout, rc = run_payload(server, host, (DATA / payload).read_bytes())
    executions = server.state.hosts[host].counters.as_dict()["round_trips"]
    if expected is None:
        assert rc == 0 and json.loads(stdout)["ping"] and executions == 1
    else:
        assert (stdout.strip(), rc, executions) == (expected, 1, 0)


def test_hosts_without_winrm_refuse_connections(server: FleetServer) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", server.refused_port), timeout=2)
    # Reached on the fleet's port anyway, the connection is dropped without an answer.
    with pytest.raises(Exception, match=r"(?i)connection|reset|aborted"):
        run_payload(server, "w2000", (DATA / "payload-2.21-win_ping.bin").read_bytes())
    assert server.state.hosts["w2000"].counters.as_dict()["round_trips"] == 0
