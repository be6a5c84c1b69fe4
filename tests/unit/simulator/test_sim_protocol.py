"""WS-Management as pywinrm speaks it: a recorded ansible exchange replayed, and the live pywinrm client."""

from __future__ import annotations

import base64
import http.client
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import winrm
from sim_testdata import DATA
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError

from simulator import wsman
from simulator.server import FleetServer

NS = wsman.NS
# pywinrm warns when REQUESTS_CA_BUNDLE is set in the environment; irrelevant over plain HTTP.
pytestmark = pytest.mark.filterwarnings("ignore:'pywinrm' will use an environment variable:DeprecationWarning")
ADMIN = ("simadmin", "Sim-Admin-Pass1")


def post(server: FleetServer, path: str, body: bytes, auth: tuple[str, str] | None = ADMIN) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Content-Type": "application/soap+xml;charset=UTF-8"}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    status, data = response.status, response.read()
    connection.close()
    return status, data


def replace_selector(xml: str, shell_id: str, command_id: str | None) -> str:
    root_text = xml
    for old in {e.text for e in ET.fromstring(xml).iter() if e.get("Name") == "ShellId"}:
        root_text = root_text.replace(old or "", shell_id)
    if command_id:
        for element in ET.fromstring(xml).iter():
            old_id = element.get("CommandId")
            if old_id:
                root_text = root_text.replace(old_id, command_id)
    return root_text


def test_recorded_ansible_exchange_replays_with_answers_the_client_accepts(fleet_server: FleetServer) -> None:
    """Requests recorded from ansible-core 2.19 + pywinrm 0.5 (data/README.md); answers checked the way pywinrm
    parses them (protocol.py): ShellId by Name attribute, CommandId by tag suffix, streams with Name, CommandState
    Done with an ExitCode, RelatesTo == MessageID on Signal and Delete."""
    exchange: list[dict[str, Any]] = json.loads((DATA / "ansible-2.19-win_ping-exchange.json").read_text())
    assert [step["action"] for step in exchange] == ["Create", "Command", "Send", "Receive", "Signal", "Delete"]
    shell_id = command_id = None
    stdout = b""
    for step in exchange:
        xml = step["request"]
        if shell_id:
            xml = replace_selector(xml, shell_id, command_id)
        status, body = post(fleet_server, "/wsman/ws2022", xml.encode())
        assert status == 200, body
        root = ET.fromstring(body)
        request_id = ET.fromstring(xml).find("*/a:MessageID", NS)
        assert root.find("*/a:RelatesTo", NS).text == request_id.text  # type: ignore[union-attr]
        if step["action"] == "Create":
            shell_id = next(n for n in root.iter() if n.get("Name") == "ShellId").text
        elif step["action"] == "Command":
            command_id = next(n for n in root.iter() if n.tag.endswith("CommandId")).text
        elif step["action"] == "Receive":
            streams = [n for n in root.iter() if n.tag.endswith("Stream")]
            assert all("Name" in n.attrib for n in streams)
            stdout = b"".join(base64.b64decode(n.text) for n in streams if n.text and n.get("Name") == "stdout")
            done = [n for n in root.iter() if n.get("State", "").endswith("CommandState/Done")]
            assert len(done) == 1
            assert next(n for n in root.iter() if n.tag.endswith("ExitCode")).text == "0"
    result = json.loads(stdout)
    assert result["ping"] == "recorded" and result["changed"] is False
    assert fleet_server.state.shells["ws2022"] == {}  # Delete closed the shell
    assert fleet_server.state.hosts["ws2022"].counters.module_executions["ansible.windows.win_ping"] == 1


def protocol(server: FleetServer, host: str = "ws2022", user: str = ADMIN[0], password: str = ADMIN[1]) -> Any:
    return winrm.Protocol(
        f"http://127.0.0.1:{server.port}/wsman/{host}",
        transport="basic",
        username=user,
        password=password,
        operation_timeout_sec=5,
        read_timeout_sec=10,
        proxy=None,
    )


def test_live_pywinrm_session_raw_command_and_cleanup(fleet_server: FleetServer) -> None:
    client = protocol(fleet_server)
    shell = client.open_shell(codepage=65001)
    command = client.run_command(shell, "powershell", ["-NoProfile", "-EncodedCommand", "ZQBjAGgAbwA="])
    _stdout, stderr, rc = client.get_command_output(shell, command)
    assert rc == 1 and b"raw commands are not supported" in stderr  # no stdin: not a module
    client.cleanup_command(shell, command)  # pywinrm asserts RelatesTo == MessageID
    client.close_shell(shell)
    counters = fleet_server.state.hosts["ws2022"].counters.as_dict()
    assert counters["requests_by_action"] == {"Create": 1, "Command": 1, "Receive": 1, "Signal": 1, "Delete": 1}
    assert counters["round_trips"] == 0


def test_unknown_shell_is_a_wsman_fault(fleet_server: FleetServer) -> None:
    client = protocol(fleet_server)
    with pytest.raises(winrm.exceptions.WSManFaultError) as caught:
        client.run_command("00000000-0000-0000-0000-000000000000", "cmd", [])
    assert caught.value.wsman_fault_code == wsman.FAULT_SHELL_NOT_FOUND


def test_wrong_password_is_401(fleet_server: FleetServer) -> None:
    with pytest.raises(InvalidCredentialsError):
        protocol(fleet_server, password="wrong").open_shell()
    assert fleet_server.state.hosts["ws2022"].counters.unauthorized == 1
    status, _ = post(fleet_server, "/wsman/ws2022", b"<x/>", auth=None)
    assert status == 401


def test_operation_timeout_fault_is_polled_by_pywinrm(fleet_server: FleetServer) -> None:
    host = fleet_server.state.hosts["ws2022"]
    host.faults["operation_timeout"] = 2
    client = protocol(fleet_server)
    shell = client.open_shell()
    command = client.run_command(shell, "powershell", [])
    _stdout, _stderr, rc = client.get_command_output(shell, command)  # silently retries WinRMOperationTimeoutError
    assert rc == 1
    assert host.counters.requests["Receive"] == 3


def test_http_500_fault_and_unknown_host(fleet_server: FleetServer) -> None:
    fleet_server.state.hosts["ws2022"].faults["http_500"] = 1
    with pytest.raises(WinRMTransportError):
        protocol(fleet_server).open_shell()
    protocol(fleet_server).open_shell()  # the fault fired once
    status, _ = post(fleet_server, "/wsman/nosuchhost", b"<x/>")
    assert status == 404


def control(server: FleetServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """One call of the control API: the HTTP status and the JSON answer."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request(method, path, body=json.dumps(body) if body is not None else None)
    response = connection.getresponse()
    status, data = response.status, json.loads(response.read())
    connection.close()
    return status, data


def test_control_api(fleet_server: FleetServer) -> None:
    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return control(fleet_server, method, path, body)

    status, fleet = call("GET", "/_control/fleet")
    assert status == 200 and set(fleet["hosts"]) == {"ws2022", "ws2016", "ws2012", "ws2003", "w2000"}
    status, faults = call("POST", "/_control/hosts/ws2016/faults", {"latency": 0.01, "http_500": 2})
    assert faults == {"latency": 0.01, "http_500": 2}
    assert call("POST", "/_control/hosts/ws2016/faults", {"bogus": 1})[0] == 400
    assert call("DELETE", "/_control/faults")[0] == 200
    assert call("GET", "/_control/hosts/ws2016/faults")[1] == {}
    state = call("GET", "/_control/hosts/ws2016/state")[1]
    assert state["namespaces"]["root\\cimv2"].startswith("O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)")
    assert "C:\\Scripts\\inventory.vbs" in state["files"]
    assert call("GET", "/_control/hosts/ws2016/counters")[1]["writes"] == 0
    assert call("POST", "/_control/reset-counters", {})[0] == 200
    assert call("GET", "/_control/hosts/nohost/state")[0] == 404


def test_reset_gives_back_every_host_as_the_fleet_file_describes(fleet_server: FleetServer) -> None:
    """POST /_control/reset: what a test wrote, injected or counted is gone, as after a restart of the simulator."""

    def call(method: str, path: str, body: Any = None) -> Any:
        return control(fleet_server, method, path, body)[1]

    at_start = {host: call("GET", f"/_control/hosts/{host}/state") for host in fleet_server.state.hosts}
    counters_at_start = call("GET", "/_control/counters")
    host = fleet_server.state.hosts["ws2016"]
    host.registry.set(r"HKLM\SOFTWARE\Microsoft\WBEM\CIMOM", "UnsecAppAccessControlDefault", "REG_DWORD", 1)
    host.namespaces.add("root\\Added", "O:BAG:BAD:(A;;CC;;;WD)")
    host.counters.count("writes", "registry")
    call("POST", "/_control/hosts/ws2022/faults", {"http_500": 3})
    protocol(fleet_server, "ws2012").open_shell(codepage=65001)  # left open; its requests are counted
    assert fleet_server.state.shells["ws2012"]
    changed = {name: call("GET", f"/_control/hosts/{name}/state") for name in ("ws2016", "ws2022")}
    assert changed["ws2016"] != at_start["ws2016"] and changed["ws2022"] != at_start["ws2022"]

    assert call("POST", "/_control/reset", {}) == {"reset": sorted(at_start)}
    assert {name: call("GET", f"/_control/hosts/{name}/state") for name in at_start} == at_start
    assert call("GET", "/_control/counters") == counters_at_start
    assert all(not shells for shells in fleet_server.state.shells.values())
    # The fleet still serves, and a second reset is the same fleet again.
    client = protocol(fleet_server, "ws2016")
    client.close_shell(client.open_shell(codepage=65001))
    call("POST", "/_control/reset", {})
    assert call("GET", "/_control/hosts/ws2016/state") == at_start["ws2016"]


def test_chunked_stdin_and_shell_bound(fleet_server: FleetServer) -> None:
    """ansible sends stdin in 200,000-byte chunks (winrm.py); the module runs when End="true" arrives."""
    payload = (DATA / "payload-2.21-win_ping.bin").read_bytes()
    client = protocol(fleet_server)
    shell = client.open_shell()
    command = client.run_command(shell, "powershell", [])
    middle = len(payload) // 2
    client.send_command_input(shell, command, payload[:middle], end=False)
    assert fleet_server.state.hosts["ws2022"].counters.as_dict()["round_trips"] == 0
    client.send_command_input(shell, command, payload[middle:], end=True)
    stdout, _stderr, rc = client.get_command_output(shell, command)
    assert rc == 0 and json.loads(stdout)["ping"] == "recorded"
    shells = fleet_server.state.shells["ws2022"]
    for _ in range(300):
        client.open_shell()
    assert len(shells) <= 256
