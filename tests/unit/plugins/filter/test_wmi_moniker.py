# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.wmi_moniker, wmi_object_path and wmi_moniker_parse: building, escaping, refusing, round trips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.winsec.wmi.plugins.filter.wmi_moniker import FilterModule
from hypothesis import given
from hypothesis import strategies as st

FILTERS = FilterModule().filters()
REPO_ROOT = Path(__file__).resolve().parents[4]
MONIKER = (
    'winmgmts:{impersonationLevel=impersonate}!//app03.corp.example.com/root/cimv2:Win32_ComputerSystem.Name="APP03"'
)


def test_the_three_replacements_of_the_adsi_extension():
    # WMIObjectPath / GetWMIObject(): the computer's Win32_ComputerSystem from dNSHostName and cn
    assert FILTERS["wmi_moniker"]("app03.corp.example.com", "APP03") == MONIKER
    # GetWMIServices(): the namespace connection
    assert (
        FILTERS["wmi_moniker"]("app03.corp.example.com")
        == "winmgmts:{impersonationLevel=impersonate}!//app03.corp.example.com/root/cimv2"
    )
    assert (
        FILTERS["wmi_object_path"]("app03.corp.example.com", "APP03")
        == '\\\\app03.corp.example.com\\root\\cimv2:Win32_ComputerSystem.Name="APP03"'
    )


def test_every_security_setting_and_escaping():
    moniker = FILTERS["wmi_moniker"](
        "srv01",
        namespace="root\\default",
        class_name="StdRegProv_Test",
        keys={"Path": 'C:\\a "b"', "Index": 7, "Enabled": True},
        authentication_level="pktprivacy",
        authority="kerberos:CORP\\SRV01",
        locale="ms_409",
        privileges="Shutdown, !Debug",
    )
    assert moniker == (
        "winmgmts:{impersonationLevel=impersonate,authenticationLevel=pktPrivacy,authority=kerberos:CORP\\SRV01,"
        '(Shutdown,!Debug)}[locale=ms_409]!//srv01/root/default:StdRegProv_Test.Path="C:\\\\a \\"b\\"",Index=7,'
        "Enabled=TRUE"
    )
    parts = FILTERS["wmi_moniker_parse"](moniker)
    assert parts["keys"] == {"Path": 'C:\\a "b"', "Index": 7, "Enabled": True}
    assert FILTERS["wmi_moniker"](parts) == moniker


def test_parse_microsoft_examples():
    assert FILTERS["wmi_moniker_parse"]('\\\\Machine1\\root\\cimv2:Win32_LogicalDisk.DeviceID="C:"') == {
        "server": "Machine1",
        "namespace": "root/cimv2",
        "class_name": "Win32_LogicalDisk",
        "keys": {"DeviceID": "C:"},
        "impersonation_level": None,
        "authentication_level": None,
        "authority": None,
        "privileges": [],
        "locale": None,
    }
    parsed = FILTERS["wmi_moniker_parse"]("winmgmts:{impersonationLevel=impersonate,(debug,!security)}!root\\default")
    assert (parsed["namespace"], parsed["privileges"], parsed["server"]) == (
        "root/default",
        ["debug", "!security"],
        None,
    )
    assert FILTERS["wmi_moniker_parse"]("WinMgmts://myServer")["server"] == "myServer"
    assert FILTERS["wmi_moniker_parse"]("winmgmts:Win32_LogicalDisk.DeviceID='C:'")["keys"] == {"DeviceID": "C:"}


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("evil/host",), {}, "server must be"),
        (('host"}!//other',), {}, "server must be"),
        (("host",), {"namespace": "root/../x"}, "namespace must be"),
        (("host",), {"namespace": "root/cimv2:Win32_Process"}, "namespace must be"),
        (("host",), {"class_name": "Win32_Process.Handle=1"}, "class_name must be"),
        (("host",), {"class_name": "X", "keys": {"a=1,b": "x"}}, "key property names"),
        (("host",), {"class_name": "X", "keys": {"a": [1]}}, "a value must be"),
        (("host",), {"authority": "kerberos:CORP\\S,(Debug)"}, "authority must be"),
        (("host",), {"privileges": ["Debug)}!//x"]}, "privileges are"),
        (("host",), {"locale": "ms_409]!x"}, "locale must be"),
        (("host",), {"impersonation_level": "root"}, "impersonation_level must be"),
        (("host",), {"keys": {"a": 1}}, "keys need a class_name"),
        ((42,), {}, "expects a DNS host name"),
    ],
)
def test_hostile_or_wrong_input_is_refused(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["wmi_moniker"](*args, **kwargs)


@pytest.mark.parametrize(
    "text", ["winmgmts:{bogus=1}!//x", 'X.Name="unterminated', "X.Name=abc", 'X="only value"', 42, "//bad host/root"]
)
def test_parse_refuses_what_it_cannot_read(text):
    with pytest.raises(AnsibleFilterError):
        FILTERS["wmi_moniker_parse"](text)


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)


@given(
    server=st.one_of(st.none(), st.just("."), st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?", fullmatch=True)),
    namespace=st.lists(st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True), min_size=1, max_size=3).map("/".join),
    class_name=_names,
    keys=st.dictionaries(
        _names, st.one_of(st.text(max_size=20), st.integers(-(2**40), 2**40), st.booleans()), max_size=3
    ),
    authentication=st.sampled_from([None, "pktPrivacy", "connect"]),
    privileges=st.lists(st.from_regex(r"!?[A-Za-z]{1,10}", fullmatch=True), max_size=3),
)
def test_round_trip_build_parse_build(server, namespace, class_name, keys, authentication, privileges):
    moniker = FILTERS["wmi_moniker"](
        server,
        namespace=namespace,
        class_name=class_name,
        keys=keys,
        authentication_level=authentication,
        privileges=privileges,
    )
    parts = FILTERS["wmi_moniker_parse"](moniker)
    assert parts["server"] == (server or None)
    assert (parts["namespace"], parts["class_name"], parts["keys"]) == (namespace, class_name, keys)
    assert parts["privileges"] == privileges
    assert FILTERS["wmi_moniker"](parts) == moniker
    path = FILTERS["wmi_object_path"](server, namespace=namespace, class_name=class_name, keys=keys)
    assert FILTERS["wmi_moniker_parse"](path) == {
        **parts,
        "impersonation_level": None,
        "authentication_level": None,
        "privileges": [],
    }


def test_documented_examples_run_through_ansible_playbook(tmp_path):
    collections = REPO_ROOT / "collections"
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    if not (collections / "ansible_collections" / "winsec" / "wmi").exists() or not ansible_playbook.exists():
        pytest.skip("needs ansible-playbook and the collections/ tree that pytest-ansible creates")
    tasks = []
    for name in ("wmi_moniker", "wmi_object_path", "wmi_moniker_parse"):
        tasks += yaml.safe_load(
            yaml.safe_load((REPO_ROOT / "plugins" / "filter" / f"{name}.yml").read_text())["EXAMPLES"]
        )
    playbook = tmp_path / "examples.yml"
    playbook.write_text(
        yaml.safe_dump([{"name": "examples", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    )
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }
    result = subprocess.run(
        [str(ansible_playbook), "-i", "localhost,", "-c", "local", str(playbook)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    decoder = json.JSONDecoder()
    messages = [decoder.raw_decode(chunk)[0]["msg"] for chunk in result.stdout.split("SUCCESS => ")[1:]]
    assert messages[0] == MONIKER
    assert messages[1] == f'Set objComputerSystem = GetObject("{MONIKER.replace(chr(34), chr(34) * 2)}")'
    assert messages[2] == (
        "winmgmts:{impersonationLevel=impersonate,authenticationLevel=pktPrivacy,(Shutdown)}!"
        "//app03.corp.example.com/root/cimv2"
    )
    assert (
        messages[3] == 'winmgmts:{impersonationLevel=impersonate}!//./root/cimv2:Win32_Directory.Name="C:\\\\Scripts"'
    )
    assert messages[4] == "$cs = [wmi]'\\\\app03.corp.example.com\\root\\cimv2:Win32_ComputerSystem.Name=\"APP03\"'"
    assert messages[5]["server"] == "app03.corp.example.com" and messages[5]["keys"] == {"Name": "APP03"}
    assert messages[6] == (
        "winmgmts:{impersonationLevel=impersonate,authenticationLevel=pktPrivacy}!//app03.corp.example.com/root/cimv2"
    )
