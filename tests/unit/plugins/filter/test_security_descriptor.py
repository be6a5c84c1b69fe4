# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public SD filters, called directly and through a real `ansible` run."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.winsec.wmi.plugins.filter.security_descriptor import FilterModule

FILTERS = FilterModule().filters()
ROOT_SDDL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
REPO_ROOT = Path(__file__).resolve().parents[4]
OMIT = "__omit_place_holder__0123456789abcdef"


def test_filter_names() -> None:
    assert set(FILTERS) == {"sddl_to_sd", "sd_to_sddl", "sddl_to_acl", "acl_to_sddl", "wmi_rights"}


def test_sddl_to_sd_formats_and_back() -> None:
    as_list = FILTERS["sddl_to_sd"](ROOT_SDDL, format="list")
    assert isinstance(as_list, list) and as_list[:4] == [1, 0, 4, 128]
    as_b64 = FILTERS["sddl_to_sd"](ROOT_SDDL)
    as_hex = FILTERS["sddl_to_sd"](ROOT_SDDL, OMIT, "hex")
    assert base64.b64decode(as_b64) == bytes(as_list) == bytes.fromhex(as_hex)
    for data in (as_list, as_b64, as_hex, "0x" + as_hex.upper(), bytes(as_list)):
        assert FILTERS["sd_to_sddl"](data) == ROOT_SDDL


def test_domain_sid() -> None:
    data = FILTERS["sddl_to_sd"]("O:DAG:DUD:", domain_sid="S-1-5-21-1-2-3", format="list")
    assert FILTERS["sd_to_sddl"](data) == "O:S-1-5-21-1-2-3-512G:S-1-5-21-1-2-3-513D:"
    assert FILTERS["sd_to_sddl"](data, domain_sid="S-1-5-21-1-2-3") == "O:DAG:DUD:"
    assert FILTERS["sd_to_sddl"](data, domain_sid=OMIT) == "O:S-1-5-21-1-2-3-512G:S-1-5-21-1-2-3-513D:"


def test_sddl_to_acl_shape() -> None:
    view = FILTERS["sddl_to_acl"]("O:BAG:BAD:(A;CI;CCDCRP;;;AU)")
    assert view["owner"] == {"sid": "S-1-5-32-544", "name": "BUILTIN\\Administrators"}
    assert view["aces"] == [
        {
            "type": "allow",
            "principal": "NT AUTHORITY\\Authenticated Users",
            "sid": "S-1-5-11",
            "rights": ["Enable", "MethodExecute", "ProviderWrite"],
            "mask": 19,
            "inherit": "this_and_children",
            "inherited": False,
            "flags": ["container_inherit"],
        }
    ]
    assert FILTERS["acl_to_sddl"](view) == "O:BAG:BAD:(A;CI;CCDCRP;;;AU)"


def test_acl_to_sddl_round_trip_of_root() -> None:
    assert FILTERS["acl_to_sddl"](FILTERS["sddl_to_acl"](ROOT_SDDL)) == ROOT_SDDL


def test_wmi_rights() -> None:
    assert FILTERS["wmi_rights"](0x13) == ["Enable", "MethodExecute", "ProviderWrite"]
    assert FILTERS["wmi_rights"]("0x13") == ["Enable", "MethodExecute", "ProviderWrite"]
    assert FILTERS["wmi_rights"](["Enable", "MethodExecute", "ProviderWrite"]) == 0x13
    assert FILTERS["wmi_rights"]("ReadSecurity") == 0x20000


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("sddl_to_sd", ("D:(A;;CCXX;;;WD)",), r"sddl_to_sd: unknown access right 'XX' at position 8"),
        ("sddl_to_sd", ("D:(A;;CC;;;DU)",), r"alias 'DU' at position 11 .*domain_sid"),
        ("sddl_to_sd", ("D:", OMIT, "yaml"), r"format must be one of base64, list, hex"),
        ("sddl_to_sd", (42,), r"expects an SDDL string"),
        ("sd_to_sddl", ([1, 0, 4],), r"sd_to_sddl: security descriptor is 3 bytes"),
        ("sd_to_sddl", ([1, 0, 999],), r"integers 0-255"),
        ("sd_to_sddl", ("not base64!",), r"neither hex nor valid base64"),
        ("sd_to_sddl", ("0102030",), r"odd number"),
        ("sddl_to_acl", ("D:(XA;;CC;;;WD;(@User.x))",), r"sddl_to_acl: conditional ACE \(XA\) at position 2"),
        ("acl_to_sddl", ({"aces": [{"principal": "nobody", "rights": 1}]},), r"acl_to_sddl: aces\[0\]: principal"),
        ("acl_to_sddl", ("O:BA",), r"expects a mapping"),
        ("wmi_rights", (["Enabel"],), r"wmi_rights: unknown WMI access right 'Enabel'"),
        ("wmi_rights", (True,), r"not a boolean"),
    ],
)
def test_errors_are_filter_errors(name: str, args: tuple[object, ...], message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS[name](*args)


@pytest.mark.parametrize("name", ["sddl_to_sd", "sddl_to_acl"])
def test_sddl_over_several_lines(name: str) -> None:
    """What a YAML '|' block (one ACE per line, trailing newline) and a '>' block hand the filters."""
    literal = "O:BAG:BA\nD:\n(A;CI;CCDCLCSWRPWPRCWD;;;BA)\n(A;CI;CCDCRP;;;NS)\n(A;CI;CCDCRP;;;LS)\n(A;CI;CCDCRP;;;AU)\n"
    folded = literal.replace("\n", " ").rstrip() + "\n"
    assert FILTERS[name](literal) == FILTERS[name](folded) == FILTERS[name](ROOT_SDDL)


def test_filter_refuses_whitespace_inside_a_token() -> None:
    with pytest.raises(
        AnsibleFilterError, match=r"sddl_to_sd: whitespace ' ' at position 11 inside the ACE's SID ' BA'"
    ):
        FILTERS["sddl_to_sd"]("D:(A;;CC;;; BA)")


def _ansible_env() -> dict[str, str]:
    collections = REPO_ROOT / "collections"
    if not (collections / "ansible_collections" / "winsec" / "wmi").exists():
        pytest.skip("needs the collections/ tree that pytest-ansible creates")
    return {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
    }


def test_real_playbook_with_sddl_in_yaml_blocks(tmp_path: Path) -> None:
    """SDDL written one ACE per line in a playbook, as '|' and '>' blocks, through ansible-playbook."""
    playbook = tmp_path / "sddl_blocks.yml"
    playbook.write_text(
        """- name: SDDL over several lines
  hosts: localhost
  gather_facts: false
  vars:
    literal_block: |
      O:BAG:BA
      D:
      (A;CI;CCDCLCSWRPWPRCWD;;;BA)
      (A;CI;CCDCRP;;;NS)
      (A;CI;CCDCRP;;;LS)
      (A;CI;CCDCRP;;;AU)
    folded_block: >
      O:BAG:BAD:
      (A;CI;CCDCLCSWRPWPRCWD;;;BA)
      (A;CI;CCDCRP;;;NS)
      (A;CI;CCDCRP;;;LS)
      (A;CI;CCDCRP;;;AU)
  tasks:
    - name: Print both through the filters
      ansible.builtin.debug:
        msg:
          - "{{ literal_block | winsec.wmi.sddl_to_sd | winsec.wmi.sd_to_sddl }}"
          - "{{ folded_block | winsec.wmi.sddl_to_sd | winsec.wmi.sd_to_sddl }}"
""",
        encoding="utf-8",
    )
    ansible_playbook = Path(sys.executable).parent / "ansible-playbook"
    if not ansible_playbook.exists():
        pytest.skip(f"needs {ansible_playbook}")
    result = subprocess.run(
        [str(ansible_playbook), "-i", "localhost,", "-c", "local", str(playbook)],
        env=_ansible_env(),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    payload = result.stdout.partition("SUCCESS => ")[2]
    assert json.loads(payload.partition("\n\nPLAY RECAP")[0])["msg"] == [ROOT_SDDL, ROOT_SDDL]


def test_real_ansible_run() -> None:
    """The documented one-liner, through ansible's own plugin loader and templating."""
    ansible = Path(sys.executable).parent / "ansible"
    collections = REPO_ROOT / "collections"
    if not ansible.exists() or not (collections / "ansible_collections" / "winsec" / "wmi").exists():
        pytest.skip(f"needs {ansible} and the collections/ tree that pytest-ansible creates")
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.minimal",
        "ANSIBLE_LOCALHOST_WARNING": "0",
    }
    result = subprocess.run(
        [
            str(ansible),
            "localhost",
            "-m",
            "ansible.builtin.debug",
            "-a",
            "msg={{ 'O:BAG:BAD:(A;CI;CCDCRP;;;AU)' | winsec.wmi.sddl_to_acl }}",
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # minimal callback: "localhost | SUCCESS => {json}"
    payload = result.stdout.partition("SUCCESS => ")[2]
    msg = json.loads(payload)["msg"]
    assert msg["aces"][0]["principal"] == "NT AUTHORITY\\Authenticated Users"
    assert msg["aces"][0]["rights"] == ["Enable", "MethodExecute", "ProviderWrite"]


def test_an_account_name_in_a_message_is_written_as_the_user_wrote_it() -> None:
    acl = {
        "owner": "BA",
        "group": "BA",
        "dacl": "present",
        "aces": [{"principal": "CORP\\wmi-readers", "rights": ["Enable"]}],
    }
    with pytest.raises(AnsibleFilterError) as refused:
        FilterModule().filters()["acl_to_sddl"](acl)
    assert "'CORP\\wmi-readers'" in str(refused.value)  # one backslash, as written
    assert "\\\\" not in str(refused.value)
