# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Readable structure for a security descriptor (what sddl_to_acl returns) and its inverse (acl_to_sddl)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from .._text import as_written
from ._principals import principal_name, principal_to_sid
from ._sd import (
    ACE_TYPE_NAMES,
    INHERITED_ACE,
    SE_DACL_AUTO_INHERIT_REQ,
    SE_DACL_AUTO_INHERITED,
    SE_DACL_PROTECTED,
    SE_SACL_AUTO_INHERIT_REQ,
    SE_SACL_AUTO_INHERITED,
    SE_SACL_PROTECTED,
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
)
from ._wmi_rights import (
    INHERIT_FLAGS,
    flag_names,
    flags_from_names,
    inherit_name,
    mask_to_rights,
    rights_to_mask,
)

__all__ = ["ACE_TYPE_WORDS", "acl_view", "sd_from_view"]

# Short words for the ACE types a user meets; the rest use the lower-case MS-DTYP name (e.g. "system_audit_object").
ACE_TYPE_WORDS: dict[int, str] = {0x00: "allow", 0x01: "deny", 0x02: "audit", 0x03: "alarm"}
_TYPE_BY_WORD: dict[str, int] = {
    **{name.lower(): value for value, name in ACE_TYPE_NAMES.items()},
    **{word: value for value, word in ACE_TYPE_WORDS.items()},
    "allowed": 0x00,
    "denied": 0x01,
}
# (view name, DACL bit, SACL bit) - the SDDL P / AR / AI flags.
_ACL_FLAG_NAMES: tuple[tuple[str, int, int], ...] = (
    ("protected", SE_DACL_PROTECTED, SE_SACL_PROTECTED),
    ("auto_inherit_req", SE_DACL_AUTO_INHERIT_REQ, SE_SACL_AUTO_INHERIT_REQ),
    ("auto_inherited", SE_DACL_AUTO_INHERITED, SE_SACL_AUTO_INHERITED),
)


def _principal_view(sid: Sid | None, resolved: Mapping[str, str | None] | None) -> dict[str, str] | None:
    if sid is None:
        return None
    return {"sid": str(sid), "name": principal_name(sid, resolved)}


def _ace_view(ace: Ace, resolved: Mapping[str, str | None] | None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": ACE_TYPE_WORDS.get(ace.type, ACE_TYPE_NAMES.get(ace.type, f"{ace.type:#x}").lower()),
        "principal": principal_name(ace.sid, resolved),
        "sid": str(ace.sid),
        "rights": mask_to_rights(ace.mask),
        "mask": ace.mask,
        "inherit": inherit_name(ace.flags),
        "inherited": ace.inherited,
        "flags": flag_names(ace.flags),
    }
    if ace.object_type:
        view["object_type"] = str(ace.object_type)
    if ace.inherited_object_type:
        view["inherited_object_type"] = str(ace.inherited_object_type)
    return view


def _acl_state(present: bool, acl: Acl | None) -> str:
    if not present:
        return "absent"
    return "null" if acl is None else "present"


def acl_view(sd: SecurityDescriptor, resolved: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """Readable dict: owner/group ``{sid, name}``, ``dacl`` state, ``dacl_flags`` and ``aces`` (DACL ACEs).

    ``resolved`` maps SID strings to names looked up on the host; unknown SIDs show as the SID string.
    A SACL, when present, is reported as ``sacl``/``sacl_flags``/``sacl_aces`` in the same shape.
    """
    view: dict[str, Any] = {
        "owner": _principal_view(sd.owner, resolved),
        "group": _principal_view(sd.group, resolved),
        "dacl": _acl_state(sd.has_dacl, sd.dacl),
        "dacl_flags": [name for name, bit, _s in _ACL_FLAG_NAMES if sd.control & bit],
        "aces": [_ace_view(ace, resolved) for ace in (sd.dacl.aces if sd.dacl else ())],
    }
    if sd.has_sacl:
        view["sacl"] = _acl_state(True, sd.sacl)
        view["sacl_flags"] = [name for name, _d, bit in _ACL_FLAG_NAMES if sd.control & bit]
        view["sacl_aces"] = [_ace_view(ace, resolved) for ace in (sd.sacl.aces if sd.sacl else ())]
    return view


def _sid_from_principal(value: Any, where: str, names: Mapping[str, str] | None) -> Sid:
    if isinstance(value, Mapping):
        value = value.get("sid") or value.get("name")
    if not isinstance(value, str) or not value.strip():
        raise SecurityDescriptorError(f"{where}: principal must be a SID, an SDDL alias or a well-known name")
    try:
        sid = principal_to_sid(value)
    except SecurityDescriptorError as exc:
        raise SecurityDescriptorError(f"{where}: {exc}") from None
    if sid is None and names:
        text = names.get(value) or names.get(value.lower())
        if text:
            sid = Sid.parse(text)
    if sid is None:
        raise SecurityDescriptorError(
            f"{where}: principal {as_written(value)} is not a well-known name; give its SID (S-1-5-21-...) instead"
        )
    return sid


def _ace_from_view(item: Any, where: str, names: Mapping[str, str] | None) -> Ace:
    if not isinstance(item, Mapping):
        raise SecurityDescriptorError(f"{where} must be a mapping with type, principal/sid and rights")
    type_word = str(item.get("type", "allow")).strip().lower()
    if type_word not in _TYPE_BY_WORD:
        raise SecurityDescriptorError(f"{where}: unknown ACE type {as_written(item.get('type'))}; use allow or deny")
    principal = item.get("sid") or item.get("principal")
    if principal is None:
        raise SecurityDescriptorError(f"{where}: needs 'principal' or 'sid'")
    sid = _sid_from_principal(principal, where, names)
    if "rights" not in item and "mask" not in item:
        raise SecurityDescriptorError(f"{where}: needs 'rights' (names) or 'mask'")
    try:
        mask = rights_to_mask(item.get("rights") or [])
        if item.get("mask") is not None:
            mask |= rights_to_mask(item["mask"])
        flags = flags_from_names(item.get("flags") or [])
    except SecurityDescriptorError as exc:
        raise SecurityDescriptorError(f"{where}: {exc}") from None
    inherit = str(item.get("inherit", "this")).strip().lower()
    if inherit in INHERIT_FLAGS:
        flags |= INHERIT_FLAGS[inherit]
    else:
        # inherit_name() describes odd combinations as flag names joined by '+'; accept that form back.
        try:
            flags |= flags_from_names(inherit.split("+"))
        except SecurityDescriptorError:
            raise SecurityDescriptorError(
                f"{where}: unknown inherit value {as_written(item.get('inherit'))}; "
                f"use one of {', '.join(INHERIT_FLAGS)}"
            ) from None
    if item.get("inherited"):
        flags |= INHERITED_ACE
    guids = []
    for key in ("object_type", "inherited_object_type"):
        text = item.get(key)
        try:
            guids.append(uuid.UUID(str(text)) if text else None)
        except ValueError:
            raise SecurityDescriptorError(f"{where}: invalid {key} GUID {as_written(text)}") from None
    return Ace(_TYPE_BY_WORD[type_word], flags, mask, sid, guids[0], guids[1])


def _acl_from_view(view: Mapping[str, Any], prefix: str, names: Mapping[str, str] | None) -> tuple[bool, Acl | None]:
    key_aces = "aces" if prefix == "dacl" else "sacl_aces"
    state = view.get(prefix)
    items = view.get(key_aces)
    if state is None:
        state = "present" if items is not None or prefix == "dacl" else "absent"
    state = str(state).lower()
    if state not in ("present", "null", "absent"):
        raise SecurityDescriptorError(
            f"{prefix} must be 'present', 'null' or 'absent', not {as_written(view.get(prefix))}"
        )
    if state == "absent":
        return False, None
    if state == "null":
        if items:
            raise SecurityDescriptorError(f"{prefix} is 'null' (no access control) but {key_aces} lists ACEs")
        return True, None
    if items is None:
        items = []
    if not isinstance(items, list | tuple):
        raise SecurityDescriptorError(f"{key_aces} must be a list of ACEs")
    aces = tuple(_ace_from_view(item, f"{key_aces}[{i}]", names) for i, item in enumerate(items))
    return True, Acl(aces, 4 if any(a.is_object for a in aces) else 2)


def sd_from_view(view: Mapping[str, Any], names: Mapping[str, str] | None = None) -> SecurityDescriptor:
    """Inverse of acl_view. Principals may be SIDs, SDDL aliases, well-known names or ``{sid, name}`` dicts;
    rights may be names, a mask, or both (combined). ``names`` maps further principal names to SID strings.
    """
    if not isinstance(view, Mapping):
        raise SecurityDescriptorError("the ACL structure must be a mapping (owner, group, dacl_flags, aces)")
    control = 0
    for key, is_dacl in (("dacl_flags", True), ("sacl_flags", False)):
        for flag in view.get(key) or []:
            match = [entry for entry in _ACL_FLAG_NAMES if entry[0] == str(flag).strip().lower()]
            if not match:
                known = ", ".join(n for n, _d, _s in _ACL_FLAG_NAMES)
                raise SecurityDescriptorError(f"{key}: unknown flag {as_written(flag)}; known flags: {known}")
            _name, dacl_bit, sacl_bit = match[0]
            control |= dacl_bit if is_dacl else sacl_bit
    owner = _sid_from_principal(view["owner"], "owner", names) if view.get("owner") else None
    group = _sid_from_principal(view["group"], "group", names) if view.get("group") else None
    dacl_present, dacl = _acl_from_view(view, "dacl", names)
    sacl_present, sacl = _acl_from_view(view, "sacl", names)
    control |= (0x4 if dacl_present else 0) | (0x10 if sacl_present else 0)
    return SecurityDescriptor(control=control, owner=owner, group=group, dacl=dacl, sacl=sacl)
