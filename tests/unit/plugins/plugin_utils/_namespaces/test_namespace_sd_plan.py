# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_findings import normalise_namespace
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd_plan import (
    NamespaceSdRefusal,
    parse_request,
    plan,
    resolve,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._access_check import control_holders, control_loss
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Ace, Sid, sd_from_sddl, sd_to_sddl
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, written_value

BASE = {
    "namespace": "root",
    "mode": "exact",
    "sddl": None,
    "aces": None,
    "owner": None,
    "group": None,
    "allow_lockout": False,
}
ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("root/cimv2", "root\\cimv2"),
        ("ROOT\\CIMV2", "root\\CIMV2"),
        ("\\\\root\\\\cimv2\\", "root\\cimv2"),
        ("root", "root"),
    ],
)
def test_namespace_spellings(text, expected):
    assert normalise_namespace(text) == expected


@pytest.mark.parametrize("text", ["", "cimv2", "root\\a:b", "root/*"])
def test_bad_namespaces(text):
    with pytest.raises(ValueError):
        normalise_namespace(text)


def test_owner_and_group_default_to_the_hosts():
    request = parse_request({**BASE, "sddl": "D:" + ADMIN})
    current = sd_from_sddl("O:SYG:SYD:(A;;CC;;;AU)" + ADMIN)
    decision = plan(request, current)
    assert decision.changed
    assert sd_to_sddl(decision.candidate) == "O:SYG:SYD:" + ADMIN


def test_owner_change_is_refused_after_the_read_and_equal_owner_is_fine():
    request = parse_request({**BASE, "sddl": "D:" + ADMIN, "owner": "BA"})
    with pytest.raises(NamespaceSdRefusal) as refused:
        plan(request, sd_from_sddl("O:SYG:SYD:" + ADMIN))
    assert refused.value.result["refusal"] == "owner_change"
    assert "SetSD uses only the non-inherited ACEs" in refused.value.msg
    assert "owner to 'BA' (S-1-5-32-544)" in refused.value.msg
    assert not plan(request, sd_from_sddl("O:BAG:SYD:" + ADMIN)).changed


def test_protected_dacl_still_inherits_in_the_prediction():
    # MS-WMI 2.2.30.2: only the parent's SE_DACL_PROTECTED stops inheritance; the namespace's own does not.
    request = parse_request({**BASE, "namespace": "root\\cimv2", "sddl": "O:BAG:BAD:P" + ADMIN})
    decision = plan(request, sd_from_sddl("O:BAG:BAD:" + ADMIN + "(A;CIID;CC;;;AU)"))
    assert decision.changed
    assert sd_to_sddl(decision.predicted) == "O:BAG:BAD:P" + ADMIN + "(A;CIID;CC;;;AU)"


def test_reordering_alone_is_a_change_in_words():
    request = parse_request({**BASE, "sddl": "O:BAG:BAD:(D;;WP;;;BG)" + ADMIN})
    decision = plan(request, sd_from_sddl("O:BAG:BAD:" + ADMIN + "(D;;WP;;;BG)"))
    assert decision.changed
    assert decision.changes == ["reordered the explicit ACEs into canonical order (deny before allow)"]


def test_absent_of_missing_ace_is_no_change():
    request = parse_request(
        {
            **BASE,
            "mode": "absent",
            "aces": [{"principal": "Everyone", "rights": None, "type": "allow", "inherit": None}],
        }
    )
    current = sd_from_sddl("O:BAG:BAD:" + ADMIN)
    assert not plan(request, current).changed


def test_lockout_refusal_in_exact_mode_is_before_contact():
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request({**BASE, "aces": [{"principal": "AU", "rights": ["Enable"], "type": "allow", "inherit": None}]})
    assert refused.value.result["refusal"] == "lockout"


def test_lockout_waits_for_lookup_when_a_name_is_unknown():
    request = parse_request(
        {
            **BASE,
            "aces": [
                {
                    "principal": "VORDEFINIERT\\Administratoren",
                    "rights": ["FullControl"],
                    "type": "allow",
                    "inherit": None,
                }
            ],
        }
    )
    assert request.lookups == ["VORDEFINIERT\\Administratoren"]


# --- inputs that would write what the user did not mean (issue 8), each class refused -------------------------

CIMV2 = "O:BAG:BAD:(A;CI;CCWP;;;AU)(A;CIID;CCDCLCSWRPWPRCWD;;;BA)"


def refused_code(params: dict, current: str | None = CIMV2, **plan_kwargs) -> str | None:
    """The refusal code (None = accepted); with current=None only the arguments are checked."""
    try:
        request = parse_request({**BASE, "namespace": "root\\cimv2", **params})
        if current is not None:
            plan(request, sd_from_sddl(current), **plan_kwargs)
    except NamespaceSdRefusal as refused:
        return refused.result["refusal"]
    except WmiActionError as failed:
        return failed.result.get("refusal", "error")
    return None


NULL_INPUTS = [
    {"sddl": None, "aces": None},
    {"sddl": None, "aces": None, "mode": "present"},
    {"sddl": None, "aces": None, "mode": "absent"},
    {"sddl": None, "aces": None, "owner": "BA"},
    {},
]


@pytest.mark.parametrize("params", NULL_INPUTS)
def test_null_never_means_exact_without_aces(params):
    assert refused_code(params, current=None) == "no_aces_given"


def test_an_explicit_empty_list_removes_the_explicit_aces_of_a_child():
    request = parse_request({**BASE, "namespace": "root\\cimv2", "aces": []})
    decision = plan(request, sd_from_sddl(CIMV2))
    assert decision.changed and sd_to_sddl(decision.candidate) == "O:BAG:BAD:"
    assert refused_code({"namespace": "root", "aces": []}, current=None) == "empty_dacl"  # root: nothing inherited


RIGHTS_INPUTS = [
    ([], "no_rights"),
    (["0x2_0"], "invalid_rights"),
    (["0b1"], "invalid_rights"),
    (["0o7"], "invalid_rights"),
    (["+5"], "invalid_rights"),
    (["-1"], "invalid_rights"),
    ([" 5 "], "invalid_rights"),
    (["\u0661"], "invalid_rights"),  # ARABIC-INDIC DIGIT ONE
    (["\uff11"], "invalid_rights"),  # FULLWIDTH DIGIT ONE
    (["\u00b2"], "invalid_rights"),  # SUPERSCRIPT TWO
    (["\u00b9"], "invalid_rights"),  # SUPERSCRIPT ONE
    (["1e3"], "invalid_rights"),
    (["0X20"], "invalid_rights"),
    (["0"], "no_rights"),
    (["0x0"], "no_rights"),
]


@pytest.mark.parametrize(("rights", "code"), RIGHTS_INPUTS, ids=[repr(r) for r, _c in RIGHTS_INPUTS])
@pytest.mark.parametrize("mode", ["exact", "present", "absent"])
def test_rights_that_are_not_a_mask_are_refused(rights, code, mode):
    params = {"mode": mode, "aces": [{"principal": "AU", "rights": rights, "type": "allow", "inherit": None}]}
    assert refused_code(params, current=None) == code


@pytest.mark.parametrize("rights", [["32"], ["0x20"], ["0x6003f"], ["0x6003F"], ["RemoteAccess"], ["remoteaccess "]])
def test_ascii_masks_and_names_are_accepted(rights):
    params = {"mode": "present", "aces": [{"principal": "AU", "rights": rights, "type": "allow", "inherit": None}]}
    assert refused_code(params) is None


def test_rights_typo_lists_only_rights_the_module_accepts():
    with pytest.raises(WmiActionError) as failed:
        parse_request({**BASE, "aces": [{"principal": "AU", "rights": ["Enabel"], "type": "allow", "inherit": None}]})
    text = failed.value.msg
    assert "'Enabel'" in text and "Enable, MethodExecute" in text and "FullControl" in text
    for offered_but_refused in ("Subscribe", "Publish", "DefaultUser"):
        assert offered_but_refused not in text


DROPPED_PARTS = [
    ({"sddl": "O:BAG:BAD:" + ADMIN + "S:(AU;SA;CC;;;WD)"}, "sacl_given"),
    ({"sddl": "D:" + ADMIN + "S:"}, "sacl_given"),
    ({"sddl": "D:P" + ADMIN, "mode": "present"}, "protected_needs_exact"),
    ({"sddl": "D:P(A;CI;CC;;;AU)", "mode": "absent"}, "protected_needs_exact"),
    ({"sddl": "O:BAD:" + ADMIN, "owner": "SY"}, "owner_conflict"),
    ({"sddl": "O:BAG:SYD:" + ADMIN, "group": "BA"}, "owner_conflict"),
    ({"sddl": "O:BUD:" + ADMIN}, "non_admin_owner"),
    ({"sddl": "O:WDD:" + ADMIN}, "non_admin_owner"),
    ({"sddl": "D:" + ADMIN, "owner": "S-1-5-21-1-2-3-1107"}, "non_admin_owner"),
    ({"sddl": "D:" + ADMIN, "owner": "Authenticated Users"}, "non_admin_owner"),
]


@pytest.mark.parametrize(("params", "code"), DROPPED_PARTS, ids=[c for _p, c in DROPPED_PARTS])
def test_parts_that_would_be_dropped_are_refused_before_contact(params, code):
    assert refused_code(params, current=None) == code


def test_same_owner_in_sddl_and_option_is_fine():
    assert refused_code({"sddl": "O:BAD:" + ADMIN, "owner": "BUILTIN\\Administrators"}) is None


def test_sddl_parse_errors_carry_invalid_sddl():
    for text in ["O:BAG:BAD:(A;CI;CC;;;XX)", "D:(A;;", "O:", "garbage", "D:(AU;SA;CC;;;AU)"]:
        assert refused_code({"sddl": text}, current=None) == "invalid_sddl", text


def big_request(count: int) -> dict:
    aces = [{"principal": f"S-1-5-21-1-2-3-{10000 + i}", "rights": ["Enable"]} for i in range(count)]
    return {"mode": "present", "aces": [{**ace, "type": "allow", "inherit": None} for ace in aces]}


def test_dacl_over_64k_is_refused_before_contact():
    # Each ACE: 8 + SID of 5 sub-authorities (28) = 36 bytes; 1820 of them pass 64 KiB with the header.
    assert refused_code(big_request(1819), current=None) is None
    assert refused_code(big_request(1821), current=None) == "dacl_too_large"
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request({**BASE, "namespace": "root\\cimv2", **big_request(1821)})
    assert "before contacting the host" in refused.value.msg and "65535 bytes" in refused.value.msg


def test_dacl_that_grows_over_64k_in_the_merge_is_refused_after_the_read():
    existing = "".join(f"(A;CI;CC;;;S-1-5-21-1-2-3-{20000 + i})" for i in range(1000))
    assert refused_code(big_request(900), current="O:BAG:BAD:" + ADMIN + existing) == "dacl_too_large"


def test_unresolved_principal_is_named_as_written_not_as_a_placeholder():
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request(
            {
                **BASE,
                "aces": [
                    {"principal": "BA", "rights": ["FullControl"], "type": "allow", "inherit": None},
                    {"principal": "CORP\\wmi-writers", "rights": ["FullWrite"], "type": "allow", "inherit": None},
                ],
            }
        )
    text = refused.value.msg
    assert "DACL ACE 1 (CORP\\wmi-writers)" in text
    assert "NULL SID" not in text and "S-1-0-0" not in text and "\\\\" not in text


def test_unknown_principal_message_has_no_repr():
    request = parse_request(
        {**BASE, "mode": "present", "aces": [{"principal": "CORP\\nobody", "rights": ["Enable"], "type": "allow"}]}
    )
    with pytest.raises(NamespaceSdRefusal) as refused:
        resolve(request, [{"name": "CORP\\nobody", "sid": None}])
    assert "'CORP\\nobody' does not resolve" in refused.value.msg


def test_unresolved_sid_is_printed_once_in_changes():
    request = parse_request({**BASE, "mode": "present", "sddl": "D:(A;CI;CC;;;S-1-5-21-9-9-9-1107)"})
    decision = plan(request, sd_from_sddl(CIMV2))
    assert decision.changes == ["added: allow S-1-5-21-9-9-9-1107 Enable, inherit this_and_children"]


def test_huge_names_are_not_echoed_whole():
    name = "CORP\\" + "x" * 100_000
    aces = [{"principal": name, "rights": ["FullWrite"], "type": "allow", "inherit": None}]
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request({**BASE, "namespace": "root\\cimv2", "mode": "present", "aces": aces})
    assert len(refused.value.msg) < 1000 and "characters in all" in refused.value.msg
    with pytest.raises(WmiActionError) as failed:
        parse_request({**BASE, "aces": [{"principal": "AU", "rights": ["y" * 100_000], "type": "allow"}]})
    assert len(failed.value.msg) < 1000


@pytest.mark.parametrize("alias", ["DA", "DU", "EA"])
def test_a_domain_alias_says_what_to_write_instead(alias):
    with pytest.raises(WmiActionError) as refused:
        parse_request({**BASE, "sddl": f"O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CC;;;{alias})"})
    assert refused.value.result["refusal"] == "invalid_sddl"
    assert "full SID (S-1-5-21-<domain>-" in refused.value.msg and "aces" in refused.value.msg
    assert "domain_sid" not in refused.value.msg  # namespace_sd has no such option


CALLER = {
    "caller_sid": "S-1-5-21-9-9-9-1104",
    "caller_name": "CORP\\ops-admin",
    "caller_groups": ["S-1-1-0", "S-1-5-32-544", "S-1-5-21-9-9-9-1200"],
}


def deny(sid: str, rights: str = "CCRCWD", flags: str = "CI") -> dict:
    return {"mode": "present", "sddl": f"D:(D;{flags};{rights};;;{sid})"}


@pytest.mark.parametrize(
    "sid",
    [
        "S-1-5-21-1-2-3-512",  # Domain Admins of any domain: in some administrator's token
        "S-1-5-21-1-2-3-513",  # Domain Users
        "S-1-5-21-1-2-3-500",  # a built-in Administrator account
        "S-1-5-64-10",  # NTLM Authentication: every NTLM logon, administrators' too
        "S-1-18-1",  # Authentication authority asserted identity (Kerberos)
        "S-1-5-80-0",  # ALL SERVICES: WMI runs as a LocalSystem service
    ],
)
def test_a_deny_to_a_sid_an_administrator_or_system_may_hold_is_a_lockout(sid):
    assert refused_code(deny(sid)) == "lockout"


def test_an_allow_to_a_sid_they_may_hold_does_not_count_as_keeping_control():
    # Administrators keep control only through SIDs they certainly hold: an allow to Domain Admins proves nothing.
    domain_admins_only = "D:(A;CI;CCDCLCSWRPWPRCWD;;;S-1-5-21-1-2-3-512)(A;CI;CCDCLCSWRPWPRCWD;;;SY)"
    assert refused_code({"sddl": domain_admins_only}, current="O:BAG:BAD:" + ADMIN) == "lockout"


@pytest.mark.parametrize("rights", [0x10000000, 0x40000000, 0x80000000, 0x20000000])
def test_a_deny_of_generic_rights_on_the_host_is_read_as_a_deny_of_every_right(rights):
    # SetSD refuses generic bits, but a descriptor read from a host may hold them (written some other way). How WMI
    # maps them on a namespace is not documented: the stricter reading, in the guard and in WMI-003 alike.
    dacl = [Ace(1, 0, rights, Sid.parse("S-1-5-32-544")), *sd_from_sddl("D:" + ADMIN).dacl.aces]
    assert control_loss("root", dacl, "S-1-5-32-544") is not None
    allow_generic = [Ace(0, 0, 0x10000000, Sid.parse("S-1-5-32-544")), Ace(0, 0, 0xE0000, Sid.parse("S-1-5-18"))]
    assert control_loss("root", allow_generic, None) is not None  # GENERIC_ALL is not counted as granting


def test_a_deny_to_the_connecting_account_or_one_of_its_groups_is_a_lockout():
    holders = control_holders(CALLER)
    for sid in ("S-1-5-21-9-9-9-1104", "S-1-5-21-9-9-9-1200"):
        assert refused_code(deny(sid), holders=holders) == "lockout"
        assert refused_code(deny(sid)) is None  # without the host's report the account is unknown
    assert refused_code(deny("S-1-5-21-9-9-9-1300"), holders=holders) is None  # another account may be denied
    assert control_holders({}) == control_holders({"caller_sid": ""})  # nothing reported: the modelled holders


def test_a_deny_to_a_deny_only_group_of_the_connecting_account_is_a_lockout_and_its_allow_keeps_nothing():
    # WindowsIdentity.Groups omits deny-only groups; the token's DenyOnlySid claims report them.
    caller = {**CALLER, "caller_deny_only_groups": ["S-1-5-21-9-9-9-1400"]}
    assert refused_code(deny("S-1-5-21-9-9-9-1400"), holders=control_holders(caller)) == "lockout"
    assert refused_code(deny("S-1-5-21-9-9-9-1400"), holders=control_holders(CALLER)) is None
    token = control_holders(caller)[-1].tokens[0]
    assert "S-1-5-21-9-9-9-1400" not in token.sids and token.may_hold("S-1-5-21-9-9-9-1400")  # allows never count


def test_an_unreadable_descendant_refuses_a_change_that_may_take_rights_away():
    unreadable = ["root\\cimv2\\Locked"]
    assert refused_code(deny("S-1-5-21-9-9-9-1300"), unreadable=unreadable) == "lockout"
    assert refused_code({"mode": "absent", "sddl": "D:(A;CI;CCWP;;;AU)"}, unreadable=unreadable) == "lockout"
    # Adding or widening an allow cannot lock anyone out, read or not.
    assert refused_code({"mode": "present", "sddl": "D:(A;CI;CCDC;;;AU)"}, unreadable=unreadable) is None
    assert refused_code({**deny("S-1-5-21-9-9-9-1300"), "allow_lockout": True}, unreadable=unreadable) is None


def test_written_value_reports_a_write_whose_read_back_failed_as_changed():
    error = {"code": "WMI", "hresult": 0x80041003, "message": "denied"}
    with pytest.raises(WmiActionError) as raised:
        written_value({"op": "sd_set", "failed": False, "sd": None, "read_back_error": error}, "writing root")
    assert raised.value.result["changed"] is True and "the write was made" in raised.value.msg
    assert written_value({"op": "sd_set", "failed": False, "sd": "AQ==", "read_back_error": None}, "x")["sd"] == "AQ=="
