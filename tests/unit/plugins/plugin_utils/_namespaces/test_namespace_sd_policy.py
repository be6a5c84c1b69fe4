# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Namespace SD policy: every refusal code with its message, semantic comparison and canonical order."""

from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_policy import (
    REFUSAL_CODES,
    NamespaceSdRefused,
    canonical_order,
    explicit_aces,
    is_canonical,
    namespace_sd_problems,
    same_explicit_state,
    validate_namespace_sd,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    Ace,
    Acl,
    SecurityDescriptor,
    Sid,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
)

ROOT = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
CIMV2 = "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"


def codes(sddl: str | None, allow_lockout: bool = False) -> list[str]:
    sd = None if sddl is None else sd_from_sddl(sddl)
    return [p.code for p in namespace_sd_problems(sd, allow_lockout=allow_lockout)]


def test_windows_defaults_are_acceptable() -> None:
    assert codes(ROOT) == []
    validate_namespace_sd(sd_from_sddl(ROOT))
    # GetSD of the 2003 SetSD doc sample: Everyone 0x6003f - acceptable (it does not lock anyone out).
    assert codes("O:BAG:BAD:AR(A;CI;CCDCLCSWRPWPRCWD;;;WD)(A;CI;CCDCLCSWRPWPRCWD;;;BA)") == []


@pytest.mark.parametrize(
    ("sddl", "code", "fragment"),
    [
        (None, "null_sd", "NULL security descriptor"),
        ("O:BAG:BA", "no_dacl", "has no DACL"),
        ("O:BAG:BAD:NO_ACCESS_CONTROL", "null_dacl", "D:NO_ACCESS_CONTROL"),
        ("O:BAG:BAD:", "empty_dacl", "DACL is empty"),
        ("O:BAG:BAD:(A;CI;CCDCRP;;;AU)", "lockout", "from BUILTIN\\Administrators"),
        ("D:(A;CI;CCDCLCSWRPWPRCWD;;;BA)", "no_owner_group", "O:BAG:BA"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;CCLC;;;AU)", "full_write_incomplete", "DACL ACE 1"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;IO;CC;;;AU)", "inherit_only_without_container_inherit", "Add CI"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;CCDT;;;AU)", "unknown_access_bits", "Subscribe"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;CCSD;;;AU)", "unknown_access_bits", "0x10000"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(XA;;CC;;;AU)", "unknown_ace_type", "ACCESS_ALLOWED_CALLBACK"),
        ("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CC;;;AU)", "inherited_ace", "Remove the ID flag"),
    ],
)
def test_refusal_codes(sddl: str | None, code: str, fragment: str) -> None:
    sd = None if sddl is None else sd_from_sddl(sddl)
    problems = namespace_sd_problems(sd)
    assert [p.code for p in problems] == [code]
    assert fragment in str(problems[0])
    assert code in REFUSAL_CODES
    with pytest.raises(NamespaceSdRefused) as caught:
        validate_namespace_sd(sd)
    assert caught.value.code == code


def test_unknown_ace_flags_code() -> None:
    ba = Sid(5, (32, 544))
    sd = SecurityDescriptor(owner=ba, group=ba, dacl=Acl((Ace(0, 0x02, 0x6003F, ba), Ace(0, 0x40, 0x1, Sid(5, (11,))))))
    problems = namespace_sd_problems(sd)
    assert [p.code for p in problems] == ["unknown_ace_flags"]
    assert problems[0].ace_index == 1
    assert problems[0].principal == "NT AUTHORITY\\Authenticated Users"
    assert "DACL ACE 1 (NT AUTHORITY\\Authenticated Users, S-1-5-11)" in str(problems[0])


def test_message_says_where_and_what_to_do() -> None:
    [problem] = namespace_sd_problems(
        sd_from_sddl("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;CCLC;;;S-1-5-21-9-9-9-1001)")
    )
    text = str(problem)
    assert "DACL ACE 1 (S-1-5-21-9-9-9-1001):" in text
    assert "Add PartialWrite and ProviderWrite" in text


def test_owner_or_group_alone_is_enough() -> None:
    assert codes("O:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)") == []
    assert codes("G:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)") == []


def test_full_write_needs_both_partial_and_provider_write() -> None:
    assert codes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;LCSW;;;AU)") == ["full_write_incomplete"]
    assert codes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;LCRP;;;AU)") == ["full_write_incomplete"]
    assert codes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;LCSWRP;;;AU)") == []


def test_lockout_rules() -> None:
    # SYSTEM alone keeping control is not enough: the administrators this collection connects as lose it.
    assert codes("O:BAG:BAD:(A;CI;CCRCWD;;;SY)") == ["lockout"]
    # Administrators keep everything, and SYSTEM (a member of Administrators) with them.
    assert codes("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)") == []
    # Inherit-only ACE does not apply to the namespace itself.
    assert codes("O:BAG:BAD:(A;CIIO;CCDCLCSWRPWPRCWD;;;BA)") == ["lockout"]
    # A deny of WriteSecurity for Administrators counts against, SYSTEM lacks RC.
    assert codes("O:BAG:BAD:(D;;WD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;;WD;;;SY)") == ["lockout"]
    # Inherited ACEs are not what SetSD writes: they do not count.
    assert codes("O:BAG:BAD:(A;CI;CC;;;AU)(A;CIID;CCDCLCSWRPWPRCWD;;;BA)") == ["inherited_ace", "lockout"]
    # Forced: lock-out and empty DACL are allowed, the SetSD rules are not.
    assert codes("O:BAG:BAD:(A;CI;CCDCRP;;;AU)", allow_lockout=True) == []
    assert codes("O:BAG:BAD:", allow_lockout=True) == []
    assert codes("O:BAG:BAD:NO_ACCESS_CONTROL", allow_lockout=True) == ["null_dacl"]
    assert codes(None, allow_lockout=True) == ["null_sd"]


def test_several_problems_are_all_reported() -> None:
    assert codes("D:(A;IO;CCDT;;;AU)") == [
        "no_owner_group",
        "inherit_only_without_container_inherit",
        "unknown_access_bits",
        "lockout",
    ]


def test_explicit_aces_and_same_explicit_state() -> None:
    root, cimv2 = sd_from_sddl(ROOT), sd_from_sddl(CIMV2)
    assert len(explicit_aces(root)) == 4 and explicit_aces(cimv2) == ()
    # Inherited ACEs are ignored: cimv2 with no explicit ACEs equals an SD with an empty explicit list.
    assert same_explicit_state(cimv2, sd_from_sddl("O:BAG:BAD:"))
    # Layout, revision, AR/AI bits and ID-only differences are ignored.
    assert same_explicit_state(root, sd_from_bytes(sd_to_bytes(root)))
    assert same_explicit_state(root, sd_from_sddl(ROOT.replace("D:", "D:ARAI")))
    assert same_explicit_state(root, sd_from_sddl(ROOT + "S:(AU;SA;CC;;;WD)"))
    # Owner and group are not SetSD's: a host that keeps or rewrites them must not fail the read-back.
    assert same_explicit_state(root, sd_from_sddl(ROOT.replace("O:BA", "O:SY")))
    assert same_explicit_state(root, sd_from_sddl(ROOT.replace("G:BA", "G:SY")))
    # Order, mask, flags (low nibble), SID and type all matter.
    swapped = "O:BAG:BAD:(A;CI;CCDCRP;;;NS)(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
    assert not same_explicit_state(root, sd_from_sddl(swapped))
    assert not same_explicit_state(root, sd_from_sddl(ROOT.replace(";;;AU)", ";;;WD)")))
    assert not same_explicit_state(root, sd_from_sddl(ROOT.replace("(A;CI;CCDCRP;;;AU)", "(A;;CCDCRP;;;AU)")))
    assert not same_explicit_state(root, sd_from_sddl(ROOT.replace("(A;CI;CCDCRP;;;AU)", "(D;CI;CCDCRP;;;AU)")))
    assert not same_explicit_state(root, sd_from_sddl(ROOT.replace("(A;CI;CCDCRP;;;AU)", "(A;CI;CCDC;;;AU)")))
    # DACL states are distinct.
    assert not same_explicit_state(sd_from_sddl("O:BAG:BAD:"), sd_from_sddl("O:BAG:BAD:NO_ACCESS_CONTROL"))
    assert not same_explicit_state(sd_from_sddl("O:BAG:BAD:"), sd_from_sddl("O:BAG:BA"))
    assert same_explicit_state(None, None) and not same_explicit_state(None, root)


def test_canonical_order() -> None:
    sd = sd_from_sddl(
        "D:(A;CIID;CC;;;BA)(A;;CC;;;AU)(D;CIID;CC;;;BG)(D;;WP;;;AN)(A;;DC;;;NS)(D;;CC;;;BG)(A;ID;RP;;;LS)"
    )
    aces = sd.dacl.aces if sd.dacl else ()
    ordered = canonical_order(aces)
    expected = sd_from_sddl(
        "D:(D;;WP;;;AN)(D;;CC;;;BG)(A;;CC;;;AU)(A;;DC;;;NS)(A;CIID;CC;;;BA)(D;CIID;CC;;;BG)(A;ID;RP;;;LS)"
    )
    assert expected.dacl is not None
    assert ordered == expected.dacl.aces
    assert not is_canonical(aces) and is_canonical(ordered)
    assert canonical_order(ordered) == ordered  # idempotent
    assert is_canonical(())
