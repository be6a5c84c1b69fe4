"""The host's WMI namespace security: SetSD's acceptance rules, inheritance, access checks (Windows behaviour)."""

from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    Ace,
    Acl,
    SecurityDescriptor,
    Sid,
    sd_from_sddl,
    sd_to_bytes,
)

from simulator.namespaces import (
    ROOT_DEFAULT_SDDL,
    WBEM_E_ACCESS_DENIED,
    WBEM_E_INVALID_NAMESPACE,
    WBEM_E_INVALID_OBJECT,
    WBEM_E_INVALID_PARAMETER,
    NamespaceTree,
    NsAce,
    WmiError,
    inherit_to_child,
)

BA = "S-1-5-32-544"
ADMIN = ["S-1-5-21-1-2-3-1000", BA, "S-1-5-11", "S-1-1-0"]
USER = ["S-1-5-21-1-2-3-1001", "S-1-5-32-545", "S-1-5-11", "S-1-1-0"]
GOOD = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWP;;;S-1-5-21-1-2-3-1001)"


def tree(pre_2003: bool = False) -> NamespaceTree:
    t = NamespaceTree(pre_2003=pre_2003)
    t.add("root", ROOT_DEFAULT_SDDL)
    t.add("root\\cimv2\\Security")
    t.add("root\\subscription")
    return t


def sd_bytes(sddl: str) -> bytes:
    return sd_to_bytes(sd_from_sddl(sddl))


def test_children_inherit_root_ci_aces_as_id_after_explicit_ones() -> None:
    t = tree()
    assert t.sddl("root\\cimv2") == (
        "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"
    )
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(A;CI;CCWP;;;S-1-5-21-1-2-3-1001)"), ADMIN)
    assert t.sddl("root\\cimv2").startswith("O:BAG:BAD:(A;CI;CCWP;;;S-1-5-21-1-2-3-1001)(A;CIID;")
    # ... and the grandchild inherits both levels.
    assert "(A;CIID;CCWP;;;S-1-5-21-1-2-3-1001)" in t.sddl("root\\cimv2\\security")


def test_new_sd_on_a_parent_re_propagates_to_descendants() -> None:
    t = tree()
    t.set_sd("root", sd_bytes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CC;;;WD)"), ADMIN)
    assert t.sddl("root\\cimv2\\Security") == "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CC;;;WD)"


def test_np_reaches_only_the_immediate_child_and_io_is_not_effective_on_the_parent() -> None:
    t = tree()
    t.set_sd(
        "root",
        sd_bytes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CINP;CCWP;;;BU)(A;CIIO;CCDC;;;S-1-5-21-1-2-3-1001)"),
        ADMIN,
    )
    assert t.rights("root", USER) == 0x21  # BU's CC|WP; the IO ACE does not apply to root itself
    assert "(A;NPID;CCWP;;;BU)" in t.sddl("root\\cimv2")  # NP: CONTAINER_INHERIT cleared on the copy (MS-WMI)
    assert "(A;CIID;CCDC;;;S-1-5-21-1-2-3-1001)" in t.sddl("root\\cimv2")  # IO cleared on the child
    assert "BU)" not in t.sddl("root\\cimv2\\Security")  # NP stops after one level
    assert t.rights("root\\cimv2", USER) == 0x23


def test_inherit_to_child_follows_ms_wmi_2_2_30_2() -> None:
    parent = [
        NsAce(0, 0x02, 1, "A"),  # CI
        NsAce(0, 0x06, 2, "B"),  # CI|NP
        NsAce(0, 0x0A, 4, "C"),  # CI|IO
        NsAce(0, 0x00, 8, "D"),  # no inheritance
        NsAce(0, 0x01, 16, "E"),  # OI only
        NsAce(0, 0x03, 32, "F"),  # OI|CI
        NsAce(0, 0x0E, 64, "G"),  # CI|NP|IO
    ]
    assert inherit_to_child(parent) == [
        NsAce(0, 0x12, 1, "A"),  # appended, marked inherited
        NsAce(0, 0x14, 2, "B"),  # NP: CI cleared on the copy, NP kept
        NsAce(0, 0x12, 4, "C"),  # IO cleared on the copy
        # D and E: no CONTAINER_INHERIT, ignored ("if CONTAINER_INHERIT_ACE bit is not set, then ignore this ACE")
        NsAce(0, 0x13, 32, "F"),  # OI kept: the spec clears only CI (with NP) and IO
        NsAce(0, 0x14, 64, "G"),
    ]


def test_only_the_parents_protected_flag_stops_inheritance() -> None:
    t = tree()
    # A protected child still gets its parent's CI ACEs (the child's flag "is not used" for namespaces) ...
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:P(A;CI;CC;;;WD)"), ADMIN)
    assert "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)" in t.sddl("root\\cimv2")
    assert t.rights("root\\cimv2", ADMIN) & 0x60000 == 0x60000
    # ... and its own ACEs stop there: a protected parent's ACEs do not reach its children.
    assert t.sddl("root\\cimv2\\Security") == "O:BAG:BAD:"
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(A;CI;CC;;;WD)"), ADMIN)
    assert "(A;CIID;CC;;;WD)" in t.sddl("root\\cimv2\\Security")


def test_setsd_uses_only_the_dacl_owner_and_group_stay() -> None:
    t = tree()
    t.set_sd("root\\cimv2", sd_bytes("O:WDG:WDD:(A;CI;CC;;;WD)"), ADMIN)
    assert t.sddl("root\\cimv2").startswith("O:BAG:BAD:(A;CI;CC;;;WD)")


def test_setsd_keeps_only_explicit_aces_sent() -> None:
    t = tree()
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(A;CI;CC;;;WD)(A;CIID;CCDCLCSWRPWPRCWD;;;S-1-5-21-9-9-9-500)"), ADMIN)
    assert "S-1-5-21-9-9-9-500" not in t.sddl("root\\cimv2")  # an ID ACE sent by the client is dropped


@pytest.mark.parametrize(
    ("sddl", "reason"),
    [
        ("D:(A;CI;CC;;;WD)", "owner and group missing"),
        ("O:BAD:(A;CI;CC;;;WD)", "group missing"),
        ("O:BAG:BA", "DACL missing"),
        ("O:BAG:BAD:NO_ACCESS_CONTROL", "NULL DACL"),
        ("O:BAG:BAD:(A;CI;LC;;;WD)", "FullWrite"),
        ("O:BAG:BAD:(A;CI;LCSW;;;WD)", "FullWrite"),
        ("O:BAG:BAD:(A;CI;LCRP;;;WD)", "FullWrite"),
        ("O:BAG:BAD:(A;IO;CC;;;WD)", "INHERIT_ONLY"),
        ("O:BAG:BAD:(A;CI;0x100;;;WD)", "unknown access bits"),
        ("O:BAG:BAD:(A;CI;GA;;;WD)", "unknown access bits"),
        ("O:BAG:BAD:(A;CI;0x40;;;WD)", "unknown access bits"),  # Subscribe: undocumented for namespaces
        ("O:BAG:BAD:(A;CISA;CC;;;WD)", "unknown ACE flags"),
        ("O:BAG:BAD:(OA;CI;CC;bf967aba-0de6-11d0-a285-00aa003049e2;;WD)", "unknown ACE type"),
    ],
)
def test_setsd_invalid_parameter_rules_on_2003_and_later(sddl: str, reason: str) -> None:
    t = tree()
    before = t.sddl("root\\cimv2")
    with pytest.raises(WmiError) as caught:
        t.set_sd("root\\cimv2", sd_bytes(sddl), ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_PARAMETER
    assert reason in caught.value.reason
    # Windows does not say which rule: SetSD just returns the HRESULT, which wmi_state.ps1 reports.
    assert caught.value.message == "SetSD on 'root\\cimv2' returned 2147749896"
    assert t.sddl("root\\cimv2") == before


def test_full_write_with_partial_and_provider_write_is_accepted() -> None:
    t = tree()
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(D;CI;LCSWRP;;;WD)(A;CIIO;CCDCLCSWRPWPRCWD;;;BA)"), ADMIN)
    assert t.sddl("root\\cimv2").startswith("O:BAG:BAD:(D;CI;LCSWRP;;;WD)(A;CIIO;")


def test_unknown_ace_type_in_binary_is_refused() -> None:
    sd = SecurityDescriptor(
        owner=Sid.parse(BA), group=Sid.parse(BA), dacl=Acl((Ace(0x02, 0x02, 1, Sid.parse("S-1-1-0")),))
    )
    with pytest.raises(WmiError) as caught:
        tree().set_sd("root", sd_to_bytes(sd), ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_PARAMETER


@pytest.mark.parametrize("data", [b"", sd_bytes("O:BAG:BAD:NO_ACCESS_CONTROL")])
def test_null_sd_refused_since_2003(data: bytes) -> None:
    with pytest.raises(WmiError) as caught:
        tree(pre_2003=False).set_sd("root\\cimv2", data, ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_PARAMETER


@pytest.mark.parametrize("data", [b"", sd_bytes("O:BAG:BAD:NO_ACCESS_CONTROL")])
def test_null_sd_accepted_before_2003_and_the_child_silently_inherits_its_parent(data: bytes) -> None:
    t = tree(pre_2003=True)
    # The user is denied on cimv2 (a deny before the inherited allow: a child cannot drop its parent's ACEs).
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(D;;CCDCRP;;;S-1-5-21-1-2-3-1001)(A;CI;CCDCLCSWRPWPRCWD;;;BA)"), ADMIN)
    assert t.rights("root\\cimv2", USER) == 0
    outcome = t.set_sd("root\\cimv2", data, ADMIN)
    assert outcome.accepted_null
    assert t.sddl("root\\cimv2") == t.sddl("root").replace("(A;CI;", "(A;CIID;")  # the hole: root's SD, wholesale
    assert t.rights("root\\cimv2", USER) == 0x13
    assert t.nodes["root\\cimv2"].null_sd


def test_null_dacl_on_root_before_2003_grants_everyone_everything() -> None:
    t = tree(pre_2003=True)
    t.set_sd("root", sd_bytes("O:BAG:BAD:NO_ACCESS_CONTROL"), ADMIN)
    assert t.sddl("root") == "O:BAG:BAD:NO_ACCESS_CONTROL"
    assert t.rights("root", USER) & 0x40000
    # A NULL DACL has no inheritable ACEs: a child with nothing explicit is left with an empty DACL.
    assert t.sddl("root\\subscription") == "O:BAG:BAD:"


def test_rules_other_than_null_still_apply_before_2003() -> None:
    with pytest.raises(WmiError) as caught:
        tree(pre_2003=True).set_sd("root", sd_bytes("D:(A;CI;CC;;;WD)"), ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_PARAMETER


def test_getsd_needs_read_security_and_setsd_needs_write_security() -> None:
    t = tree()
    with pytest.raises(WmiError) as caught:
        t.get_sd("root\\cimv2", USER)
    assert caught.value.hresult == WBEM_E_ACCESS_DENIED
    with pytest.raises(WmiError) as caught:
        t.set_sd("root\\cimv2", sd_bytes(GOOD), USER)
    assert caught.value.hresult == WBEM_E_ACCESS_DENIED
    # Granting the user ReadSecurity (RC) alone lets it read but still not write.
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(A;CI;CCRC;;;S-1-5-21-1-2-3-1001)"), ADMIN)
    assert t.get_sd("root\\cimv2", USER)
    with pytest.raises(WmiError):
        t.set_sd("root\\cimv2", sd_bytes(GOOD), USER)


def test_deny_before_allow_and_the_owner_gets_no_implicit_rights() -> None:
    t = tree()
    t.set_sd("root\\cimv2", sd_bytes("O:BAG:BAD:(D;CI;CCDCLCSWRPWPRCWD;;;BA)"), ADMIN)  # admins locked out
    assert t.rights("root\\cimv2", ADMIN) == 0
    t2 = tree()
    t2.set_sd("root", sd_bytes("O:BAG:BAD:(A;CI;CC;;;WD)"), ADMIN)  # no admin ACE at all on root
    # Undocumented for WMI whether the owner (BA) keeps READ_CONTROL/WRITE_DAC: the stricter case, it does not.
    assert t2.rights("root", ADMIN) == 0x1
    with pytest.raises(WmiError):
        t2.set_sd("root", sd_bytes(ROOT_DEFAULT_SDDL), ADMIN)


@pytest.mark.parametrize("as_cim_error", [False, True])
def test_a_refused_getsd_or_setsd_surfaces_as_return_value_or_cim_error(as_cim_error: bool) -> None:
    t = tree()
    t.denial_as_cim_error = as_cim_error
    for call in (lambda: t.get_sd("root\\cimv2", USER), lambda: t.set_sd("root\\cimv2", sd_bytes(GOOD), USER)):
        with pytest.raises(WmiError) as caught:
            call()
        assert caught.value.hresult == WBEM_E_ACCESS_DENIED
        assert (caught.value.method is None) is as_cim_error


def test_unparseable_bytes_fail_basic_validity() -> None:
    with pytest.raises(WmiError) as caught:
        tree().set_sd("root", b"\x01\x00\x04\x80garbage", ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_OBJECT


def test_unknown_namespace_and_path_spellings() -> None:
    t = tree()
    with pytest.raises(WmiError) as caught:
        t.get_sd("root\\nope", ADMIN)
    assert caught.value.hresult == WBEM_E_INVALID_NAMESPACE
    assert t.get_sd("ROOT/CIMV2", ADMIN) == t.get_sd("root\\cimv2", ADMIN)
    assert [n.path for n in t.walk("root")] == ["root", "root\\cimv2", "root\\cimv2\\Security", "root\\subscription"]
