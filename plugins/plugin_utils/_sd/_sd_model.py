# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Security descriptor model: constants (MS-DTYP 2.4), SID, ACE, ACL and SD dataclasses.

Import from ``_sd``, which re-exports everything here together with the binary and SDDL codecs.
"""

from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field


class SecurityDescriptorError(ValueError):
    """A security descriptor, SID, ACL or SDDL string could not be parsed or serialized."""


# --- constants ---------------------------------------------------------------------------------------------------
# Control bits, MS-DTYP 2.4.6 (SE_SACL_DEFAULTED is 0x20, not the 0x08 the Win32 doc page shows).
SE_OWNER_DEFAULTED = 0x0001
SE_GROUP_DEFAULTED = 0x0002
SE_DACL_PRESENT = 0x0004
SE_DACL_DEFAULTED = 0x0008
SE_SACL_PRESENT = 0x0010
SE_SACL_DEFAULTED = 0x0020
SE_DACL_AUTO_INHERIT_REQ = 0x0100
SE_SACL_AUTO_INHERIT_REQ = 0x0200
SE_DACL_AUTO_INHERITED = 0x0400
SE_SACL_AUTO_INHERITED = 0x0800
SE_DACL_PROTECTED = 0x1000
SE_SACL_PROTECTED = 0x2000
SE_RM_CONTROL_VALID = 0x4000
SE_SELF_RELATIVE = 0x8000

# ACE types, MS-DTYP 2.4.4.1.
ACCESS_ALLOWED_ACE_TYPE = 0x00
ACCESS_DENIED_ACE_TYPE = 0x01
SYSTEM_AUDIT_ACE_TYPE = 0x02
SYSTEM_ALARM_ACE_TYPE = 0x03
ACCESS_ALLOWED_OBJECT_ACE_TYPE = 0x05
ACCESS_DENIED_OBJECT_ACE_TYPE = 0x06
SYSTEM_AUDIT_OBJECT_ACE_TYPE = 0x07
SYSTEM_ALARM_OBJECT_ACE_TYPE = 0x08
ACCESS_ALLOWED_CALLBACK_ACE_TYPE = 0x09
ACCESS_DENIED_CALLBACK_ACE_TYPE = 0x0A
ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE = 0x0B
ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE = 0x0C
SYSTEM_AUDIT_CALLBACK_ACE_TYPE = 0x0D
SYSTEM_ALARM_CALLBACK_ACE_TYPE = 0x0E
SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE = 0x0F
SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE = 0x10
SYSTEM_MANDATORY_LABEL_ACE_TYPE = 0x11
SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE = 0x12
SYSTEM_SCOPED_POLICY_ID_ACE_TYPE = 0x13
SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE = 0x14
# The access ACE families (MS-DTYP 2.4.4): each plain type with its object, callback and callback-object variants.
ALLOW_LIKE_ACE_TYPES = frozenset(
    {
        ACCESS_ALLOWED_ACE_TYPE,
        ACCESS_ALLOWED_OBJECT_ACE_TYPE,
        ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
    }
)
DENY_LIKE_ACE_TYPES = frozenset(
    {
        ACCESS_DENIED_ACE_TYPE,
        ACCESS_DENIED_OBJECT_ACE_TYPE,
        ACCESS_DENIED_CALLBACK_ACE_TYPE,
        ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE,
    }
)

ACE_TYPE_NAMES: dict[int, str] = {
    ACCESS_ALLOWED_ACE_TYPE: "ACCESS_ALLOWED",
    ACCESS_DENIED_ACE_TYPE: "ACCESS_DENIED",
    SYSTEM_AUDIT_ACE_TYPE: "SYSTEM_AUDIT",
    SYSTEM_ALARM_ACE_TYPE: "SYSTEM_ALARM",
    ACCESS_ALLOWED_OBJECT_ACE_TYPE: "ACCESS_ALLOWED_OBJECT",
    ACCESS_DENIED_OBJECT_ACE_TYPE: "ACCESS_DENIED_OBJECT",
    SYSTEM_AUDIT_OBJECT_ACE_TYPE: "SYSTEM_AUDIT_OBJECT",
    SYSTEM_ALARM_OBJECT_ACE_TYPE: "SYSTEM_ALARM_OBJECT",
    ACCESS_ALLOWED_CALLBACK_ACE_TYPE: "ACCESS_ALLOWED_CALLBACK",
    ACCESS_DENIED_CALLBACK_ACE_TYPE: "ACCESS_DENIED_CALLBACK",
    ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE: "ACCESS_ALLOWED_CALLBACK_OBJECT",
    ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE: "ACCESS_DENIED_CALLBACK_OBJECT",
    SYSTEM_AUDIT_CALLBACK_ACE_TYPE: "SYSTEM_AUDIT_CALLBACK",
    SYSTEM_ALARM_CALLBACK_ACE_TYPE: "SYSTEM_ALARM_CALLBACK",
    SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE: "SYSTEM_AUDIT_CALLBACK_OBJECT",
    SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE: "SYSTEM_ALARM_CALLBACK_OBJECT",
    SYSTEM_MANDATORY_LABEL_ACE_TYPE: "SYSTEM_MANDATORY_LABEL",
    SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE: "SYSTEM_RESOURCE_ATTRIBUTE",
    SYSTEM_SCOPED_POLICY_ID_ACE_TYPE: "SYSTEM_SCOPED_POLICY_ID",
    SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE: "SYSTEM_PROCESS_TRUST_LABEL",
}

# Object ACE bodies carry Flags + optional GUIDs before the SID (MS-DTYP 2.4.4.3); they force ACL revision 4.
OBJECT_ACE_TYPES = frozenset(
    {
        ACCESS_ALLOWED_OBJECT_ACE_TYPE,
        ACCESS_DENIED_OBJECT_ACE_TYPE,
        SYSTEM_AUDIT_OBJECT_ACE_TYPE,
        SYSTEM_ALARM_OBJECT_ACE_TYPE,
        ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE,
        SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE,
        SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE,
    }
)
# Types whose body ends with ApplicationData (callback conditions, resource attributes) - MS-DTYP 2.4.4.6-2.4.4.17.
_APPDATA_ACE_TYPES = frozenset(
    {
        ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
        ACCESS_DENIED_CALLBACK_ACE_TYPE,
        ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
        ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE,
        SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
        SYSTEM_ALARM_CALLBACK_ACE_TYPE,
        SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE,
        SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE,
        SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE,
    }
)
# 0x04 (ACCESS_ALLOWED_COMPOUND) is reserved and has no documented body; anything above 0x14 is undefined.
_KNOWN_ACE_TYPES = frozenset(ACE_TYPE_NAMES)

# ACE flags, MS-DTYP 2.4.4.1.
OBJECT_INHERIT_ACE = 0x01
CONTAINER_INHERIT_ACE = 0x02
NO_PROPAGATE_INHERIT_ACE = 0x04
INHERIT_ONLY_ACE = 0x08
INHERITED_ACE = 0x10
SUCCESSFUL_ACCESS_ACE_FLAG = 0x40
FAILED_ACCESS_ACE_FLAG = 0x80

_ACE_OBJECT_TYPE_PRESENT = 0x1
_ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2

_MAX_SUB_AUTHORITIES = 15  # MS-DTYP 2.4.2.2: SubAuthorityCount 0..15
_MAX_AUTHORITY = (1 << 48) - 1
_MAX_U32 = 0xFFFFFFFF


def _err(message: str) -> SecurityDescriptorError:
    return SecurityDescriptorError(message)


# --- SID ---------------------------------------------------------------------------------------------------------


def _parse_sid_number(text: str, what: str, limit: int, full: str, position: int) -> int:
    """Parse one SID component: Windows accepts decimal and 0x-hex (S-1-0x2-3-4, S-1-3-0x00000002)."""
    try:
        if text[:2] in ("0x", "0X"):
            if len(text) == 2 or not all(c in "0123456789abcdefABCDEF" for c in text[2:]):
                raise ValueError(text)
            value = int(text[2:], 16)
        else:
            if not text.isascii() or not text.isdigit():
                raise ValueError(text)
            value = int(text, 10)
    except ValueError:
        raise _err(f"invalid {what} {text!r} in SID {full!r} at position {position}") from None
    if value > limit:
        # Windows clamps some overflowing values (ConvertStringSidToSid); a hardening tool must not guess, so refuse.
        raise _err(f"{what} {text!r} in SID {full!r} at position {position} is out of range (max {limit:#x})")
    return value


@dataclass(frozen=True)
class Sid:
    """A security identifier (MS-DTYP 2.4.2)."""

    authority: int
    sub_authorities: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.authority <= _MAX_AUTHORITY:
            raise _err(f"SID identifier authority {self.authority} does not fit in 48 bits")
        if len(self.sub_authorities) > _MAX_SUB_AUTHORITIES:
            raise _err(f"SID has {len(self.sub_authorities)} sub-authorities; the maximum is {_MAX_SUB_AUTHORITIES}")
        for sub in self.sub_authorities:
            if not 0 <= sub <= _MAX_U32:
                raise _err(f"SID sub-authority {sub} does not fit in 32 bits")

    @classmethod
    def parse(cls, text: str, position: int = 0) -> Sid:
        """Parse ``S-1-<authority>-<sub>...`` (decimal or 0x hex components); ``position`` is used in messages."""
        if not isinstance(text, str):
            raise _err(f"SID must be a string, not {type(text).__name__}")
        parts = text.split("-")
        if len(parts) < 3 or parts[0] != "S" or parts[1] != "1":
            raise _err(f"invalid SID {text!r} at position {position}: expected 'S-1-<authority>[-<sub-authority>...]'")
        offset = position + len(parts[0]) + len(parts[1]) + 2
        authority = _parse_sid_number(parts[2], "identifier authority", _MAX_AUTHORITY, text, offset)
        subs = []
        offset += len(parts[2]) + 1
        for part in parts[3:]:
            subs.append(_parse_sid_number(part, "sub-authority", _MAX_U32, text, offset))
            offset += len(part) + 1
        if len(subs) > _MAX_SUB_AUTHORITIES:
            raise _err(f"SID {text!r} at position {position} has {len(subs)} sub-authorities (max 15)")
        return cls(authority, tuple(subs))

    def __str__(self) -> str:
        # MS-DTYP 2.4.2.1: authorities >= 2**32 are printed in hex; Windows uses upper case, no padding
        # (roundtrip corpus: S-1-5000000000-30-40 -> S-1-0x12A05F200-30-40).
        auth = str(self.authority) if self.authority < (1 << 32) else f"0x{self.authority:X}"
        return "-".join(["S-1", auth, *(str(s) for s in self.sub_authorities)])

    def to_bytes(self) -> bytes:
        return (
            struct.pack("<BB", 1, len(self.sub_authorities))
            + self.authority.to_bytes(6, "big")  # the only big-endian field (MS-DTYP 2.4.2.2)
            + struct.pack(f"<{len(self.sub_authorities)}I", *self.sub_authorities)
        )

    @property
    def size(self) -> int:
        return 8 + 4 * len(self.sub_authorities)

    @classmethod
    def from_bytes(cls, data: bytes, offset: int = 0, limit: int | None = None) -> tuple[Sid, int]:
        """Read a binary SID at ``offset`` (not past ``limit``); return it and the offset just after it."""
        end_limit = len(data) if limit is None else min(limit, len(data))
        if offset < 0 or offset + 8 > end_limit:
            raise _err(f"SID at offset {offset:#x} is truncated (need 8 header bytes, {end_limit - offset} left)")
        revision, count = data[offset], data[offset + 1]
        if revision != 1:
            raise _err(f"SID at offset {offset:#x} has revision {revision}; MS-DTYP requires 1")
        if count > _MAX_SUB_AUTHORITIES:
            raise _err(f"SID at offset {offset:#x} claims {count} sub-authorities; the maximum is 15")
        end = offset + 8 + 4 * count
        if end > end_limit:
            raise _err(f"SID at offset {offset:#x} with {count} sub-authorities runs past the end of its container")
        authority = int.from_bytes(data[offset + 2 : offset + 8], "big")
        subs = struct.unpack_from(f"<{count}I", data, offset + 8)
        return cls(authority, tuple(subs)), end

    @property
    def rid(self) -> int | None:
        """The last sub-authority (the relative identifier), or None for a SID without sub-authorities."""
        return self.sub_authorities[-1] if self.sub_authorities else None


# --- ACE / ACL / SD model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ace:
    """One access control entry. ``application_data`` holds callback conditions / resource attributes verbatim."""

    type: int
    flags: int
    mask: int
    sid: Sid
    object_type: uuid.UUID | None = None
    inherited_object_type: uuid.UUID | None = None
    application_data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF:
            raise _err(f"ACE type {self.type} does not fit in a byte")
        if not 0 <= self.flags <= 0xFF:
            raise _err(f"ACE flags {self.flags} do not fit in a byte")
        if not 0 <= self.mask <= _MAX_U32:
            raise _err(f"ACE access mask {self.mask} does not fit in 32 bits")
        if self.type not in OBJECT_ACE_TYPES and (self.object_type or self.inherited_object_type):
            raise _err(f"ACE type {self.type:#x} is not an object ACE type and cannot carry object GUIDs")

    @property
    def inherited(self) -> bool:
        return bool(self.flags & INHERITED_ACE)

    @property
    def is_object(self) -> bool:
        return self.type in OBJECT_ACE_TYPES

    def to_bytes(self) -> bytes:
        if self.type not in _KNOWN_ACE_TYPES:
            raise _err(f"cannot serialize unknown ACE type {self.type:#x}")
        body = struct.pack("<I", self.mask)
        if self.type in OBJECT_ACE_TYPES:
            obj_flags = (_ACE_OBJECT_TYPE_PRESENT if self.object_type else 0) | (
                _ACE_INHERITED_OBJECT_TYPE_PRESENT if self.inherited_object_type else 0
            )
            body += struct.pack("<I", obj_flags)
            # GUIDs are stored in the Windows (mixed-endian) layout, uuid.bytes_le (MS-DTYP 2.3.4.2).
            if self.object_type:
                body += self.object_type.bytes_le
            if self.inherited_object_type:
                body += self.inherited_object_type.bytes_le
        body += self.sid.to_bytes() + self.application_data
        size = 4 + len(body)
        padding = (-size) % 4  # AceSize MUST be a multiple of 4 (MS-DTYP 2.4.4.1)
        size += padding
        if size > 0xFFFF:
            raise _err(f"ACE of {size} bytes exceeds the 65535-byte AceSize limit")
        return struct.pack("<BBH", self.type, self.flags, size) + body + b"\0" * padding


@dataclass(frozen=True)
class Acl:
    """An ACL. ``revision`` is kept from binary input; serialization forces 4 when an object ACE is present."""

    aces: tuple[Ace, ...] = ()
    revision: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.aces, tuple):
            object.__setattr__(self, "aces", tuple(self.aces))

    def to_bytes(self) -> bytes:
        body = b"".join(ace.to_bytes() for ace in self.aces)
        # Windows writes ACL_REVISION (2) unless an object ACE needs ACL_REVISION_DS (4): MS-DTYP 2.4.5, measured
        # on all 7,151 corpus SDs. A revision read from binary (e.g. 4) is preserved.
        revision = 4 if any(a.is_object for a in self.aces) else self.revision
        size = 8 + len(body)
        if size > 0xFFFF or len(self.aces) > 0xFFFF:
            raise _err(f"ACL of {size} bytes / {len(self.aces)} ACEs exceeds the 16-bit AclSize/AceCount limits")
        return struct.pack("<BBHHH", revision, 0, size, len(self.aces), 0) + body


@dataclass(frozen=True)
class SecurityDescriptor:
    """A security descriptor.

    DACL state follows Windows: SE_DACL_PRESENT clear = no DACL; set with ``dacl=None`` = NULL DACL;
    set with an ``Acl`` of 0 ACEs = empty DACL (MS-DTYP 2.4.6). The same holds for the SACL. Passing an ``Acl``
    sets the matching *_PRESENT bit; SE_SELF_RELATIVE is always set (this codec only knows self-relative form).
    """

    control: int = SE_SELF_RELATIVE
    owner: Sid | None = None
    group: Sid | None = None
    dacl: Acl | None = None
    sacl: Acl | None = None
    rm_control: int = field(default=0, compare=True)

    def __post_init__(self) -> None:
        control = self.control
        if not 0 <= control <= 0xFFFF:
            raise _err(f"control word {control:#x} does not fit in 16 bits")
        control |= SE_SELF_RELATIVE
        if self.dacl is not None:
            control |= SE_DACL_PRESENT
        if self.sacl is not None:
            control |= SE_SACL_PRESENT
        object.__setattr__(self, "control", control)

    @property
    def has_dacl(self) -> bool:
        """True when SE_DACL_PRESENT is set (a NULL DACL counts as present)."""
        return bool(self.control & SE_DACL_PRESENT)

    @property
    def has_null_dacl(self) -> bool:
        return self.has_dacl and self.dacl is None

    @property
    def has_sacl(self) -> bool:
        return bool(self.control & SE_SACL_PRESENT)

    @property
    def has_null_sacl(self) -> bool:
        return self.has_sacl and self.sacl is None
