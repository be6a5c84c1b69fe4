# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based round trips and fuzzing of the SD codec (hypothesis; modest example counts to stay fast)."""

from __future__ import annotations

import contextlib
import uuid

from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    OBJECT_ACE_TYPES,
    SE_DACL_AUTO_INHERIT_REQ,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_PROTECTED,
    SE_SACL_AUTO_INHERIT_REQ,
    SE_SACL_AUTO_INHERITED,
    SE_SACL_PROTECTED,
    SID_ALIASES,
    SID_DOMAIN_ALIASES,
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sddl import _ACE_TYPE_TOKENS, _SACL_ONLY_TYPES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOMAIN = "S-1-5-21-1111-2222-3333"

u32 = st.integers(0, 0xFFFFFFFF)
random_sids = st.builds(Sid, st.integers(0, (1 << 48) - 1), st.lists(u32, max_size=15).map(tuple))
alias_sids = st.sampled_from([Sid.parse(s) for s in SID_ALIASES.values()])
domain_sids = st.sampled_from([Sid.parse(f"{DOMAIN}-{rid}") for rid in SID_DOMAIN_ALIASES.values()])
sids = st.one_of(random_sids, alias_sids, domain_sids)
guids = st.one_of(st.none(), st.uuids())
sddl_flag_bits = st.sets(st.sampled_from([0x01, 0x02, 0x04, 0x08, 0x10, 0x40, 0x80])).map(sum)
ALL_TYPES = sorted(set(range(0x00, 0x15)) - {0x04})


@st.composite
def binary_aces(draw: st.DrawFn) -> Ace:
    ace_type = draw(st.sampled_from(ALL_TYPES))
    obj = ace_type in OBJECT_ACE_TYPES
    callback = ace_type in {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x12}
    # ApplicationData is stored padded to 4 bytes, so only 4-byte multiples survive a round trip unchanged.
    app = draw(st.binary(max_size=12).map(lambda b: b + b"\0" * (-len(b) % 4))) if callback else b""
    return Ace(
        ace_type,
        draw(st.integers(0, 0xFF)),
        draw(u32),
        draw(sids),
        draw(guids) if obj else None,
        draw(guids) if obj else None,
        app,
    )


@st.composite
def binary_acls(draw: st.DrawFn) -> Acl:
    aces = tuple(draw(st.lists(binary_aces(), max_size=6)))
    revision = 4 if any(a.is_object for a in aces) else draw(st.sampled_from([2, 4]))
    return Acl(aces, revision)


@st.composite
def binary_sds(draw: st.DrawFn) -> SecurityDescriptor:
    control = draw(st.integers(0, 0xFFFF))
    dacl = draw(st.one_of(st.none(), binary_acls()))
    sacl = draw(st.one_of(st.none(), binary_acls()))
    return SecurityDescriptor(
        control=control,
        owner=draw(st.one_of(st.none(), sids)),
        group=draw(st.one_of(st.none(), sids)),
        dacl=dacl,
        sacl=sacl,
        rm_control=draw(st.integers(0, 0xFF)) if control & 0x4000 else 0,
    )


@st.composite
def sddl_aces(draw: st.DrawFn, in_dacl: bool) -> Ace:
    tokens = [t for t, v in _ACE_TYPE_TOKENS.items() if t != "RA" and not (in_dacl and v in _SACL_ONLY_TYPES)]
    ace_type = _ACE_TYPE_TOKENS[draw(st.sampled_from(tokens))]
    obj = ace_type in OBJECT_ACE_TYPES
    return Ace(
        ace_type,
        draw(sddl_flag_bits),
        draw(u32),
        draw(sids),
        draw(guids) if obj else None,
        draw(guids) if obj else None,
    )


@st.composite
def sddl_sds(draw: st.DrawFn) -> SecurityDescriptor:
    control = 0x8000
    acls: list[Acl | None] = []
    for present_bit, flag_bits, in_dacl in (
        (0x4, (SE_DACL_PROTECTED, SE_DACL_AUTO_INHERIT_REQ, SE_DACL_AUTO_INHERITED), True),
        (0x10, (SE_SACL_PROTECTED, SE_SACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERITED), False),
    ):
        state = draw(st.sampled_from(["absent", "null", "acl"]))
        if state == "absent":
            acls.append(None)
            continue
        control |= present_bit
        for bit in flag_bits:
            if draw(st.booleans()):
                control |= bit
        if state == "null":
            acls.append(None)
        else:
            aces = tuple(draw(st.lists(sddl_aces(in_dacl), max_size=5)))
            acls.append(Acl(aces, 4 if any(a.is_object for a in aces) else 2))
    return SecurityDescriptor(
        control=control,
        owner=draw(st.one_of(st.none(), sids)),
        group=draw(st.one_of(st.none(), sids)),
        dacl=acls[0],
        sacl=acls[1],
    )


@PROFILE
@given(binary_sds())
def test_binary_round_trip(sd: SecurityDescriptor) -> None:
    data = sd_to_bytes(sd)
    assert sd_from_bytes(data) == sd
    assert sd_to_bytes(sd_from_bytes(data)) == data


@PROFILE
@given(sddl_sds(), st.booleans())
def test_sddl_round_trip(sd: SecurityDescriptor, with_domain: bool) -> None:
    domain = DOMAIN if with_domain else None
    text = sd_to_sddl(sd, domain)
    assert sd_from_sddl(text, DOMAIN) == sd
    # Printing is canonical: printing the re-parsed model gives the same text.
    assert sd_to_sddl(sd_from_sddl(text, DOMAIN), domain) == text
    # And the binary of both is identical (SDDL -> binary is deterministic).
    assert sd_to_bytes(sd_from_sddl(text, DOMAIN)) == sd_to_bytes(sd)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_only_raise_our_error(data: bytes) -> None:
    try:
        sd = sd_from_bytes(data)
    except SecurityDescriptorError:
        return
    with contextlib.suppress(SecurityDescriptorError):
        sd_to_sddl(sd)
    assert sd_from_bytes(sd_to_bytes(sd)) == sd


@settings(max_examples=500, deadline=None)
@given(binary_sds(), st.data())
def test_fuzz_mutated_valid_bytes_only_raise_our_error(sd: SecurityDescriptor, data: st.DataObject) -> None:
    raw = bytearray(sd_to_bytes(sd))
    for _mutation in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    try:
        parsed = sd_from_bytes(bytes(raw[:cut]))
    except SecurityDescriptorError:
        return
    with contextlib.suppress(SecurityDescriptorError):
        sd_to_sddl(parsed)


SDDL_ALPHABET = st.sampled_from(list('OGDSAPIRNUXZLCWKFTM:;()-0123456789abcdefx S_"{}@=,#'))
SDDL_TOKENS = st.sampled_from(
    [
        "O:",
        "G:",
        "D:",
        "S:",
        "(",
        ")",
        ";",
        "A",
        "D",
        "OA",
        "XA",
        "CI",
        "IO",
        "ID",
        "CC",
        "GA",
        "FA",
        "KR",
        "0x1f",
        "BA",
        "SY",
        "DA",
        "S-1-5-",
        "21",
        "P",
        "AI",
        "AR",
        "NO_ACCESS_CONTROL",
        str(uuid.UUID(int=7)),
        " ",
        "\t",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(SDDL_ALPHABET, max_size=60), st.lists(SDDL_TOKENS, max_size=25).map("".join), st.text()))
def test_fuzz_random_sddl_only_raise_our_error(text: str) -> None:
    for domain in (None, DOMAIN):
        try:
            sd = sd_from_sddl(text, domain)
        except SecurityDescriptorError:
            continue
        printed = sd_to_sddl(sd, domain)
        assert sd_from_sddl(printed, domain) == sd
        assert sd_from_bytes(sd_to_bytes(sd)) == sd
