"""The payload parser: module name and arguments from stdin, in both exec-wrapper formats."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from ansible.release import __version__ as ansible_version
from sim_testdata import DATA, WIN_PING_STUB, WMI_STATE_PS1, build_payloads

from simulator.dispatch import canonical_module, missing_csharp_utils
from simulator.payload import ModuleCall, PayloadError, ScriptCall, module_name_from_script, parse_payload

WMI_ARGS = {
    "operations": [{"op": "facts"}, {"op": "sd_get", "namespace": "root\\cimv2", "recurse": True}],
    "_ansible_check_mode": True,
    "_ansible_diff": True,
    "_ansible_no_log": False,
    "_ansible_module_name": "winsec.wmi.wmi_state",
}
PING_ARGS = {
    "data": 'π and "quotes"',
    "_ansible_check_mode": False,
    "_ansible_module_name": "ansible.windows.win_ping",
}
EXPECTED_FORMAT = "legacy_json" if tuple(int(p) for p in ansible_version.split(".")[:2]) <= (2, 18) else "exec_manifest"


@pytest.fixture(scope="module")
def real_payloads(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    specs = [("ansible.windows.win_ping", WIN_PING_STUB, PING_ARGS)]
    if WMI_STATE_PS1.is_file():
        specs.append(("winsec.wmi.wmi_state", WMI_STATE_PS1, WMI_ARGS))
    return build_payloads(specs, tmp_path_factory.mktemp("payloads"))


def test_installed_ansible_core_payload_names_the_module_and_keeps_args(real_payloads: list[bytes]) -> None:
    call = parse_payload(real_payloads[0])
    assert isinstance(call, ModuleCall)
    assert call.payload_format == EXPECTED_FORMAT
    assert canonical_module(call.module) == "ansible.windows.win_ping"
    assert call.args == PING_ARGS  # unicode and quotes survive both encoders
    assert call.user_args() == {"data": PING_ARGS["data"]}
    assert call.check_mode is False
    assert call.module_source is not None and call.module_source.startswith("#!powershell")
    # Ansible.Basic travels in the payload (C# util), whatever the format calls it.
    assert any(name.startswith("Ansible.Basic") for name in call.embedded_scripts)


def test_installed_ansible_core_payload_for_our_collection_module(real_payloads: list[bytes]) -> None:
    if len(real_payloads) < 2:
        pytest.skip("plugins/modules/wmi_state.ps1 is not in the collection tree yet")
    call = parse_payload(real_payloads[1])
    assert isinstance(call, ModuleCall)
    assert call.module == "winsec.wmi.wmi_state"
    assert call.check_mode is True and call.diff is True
    assert call.user_args()["operations"][1]["namespace"] == "root\\cimv2"
    # ansible-core resolves the module's #AnsibleRequires: SeSecurityPrivilege comes from its Ansible.Privilege
    # ansible-core 2.18 names the embedded C# util without its extension, 2.19+ with it.
    assert {"Ansible.Privilege", "Ansible.Privilege.cs"} & set(call.embedded_scripts)
    assert missing_csharp_utils(call) == []
    stripped = dataclasses.replace(call, embedded_scripts=[n for n in call.embedded_scripts if "Privilege" not in n])
    assert missing_csharp_utils(stripped) == ["Ansible.Privilege"]


@pytest.mark.parametrize(
    ("sample", "payload_format"),
    [("payload-2.18-win_ping.bin", "legacy_json"), ("payload-2.21-win_ping.bin", "exec_manifest")],
)
def test_recorded_payloads_of_both_formats(sample: str, payload_format: str) -> None:
    """Recorded with ansible-core 2.18.19 / 2.21.5 (large embedded scripts trimmed, see data/README.md)."""
    call = parse_payload((DATA / sample).read_bytes())
    assert isinstance(call, ModuleCall)
    assert call.payload_format == payload_format
    assert canonical_module(call.module) == "ansible.windows.win_ping"
    assert call.user_args() == {"data": "recorded"}
    assert call.diff is True and call.check_mode is False


def test_exec_manifest_takes_the_last_action_and_reports_wrappers() -> None:
    manifest = {
        "scripts": {},
        "actions": [
            {"name": "become_wrapper.ps1", "params": {"BecomeUser": "SYSTEM"}, "secure_params": {}},
            {
                "name": "module_wrapper.ps1",
                "params": {
                    "Script": "ansible_collections.winsec.wmi.plugins.modules.wmi_state.ps1",
                    "Variables": [{"Name": "complex_args", "Scope": "Global", "Value": {"operations": []}}],
                },
            },
        ],
    }
    data = json.dumps({"name": "exec_wrapper", "script": "x", "params": {}}).encode() + b"\n\0\0\0\0\n"
    call = parse_payload(data + json.dumps(manifest).encode())
    assert isinstance(call, ModuleCall)
    assert call.module == "winsec.wmi.wmi_state"
    assert call.wrappers == ["become_wrapper.ps1"]
    assert call.become_user == "SYSTEM"


def test_legacy_manifest_become_user() -> None:
    manifest = {"module_args": {"_ansible_module_name": "win_ping"}, "actions": ["become_wrapper"], "become_user": "x"}
    call = parse_payload(b"exec wrapper\n\n\0\0\0\0" + json.dumps(manifest).encode())
    assert isinstance(call, ModuleCall) and call.become_user == "x" and call.wrappers == ["become_wrapper"]


def test_exec_manifest_for_an_internal_script_is_not_a_module() -> None:
    boot = json.dumps({"name": "exec_wrapper", "script": "x", "params": {}}).encode()
    manifest = json.dumps({"scripts": {}, "actions": [{"name": "winrm_put_file.ps1", "params": {"Path": "C:\\x"}}]})
    call = parse_payload(boot + b"\n\0\0\0\0\n" + manifest.encode() + b"\n\0\0\0\0\nQUJD\r\n")
    assert call == ScriptCall(script="winrm_put_file.ps1", params={"Path": "C:\\x"})


@pytest.mark.parametrize(
    "data",
    [b"", b"Write-Host hi", b"{}\n\0\0\0\0\n{}", b'code\n\n\0\0\0\0{"module_args": {}}', b"x\0\0\0\0not json"],
)
def test_garbage_is_a_payload_error(data: bytes) -> None:
    with pytest.raises(PayloadError):
        parse_payload(data)


@pytest.mark.parametrize(
    ("script", "name"),
    [
        ("ansible_collections.winsec.wmi.plugins.modules.wmi_state.ps1", "winsec.wmi.wmi_state"),
        ("ansible_collections.ansible.windows.plugins.modules.setup.ps1", "ansible.windows.setup"),
        ("ansible.legacy.my_module.ps1", "ansible.legacy.my_module"),
    ],
)
def test_module_name_from_script(script: str, name: str) -> None:
    assert module_name_from_script(script) == name


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("ping", "ansible.windows.win_ping"),  # <= 2.18 carries the name before the Windows rewrite
        ("ansible.legacy.setup", "ansible.windows.setup"),
        ("wmi_state", "winsec.wmi.wmi_state"),  # collections: [winsec.wmi] on <= 2.18
        ("acme.other.wmi_state", "acme.other.wmi_state"),
    ],
)
def test_canonical_module_names(name: str, canonical: str) -> None:
    assert canonical_module(name) == canonical


def test_data_readme_explains_the_recordings() -> None:
    assert "trimmed" in Path(DATA / "README.md").read_text(encoding="utf-8")
