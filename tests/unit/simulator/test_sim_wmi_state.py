"""winsec.wmi.wmi_state on the host model: each op of plugins/modules/wmi_state.yml, argspec checks, check mode."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)

from simulator.dispatch import execute
from simulator.fleet import Fleet
from simulator.host import Caller, Host
from simulator.namespaces import audit_aces_from_sddl
from simulator.payload import ModuleCall


def admin(host: Host) -> Caller:
    return next(c for c in host.callers.values() if c.admin)


def user(host: Host) -> Caller:
    return next(c for c in host.callers.values() if not c.admin)


def run(
    host: Host, operations: list[dict[str, Any]], *, check: bool = False, caller: Caller | None = None, **extra: Any
) -> dict[str, Any]:
    args = {
        "operations": operations,
        "_ansible_check_mode": check,
        "_ansible_module_name": "winsec.wmi.wmi_state",
        **extra,
    }
    call = ModuleCall(module="winsec.wmi.wmi_state", args=args, payload_format="exec_manifest")
    return execute(host, caller or admin(host), call).result


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def sddl_of(entry_sd: str) -> str:
    return sd_to_sddl(sd_from_bytes(base64.b64decode(entry_sd)))


def test_facts_and_registry_reads(small_fleet: Fleet) -> None:
    ws2003 = small_fleet.hosts["ws2003"]
    facts, unsecapp, dcom = run(
        ws2003,
        [
            {"op": "facts"},
            {"op": "registry_read", "value": "unsecapp_access_control_default"},
            {"op": "registry_read", "value": "dcom_require_integrity_activation_authentication_level"},
        ],
    )["results"]
    caller = admin(ws2003)
    assert facts.pop("caller_sid") == caller.sid and facts.pop("caller_name") == f"WS2003\\{caller.user}"
    assert "S-1-5-32-544" in facts.pop("caller_groups")  # the token wmi_state runs with
    assert facts.pop("caller_deny_only_groups") == []  # WindowsIdentity.Groups omits deny-only groups; reported apart
    assert facts == {
        "op": "facts",
        "failed": False,
        "os_caption": "Microsoft(R) Windows(R) Server 2003, Enterprise Edition",
        "os_version": "5.2.3790",
        "os_build": 3790,
        "product_type": 3,
        "computer_name": "WS2003",
        "dns_host_name": "ws2003",
        "domain": "WORKGROUP",
        "part_of_domain": False,
        "ps_version": "2.0",
    }
    assert unsecapp == {
        "op": "registry_read",
        "failed": False,
        "key_exists": True,
        "exists": True,
        "type": "REG_SZ",
        "data": "1",
    }
    assert dcom["key_exists"] is False and dcom["exists"] is False  # no Ole\AppCompat before Vista/2008
    ws2022 = small_fleet.hosts["ws2022"]
    facts = run(ws2022, [{"op": "facts"}])["results"][0]
    assert facts["part_of_domain"] is True and facts["dns_host_name"] == "ws2022.corp.example.com"


def test_argspec_mismatch_fails_loudly(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    result = run(host, [{"op": "facts", "bogus": 1}])
    assert result["failed"] and result["msg"].startswith("SIMULATOR ARGSPEC MISMATCH")
    result = run(host, [{"op": "registry_read", "value": "HKLM\\anything"}])
    assert result["msg"].startswith("SIMULATOR ARGSPEC MISMATCH") and "value" in result["msg"]
    result = run(host, [{"op": "facts"}], unexpected_top_level=True)
    assert result["msg"].startswith("SIMULATOR ARGSPEC MISMATCH")
    assert host.counters.argspec_mismatches == 3


def test_per_op_required_parameters_are_a_contract_violation(small_fleet: Fleet) -> None:
    result = run(small_fleet.hosts["ws2022"], [{"op": "sd_set", "namespace": "root", "sd": "AAAA"}])
    assert result["failed"] and result["msg"].startswith("SIMULATOR CONTRACT VIOLATION")
    assert "expected_sd" in result["msg"]


def test_registry_write_dword_data_is_checked_before_anything_runs(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    write = {
        "op": "registry_write",
        "value": "unsecapp_access_control_default",
        "data": "on",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    result = run(host, [{"op": "facts"}, write])
    assert result["failed"] and result["msg"] == "registry_write data 'on' is not a DWORD (0 to 4294967295)"
    assert host.counters.writes["registry"] == 0


def test_registry_values_in_the_wire_form(host_factory) -> None:
    host = host_factory(
        registry={
            "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM": {
                "UnsecAppAccessControlDefault": {"type": "REG_BINARY", "data": b"\x01\x00"}
            }
        }
    )
    value = run(host, [{"op": "registry_read", "value": "unsecapp_access_control_default"}])["results"][0]
    assert value["type"] == "REG_BINARY" and value["data"] == "AQA="


def test_registry_write_round_trip_changed_since_read_and_check_mode(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    write = {
        "op": "registry_write",
        "value": "unsecapp_access_control_default",
        "data": "1",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    refused = run(host, [write], check=True)["results"][0]
    assert refused["failed"] and refused["error"]["code"] == "CHECK_MODE"
    assert host.counters.writes["registry"] == 0
    done = run(host, [write])
    assert done["changed"] is True
    assert done["results"][0]["before"] == {"exists": False, "type": None, "data": None}
    assert done["results"][0]["after"] == {"exists": True, "type": "REG_DWORD", "data": 1}
    stale = run(host, [write, {"op": "registry_read", "value": "unsecapp_access_control_default"}])["results"]
    assert stale[0]["error"]["code"] == "CHANGED_SINCE_READ"
    assert stale[1]["failed"] is False  # reads still run after a failed write
    retyped = run(
        host,
        [
            {
                **write,
                "data": "1",
                "value_type": "string",
                "expected": {"exists": True, "type": "REG_DWORD", "data": "1"},
            }
        ],
    )["results"][0]
    assert retyped["after"] == {"exists": True, "type": "REG_SZ", "data": "1"}
    assert host.counters.writes["registry"] == 2


def test_failed_write_skips_later_writes(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    bad = {
        "op": "registry_write",
        "value": "unsecapp_access_control_default",
        "data": "0",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    second = {
        "op": "registry_write",
        "value": "dcom_raise_activation_authentication_level",
        "data": "1",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    results = run(host, [bad, second])["results"]
    assert results[0]["error"]["code"] == "CHANGED_SINCE_READ"
    assert results[1]["error"]["code"] == "SKIPPED"
    assert host.registry.get("HKLM\\SOFTWARE\\Microsoft\\Ole\\AppCompat", "RaiseActivationAuthenticationLevel") is None


def test_registry_write_denied_for_non_admin(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    write = {
        "op": "registry_write",
        "value": "unsecapp_access_control_default",
        "data": "1",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    result = run(host, [write], caller=user(host))["results"][0]
    # Its own code, not WMI: Windows (the key's ACL) refused, with E_ACCESSDENIED; a failed op is exactly
    # {op, failed, error}, as wmi_state.ps1's catch leaves it.
    assert set(result) == {"op", "failed", "error"}
    assert (result["error"]["code"], result["error"]["hresult"]) == ("ACCESS_DENIED", 0x80070005)


def test_sd_get_recurse_resolve_names_orphans_and_access(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    result = run(host, [{"op": "sd_get", "namespace": "ROOT\\CIMV2", "recurse": True, "resolve_names": True}])
    # Every SID of every namespace in one translation batch (an unreachable DC costs one timeout, not one per ACE).
    assert host.counters.lsa_batches == 1
    op = result["results"][0]
    paths = [e["namespace"] for e in op["namespaces"]]
    # Named as requested, children by their own spelling, siblings in ordinal order (StringComparer.Ordinal in
    # wmi_state.ps1: upper case before lower case, unlike the culture-aware Sort-Object).
    assert paths[:3] == ["ROOT\\CIMV2", "ROOT\\CIMV2\\Security", "ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption"]
    assert paths.index("ROOT\\CIMV2\\TerminalServices") < paths.index("ROOT\\CIMV2\\power")
    assert paths.index("ROOT\\CIMV2\\Security") < paths.index("ROOT\\CIMV2\\Security\\MicrosoftVolumeEncryption")
    everything = run(host, [{"op": "sd_get", "namespace": "root", "recurse": True}])["results"][0]["namespaces"]
    assert [e["namespace"] for e in everything][:3] == ["root", "root\\CIMV2", "root\\CIMV2\\Security"]
    assert "root\\DEFAULT" in [e["namespace"] for e in everything]
    assert sddl_of(op["namespaces"][0]["sd"]).startswith("O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)")
    orphan = f"{host.lsa.machine_sid}-1109"
    assert op["principals"][orphan] is None
    assert op["principal_errors"][orphan]["code"] == "LOOKUP"
    assert "S-1-1-0" not in op["principal_errors"]
    assert op["principals"]["S-1-1-0"] == "Everyone"
    assert op["principals"]["S-1-5-32-544"] == "BUILTIN\\Administrators"
    # The op itself does not fail (wmi_state.ps1): each namespace entry carries its own error.
    denied = run(host, [{"op": "sd_get", "namespace": "root"}], caller=user(host))["results"][0]
    assert denied["failed"] is False
    assert denied["namespaces"] == [
        {
            "namespace": "root",
            "sd": None,
            "error": {"code": "WMI", "hresult": 0x80041003, "message": "GetSD on 'root' returned 2147749891"},
        }
    ]
    missing = run(host, [{"op": "sd_get", "namespace": "root\\nothere", "recurse": True}])["results"][0]
    # Code and HRESULT only: the message text is Windows' own (localized), the simulator's is a stand-in.
    assert (missing["namespaces"][0]["error"]["code"], missing["namespaces"][0]["error"]["hresult"]) == (
        "WMI",
        0x8004100E,
    )


def test_sd_set_guarded_by_expected_sd_and_refused_by_host_rules(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    current = run(host, [{"op": "sd_get", "namespace": "root\\cimv2"}])["results"][0]["namespaces"][0]["sd"]
    new = b64("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWP;;;S-1-5-21-1-2-3-1001)")
    in_check = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": new, "expected_sd": current}], check=True)
    assert in_check["results"][0]["error"]["code"] == "CHECK_MODE"
    stale = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": new, "expected_sd": new}])["results"][0]
    assert stale["error"]["code"] == "CHANGED_SINCE_READ"
    invalid = run(
        host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": b64("D:(A;CI;CC;;;WD)"), "expected_sd": current}]
    )["results"][0]
    assert invalid["error"] == {
        "code": "WMI",
        "hresult": 0x80041008,
        "message": "SetSD on 'root\\cimv2' returned 2147749896",
    }
    assert host.events[-1]["reason"] == "owner and group missing"
    assert host.counters.writes["namespace_sd"] == 0
    done = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": new, "expected_sd": current}])
    assert done["changed"] and not done["results"][0]["failed"]
    assert sddl_of(done["results"][0]["sd"]).startswith("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWP;")
    assert host.counters.writes["namespace_sd"] == 1


def test_sacl_set_replaces_only_the_sacl_and_needs_the_privilege(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]

    def privileged_read(namespace: str = "root") -> str:
        reply = run(host, [{"op": "sd_get", "namespace": namespace, "sacl": True}])["results"][0]
        return str(reply["namespaces"][0]["sd"])

    dacl_before = run(host, [{"op": "sd_get", "namespace": "root"}])["results"][0]["namespaces"][0]["sd"]
    current = privileged_read()
    sacl = b64("S:(AU;CISA;WD;;;WD)")
    op = {"op": "sacl_set", "namespace": "root", "sd": sacl, "expected_sd": current}
    assert run(host, [op], check=True)["results"][0]["error"]["code"] == "CHECK_MODE"
    assert run(host, [op], caller=user(host))["results"][0]["error"]["code"] == "PRIVILEGE"
    stale = b64("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)")
    assert run(host, [{**op, "expected_sd": stale}])["results"][0]["error"]["code"] == "CHANGED_SINCE_READ"
    with_dacl = b64("D:(A;CI;CCDCLCSWRPWPRCWD;;;WD)S:(AU;CISA;WD;;;WD)")
    assert run(host, [{**op, "sd": with_dacl}])["results"][0]["error"]["code"] == "INVALID_SD"
    assert host.counters.writes["namespace_sacl"] == 0
    done = run(host, [op])
    assert done["changed"] and sddl_of(done["results"][0]["sd"]).endswith("S:(AU;CISA;WD;;;WD)")
    assert host.counters.writes["namespace_sacl"] == 1
    # The DACL, owner and group are as before, for a caller without the privilege too; children inherit the entry.
    assert run(host, [{"op": "sd_get", "namespace": "root"}])["results"][0]["namespaces"][0]["sd"] == dacl_before
    assert sddl_of(privileged_read("root\\cimv2")).endswith("S:(AU;CIIDSA;WD;;;WD)")


@pytest.mark.parametrize(
    ("sd", "why"),
    [
        (b64("O:BAG:BAD:NO_ACCESS_CONTROL"), "NULL DACL"),
        (b64("O:BAG:BA"), "no DACL"),
        ("", "empty"),
        ("not base64!", "not base64"),
        (base64.b64encode(b"\x01\x00\x04\x80").decode(), "too short"),
    ],
)
def test_sd_set_refuses_a_missing_or_null_dacl_on_every_release(small_fleet: Fleet, sd: str, why: str) -> None:
    # Windows before Server 2003 accepts a NULL DACL (the namespace inherits its parent's); wmi_state's own byte check
    # refuses it everywhere, before WMI is called.
    for name in ("w2000", "ws2003", "ws2022"):
        host = small_fleet.hosts[name]
        current = run(host, [{"op": "sd_get", "namespace": "root\\cimv2"}])["results"][0]["namespaces"][0]["sd"]
        before = host.counters.total_writes()
        result = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": sd, "expected_sd": current}])
        assert result["results"][0]["error"]["code"] == "INVALID_SD", (name, why)
        assert host.counters.total_writes() == before
        assert not host.namespaces.get("root\\cimv2").null_sd


def test_caller_rights_and_lookups(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    results = run(
        host,
        [
            {"op": "caller_rights", "namespace": "root\\cimv2"},
            {
                "op": "sid_lookup",
                "names": [
                    "BUILTIN\\Administrators",
                    "Everyone",
                    "CORP\\svc_backup",
                    "svc_backup@corp.example.com",
                    "nobody",
                    "S-1-5-21-1-2-3-4",
                ],
            },
            {"op": "name_lookup", "sids": ["S-1-5-18", f"{host.lsa.machine_sid}-500", "S-1-5-21-7-7-7-1234"]},
            {"op": "name_lookup", "sids": ["not-a-sid"]},
        ],
    )["results"]
    assert results[0]["mask"] == 0x6003F
    sids = [a["sid"] for a in results[1]["accounts"]]
    assert sids[:2] == ["S-1-5-32-544", "S-1-1-0"]
    assert sids[2] == sids[3] and sids[2].startswith(host.lsa.domain_sid)
    assert sids[4] is None and sids[5] == "S-1-5-21-1-2-3-4"
    # One error per account that did not translate, none for the others.
    assert [bool(a["error"]) for a in results[1]["accounts"]] == [False, False, False, False, True, False]
    assert results[1]["accounts"][4]["error"]["code"] == "LOOKUP"
    assert [a["name"] for a in results[2]["accounts"]] == ["NT AUTHORITY\\SYSTEM", "WS2022\\Administrator", None]
    assert results[2]["accounts"][2]["error"]["code"] == "LOOKUP"
    assert results[3]["failed"] is False
    assert results[3]["accounts"][0]["name"] is None and results[3]["accounts"][0]["error"]["code"] == "LOOKUP"
    assert run(host, [{"op": "caller_rights", "namespace": "root"}], caller=user(host))["results"][0]["mask"] == 0x13


def test_event_subscriptions(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    op = run(host, [{"op": "event_subscriptions"}])["results"][0]
    consumers = {c["name"]: c for c in op["consumers"]}
    assert consumers["SCM Event Log Consumer"]["class"] == "NTEventLogEventConsumer"
    assert consumers["WindowsUpdateHealth"]["class"] == "CommandLineEventConsumer"
    assert "-Enc" in consumers["WindowsUpdateHealth"]["command_line_template"]
    # Binding references by the referenced instance's Name, as "$($b.Consumer.Name)" gives them.
    assert {(b["filter"], b["consumer"]) for b in op["bindings"]} >= {("WindowsUpdateHealth", "WindowsUpdateHealth")}
    assert {c["namespace"] for c in op["consumers"]} == {"root\\subscription"}
    assert all(f["creator_sid"] for f in op["filters"])
    only_default = run(host, [{"op": "event_subscriptions", "namespaces": ["root\\default"]}])["results"][0]
    assert only_default["consumers"] == []
    missing = run(host, [{"op": "event_subscriptions", "namespaces": ["root\\gone"]}])["results"][0]
    assert missing["error"]["hresult"] == 0x8004100E


def test_script_files(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    op = run(host, [{"op": "script_files", "paths": ["C:\\Scripts", "C:\\missing.vbs"], "max_bytes": 400}])
    files = {f["path"]: f for f in op["results"][0]["files"]}
    assert "C:\\Scripts\\readme.txt" not in files  # default patterns: script types only
    inventory = base64.b64decode(files["C:\\Scripts\\inventory.vbs"]["content"]).decode("cp1252")
    assert "WMIObjectPath" in inventory and "GetWMIObject" in inventory
    js = base64.b64decode(files["C:\\Scripts\\async_procs.js"]["content"])
    assert js.startswith(b"\xff\xfe") and "InstancesOfAsync" in js.decode("utf-16")
    big = [f for f in files.values() if f["truncated"]]
    assert big and all(f["content"] is None for f in big)
    assert files["C:\\missing.vbs"]["error"]["code"] == "NOT_FOUND"


def test_invocation_follows_the_controllers_request(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    assert "invocation" in run(host, [{"op": "facts"}])
    assert "invocation" not in run(host, [{"op": "facts"}], _ansible_inject_invocation=False)


@pytest.mark.parametrize("module", ["ansible.windows.win_shell", "community.windows.win_x"])
def test_modules_the_host_lacks_fail_like_a_missing_cmdlet(small_fleet: Fleet, module: str) -> None:
    host = small_fleet.hosts["ws2022"]
    call = ModuleCall(module=module, args={"_ansible_module_name": module}, payload_format="exec_manifest")
    result = execute(host, admin(host), call).result
    assert result["failed"] and "is not recognized as the name of a cmdlet" in result["msg"]


def test_become_switches_identity(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    operations = [{"op": "caller_rights", "namespace": "root"}]
    args = {"operations": operations, "_ansible_module_name": "winsec.wmi.wmi_state"}
    as_system = ModuleCall("winsec.wmi.wmi_state", args, "exec_manifest", become_user="NT AUTHORITY\\SYSTEM")
    assert execute(host, user(host), as_system).result["results"][0]["mask"] == 0x6003F
    unknown = ModuleCall("winsec.wmi.wmi_state", args, "exec_manifest", become_user="ghost")
    assert "Failed to become user ghost" in execute(host, admin(host), unknown).result["msg"]


def test_recursive_sd_get_reads_around_what_the_caller_cannot_enumerate(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    current = run(host, [{"op": "sd_get", "namespace": "root\\cimv2"}])["results"][0]["namespaces"][0]["sd"]
    # simuser may not even open root\cimv2\Security now: a deny ahead of the inherited allow.
    tight = b64(f"O:BAG:BAD:(D;;CC;;;{user(host).sid})(A;CI;CCDCLCSWRPWPRCWD;;;BA)")
    security = run(host, [{"op": "sd_get", "namespace": "root\\cimv2\\Security"}])["results"][0]["namespaces"][0]["sd"]
    run(host, [{"op": "sd_set", "namespace": "root\\cimv2\\Security", "sd": tight, "expected_sd": security}])
    entries = run(host, [{"op": "sd_get", "namespace": "root\\cimv2", "recurse": True}], caller=user(host))
    # Not all-or-nothing: the namespace that cannot be opened is one error entry (its children unknown); its
    # siblings and the rest of the tree are still there, each with its own error (no ReadSecurity for simuser).
    found = {e["namespace"]: e for e in entries["results"][0]["namespaces"]}
    assert found["root\\cimv2\\Security"]["error"]["hresult"] == 0x80041003
    assert not any(name.startswith("root\\cimv2\\Security\\") for name in found)
    assert {"root\\cimv2", "root\\cimv2\\power", "root\\cimv2\\TerminalServices"} <= set(found)
    assert all(e["sd"] is None and e["error"]["code"] == "WMI" for e in found.values())
    # The administrator still reads everything, Security's children included.
    admin_view = run(host, [{"op": "sd_get", "namespace": "root\\cimv2", "recurse": True}])["results"][0]["namespaces"]
    assert all(e["error"] is None for e in admin_view)
    assert any(e["namespace"].startswith("root\\cimv2\\Security\\") for e in admin_view)
    assert current


def test_the_sacl_comes_only_through_the_documented_path(small_fleet: Fleet) -> None:
    # GetSD is modelled without the SACL; GetSecurityDescriptor (with the privilege) carries it. A host where that
    # path fails answers with GetSD's descriptor and says so per namespace, so nobody reads "no SACL" into it.
    host = small_fleet.hosts["ws2022"]
    host.namespaces.get("root").audit = audit_aces_from_sddl("S:(AU;CISA;WD;;;WD)")
    op = {"op": "sd_get", "namespace": "root", "sacl": True}
    documented = run(host, [op])["results"][0]
    assert documented["sacl_read"] is True and documented["namespaces"][0]["sacl_returned"] is True
    assert sddl_of(documented["namespaces"][0]["sd"]).endswith("S:(AU;CISA;WD;;;WD)")
    host.faults["sacl_path"] = "getsd_only"
    fallback = run(host, [op])["results"][0]
    assert fallback["sacl_read"] is True and fallback["namespaces"][0]["sacl_returned"] is False
    assert "S:" not in sddl_of(fallback["namespaces"][0]["sd"])
    unprivileged = run(host, [op], caller=user(host))["results"][0]
    assert unprivileged["namespaces"][0]["sacl_returned"] is False


def test_sd_set_guards_owner_group_and_dacl_whether_or_not_the_read_carried_the_sacl(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    host.namespaces.get("root\\cimv2").audit = audit_aces_from_sddl("S:(AU;SA;WD;;;WD)")
    with_sacl = run(host, [{"op": "sd_get", "namespace": "root\\cimv2", "sacl": True}])["results"][0]
    expected = with_sacl["namespaces"][0]["sd"]
    new = b64("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWP;;;S-1-5-21-1-2-3-1001)")
    done = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": new, "expected_sd": expected}])["results"][0]
    assert done["failed"] is False
    stale = run(host, [{"op": "sd_set", "namespace": "root\\cimv2", "sd": new, "expected_sd": expected}])["results"]
    assert stale[0]["error"]["code"] == "CHANGED_SINCE_READ"  # the DACL changed: the guard still holds


@pytest.mark.parametrize("sacl", ["S:(ML;;NW;;;LW)", "S:(AU;SA;WD;;;WD)(ML;;NW;;;LW)"])
def test_sacl_set_refuses_an_ace_win32_ace_cannot_carry_before_writing(small_fleet: Fleet, sacl: str) -> None:
    host = small_fleet.hosts["ws2022"]
    current = run(host, [{"op": "sd_get", "namespace": "root", "sacl": True}])["results"][0]["namespaces"][0]["sd"]
    op = {"op": "sacl_set", "namespace": "root", "sd": b64(sacl), "expected_sd": current}
    refused = run(host, [op])["results"][0]
    assert refused["error"]["code"] == "INVALID_SD" and "cannot carry" in refused["error"]["message"]
    assert host.counters.writes["namespace_sacl"] == 0


def test_resolve_names_translates_the_sacls_trustees_too(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    host.namespaces.get("root").audit = audit_aces_from_sddl("S:(AU;CISA;WD;;;WD)")  # Everyone: in no DACL ACE here
    op = {"op": "sd_get", "namespace": "root", "sacl": True, "resolve_names": True}
    reply = run(host, [op])["results"][0]
    assert reply["principals"]["S-1-1-0"] == "Everyone"
