# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Security descriptor model and codec: self-relative binary and SDDL, pure Python.

The codec represents everything Windows can represent (no DACL, NULL DACL, empty DACL, a header-only SD);
deciding what may be written to a WMI namespace is the job of ``_namespace_sd``.
Layout facts are MS-DTYP 2.4 (SID, ACE, ACL, SECURITY_DESCRIPTOR) and measurements of Windows-generated descriptors.

Layout: ``_sd_model`` (constants, Sid/Ace/Acl/SecurityDescriptor), ``_sddl`` (SDDL parse/print) and this file
(binary parse/serialize); import everything from here.
"""

from __future__ import annotations

import itertools
import struct
import uuid
from collections.abc import Iterable

# The model and the SDDL codec live in their own files; everything is re-exported here so that the rest of the
# collection imports one module.
from ._sd_model import (
    _ACE_INHERITED_OBJECT_TYPE_PRESENT,
    _ACE_OBJECT_TYPE_PRESENT,
    _APPDATA_ACE_TYPES,
    _KNOWN_ACE_TYPES,
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
    ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE,
    ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    ACCESS_DENIED_CALLBACK_ACE_TYPE,
    ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE,
    ACCESS_DENIED_OBJECT_ACE_TYPE,
    ACE_TYPE_NAMES,
    ALLOW_LIKE_ACE_TYPES,
    CONTAINER_INHERIT_ACE,
    DENY_LIKE_ACE_TYPES,
    FAILED_ACCESS_ACE_FLAG,
    INHERIT_ONLY_ACE,
    INHERITED_ACE,
    NO_PROPAGATE_INHERIT_ACE,
    OBJECT_ACE_TYPES,
    OBJECT_INHERIT_ACE,
    SE_DACL_AUTO_INHERIT_REQ,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_DEFAULTED,
    SE_DACL_PRESENT,
    SE_DACL_PROTECTED,
    SE_GROUP_DEFAULTED,
    SE_OWNER_DEFAULTED,
    SE_RM_CONTROL_VALID,
    SE_SACL_AUTO_INHERIT_REQ,
    SE_SACL_AUTO_INHERITED,
    SE_SACL_DEFAULTED,
    SE_SACL_PRESENT,
    SE_SACL_PROTECTED,
    SE_SELF_RELATIVE,
    SUCCESSFUL_ACCESS_ACE_FLAG,
    SYSTEM_ALARM_ACE_TYPE,
    SYSTEM_ALARM_CALLBACK_ACE_TYPE,
    SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE,
    SYSTEM_ALARM_OBJECT_ACE_TYPE,
    SYSTEM_AUDIT_ACE_TYPE,
    SYSTEM_AUDIT_CALLBACK_ACE_TYPE,
    SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE,
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
from ._sddl import (
    SID_ALIASES,
    SID_DOMAIN_ALIASES,
    mask_to_sddl_rights,
    sd_from_sddl,
    sd_to_sddl,
    sddl_rights_to_mask,
)

__all__ = [
    "ACCESS_ALLOWED_ACE_TYPE",
    "ACCESS_ALLOWED_CALLBACK_ACE_TYPE",
    "ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE",
    "ACCESS_ALLOWED_OBJECT_ACE_TYPE",
    "ACCESS_DENIED_ACE_TYPE",
    "ACCESS_DENIED_CALLBACK_ACE_TYPE",
    "ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE",
    "ACCESS_DENIED_OBJECT_ACE_TYPE",
    "ACE_TYPE_NAMES",
    "ALLOW_LIKE_ACE_TYPES",
    "CONTAINER_INHERIT_ACE",
    "DENY_LIKE_ACE_TYPES",
    "FAILED_ACCESS_ACE_FLAG",
    "INHERITED_ACE",
    "INHERIT_ONLY_ACE",
    "NO_PROPAGATE_INHERIT_ACE",
    "OBJECT_ACE_TYPES",
    "OBJECT_INHERIT_ACE",
    "SE_DACL_AUTO_INHERITED",
    "SE_DACL_AUTO_INHERIT_REQ",
    "SE_DACL_DEFAULTED",
    "SE_DACL_PRESENT",
    "SE_DACL_PROTECTED",
    "SE_GROUP_DEFAULTED",
    "SE_OWNER_DEFAULTED",
    "SE_RM_CONTROL_VALID",
    "SE_SACL_AUTO_INHERITED",
    "SE_SACL_AUTO_INHERIT_REQ",
    "SE_SACL_DEFAULTED",
    "SE_SACL_PRESENT",
    "SE_SACL_PROTECTED",
    "SE_SELF_RELATIVE",
    "SID_ALIASES",
    "SID_DOMAIN_ALIASES",
    "SUCCESSFUL_ACCESS_ACE_FLAG",
    "SYSTEM_ALARM_ACE_TYPE",
    "SYSTEM_ALARM_CALLBACK_ACE_TYPE",
    "SYSTEM_ALARM_CALLBACK_OBJECT_ACE_TYPE",
    "SYSTEM_ALARM_OBJECT_ACE_TYPE",
    "SYSTEM_AUDIT_ACE_TYPE",
    "SYSTEM_AUDIT_CALLBACK_ACE_TYPE",
    "SYSTEM_AUDIT_CALLBACK_OBJECT_ACE_TYPE",
    "SYSTEM_AUDIT_OBJECT_ACE_TYPE",
    "SYSTEM_MANDATORY_LABEL_ACE_TYPE",
    "SYSTEM_PROCESS_TRUST_LABEL_ACE_TYPE",
    "SYSTEM_RESOURCE_ATTRIBUTE_ACE_TYPE",
    "SYSTEM_SCOPED_POLICY_ID_ACE_TYPE",
    "Ace",
    "Acl",
    "SecurityDescriptor",
    "SecurityDescriptorError",
    "Sid",
    "mask_to_sddl_rights",
    "sd_equivalent",
    "sd_from_bytes",
    "sd_from_sddl",
    "sd_to_bytes",
    "sd_to_sddl",
    "sddl_rights_to_mask",
]


# --- binary codec ------------------------------------------------------------------------------------------------


def _parse_ace(data: bytes, offset: int, acl_end: int, index: int, where: str) -> tuple[Ace, int]:
    if offset + 4 > acl_end:
        raise _err(f"{where} ACE {index} at offset {offset:#x} is truncated (ACE header needs 4 bytes)")
    ace_type, flags, size = struct.unpack_from("<BBH", data, offset)
    if size < 8 or size % 4:
        raise _err(f"{where} ACE {index} at offset {offset:#x} has AceSize {size}; it must be >= 8 and a multiple of 4")
    end = offset + size
    if end > acl_end:
        raise _err(f"{where} ACE {index} at offset {offset:#x} (AceSize {size}) runs past the end of its ACL")
    if ace_type not in _KNOWN_ACE_TYPES:
        raise _err(f"{where} ACE {index} at offset {offset:#x} has unknown ACE type {ace_type:#x}")
    pos = offset + 4
    (mask,) = struct.unpack_from("<I", data, pos)
    pos += 4
    object_type = inherited_object_type = None
    if ace_type in OBJECT_ACE_TYPES:
        if pos + 4 > end:
            raise _err(f"{where} ACE {index} at offset {offset:#x} is too short for its object flags")
        (obj_flags,) = struct.unpack_from("<I", data, pos)
        pos += 4
        if obj_flags & ~(_ACE_OBJECT_TYPE_PRESENT | _ACE_INHERITED_OBJECT_TYPE_PRESENT):
            raise _err(f"{where} ACE {index} at offset {offset:#x} has unknown object flags {obj_flags:#x}")
        if obj_flags & _ACE_OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise _err(f"{where} ACE {index} at offset {offset:#x} is too short for its ObjectType GUID")
            object_type = uuid.UUID(bytes_le=bytes(data[pos : pos + 16]))
            pos += 16
        if obj_flags & _ACE_INHERITED_OBJECT_TYPE_PRESENT:
            if pos + 16 > end:
                raise _err(f"{where} ACE {index} at offset {offset:#x} is too short for its InheritedObjectType GUID")
            inherited_object_type = uuid.UUID(bytes_le=bytes(data[pos : pos + 16]))
            pos += 16
    try:
        sid, pos = Sid.from_bytes(data, pos, end)
    except SecurityDescriptorError as exc:
        raise _err(f"{where} ACE {index} at offset {offset:#x}: {exc}") from None
    # Bytes after the SID: ApplicationData for callback/resource-attribute ACEs; otherwise slack that Windows
    # and AD sometimes leave (impacket: "adds null bytes to the end of ACEs") - ignored.
    app_data = bytes(data[pos:end]) if ace_type in _APPDATA_ACE_TYPES else b""
    return Ace(ace_type, flags, mask, sid, object_type, inherited_object_type, app_data), end


def _parse_acl(data: bytes, offset: int, where: str) -> tuple[Acl, int]:
    if offset + 8 > len(data):
        raise _err(f"{where} at offset {offset:#x} is truncated (ACL header needs 8 bytes, {len(data) - offset} left)")
    revision, _sbz1, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    # IsValidAcl accepts MIN_ACL_REVISION (2) .. MAX_ACL_REVISION (4); Windows itself writes 2 or 4 (MS-DTYP 2.4.5).
    if revision not in (2, 3, 4):
        raise _err(f"{where} at offset {offset:#x} has ACL revision {revision}; expected 2, 3 or 4")
    if size < 8:
        raise _err(f"{where} at offset {offset:#x} has AclSize {size}; the header alone is 8 bytes")
    end = offset + size
    if end > len(data):
        raise _err(f"{where} at offset {offset:#x} (AclSize {size}) runs past the end of the {len(data)}-byte buffer")
    aces = []
    pos = offset + 8
    for index in range(count):
        ace, pos = _parse_ace(data, pos, end, index, where)
        aces.append(ace)
    # Slack after the last ACE (AclSize > sum of AceSize) is tolerated: descriptors Windows generated have it.
    return Acl(tuple(aces), revision), end


def sd_from_bytes(data: bytes | bytearray | memoryview | Iterable[int]) -> SecurityDescriptor:
    """Parse a self-relative security descriptor (MS-DTYP 2.4.6), with strict bounds and overlap checks."""
    if not isinstance(data, bytes | bytearray | memoryview):
        try:
            data = bytes(data)
        except (TypeError, ValueError) as exc:
            raise _err(f"security descriptor must be bytes or a list of 0-255 integers: {exc}") from None
    data = bytes(data)
    if len(data) < 20:
        raise _err(f"security descriptor is {len(data)} bytes; the self-relative header alone is 20 bytes")
    revision, rm_control, control, off_owner, off_group, off_sacl, off_dacl = struct.unpack_from("<BBHIIII", data, 0)
    if revision != 1:
        raise _err(f"security descriptor revision is {revision} at offset 0x0; MS-DTYP requires 1")
    regions: list[tuple[int, int, str]] = []

    def check_offset(offset: int, name: str) -> None:
        if offset < 20 or offset >= len(data):
            raise _err(f"{name} offset {offset:#x} is outside the {len(data)}-byte security descriptor body (0x14..)")

    def read_sid(offset: int, name: str) -> Sid | None:
        if not offset:
            return None
        check_offset(offset, name)
        try:
            sid, end = Sid.from_bytes(data, offset)
        except SecurityDescriptorError as exc:
            raise _err(f"{name}: {exc}") from None
        regions.append((offset, end, name))
        return sid

    owner = read_sid(off_owner, "owner")
    group = read_sid(off_group, "group")
    sacl = dacl = None
    # With *_PRESENT clear the offset is meaningless (GetSecurityDescriptorSacl reports "not present"); with it set,
    # offset 0 is a NULL ACL (MS-DTYP 2.4.6).
    if control & SE_SACL_PRESENT and off_sacl:
        check_offset(off_sacl, "SACL")
        sacl, end = _parse_acl(data, off_sacl, "SACL")
        regions.append((off_sacl, end, "SACL"))
    if control & SE_DACL_PRESENT and off_dacl:
        check_offset(off_dacl, "DACL")
        dacl, end = _parse_acl(data, off_dacl, "DACL")
        regions.append((off_dacl, end, "DACL"))
    regions.sort()
    for (start_a, end_a, name_a), (start_b, _end_b, name_b) in itertools.pairwise(regions):
        if start_b < end_a:
            raise _err(f"{name_b} at offset {start_b:#x} overlaps {name_a} at {start_a:#x}..{end_a:#x}")
    return SecurityDescriptor(
        control=control | SE_SELF_RELATIVE,
        owner=owner,
        group=group,
        dacl=dacl,
        sacl=sacl,
        rm_control=rm_control if control & SE_RM_CONTROL_VALID else 0,
    )


def sd_to_bytes(sd: SecurityDescriptor) -> bytes:
    """Serialize in Windows' layout: header, SACL, DACL, owner, group back to back from 0x14 (MS-DTYP 2.4.6)."""
    parts: list[bytes] = []
    offsets = {"sacl": 0, "dacl": 0, "owner": 0, "group": 0}
    pos = 20
    components: list[tuple[str, bytes | None]] = [
        ("sacl", sd.sacl.to_bytes() if sd.sacl is not None else None),
        ("dacl", sd.dacl.to_bytes() if sd.dacl is not None else None),
        ("owner", sd.owner.to_bytes() if sd.owner is not None else None),
        ("group", sd.group.to_bytes() if sd.group is not None else None),
    ]
    for name, blob in components:
        if blob is None:
            continue
        offsets[name] = pos
        parts.append(blob)
        pos += len(blob)
    header = struct.pack(
        "<BBHIIII",
        1,
        sd.rm_control if sd.control & SE_RM_CONTROL_VALID else 0,
        sd.control | SE_SELF_RELATIVE,
        offsets["owner"],
        offsets["group"],
        offsets["sacl"],
        offsets["dacl"],
    )
    return header + b"".join(parts)


def sd_equivalent(a: SecurityDescriptor, b: SecurityDescriptor) -> bool:
    """Same control word, owner, group, DACL/SACL state and ACE lists; ignores ACL revision, layout and slack."""

    def acl_key(acl: Acl | None) -> tuple[Ace, ...] | None:
        return None if acl is None else acl.aces

    return (
        a.control == b.control
        and a.owner == b.owner
        and a.group == b.group
        and acl_key(a.dacl) == acl_key(b.dacl)
        and acl_key(a.sacl) == acl_key(b.sacl)
    )
