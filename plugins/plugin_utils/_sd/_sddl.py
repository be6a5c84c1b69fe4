# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""SDDL parse and print, following ConvertStringSecurityDescriptorToSecurityDescriptor and
ConvertSecurityDescriptorToStringSecurityDescriptor
(https://learn.microsoft.com/en-us/windows/win32/secauthz/security-descriptor-string-format).
Import from ``_sd``, which re-exports it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from .._text import as_written
from ._sd_model import (
    _MAX_U32,
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
    ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
    ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    ACCESS_DENIED_CALLBACK_ACE_TYPE,
    ACCESS_DENIED_OBJECT_ACE_TYPE,
    CONTAINER_INHERIT_ACE,
    FAILED_ACCESS_ACE_FLAG,
    INHERIT_ONLY_ACE,
    INHERITED_ACE,
    NO_PROPAGATE_INHERIT_ACE,
    OBJECT_ACE_TYPES,
    OBJECT_INHERIT_ACE,
    SE_DACL_AUTO_INHERIT_REQ,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_PRESENT,
    SE_DACL_PROTECTED,
    SE_SACL_AUTO_INHERIT_REQ,
    SE_SACL_AUTO_INHERITED,
    SE_SACL_PRESENT,
    SE_SACL_PROTECTED,
    SE_SELF_RELATIVE,
    SUCCESSFUL_ACCESS_ACE_FLAG,
    SYSTEM_ALARM_ACE_TYPE,
    SYSTEM_ALARM_OBJECT_ACE_TYPE,
    SYSTEM_AUDIT_ACE_TYPE,
    SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
    SYSTEM_AUDIT_OBJECT_ACE_TYPE,
    SYSTEM_MANDATORY_LABEL_ACE_TYPE,
    SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE,
    SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE,
    SYSTEM_SCOPED_POLICY_ID_ACE_TYPE,
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    _err,
)

# --- SDDL vocabulary ---------------------------------------------------------------------------------------------

# ACE type tokens (ace-strings.md; ZA is the callback *object* type 0x0B, as Windows parses it, whatever the page says).
_ACE_TYPE_TOKENS: dict[str, int] = {
    "A": ACCESS_ALLOWED_ACE_TYPE,
    "D": ACCESS_DENIED_ACE_TYPE,
    "AU": SYSTEM_AUDIT_ACE_TYPE,
    "AL": SYSTEM_ALARM_ACE_TYPE,
    "OA": ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    "OD": ACCESS_DENIED_OBJECT_ACE_TYPE,
    "OU": SYSTEM_AUDIT_OBJECT_ACE_TYPE,
    "OL": SYSTEM_ALARM_OBJECT_ACE_TYPE,
    "XA": ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
    "XD": ACCESS_DENIED_CALLBACK_ACE_TYPE,
    "ZA": ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
    "XU": SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
    "ML": SYSTEM_MANDATORY_LABEL_ACE_TYPE,
    "RA": SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE,
    "SP": SYSTEM_SCOPED_POLICY_ID_ACE_TYPE,
    "TL": SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE,
}
_ACE_TYPE_BY_VALUE = {v: k for k, v in _ACE_TYPE_TOKENS.items()}
_CONDITIONAL_TOKENS = frozenset({"XA", "XD", "ZA", "XU"})
# Windows refuses audit/alarm/label ACEs inside a DACL (windows_is_fussy.txt: D:(A;;RP;;;WD)(AU;SA;CR;;;BA) fails).
_SACL_ONLY_TYPES = frozenset(
    {
        SYSTEM_AUDIT_ACE_TYPE,
        SYSTEM_ALARM_ACE_TYPE,
        SYSTEM_AUDIT_OBJECT_ACE_TYPE,
        SYSTEM_ALARM_OBJECT_ACE_TYPE,
        SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
        SYSTEM_MANDATORY_LABEL_ACE_TYPE,
        SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE,
        SYSTEM_SCOPED_POLICY_ID_ACE_TYPE,
        SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE,
    }
)

# ACE flag tokens, printed in this order (OI CI NP IO ID SA FA, as Windows prints them).
_ACE_FLAG_TOKENS: tuple[tuple[str, int], ...] = (
    ("OI", OBJECT_INHERIT_ACE),
    ("CI", CONTAINER_INHERIT_ACE),
    ("NP", NO_PROPAGATE_INHERIT_ACE),
    ("IO", INHERIT_ONLY_ACE),
    ("ID", INHERITED_ACE),
    ("SA", SUCCESSFUL_ACCESS_ACE_FLAG),
    ("FA", FAILED_ACCESS_ACE_FLAG),
)
_ACE_FLAG_BY_TOKEN = dict(_ACE_FLAG_TOKENS)

# Rights tokens (ace-strings.md). Single-bit letters in ascending bit order: this is the printing order.
_RIGHT_LETTERS: tuple[tuple[str, int], ...] = (
    ("CC", 0x1),
    ("DC", 0x2),
    ("LC", 0x4),
    ("SW", 0x8),
    ("RP", 0x10),
    ("WP", 0x20),
    ("DT", 0x40),
    ("LO", 0x80),
    ("CR", 0x100),
    ("SD", 0x10000),
    ("RC", 0x20000),
    ("WD", 0x40000),
    ("WO", 0x80000),
    ("GA", 0x10000000),
    ("GX", 0x20000000),
    ("GW", 0x40000000),
    ("GR", 0x80000000),
)
# Whole-mask aliases, checked in this order before letters (first match wins, so 0x20019 prints KR, never KX).
_RIGHT_EXACT: tuple[tuple[str, int], ...] = (
    ("GA", 0x10000000),
    ("GR", 0x80000000),
    ("GW", 0x40000000),
    ("GX", 0x20000000),
    ("RC", 0x20000),
    ("SD", 0x10000),
    ("WD", 0x40000),
    ("WO", 0x80000),
    ("RP", 0x10),
    ("WP", 0x20),
    ("CC", 0x1),
    ("DC", 0x2),
    ("LC", 0x4),
    ("SW", 0x8),
    ("LO", 0x80),
    ("DT", 0x40),
    ("CR", 0x100),
    ("FA", 0x1F01FF),
    ("FR", 0x120089),
    ("FW", 0x120116),
    ("FX", 0x1200A0),
    ("KA", 0xF003F),
    ("KR", 0x20019),
    ("KW", 0x20006),
    ("KX", 0x20019),
)
# Mandatory-label policy bits (SYSTEM_MANDATORY_LABEL_NO_WRITE_UP/READ_UP/EXECUTE_UP), meaningful in ML ACEs.
_LABEL_LETTERS: tuple[tuple[str, int], ...] = (("NW", 0x1), ("NR", 0x2), ("NX", 0x4))
_RIGHT_BY_TOKEN: dict[str, int] = {**dict(_RIGHT_EXACT), **dict(_RIGHT_LETTERS), **dict(_LABEL_LETTERS)}
# The letters a WMI namespace ACE uses: WBEM_ENABLE .. WBEM_REMOTE_ACCESS (0x1-0x20), READ_CONTROL and WRITE_DAC,
# the rights __SystemSecurity.SetSD accepts (Microsoft Learn, "Namespace Access Rights Constants"); offered when a
# rights letter is unknown, with the generic rights, which the codec also accepts.
_NAMESPACE_RIGHT_BITS = 0x3F | 0x20000 | 0x40000
_NAMESPACE_RIGHT_LETTERS = " ".join(token for token, bit in _RIGHT_LETTERS if bit & _NAMESPACE_RIGHT_BITS)
_GENERIC_RIGHT_LETTERS = "GA GR GW GX"

# Whitespace Windows skips between tokens (" O:AA", "D: S:", "D:P (A;;GA;;;LG)", "D:P(...) (...)" are accepted and
# printed without it), which we also skip: SDDL written over several YAML lines (one ACE per line, a '>' or '|'
# block with its trailing newline) means the same SDDL. Inside a token - a section marker ("D :S:" fails on
# Windows), a SID, an ACE's fields - it stays an error. Tab, CR and LF count too, for the YAML case.
_SEPARATOR_WHITESPACE = " \t\r\n"
_WHITESPACE_RULE = "SDDL allows whitespace only between sections, ACL flags and ACEs"

# Absolute SID aliases (sid-strings.md, Samba sddl.c sid_codes[]).
SID_ALIASES: dict[str, str] = {
    "WD": "S-1-1-0",
    "CO": "S-1-3-0",
    "CG": "S-1-3-1",
    "OW": "S-1-3-4",
    "NU": "S-1-5-2",
    "IU": "S-1-5-4",
    "SU": "S-1-5-6",
    "AN": "S-1-5-7",
    "ED": "S-1-5-9",
    "PS": "S-1-5-10",
    "AU": "S-1-5-11",
    "RC": "S-1-5-12",
    "SY": "S-1-5-18",
    "LS": "S-1-5-19",
    "NS": "S-1-5-20",
    "WR": "S-1-5-33",
    "BA": "S-1-5-32-544",
    "BU": "S-1-5-32-545",
    "BG": "S-1-5-32-546",
    "PU": "S-1-5-32-547",
    "AO": "S-1-5-32-548",
    "SO": "S-1-5-32-549",
    "PO": "S-1-5-32-550",
    "BO": "S-1-5-32-551",
    "RE": "S-1-5-32-552",
    "RU": "S-1-5-32-554",
    "RD": "S-1-5-32-555",
    "NO": "S-1-5-32-556",
    "MU": "S-1-5-32-558",
    "LU": "S-1-5-32-559",
    "IS": "S-1-5-32-568",
    "CY": "S-1-5-32-569",
    "ER": "S-1-5-32-573",
    "CD": "S-1-5-32-574",
    "RA": "S-1-5-32-575",
    "ES": "S-1-5-32-576",
    "MS": "S-1-5-32-577",
    "HA": "S-1-5-32-578",
    "AA": "S-1-5-32-579",
    "RM": "S-1-5-32-580",
    "UD": "S-1-5-84-0-0-0-0-0",
    "AC": "S-1-15-2-1",
    "LW": "S-1-16-4096",
    "ME": "S-1-16-8192",
    "MP": "S-1-16-8448",
    "HI": "S-1-16-12288",
    "SI": "S-1-16-16384",
    "AS": "S-1-18-1",
    "SS": "S-1-18-2",
}
# Domain-relative aliases: RID appended to the domain (or machine, for LA/LG) SID. We take one domain_sid for all;
# the Windows corpus resolved every one of them against a single domain SID.
SID_DOMAIN_ALIASES: dict[str, int] = {
    "RO": 498,
    "LA": 500,
    "LG": 501,
    "DA": 512,
    "DU": 513,
    "DG": 514,
    "DC": 515,
    "DD": 516,
    "CA": 517,
    "SA": 518,
    "EA": 519,
    "PA": 520,
    "CN": 522,
    "AP": 525,
    "KA": 526,
    "EK": 527,
    "RS": 553,
}
_SID_BY_ALIAS: dict[str, Sid] = {alias: Sid.parse(text) for alias, text in SID_ALIASES.items()}
_ALIAS_BY_SID: dict[Sid, str] = {sid: alias for alias, sid in _SID_BY_ALIAS.items()}
_ALIAS_BY_RID: dict[int, str] = {rid: alias for alias, rid in SID_DOMAIN_ALIASES.items()}


def _unknown_token(message: str, token: str, known: Collection[str], otherwise: str = "") -> SecurityDescriptorError:
    """An error for an unknown token; a lower-case spelling of a known one gets the upper-case hint instead."""
    if token != token.upper() and token.upper() in known:
        # Windows accepts some lower case and rewrites it; we refuse it (see sd_from_sddl) but say what was meant.
        return _err(f"{message}; SDDL tokens are upper case: write {token.upper()!r}")
    return _err(f"{message}; {otherwise}" if otherwise else message)


def _refuse_whitespace_inside(value: str, position: int, what: str) -> None:
    for offset, char in enumerate(value):
        if char in _SEPARATOR_WHITESPACE:
            raise _err(
                f"whitespace {as_written(char)} at position {position + offset} inside {what} "
                f"{as_written(value)}: {_WHITESPACE_RULE}, not inside a token"
            )


def _skip_whitespace(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SEPARATOR_WHITESPACE:
        i += 1
    return i


def sddl_rights_to_mask(text: str, position: int = 0) -> int:
    """Parse an SDDL rights field: tokens, 0x hex, decimal or 0-prefixed octal (non_canonical.txt)."""
    # Windows skips leading spaces and spaces between tokens ("RP LCLO  RC", "; GA;"), but not trailing
    # spaces or tabs ("GA ;", "RP LC\tLORC" fail: should_fail.txt).
    i = 0
    while i < len(text) and text[i] == " ":
        i += 1
    rest = text[i:]
    if not rest:
        if text:
            raise _err(f"rights field {as_written(text)} at position {position} has only spaces")
        return 0
    if rest[0].isascii() and rest[0].isdigit():
        try:
            if rest[:2] in ("0x", "0X"):
                if not all(c in "0123456789abcdefABCDEF" for c in rest[2:]) or len(rest) == 2:
                    raise ValueError
                value = int(rest[2:], 16)
            elif rest[0] == "0" and len(rest) > 1:
                if not all(c in "01234567" for c in rest):
                    raise ValueError
                value = int(rest, 8)
            else:
                if not (rest.isascii() and rest.isdigit()):
                    raise ValueError
                value = int(rest, 10)
        except ValueError:
            raise _err(f"invalid access mask number {as_written(rest)} at position {position + i}") from None
        if value > _MAX_U32:
            # Windows clamps to 0xffffffff (windows_is_weird.txt); silently changing a mask is worse than an error.
            raise _err(f"access mask {as_written(rest)} at position {position + i} does not fit in 32 bits")
        return value
    mask = 0
    while i < len(text):
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            raise _err(f"trailing space in rights field {as_written(text)} at position {position + i - 1}")
        if text[i] in _SEPARATOR_WHITESPACE:
            raise _err(
                f"whitespace {as_written(text[i])} at position {position + i} inside the rights field "
                f"{as_written(text)}: only spaces may separate rights letters"
            )
        token = text[i : i + 2]
        if token not in _RIGHT_BY_TOKEN:
            raise _unknown_token(
                f"unknown access right {token!r} at position {position + i} in {as_written(text)}",
                token,
                _RIGHT_BY_TOKEN,
                f"rights letters for WMI namespaces are {_NAMESPACE_RIGHT_LETTERS} (the generic rights "
                f"{_GENERIC_RIGHT_LETTERS} and a number such as 0x6003f are also accepted)",
            )
        mask |= _RIGHT_BY_TOKEN[token]
        i += 2
    return mask


def mask_to_sddl_rights(mask: int, ace_type: int = ACCESS_ALLOWED_ACE_TYPE) -> str:
    """Print a mask as ConvertSecurityDescriptorToStringSecurityDescriptor does (letters, generic rights, hex)."""
    if mask == 0:
        return ""
    if ace_type == SYSTEM_MANDATORY_LABEL_ACE_TYPE:
        # Label ACEs use NW/NR/NX for their policy bits (sddl.h SDDL_NO_*_UP); order unverified on Windows.
        if mask & ~0x7 == 0:
            return "".join(t for t, bit in _LABEL_LETTERS if mask & bit)
        return f"0x{mask:x}"
    for token, value in _RIGHT_EXACT:
        if mask == value:
            return token
    letters = []
    remaining = mask
    for token, bit in _RIGHT_LETTERS:
        if mask & bit:
            letters.append(token)
            remaining &= ~bit
    if remaining:
        return f"0x{mask:x}"
    return "".join(letters)


class DomainAliasError(SecurityDescriptorError):
    """A domain-relative SDDL alias (DA, DU, ...) without the domain SID it is relative to."""

    def __init__(self, message: str, alias: str, rid: int) -> None:
        super().__init__(message)
        self.alias = alias
        self.rid = rid


def _alias_to_sid(token: str, position: int, domain_sid: Sid | None) -> Sid:
    if token in _SID_BY_ALIAS:
        return _SID_BY_ALIAS[token]
    if token in SID_DOMAIN_ALIASES:
        if domain_sid is None:
            raise DomainAliasError(
                f"SID alias {token!r} at position {position} is relative to a domain (RID "
                f"{SID_DOMAIN_ALIASES[token]}); pass domain_sid, or write the full SID",
                token,
                SID_DOMAIN_ALIASES[token],
            )
        return Sid(domain_sid.authority, (*domain_sid.sub_authorities, SID_DOMAIN_ALIASES[token]))
    raise _unknown_token(
        f"unknown SID alias {token!r} at position {position}", token, (*_SID_BY_ALIAS, *SID_DOMAIN_ALIASES)
    )


# "S-1-" + a 48-bit authority + 15 sub-authorities of 32 bits, written in decimal or 0x hex (MS-DTYP 2.4.2.1) is
# at most 184 characters; leading zeros could make it longer, so the bound is generous.
_LONGEST_SID_TEXT = 256


def _sid_from_sddl(text: str, position: int, domain_sid: Sid | None) -> Sid:
    if not text:
        raise _err(f"missing SID at position {position}")
    if text.startswith("S-"):
        if len(text) > _LONGEST_SID_TEXT:
            # Sid.parse would quote the whole text in its message; a text this long is no SID anyway.
            raise _err(
                f"invalid SID {as_written(text)} at position {position}: {len(text)} characters, longer than any SID"
            )
        return Sid.parse(text, position)
    if len(text) == 2:
        return _alias_to_sid(text, position, domain_sid)
    raise _err(f"invalid SID {as_written(text)} at position {position}: expected a two-letter alias or 'S-1-...'")


def _sid_to_sddl(sid: Sid, domain_sid: Sid | None) -> str:
    alias = _ALIAS_BY_SID.get(sid)
    if alias:
        return alias
    if (
        domain_sid is not None
        and sid.sub_authorities
        and sid.authority == domain_sid.authority
        and sid.sub_authorities[:-1] == domain_sid.sub_authorities
    ):
        alias = _ALIAS_BY_RID.get(sid.sub_authorities[-1])
        if alias:
            return alias
    return str(sid)


def _parse_guid(text: str, position: int, what: str) -> uuid.UUID | None:
    if not text:
        return None
    # Only the bare 8-4-4-4-12 form: braces, spaces and 32-digit forms fail on Windows (should_fail.txt).
    if len(text) != 36 or [len(p) for p in text.split("-")] != [8, 4, 4, 4, 12]:
        raise _err(f"invalid {what} GUID {as_written(text)} at position {position}")
    if not all(c in "0123456789abcdefABCDEF-" for c in text):
        raise _err(f"invalid {what} GUID {as_written(text)} at position {position}")
    return uuid.UUID(text)


def _find_ace_end(text: str, start: int) -> int:
    """Index of the ')' closing the ACE opened at ``start`` (nested parens/quotes only occur in conditions)."""
    depth = 0
    in_quote = False
    for i in range(start, len(text)):
        c = text[i]
        if in_quote:
            if c == '"':
                in_quote = False
            continue
        if c == '"':
            in_quote = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    raise _err(f"ACE starting at position {start} has no closing ')'")


# ACE fields that are one token each (field index, name in messages); the rights field (2) has its own rules.
_ACE_TOKEN_FIELDS = (
    (0, "the ACE type"),
    (1, "the ACE flags"),
    (3, "the object type"),
    (4, "the inherited object type"),
    (5, "the ACE's SID"),
)


def _parse_ace_sddl(text: str, start: int, end: int, domain_sid: Sid | None, in_dacl: bool) -> Ace:
    body = text[start + 1 : end]
    fields = body.split(";")
    type_token = fields[0]
    if type_token in _CONDITIONAL_TOKENS and len(fields) > 6:
        raise _err(
            f"conditional ACE ({type_token}) at position {start} is not supported: WMI namespaces accept only "
            "allow (A) and deny (D) ACEs"
        )
    if type_token == "RA":
        raise _err(
            f"resource attribute ACE (RA) at position {start} is not supported: WMI namespaces accept only "
            "allow (A) and deny (D) ACEs"
        )
    if len(fields) != 6:
        raise _err(f"ACE at position {start} has {len(fields)} fields; expected 6 (type;flags;rights;guid;guid;sid)")
    positions = []
    pos = start + 1
    for f in fields:
        positions.append(pos)
        pos += len(f) + 1
    # The rights field has Windows' own space rules (sddl_rights_to_mask); every other field is one token.
    for index, what in _ACE_TOKEN_FIELDS:
        _refuse_whitespace_inside(fields[index], positions[index], what)
    if type_token not in _ACE_TYPE_TOKENS:
        raise _unknown_token(
            f"unknown ACE type {as_written(type_token)} at position {positions[0]}", type_token, _ACE_TYPE_TOKENS
        )
    ace_type = _ACE_TYPE_TOKENS[type_token]
    if in_dacl and ace_type in _SACL_ONLY_TYPES:
        raise _err(
            f"ACE type {as_written(type_token)} at position {positions[0]} belongs in a SACL (S:), not in the DACL"
        )
    flags = 0
    flag_text = fields[1]
    for i in range(0, len(flag_text), 2):
        token = flag_text[i : i + 2]
        if token not in _ACE_FLAG_BY_TOKEN:
            raise _unknown_token(
                f"unknown ACE flag {token!r} at position {positions[1] + i}", token, _ACE_FLAG_BY_TOKEN
            )
        flags |= _ACE_FLAG_BY_TOKEN[token]
    mask = sddl_rights_to_mask(fields[2], positions[2])
    object_type = _parse_guid(fields[3], positions[3], "object type")
    inherited_object_type = _parse_guid(fields[4], positions[4], "inherited object type")
    if ace_type not in OBJECT_ACE_TYPES and (object_type or inherited_object_type):
        raise _err(
            f"ACE type {as_written(type_token)} at position {positions[0]} is not an object ACE and cannot have a GUID"
        )
    sid = _sid_from_sddl(fields[5], positions[5], domain_sid)
    return Ace(ace_type, flags, mask, sid, object_type, inherited_object_type)


_ACL_FLAG_TOKENS: tuple[tuple[str, int, int], ...] = (
    # token, DACL control bit, SACL control bit
    ("P", SE_DACL_PROTECTED, SE_SACL_PROTECTED),
    ("AR", SE_DACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERIT_REQ),
    ("AI", SE_DACL_AUTO_INHERITED, SE_SACL_AUTO_INHERITED),
)
_NO_ACCESS_CONTROL = "NO_ACCESS_CONTROL"


def _is_section_start(text: str, i: int) -> bool:
    return text[i : i + 1] in ("O", "G", "D", "S") and text[i + 1 : i + 2] == ":"


def _next_section(text: str, start: int) -> int:
    """Index of the next '<O|G|D|S>:' section marker at or after ``start`` (len(text) if none)."""
    for i in range(start, len(text) - 1):
        if _is_section_start(text, i):
            return i
    return len(text)


def _not_a_section(text: str, pos: int) -> SecurityDescriptorError:
    found = text[pos : pos + 8]
    if text[pos : pos + 1] in ("o", "g", "d", "s") and text[pos + 1 : pos + 2] == ":":
        return _err(
            f"expected a section 'O:', 'G:', 'D:' or 'S:' at position {pos}, found {as_written(found)}; SDDL tokens "
            f"are upper case: write {text[pos].upper() + ':'!r}"
        )
    if text[pos : pos + 1] in ("O", "G", "D", "S") and text[pos + 1 : pos + 2] in tuple(_SEPARATOR_WHITESPACE):
        return _err(
            f"whitespace at position {pos + 1} inside the section marker {text[pos] + ':'!r}: {_WHITESPACE_RULE}"
        )
    return _err(f"expected a section 'O:', 'G:', 'D:' or 'S:' at position {pos}, found {as_written(found)}")


def sd_from_sddl(text: str, domain_sid: str | None = None) -> SecurityDescriptor:
    """Parse an SDDL string into a model.

    Accepts what ConvertStringSecurityDescriptorToSecurityDescriptor accepts for ordinary ACEs, including
    whitespace between sections, ACL flags and ACEs (and newlines there), minus the inputs Windows silently
    rewrites (whitespace inside a SID or an ACE's fields, lower case, clamped overflowing numbers): see
    tests/unit/plugins/plugin_utils/_sd/test_sd_corpus.py for the list and the reasons.
    """
    if not isinstance(text, str):
        raise _err(f"SDDL must be a string, not {type(text).__name__}")
    domain = Sid.parse(domain_sid) if domain_sid is not None else None
    control = SE_SELF_RELATIVE
    owner = group = None
    dacl = sacl = None
    seen: set[str] = set()
    pos = _skip_whitespace(text, 0)
    while pos < len(text):
        if not _is_section_start(text, pos):
            raise _not_a_section(text, pos)
        section = text[pos]
        if section in seen:
            raise _err(f"section '{section}:' appears twice (again at position {pos})")
        seen.add(section)
        value_start = _skip_whitespace(text, pos + 2)
        if section in "OG":
            value_end = _next_section(text, value_start)
            value = text[value_start:value_end].rstrip(_SEPARATOR_WHITESPACE)
            lower_marker = next((k for k in range(len(value) - 1) if value[k] in "ogds" and value[k + 1] == ":"), None)
            if lower_marker is not None:  # "O:BAg:BA": the next section is there, in lower case
                raise _not_a_section(text, value_start + lower_marker)
            what = "the owner SID" if section == "O" else "the group SID"
            _refuse_whitespace_inside(value, value_start, what)
            sid = _sid_from_sddl(value, value_start, domain)
            if section == "O":
                owner = sid
            else:
                group = sid
            pos = value_end
            continue
        # D: or S: - flags, then ACEs in parentheses, then the next section or the end.
        is_dacl = section == "D"
        acl_control = 0
        null_acl = False
        i = value_start
        while i < len(text) and text[i] != "(" and not _is_section_start(text, i):
            if text[i] in _SEPARATOR_WHITESPACE:
                i += 1
                continue
            if text.startswith(_NO_ACCESS_CONTROL, i):
                null_acl = True
                i += len(_NO_ACCESS_CONTROL)
                continue
            for token, dacl_bit, sacl_bit in _ACL_FLAG_TOKENS:
                if text.startswith(token, i):
                    acl_control |= dacl_bit if is_dacl else sacl_bit
                    i += len(token)
                    break
            else:
                token = text[i : i + 2] if text[i : i + 1] in ("A", "a") else text[i : i + 1]
                raise _unknown_token(
                    f"unknown ACL flag {as_written(text[i : i + 2])} at position {i} in section '{section}:'",
                    token,
                    [flag for flag, _dacl_bit, _sacl_bit in _ACL_FLAG_TOKENS],
                )
        aces: list[Ace] = []
        while i < len(text) and text[i] == "(":
            if null_acl:
                raise _err(f"ACE at position {i} follows NO_ACCESS_CONTROL (a NULL ACL has no ACEs)")
            end = _find_ace_end(text, i)
            aces.append(_parse_ace_sddl(text, i, end, domain, is_dacl))
            i = _skip_whitespace(text, end + 1)
        if i < len(text) and not _is_section_start(text, i):
            raise _err(
                f"unexpected {as_written(text[i : i + 8])} at position {i} after the ACEs of section '{section}:'"
            )
        control |= acl_control | (SE_DACL_PRESENT if is_dacl else SE_SACL_PRESENT)
        acl = None if null_acl else Acl(tuple(aces), 4 if any(a.is_object for a in aces) else 2)
        if is_dacl:
            dacl = acl
        else:
            sacl = acl
        pos = i
    return SecurityDescriptor(control=control, owner=owner, group=group, dacl=dacl, sacl=sacl)


def _ace_to_sddl(ace: Ace, domain_sid: Sid | None, where: str, index: int) -> str:
    type_token = _ACE_TYPE_BY_VALUE.get(ace.type)
    if type_token is None:
        raise _err(f"{where} ACE {index}: ACE type {ace.type:#x} has no SDDL token")
    if ace.application_data:
        raise _err(
            f"{where} ACE {index} ({type_token}) carries a condition or resource attribute "
            f"({len(ace.application_data)} bytes), which this codec does not print"
        )
    flags = ""
    remaining = ace.flags
    for token, bit in _ACE_FLAG_TOKENS:
        if ace.flags & bit:
            flags += token
            remaining &= ~bit
    if remaining:
        raise _err(f"{where} ACE {index}: ACE flags {remaining:#x} have no SDDL token")
    object_type = str(ace.object_type) if ace.object_type else ""
    inherited_object_type = str(ace.inherited_object_type) if ace.inherited_object_type else ""
    rights = mask_to_sddl_rights(ace.mask, ace.type)
    sid = _sid_to_sddl(ace.sid, domain_sid)
    return f"({type_token};{flags};{rights};{object_type};{inherited_object_type};{sid})"


def _acl_to_sddl(
    prefix: str, present: bool, acl: Acl | None, control: int, bits: tuple[int, int, int], domain: Sid | None
) -> str:
    if not present:
        return ""
    out = prefix
    for (token, _d, _s), bit in zip(_ACL_FLAG_TOKENS, bits, strict=True):
        if control & bit:
            out += token
    if acl is None:
        # Windows prints a NULL ACL as NO_ACCESS_CONTROL (D:NO_ACCESS_CONTROL, as for files on FAT volumes); the
        # flags go first as they do before ACEs - the flags+NULL combination is not verified on Windows.
        return out + _NO_ACCESS_CONTROL
    where = "DACL" if prefix == "D:" else "SACL"
    return out + "".join(_ace_to_sddl(ace, domain, where, i) for i, ace in enumerate(acl.aces))


def sd_to_sddl(sd: SecurityDescriptor, domain_sid: str | None = None) -> str:
    """Print SDDL as Windows does: O, G, D, S; flags P AR AI; aliases; rights as Windows prints them.

    Domain-relative aliases (DA, LA, ...) are printed only for SIDs inside ``domain_sid``; without it the full SID
    is printed so that the text does not depend on the host's domain.
    """
    domain = Sid.parse(domain_sid) if domain_sid is not None else None
    out = ""
    if sd.owner is not None:
        out += "O:" + _sid_to_sddl(sd.owner, domain)
    if sd.group is not None:
        out += "G:" + _sid_to_sddl(sd.group, domain)
    out += _acl_to_sddl(
        "D:",
        sd.has_dacl,
        sd.dacl,
        sd.control,
        (SE_DACL_PROTECTED, SE_DACL_AUTO_INHERIT_REQ, SE_DACL_AUTO_INHERITED),
        domain,
    )
    out += _acl_to_sddl(
        "S:",
        sd.has_sacl,
        sd.sacl,
        sd.control,
        (SE_SACL_PROTECTED, SE_SACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERITED),
        domain,
    )
    return out
