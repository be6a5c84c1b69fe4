# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespace_audit import NamespaceAudit
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd import sd_from_sddl, sd_to_bytes
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiOperationError

FACTS = {"os_caption": "Microsoft Windows Server 2022", "os_version": "10.0.20348", "os_build": 20348}
DACL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)"


def host():
    return HostContext(FACTS, os_profile(FACTS), check_mode=True, diff_mode=False, enforce=False)


def read(sddl, sacl_read=True, namespace="root"):
    sd = base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()
    return {
        "op": "sd_get",
        "failed": False,
        "namespaces": [{"namespace": namespace, "sd": sd, "error": None}],
        "sacl_read": sacl_read,
    }


def decide(*results, namespaces=None):
    return NamespaceAudit.from_options({"namespaces": namespaces}).decide(host(), list(results))


def test_reads_ask_for_the_sacl():
    assert NamespaceAudit().reads() == [{"op": "sd_get", "namespace": "root", "sacl": True}]


@pytest.mark.parametrize("ace", ["(AU;CISA;WD;;;WD)", "(AU;CISAFA;CCWD;;;AU)", "(AU;CISA;WD;;;BA)"])
def test_audited(ace):
    decision = decide(read(f"{DACL}S:{ace}"))
    assert decision.status == "compliant" and decision.result["audited"] == ["root"]


@pytest.mark.parametrize(
    "sacl",
    [
        "",  # no SACL at all
        "S:(AU;CIFA;WD;;;WD)",  # failures only
        "S:(AU;CISA;RC;;;WD)",  # ReadSecurity, not WriteSecurity
        "S:(AU;CIIOSA;WD;;;WD)",  # inherit-only: not effective on root itself
        "S:(AU;CISA;WD;;;S-1-5-21-1-2-3-1001)",  # one user, not the administrators who can change it
    ],
)
def test_not_audited(sacl):
    decision = decide(read(DACL + sacl))
    assert decision.status == "drift"
    assert [f["id"] for f in decision.findings] == ["security_changes_not_audited"]
    assert "S:(AU;CISA;WD;;;WD)" in decision.remediation and decision.automatic is False


def test_not_inherited_is_low():
    decision = decide(read(f"{DACL}S:(AU;SA;WD;;;WD)"))
    assert decision.status == "compliant"
    assert [f["id"] for f in decision.findings] == ["security_audit_not_inherited"]


def test_without_the_privilege_it_says_so_not_no_sacl():
    decision = decide(read(DACL, sacl_read=False))
    assert decision.status == "error"
    assert "SeSecurityPrivilege" in decision.reason
    assert [f["id"] for f in decision.findings] == ["sacl_unreadable"]
    assert "not 'no SACL'" in decision.findings[0]["message"]


def test_several_namespaces_and_a_failed_read():
    audited = read(f"{DACL}S:(AU;CISA;WD;;;WD)")
    bare = read(DACL, namespace="root\\subscription")
    decision = decide(audited, bare, namespaces=["root", "root/subscription"])
    assert decision.status == "drift" and decision.result["audited"] == ["root"]
    failed = {"op": "sd_get", "failed": True, "error": {"code": "WMI", "hresult": 0x80041003, "message": "denied"}}
    with pytest.raises(WmiOperationError):
        decide(failed)
