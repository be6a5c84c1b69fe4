# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Codec behaviour that the Windows corpus cannot show: NULL/empty/absent DACLs, errors, strictness."""

from __future__ import annotations

import struct
import uuid

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
    ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    CONTAINER_INHERIT_ACE,
    SE_DACL_AUTO_INHERIT_REQ,
    SE_DACL_PRESENT,
    SE_DACL_PROTECTED,
    SE_SACL_PRESENT,
    SE_SELF_RELATIVE,
    SYSTEM_MANDATORY_LABEL_ACE_TYPE,
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    mask_to_sddl_rights,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)

BA = Sid(5, (32, 544))
SY = Sid(5, (18,))
AU = Sid(5, (11,))
WMI_ROOT = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"


class TestSid:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("S-1-5-32-544", "S-1-5-32-544"),
            ("S-1-0x2-3-4", "S-1-2-3-4"),
            ("S-1-5000000000-30-40", "S-1-0x12A05F200-30-40"),
            ("S-1-5", "S-1-5"),
            ("S-1-3-0xffffffff-3-4", "S-1-3-4294967295-3-4"),
        ],
    )
    def test_parse_and_print(self, text: str, expected: str) -> None:
        assert str(Sid.parse(text)) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "",
            "S",
            "S-1",
            "S-1-",
            "S-2-5",
            "s-1-5",
            "S-1-5-",
            "S-1-5-x",
            "S-1-0x1000000000000-1",
            "S-1-5-4294967296",
            "S-1-5" + "-1" * 16,
            "S-1-5- 1",
            "S-1-\u0665",
        ],
    )
    def test_parse_rejects(self, text: str) -> None:
        with pytest.raises(SecurityDescriptorError):
            Sid.parse(text)

    def test_binary_round_trip_big_endian_authority(self) -> None:
        sid = Sid.parse("S-1-0x12A05F200-30-40")
        data = sid.to_bytes()
        assert data[:8] == bytes([1, 2, 0, 0x01, 0x2A, 0x05, 0xF2, 0x00])
        assert Sid.from_bytes(data, 0) == (sid, len(data))

    def test_rid(self) -> None:
        assert Sid.parse("S-1-5-21-1-2-3-512").rid == 512
        assert Sid.parse("S-1-5").rid is None

    def test_from_bytes_bounds(self) -> None:
        data = BA.to_bytes()
        with pytest.raises(SecurityDescriptorError, match="runs past"):
            Sid.from_bytes(data[:-1], 0)
        with pytest.raises(SecurityDescriptorError, match="revision 2"):
            Sid.from_bytes(b"\x02" + data[1:], 0)
        with pytest.raises(SecurityDescriptorError, match="16 sub-authorities"):
            Sid.from_bytes(b"\x01\x10" + data[2:], 0)


class TestDaclStates:
    """NULL DACL / empty DACL / no DACL / header-only: constructed vectors (Samba cannot produce them)."""

    def test_no_dacl(self) -> None:
        sd = sd_from_sddl("O:BAG:BA")
        assert not sd.has_dacl and not sd.has_null_dacl and sd.dacl is None
        data = sd_to_bytes(sd)
        assert struct.unpack_from("<H", data, 2)[0] == SE_SELF_RELATIVE
        assert sd_to_sddl(sd_from_bytes(data)) == "O:BAG:BA"

    def test_null_dacl(self) -> None:
        sd = sd_from_sddl("O:BAG:BAD:NO_ACCESS_CONTROL")
        assert sd.has_dacl and sd.has_null_dacl
        data = sd_to_bytes(sd)
        control, off_dacl = struct.unpack_from("<H", data, 2)[0], struct.unpack_from("<I", data, 16)[0]
        assert control & SE_DACL_PRESENT and off_dacl == 0
        back = sd_from_bytes(data)
        assert back == sd and back.has_null_dacl
        assert sd_to_sddl(back) == "O:BAG:BAD:NO_ACCESS_CONTROL"

    def test_null_dacl_with_flags_and_null_sacl(self) -> None:
        sd = sd_from_sddl("D:PNO_ACCESS_CONTROLS:NO_ACCESS_CONTROL")
        assert sd.has_null_dacl and sd.has_null_sacl
        assert sd_to_sddl(sd_from_bytes(sd_to_bytes(sd))) == "D:PNO_ACCESS_CONTROLS:NO_ACCESS_CONTROL"

    def test_empty_dacl(self) -> None:
        sd = sd_from_sddl("D:")
        assert sd.has_dacl and not sd.has_null_dacl and sd.dacl == Acl(())
        assert sd_to_bytes(sd).hex() == "01000480000000000000000000000000140000000200080000000000"
        assert sd_to_sddl(sd_from_bytes(sd_to_bytes(sd))) == "D:"

    def test_header_only(self) -> None:
        sd = sd_from_sddl("")
        assert sd_to_bytes(sd) == bytes([1, 0, 0, 0x80] + [0] * 16)
        assert sd_from_bytes(sd_to_bytes(sd)) == sd
        assert sd_to_sddl(sd) == ""

    def test_model_sets_presence_bits(self) -> None:
        sd = SecurityDescriptor(control=0, owner=BA, group=BA, dacl=Acl(()), sacl=Acl(()))
        assert sd.control == SE_SELF_RELATIVE | SE_DACL_PRESENT | SE_SACL_PRESENT
        null = SecurityDescriptor(control=SE_DACL_PRESENT, owner=BA, group=BA, dacl=None)
        assert null.has_null_dacl


class TestSddlParse:
    def test_wmi_root_default_bytes(self) -> None:
        sd = sd_from_sddl(WMI_ROOT)
        data = sd_to_bytes(sd)
        # Windows layout: DACL at 0x14, then owner, then group; revision 2 (notes §1.9).
        assert struct.unpack_from("<IIII", data, 4) == (0x14 + 0x5C, 0x14 + 0x5C + 16, 0, 0x14)
        assert data[0x14] == 2
        assert sd_from_bytes(data) == sd
        assert sd_to_sddl(sd) == WMI_ROOT

    def test_flags_and_order(self) -> None:
        sd = sd_from_sddl("S:ARD:AIPAR(A;;GA;;;SY)")
        assert sd_to_sddl(sd) == "D:PARAI(A;;GA;;;SY)S:AR"
        assert sd.control & SE_DACL_PROTECTED and sd.control & SE_DACL_AUTO_INHERIT_REQ

    def test_object_ace_revision_4_and_guid_layout(self) -> None:
        sd = sd_from_sddl("D:(OA;;CR;AB721A53-1E2F-11D0-9819-00AA0040529B;;WD)")
        ace = sd.dacl.aces[0] if sd.dacl else None
        assert ace is not None and ace.type == ACCESS_ALLOWED_OBJECT_ACE_TYPE
        assert ace.object_type == uuid.UUID("ab721a53-1e2f-11d0-9819-00aa0040529b")
        data = sd_to_bytes(sd)
        assert data[0x14] == 4
        assert bytes.fromhex("531a72ab2f1ed011981900aa0040529b") in data
        assert sd_to_sddl(sd) == "D:(OA;;CR;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)"

    def test_domain_aliases(self) -> None:
        sd = sd_from_sddl("O:DAG:DUD:(A;;CC;;;LA)", domain_sid="S-1-5-21-1-2-3")
        assert str(sd.owner) == "S-1-5-21-1-2-3-512"
        assert sd_to_sddl(sd) == "O:S-1-5-21-1-2-3-512G:S-1-5-21-1-2-3-513D:(A;;CC;;;S-1-5-21-1-2-3-500)"
        assert sd_to_sddl(sd, domain_sid="S-1-5-21-1-2-3") == "O:DAG:DUD:(A;;CC;;;LA)"

    def test_domain_alias_without_domain_is_clear_error(self) -> None:
        with pytest.raises(SecurityDescriptorError, match=r"alias 'DU' at position 19 .*domain_sid"):
            sd_from_sddl("O:BAG:BAD:(A;;CC;;;DU)")

    @pytest.mark.parametrize(
        ("sddl", "message"),
        [
            ('D:(XA;;FX;;;WD;(@User.Title == "PM"))', r"conditional ACE \(XA\) at position 2"),
            ("D:(ZA;;FX;;;WD;(Member_of {SID(BA)}))", r"conditional ACE \(ZA\)"),
            ('S:(RA;;;;;WD;("Project",TS,0,"Windows"))', r"resource attribute ACE \(RA\)"),
            ("D:(A;;CCXX;;;WD)", r"unknown access right 'XX' at position 8"),
            ("D:(A;;CC;;;QQ)", r"unknown SID alias 'QQ' at position 11"),
            ("D:(A;XX;CC;;;WD)", r"unknown ACE flag 'XX' at position 5"),
            ("D:(Q;;CC;;;WD)", r"unknown ACE type 'Q' at position 3"),
            ("D:(A;;CC;;;WD", r"no closing"),
            ("D:ZZ(A;;CC;;;WD)", r"unknown ACL flag 'ZZ' at position 2"),
            ("D:(A;;CC;;;WD)D:", r"appears twice"),
            ("D:NO_ACCESS_CONTROL(A;;CC;;;WD)", r"follows NO_ACCESS_CONTROL"),
            ("D:(A;;CC;ab721a53-1e2f-11d0-9819-00aa0040529b;;WD)", r"not an object ACE"),
            ("D:(AU;SA;CC;;;WD)", r"belongs in a SACL"),
            ("D:(A;;0x1ffffffff;;;WD)", r"does not fit in 32 bits"),
            ("X:", r"expected a section"),
        ],
    )
    def test_errors_name_token_and_position(self, sddl: str, message: str) -> None:
        with pytest.raises(SecurityDescriptorError, match=message):
            sd_from_sddl(sddl)

    def test_callback_ace_without_condition_is_a_plain_callback(self) -> None:
        sd = sd_from_sddl("D:(XA;;CC;;;WD)")
        assert sd.dacl is not None and sd.dacl.aces[0].type == ACCESS_ALLOWED_CALLBACK_ACE_TYPE


class TestSddlWhitespaceAndCase:
    """Whitespace between tokens is accepted (as Windows does); inside a token it is refused with its position."""

    @pytest.mark.parametrize(
        "text",
        [
            # a YAML '|' block: one section or ACE per line, trailing newline
            "O:BA\nG:BA\nD:\n(A;CI;CCDCLCSWRPWPRCWD;;;BA)\n(A;CI;CCDCRP;;;NS)\n(A;CI;CCDCRP;;;LS)\n(A;CI;CCDCRP;;;AU)\n",
            # a YAML '>' block: lines folded with spaces, trailing newline
            "O:BAG:BAD: (A;CI;CCDCLCSWRPWPRCWD;;;BA) (A;CI;CCDCRP;;;NS) (A;CI;CCDCRP;;;LS) (A;CI;CCDCRP;;;AU)\n",
            # indented continuation lines, CRLF line ends and tabs
            "  O:BA\r\n  G:BA\r\n  D:\r\n\t(A;CI;CCDCLCSWRPWPRCWD;;;BA)\r\n\t(A;CI;CCDCRP;;;NS)"
            "(A;CI;CCDCRP;;;LS)   (A;CI;CCDCRP;;;AU)  ",
        ],
    )
    def test_whitespace_between_sections_and_aces(self, text: str) -> None:
        assert sd_to_bytes(sd_from_sddl(text)) == sd_to_bytes(sd_from_sddl(WMI_ROOT))
        assert sd_to_sddl(sd_from_sddl(text)) == WMI_ROOT

    def test_whitespace_around_acl_flags(self) -> None:
        sd = sd_from_sddl("O:BAG:BA\nD:PAI\n  (A;;CC;;;BA)\nS:\n")
        assert sd_to_sddl(sd) == "O:BAG:BAD:PAI(A;;CC;;;BA)S:"
        assert sd_to_sddl(sd_from_sddl("D: P AI (A;;CC;;;BA)")) == "D:PAI(A;;CC;;;BA)"

    @pytest.mark.parametrize(
        ("sddl", "message"),
        [
            ("D :S:", r"whitespace at position 1 inside the section marker 'D:'"),
            ("O:S-1-5- 32-544", r"whitespace ' ' at position 8 inside the owner SID 'S-1-5- 32-544'"),
            ("O:BAG:B\nA", r"whitespace '\\n' at position 7 inside the group SID"),
            ("D:(A; CI;CC;;;BA)", r"whitespace ' ' at position 5 inside the ACE flags"),
            ("D:(A;;CC;;;BA\n)", r"whitespace '\\n' at position 13 inside the ACE's SID 'BA\\n'"),
            ("D:(\nA;;CC;;;BA)", r"whitespace '\\n' at position 3 inside the ACE type"),
            ("D:(A;;CC\nDC;;;BA)", r"whitespace '\\n' at position 8 inside the rights field"),
            ("D:(A;;CC;;;BA)\nx", r"unexpected 'x' at position 15"),
        ],
    )
    def test_whitespace_inside_a_token_is_refused_with_its_position(self, sddl: str, message: str) -> None:
        with pytest.raises(SecurityDescriptorError, match=message):
            sd_from_sddl(sddl)

    @pytest.mark.parametrize(
        ("sddl", "message"),
        [
            ("o:bag:bad:(a;ci;ccdc;;;ba)", r"at position 0, found 'o:bag:ba'; SDDL tokens are upper case: write 'O:'"),
            ("O:BAG:BAd:(A;;CC;;;BA)", r"at position 8, found 'd:\(A;;CC'; SDDL tokens are upper case: write 'D:'"),
            ("D:p(A;;CC;;;BA)", r"unknown ACL flag 'p\(' at position 2 .*; SDDL tokens are upper case: write 'P'"),
            ("D:(a;;CC;;;BA)", r"unknown ACE type 'a' at position 3; SDDL tokens are upper case: write 'A'"),
            ("D:(A;ci;CC;;;BA)", r"unknown ACE flag 'ci' at position 5; SDDL tokens are upper case: write 'CI'"),
            ("D:(A;;ccDC;;;BA)", r"unknown access right 'cc' at position 6 .*; SDDL tokens are upper case: write 'CC'"),
            ("D:(A;;CC;;;ba)", r"unknown SID alias 'ba' at position 11; SDDL tokens are upper case: write 'BA'"),
        ],
    )
    def test_lower_case_says_tokens_are_upper_case(self, sddl: str, message: str) -> None:
        with pytest.raises(SecurityDescriptorError, match=message):
            sd_from_sddl(sddl)

    def test_unknown_right_lists_the_namespace_letters(self) -> None:
        with pytest.raises(SecurityDescriptorError) as raised:
            sd_from_sddl("D:(A;;CCQQ;;;BA)")
        assert str(raised.value) == (
            "unknown access right 'QQ' at position 8 in 'CCQQ'; rights letters for WMI namespaces are "
            "CC DC LC SW RP WP RC WD (the generic rights GA GR GW GX and a number such as 0x6003f are also accepted)"
        )
        # every letter offered is one the codec accepts
        for letter in ["CC", "DC", "LC", "SW", "RP", "WP", "RC", "WD", "GA", "GR", "GW", "GX"]:
            sd_from_sddl(f"D:(A;;{letter};;;BA)")

    @pytest.mark.parametrize(
        "sddl",
        [
            "O:" + "x" * 100_000,
            "O:S-1-5-" + "1" * 100_000,
            "D:(A;;CC;;;" + "x" * 100_000 + ")",
            "D:(A;;CC;;;S-1-" + "9" * 100_000 + ")",
            "D:(" + "Q" * 100_000 + ";;CC;;;BA)",
            "D:(OA;;CC;" + "a" * 100_000 + ";;BA)",
            "D:(A;;0x" + "f" * 100_000 + ";;;BA)",
            "D:(A;;1" + "0" * 100_000 + ";;;BA)",
            "D:(A;;" + "CC" * 50_000 + "QQ;;;BA)",
            "D:(A;;CC;;;B A" + "x" * 100_000 + ")",
        ],
    )
    def test_long_input_is_not_echoed_whole(self, sddl: str) -> None:
        with pytest.raises(SecurityDescriptorError) as raised:
            sd_from_sddl(sddl)
        assert len(str(raised.value)) < 600
        assert "characters in all" in str(raised.value)


class TestRightsPrinting:
    @pytest.mark.parametrize(
        ("mask", "text"),
        [
            (0, ""),
            (0x1F01FF, "FA"),
            (0x20019, "KR"),  # first exact match wins: never KX
            (0x20006, "KW"),
            (0xF003F, "KA"),
            (0x6003F, "CCDCLCSWRPWPRCWD"),
            (0x13, "CCDCRP"),
            (0xE00F0000, "SDRCWDWOGXGWGR"),
            (0x401200A0, "0x401200a0"),  # SYNCHRONIZE has no letter
            (0x201F01FF, "0x201f01ff"),
        ],
    )
    def test_windows_rules(self, mask: int, text: str) -> None:
        assert mask_to_sddl_rights(mask) == text

    def test_label_ace_rights(self) -> None:
        assert mask_to_sddl_rights(0x1, SYSTEM_MANDATORY_LABEL_ACE_TYPE) == "NW"
        sd = sd_from_sddl("S:(ML;;NWNR;;;LW)")
        assert sd_to_sddl(sd) == "S:(ML;;NWNR;;;LW)"


class TestBinaryStrictness:
    def _valid(self) -> bytearray:
        return bytearray(sd_to_bytes(sd_from_sddl(WMI_ROOT)))

    @pytest.mark.parametrize(
        ("patch", "message"),
        [
            (lambda b: b.__setitem__(0, 2), r"revision is 2 at offset 0x0"),
            (lambda b: struct.pack_into("<I", b, 4, 0x1000), r"owner offset 0x1000 is outside"),
            (lambda b: struct.pack_into("<I", b, 4, 4), r"owner offset 0x4 is outside"),
            (lambda b: struct.pack_into("<I", b, 8, 0x70), r"at offset 0x70 overlaps"),
            (lambda b: struct.pack_into("<H", b, 0x16, 0x400), r"AclSize 1024\) runs past"),
            (lambda b: struct.pack_into("<H", b, 0x18, 9), r"ACE 4 at offset 0x80 .* runs past|ACE 4 .*truncated"),
            (lambda b: struct.pack_into("<H", b, 0x1E, 6), r"AceSize 6"),
            (lambda b: struct.pack_into("<H", b, 0x1E, 0x1A), r"multiple of 4"),
            (lambda b: b.__setitem__(0x1C, 0x33), r"unknown ACE type 0x33"),
            (lambda b: b.__setitem__(0x14, 7), r"ACL revision 7"),
        ],
    )
    def test_rejects(self, patch, message: str) -> None:
        data = self._valid()
        patch(data)
        with pytest.raises(SecurityDescriptorError, match=message):
            sd_from_bytes(bytes(data))

    def test_truncated_everywhere(self) -> None:
        data = bytes(self._valid())
        for length in range(len(data)):
            with pytest.raises(SecurityDescriptorError):
                sd_from_bytes(data[:length])

    def test_tolerates_ace_and_acl_slack_and_gaps(self) -> None:
        ace = Ace(ACCESS_ALLOWED_ACE_TYPE, CONTAINER_INHERIT_ACE, 0x13, AU).to_bytes()
        padded_ace = ace[:2] + struct.pack("<H", len(ace) + 8) + ace[4:] + b"\0" * 8
        acl = struct.pack("<BBHHH", 2, 0, 8 + len(padded_ace) + 12, 1, 0) + padded_ace + b"\0" * 12
        owner = BA.to_bytes()
        gap = b"\0" * 4
        header = struct.pack("<BBHIIII", 1, 0, 0x8004, 20 + len(gap) + len(acl), 0, 0, 20 + len(gap))
        sd = sd_from_bytes(header + gap + acl + owner)
        assert sd.dacl == Acl((Ace(ACCESS_ALLOWED_ACE_TYPE, CONTAINER_INHERIT_ACE, 0x13, AU),))
        assert sd.owner == BA

    def test_list_of_ints_input(self) -> None:
        data = list(sd_to_bytes(sd_from_sddl(WMI_ROOT)))
        assert sd_to_sddl(sd_from_bytes(data)) == WMI_ROOT
        with pytest.raises(SecurityDescriptorError):
            sd_from_bytes([1, 2, 300])

    def test_deny_ace_round_trip(self) -> None:
        sd = SecurityDescriptor(owner=BA, group=BA, dacl=Acl((Ace(ACCESS_DENIED_ACE_TYPE, 0, 0x20, SY),)))
        assert sd_to_sddl(sd) == "O:BAG:BAD:(D;;WP;;;SY)"
        assert sd_from_bytes(sd_to_bytes(sd)) == sd

    def test_application_data_round_trip_and_not_printable(self) -> None:
        ace = Ace(ACCESS_ALLOWED_CALLBACK_ACE_TYPE, 0, 1, BA, application_data=b"artx\x00\x00\x00\x00")
        sd = SecurityDescriptor(dacl=Acl((ace,)))
        assert sd_from_bytes(sd_to_bytes(sd)) == sd
        with pytest.raises(SecurityDescriptorError, match="condition"):
            sd_to_sddl(sd)
