# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64

from ansible_collections.winsec.wmi.plugins.action import namespace_sd_info
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl, sd_to_bytes
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import WS2022_FACTS

ROOT_SDDL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
CIMV2_SDDL = (
    "O:BAG:BAD:(A;CI;CCWP;;;WD)(A;;CCWD;;;S-1-5-21-1-2-3-1107)"
    "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"
)
ORPHAN = "S-1-5-21-1-2-3-1107"


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def sd_get_reply(entries: list[tuple[str, str | None]], principals: dict | None = None) -> dict:
    reply = {
        "op": "sd_get",
        "failed": False,
        "namespaces": [{"namespace": name, "sd": b64(sddl) if sddl else None, "error": None} for name, sddl in entries],
    }
    if principals is not None:
        reply["principals"] = principals
    return reply


PRINCIPALS = {
    "S-1-5-32-544": "BUILTIN\\Administrators",
    "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
    "S-1-5-11": "NT AUTHORITY\\Authenticated Users",
    "S-1-1-0": "Everyone",
    ORPHAN: None,
}


def test_recursive_read_is_one_round_trip_with_findings(run_action):
    replies = [[WS2022_FACTS, sd_get_reply([("root", ROOT_SDDL), ("root\\cimv2", CIMV2_SDDL)], PRINCIPALS)]]
    result, target = run_action(namespace_sd_info, {"namespaces": ["ROOT"], "recurse": True}, replies, check_mode=True)
    assert target.calls == [
        [{"op": "facts"}, {"op": "sd_get", "namespace": "root", "recurse": True, "resolve_names": True}]
    ]
    assert result["changed"] is False
    assert "failed" not in result
    root, cimv2 = result["namespaces"]
    assert root["sddl"] == ROOT_SDDL
    assert root["findings"] == []
    assert root["owner"] == {"sid": "S-1-5-32-544", "name": "BUILTIN\\Administrators"}
    assert cimv2["aces"][0]["principal"] == "Everyone"
    assert cimv2["aces"][0]["rights"] == ["Enable", "RemoteAccess"]
    assert cimv2["aces"][0]["inherit"] == "this_and_children"
    assert [ace["inherited"] for ace in cimv2["aces"]] == [False, False, True, True, True, True]
    assert "explicit_aces" not in cimv2  # one ACE list; each ACE says whether it is inherited
    ids = sorted(finding["id"] for finding in result["findings"])
    assert ids == ["broad_remote_access", "non_admin_write_security", "orphaned_sid"]
    orphan_finding = next(f for f in result["findings"] if f["id"] == "orphaned_sid")
    assert orphan_finding["sid"] == ORPHAN
    assert cimv2["aces"][1]["principal"] == ORPHAN  # an orphan stays readable as its SID
    assert result["finding_count"] == 3


def test_inherited_aces_are_judged_where_the_parent_is_not_read(run_action):
    everyone_root = "O:BAG:BAD:(A;CIID;CCDCSWWP;;;WD)(A;CIID;CCDCLCSWRPWPRCWD;;;BA)"
    replies = [[WS2022_FACTS, sd_get_reply([("root\\cimv2", everyone_root)], {})]]
    result, _target = run_action(namespace_sd_info, {"namespaces": ["root/cimv2"]}, replies)
    assert {finding["id"] for finding in result["findings"]} == {"broad_write", "broad_remote_access"}
    assert all(finding["inherited"] for finding in result["findings"])


def test_non_canonical_and_null_dacl_are_findings(run_action):
    replies = [
        [
            WS2022_FACTS,
            sd_get_reply([("root\\a", "O:BAG:BAD:(A;;CC;;;BA)(D;;CC;;;WD)")], {}),
            sd_get_reply([("root\\b", "O:BAG:BAD:NO_ACCESS_CONTROL")], {}),
        ]
    ]
    result, target = run_action(namespace_sd_info, {"namespaces": ["root\\a", "root\\b"]}, replies)
    assert len(target.calls) == 1
    # root\a grants Administrators only Enable: they could not read or repair it either.
    assert [f["id"] for f in result["findings"]] == ["admin_control_lost", "non_canonical_order", "null_dacl"]


def test_access_denied_namespace_fails_with_the_hresult_name(run_action):
    denied = {
        "op": "sd_get",
        "failed": False,
        "namespaces": [
            {"namespace": "root", "sd": b64(ROOT_SDDL), "error": None},
            {
                "namespace": "root\\secret",
                "sd": None,
                "error": {"code": "WMI", "hresult": 0x80041003, "message": "Access denied"},
            },
        ],
        "principals": {},
    }
    result, _target = run_action(namespace_sd_info, {"recurse": True}, [[WS2022_FACTS, denied]])
    assert result["failed"] is True
    assert "WBEM_E_ACCESS_DENIED (0x80041003)" in result["msg"]
    assert result["namespaces"][1]["error"]["name"] == "WBEM_E_ACCESS_DENIED"
    assert result["namespaces"][0]["sddl"] == ROOT_SDDL


def test_bad_namespace_is_refused_before_contact(run_action):
    result, target = run_action(namespace_sd_info, {"namespaces": ["cimv2"]}, [])
    assert target.calls == []
    assert result["failed"] is True
    assert "must start with root" in result["msg"]


def test_empty_namespace_list_is_refused_before_contact(run_action):
    result, target = run_action(namespace_sd_info, {"namespaces": []}, [])
    assert target.calls == [] and result["failed"] is True
    assert "at least one namespace" in result["msg"]
