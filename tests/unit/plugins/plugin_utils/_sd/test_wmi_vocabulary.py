# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI rights names, inheritance words, well-known principals and the readable ACL structure."""

from __future__ import annotations

import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._acl_view import acl_view, sd_from_view
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._principals import (
    WELL_KNOWN_PRINCIPALS,
    principal_name,
    principal_to_sid,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    SecurityDescriptorError,
    Sid,
    sd_from_sddl,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._wmi_rights import (
    INHERIT_FLAGS,
    WMI_RIGHTS,
    inherit_name,
    mask_to_rights,
    rights_to_mask,
)


class TestRights:
    def test_values(self) -> None:
        assert WMI_RIGHTS == {
            "Enable": 0x1,
            "MethodExecute": 0x2,
            "FullWrite": 0x4,
            "PartialWrite": 0x8,
            "ProviderWrite": 0x10,
            "RemoteAccess": 0x20,
            "Subscribe": 0x40,
            "Publish": 0x80,
            "ReadSecurity": 0x20000,
            "WriteSecurity": 0x40000,
        }

    @pytest.mark.parametrize(
        ("value", "mask"),
        [
            ("enable", 0x1),
            (["Enable", "METHODEXECUTE", "providerwrite"], 0x13),
            ("Enable, MethodExecute", 0x3),
            (0x6003F, 0x6003F),
            (["Enable", 0x20000], 0x20001),
            ("0x20", 0x20),
            ("FullControl", 0x6003F),
            ([], 0),
        ],
    )
    def test_rights_to_mask(self, value: t.Any, mask: int) -> None:
        assert rights_to_mask(value) == mask

    def test_unknown_right_is_named(self) -> None:
        with pytest.raises(SecurityDescriptorError, match=r"unknown WMI access right 'Enabel'; known rights: Enable"):
            rights_to_mask(["Enable", "Enabel"])
        with pytest.raises(SecurityDescriptorError):
            rights_to_mask(True)
        with pytest.raises(SecurityDescriptorError):
            rights_to_mask(-1)

    def test_mask_to_rights(self) -> None:
        assert mask_to_rights(0x6003F) == [
            "Enable",
            "MethodExecute",
            "FullWrite",
            "PartialWrite",
            "ProviderWrite",
            "RemoteAccess",
            "ReadSecurity",
            "WriteSecurity",
        ]
        assert mask_to_rights(0x13 | 0x10000 | 0x10000000) == ["Enable", "MethodExecute", "ProviderWrite", "0x10010000"]
        assert mask_to_rights(0) == []
        assert rights_to_mask(tuple(mask_to_rights(0x1F01FF))) == 0x1F01FF

    def test_inherit_words(self) -> None:
        assert INHERIT_FLAGS == {
            "this": 0,
            "children": 0x0A,
            "this_and_children": 0x02,
            "this_and_immediate_children": 0x06,
        }
        for word, flags in INHERIT_FLAGS.items():
            assert inherit_name(flags | 0x10 | 0x01) == word  # ID and OI do not change the word
        assert inherit_name(0x08) == "inherit_only"
        assert inherit_name(0x0E) == "container_inherit+no_propagate_inherit+inherit_only"


class TestPrincipals:
    @pytest.mark.parametrize(
        ("text", "sid"),
        [
            ("S-1-5-32-544", "S-1-5-32-544"),
            ("s-1-5-18", "S-1-5-18"),
            ("BA", "S-1-5-32-544"),
            ("sy", "S-1-5-18"),
            ("BUILTIN\\Administrators", "S-1-5-32-544"),
            ("builtin\\administrators", "S-1-5-32-544"),
            ("Administrators", "S-1-5-32-544"),
            ("NT AUTHORITY\\SYSTEM", "S-1-5-18"),
            ("SYSTEM", "S-1-5-18"),
            ("Everyone", "S-1-1-0"),
            ("Authenticated Users", "S-1-5-11"),
            ("NT AUTHORITY\\LOCAL SERVICE", "S-1-5-19"),
            ("NETWORK SERVICE", "S-1-5-20"),
            (".\\Administrators", "S-1-5-32-544"),
            ("Distributed COM Users", "S-1-5-32-562"),
        ],
    )
    def test_principal_to_sid(self, text: str, sid: str) -> None:
        assert str(principal_to_sid(text)) == sid

    def test_unknown_needs_host_lookup(self) -> None:
        assert principal_to_sid("CONTOSO\\wmi-readers") is None
        assert principal_to_sid("DA") is None  # domain-relative: only the host knows the domain
        with pytest.raises(SecurityDescriptorError):
            principal_to_sid("S-1-5-x")

    def test_principal_name(self) -> None:
        assert principal_name(Sid(5, (32, 544))) == "BUILTIN\\Administrators"
        orphan = Sid.parse("S-1-5-21-1-2-3-1107")
        assert principal_name(orphan) == "S-1-5-21-1-2-3-1107"
        assert principal_name(orphan, {"S-1-5-21-1-2-3-1107": "CONTOSO\\bob"}) == "CONTOSO\\bob"
        assert principal_name(orphan, {"S-1-5-21-1-2-3-1107": None}) == "S-1-5-21-1-2-3-1107"
        assert principal_name(Sid(5, (18,)), {"S-1-5-18": "NT-AUTORITÄT\\SYSTEM"}) == "NT-AUTORITÄT\\SYSTEM"

    def test_table_is_consistent(self) -> None:
        for sid, name in WELL_KNOWN_PRINCIPALS.items():
            assert str(Sid.parse(sid)) == sid
            assert str(principal_to_sid(name)) == sid


class TestAclView:
    def test_shape(self) -> None:
        view = acl_view(sd_from_sddl("O:BAG:BAD:(A;CI;CCDCRP;;;AU)"))
        assert view == {
            "owner": {"sid": "S-1-5-32-544", "name": "BUILTIN\\Administrators"},
            "group": {"sid": "S-1-5-32-544", "name": "BUILTIN\\Administrators"},
            "dacl": "present",
            "dacl_flags": [],
            "aces": [
                {
                    "type": "allow",
                    "principal": "NT AUTHORITY\\Authenticated Users",
                    "sid": "S-1-5-11",
                    "rights": ["Enable", "MethodExecute", "ProviderWrite"],
                    "mask": 0x13,
                    "inherit": "this_and_children",
                    "inherited": False,
                    "flags": ["container_inherit"],
                }
            ],
        }

    @pytest.mark.parametrize(
        "sddl",
        [
            "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)",
            "O:BAG:BAD:AR(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(D;CIIO;WP;;;S-1-5-21-1-2-3-1107)",
            "O:BAG:BAD:PAI(A;CINP;0x1f01ff;;;SY)(A;IO;CC;;;AU)",
            "O:BAG:BAD:",
            "O:BAG:BAD:NO_ACCESS_CONTROL",
            "O:BAG:BA",
            "D:(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)S:AI(AU;SAFA;CC;;;WD)",
            "",
        ],
    )
    def test_round_trip(self, sddl: str) -> None:
        sd = sd_from_sddl(sddl)
        assert sd_to_sddl(sd_from_view(acl_view(sd))) == sd_to_sddl(sd)

    def test_hand_written(self) -> None:
        view = {
            "owner": "BUILTIN\\Administrators",
            "group": "BA",
            "dacl_flags": ["protected"],
            "aces": [
                {"principal": "Administrators", "rights": "FullControl", "inherit": "this_and_children"},
                {"type": "deny", "sid": "S-1-5-21-1-2-3-1107", "rights": ["RemoteAccess"]},
                {"principal": "NT AUTHORITY\\Authenticated Users", "mask": 0x13, "inherit": "children"},
            ],
        }
        assert sd_to_sddl(sd_from_view(view)) == (
            "O:BAG:BAD:P(A;CI;CCDCLCSWRPWPRCWD;;;BA)(D;;WP;;;S-1-5-21-1-2-3-1107)(A;CIIO;CCDCRP;;;AU)"
        )

    @pytest.mark.parametrize(
        ("view", "message"),
        [
            ({"aces": [{"principal": "CONTOSO\\bob", "rights": ["Enable"]}]}, r"aces\[0\]: principal 'CONTOSO\\bob'"),
            ({"aces": [{"principal": "BA", "rights": ["Enabel"]}]}, r"aces\[0\]: unknown WMI access right 'Enabel'"),
            ({"aces": [{"principal": "BA"}]}, r"aces\[0\]: needs 'rights'"),
            ({"aces": [{"rights": ["Enable"]}]}, r"aces\[0\]: needs 'principal' or 'sid'"),
            ({"aces": [{"principal": "BA", "rights": 1, "type": "audit2"}]}, r"unknown ACE type 'audit2'"),
            ({"aces": [{"principal": "BA", "rights": 1, "inherit": "always"}]}, r"unknown inherit value 'always'"),
            ({"dacl_flags": ["sealed"]}, r"dacl_flags: unknown flag 'sealed'"),
            ({"dacl": "null", "aces": [{"principal": "BA", "rights": 1}]}, r"'null'"),
            ("O:BA", r"must be a mapping"),
        ],
    )
    def test_errors(self, view: t.Any, message: str) -> None:
        with pytest.raises(SecurityDescriptorError, match=message):
            sd_from_view(view)

    def test_names_mapping(self) -> None:
        sd = sd_from_view(
            {"aces": [{"principal": "CONTOSO\\bob", "rights": ["Enable"]}]},
            names={"CONTOSO\\bob": "S-1-5-21-1-2-3-1107"},
        )
        assert sd_to_sddl(sd) == "D:(A;;CC;;;S-1-5-21-1-2-3-1107)"

    def test_resolved_names_in_view(self) -> None:
        view = acl_view(sd_from_sddl("D:(A;;CC;;;S-1-5-21-1-2-3-1107)"), {"S-1-5-21-1-2-3-1107": "CONTOSO\\bob"})
        assert view["aces"][0]["principal"] == "CONTOSO\\bob"
