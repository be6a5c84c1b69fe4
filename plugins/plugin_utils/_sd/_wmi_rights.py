# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""WMI namespace vocabulary: access rights names <-> masks, ACE flag names, inheritance in words."""

from __future__ import annotations

import re

from .._text import as_written
from ._sd import (
    CONTAINER_INHERIT_ACE,
    FAILED_ACCESS_ACE_FLAG,
    INHERIT_ONLY_ACE,
    INHERITED_ACE,
    NO_PROPAGATE_INHERIT_ACE,
    OBJECT_INHERIT_ACE,
    SUCCESSFUL_ACCESS_ACE_FLAG,
    SecurityDescriptorError,
)

__all__ = [
    "ACE_FLAGS",
    "INHERIT_FLAGS",
    "SETSD_ACE_FLAGS",
    "SETSD_RIGHTS_MASK",
    "WMI_RIGHTS",
    "WMI_RIGHTS_PRESETS",
    "flag_names",
    "flags_from_names",
    "inherit_name",
    "mask_to_rights",
    "rights_to_mask",
]

# Namespace access rights (https://learn.microsoft.com/en-us/windows/win32/wmisdk/namespace-access-rights-constants,
# __SystemSecurity.GetCallerAccessRights). Order = ascending bit = display order.
WMI_RIGHTS: dict[str, int] = {
    "Enable": 0x1,  # WBEM_ENABLE, SDDL CC
    "MethodExecute": 0x2,  # WBEM_METHOD_EXECUTE, DC
    "FullWrite": 0x4,  # WBEM_FULL_WRITE_REP, LC
    "PartialWrite": 0x8,  # WBEM_PARTIAL_WRITE_REP, SW
    "ProviderWrite": 0x10,  # WBEM_WRITE_PROVIDER, RP
    "RemoteAccess": 0x20,  # WBEM_REMOTE_ACCESS, WP
    "Subscribe": 0x40,  # WBEM_RIGHT_SUBSCRIBE, DT (event security; not documented for SetSD)
    "Publish": 0x80,  # WBEM_RIGHT_PUBLISH, LO (event security; not documented for SetSD)
    "ReadSecurity": 0x20000,  # READ_CONTROL, RC
    "WriteSecurity": 0x40000,  # WRITE_DAC, WD
}
_RIGHT_BY_LOWER = {name.lower(): name for name in WMI_RIGHTS}

# Convenience bundles users ask for by name; values are the masks of Windows' default root DACL
# (O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)).
WMI_RIGHTS_PRESETS: dict[str, int] = {
    # BA on root: CCDCLCSWRPWPRCWD = 0x6003f
    "FullControl": 0x6003F,
    # AU/LS/NS on root: CCDCRP = 0x13 (the doc says "Full Write", the real mask is ProviderWrite)
    "DefaultUser": 0x13,
}

# What __SystemSecurity.SetSD accepts in an ACE mask: 0x3f | READ_CONTROL | WRITE_DAC; an unknown access bit is
# WBEM_E_INVALID_PARAMETER (https://learn.microsoft.com/en-us/windows/win32/wmisdk/--systemsecurity-setsd).
SETSD_RIGHTS_MASK = 0x3F | 0x20000 | 0x40000

ACE_FLAGS: dict[str, int] = {
    "object_inherit": OBJECT_INHERIT_ACE,
    "container_inherit": CONTAINER_INHERIT_ACE,
    "no_propagate_inherit": NO_PROPAGATE_INHERIT_ACE,
    "inherit_only": INHERIT_ONLY_ACE,
    "inherited": INHERITED_ACE,
    "successful_access": SUCCESSFUL_ACCESS_ACE_FLAG,
    "failed_access": FAILED_ACCESS_ACE_FLAG,
}
# Flags legal in a namespace ACE: OI CI NP IO ID
# (https://learn.microsoft.com/en-us/windows/win32/wmisdk/namespace-ace-flag-constants).
SETSD_ACE_FLAGS = (
    OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE | NO_PROPAGATE_INHERIT_ACE | INHERIT_ONLY_ACE | INHERITED_ACE
)

# Inheritance in words -> CI/NP/IO combination
# (https://learn.microsoft.com/en-us/windows/win32/wmisdk/establishing-inheritance-of-namespace-security).
INHERIT_FLAGS: dict[str, int] = {
    "this": 0,
    "children": CONTAINER_INHERIT_ACE | INHERIT_ONLY_ACE,
    "this_and_children": CONTAINER_INHERIT_ACE,
    "this_and_immediate_children": CONTAINER_INHERIT_ACE | NO_PROPAGATE_INHERIT_ACE,
}
# A mask given as text: ASCII decimal digits, or 0x and ASCII hex digits - nothing else. int() would also take
# signs, spaces, underscores ("0x2_0"), 0b/0o prefixes and any Unicode decimal digit (Arabic-Indic, fullwidth),
# none of which a user means as an access mask.
_MASK_TEXT = re.compile(r"(?:[0-9]+|0x[0-9a-fA-F]+)", re.ASCII)
_INHERIT_MASK = CONTAINER_INHERIT_ACE | NO_PROPAGATE_INHERIT_ACE | INHERIT_ONLY_ACE


def _one_right(value: str | int) -> int:
    if isinstance(value, bool):
        raise SecurityDescriptorError(f"access right {value!r} must be a name or an integer mask, not a boolean")
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFFFFFF:
            raise SecurityDescriptorError(f"access mask {value!r} does not fit in 32 bits")
        return value
    if not isinstance(value, str):
        raise SecurityDescriptorError(f"access right {value!r} must be a name or an integer mask")
    key = value.strip().lower()
    if key in _RIGHT_BY_LOWER:
        return WMI_RIGHTS[_RIGHT_BY_LOWER[key]]
    for preset, mask in WMI_RIGHTS_PRESETS.items():
        if key == preset.lower():
            return mask
    if _MASK_TEXT.fullmatch(value):
        return _one_right(int(value, 16) if value.startswith("0x") else int(value, 10))
    # Only the rights a namespace ACE may carry (SetSD refuses the others) and the documented preset.
    known = ", ".join([*(name for name, bit in WMI_RIGHTS.items() if bit & SETSD_RIGHTS_MASK), "FullControl"])
    raise SecurityDescriptorError(
        f"unknown WMI access right {as_written(value)}; known rights: {known}, or a mask as decimal digits or "
        "0x and hex digits"
    )


def rights_to_mask(value: int | str | list[str | int] | tuple[str | int, ...]) -> int:
    """Names (case-insensitive), presets, integer masks, numeric strings or a list of those -> mask.

    A string may also be a comma-separated list ("Enable, MethodExecute").
    """
    if isinstance(value, list | tuple):
        mask = 0
        for item in value:
            mask |= rights_to_mask(item) if isinstance(item, list | tuple) else _one_right(item)
        return mask
    if isinstance(value, str) and "," in value:
        return rights_to_mask([part for part in value.split(",") if part.strip()])
    return _one_right(value)


def mask_to_rights(mask: int) -> list[str]:
    """Mask -> names in bit order; bits without a WMI name are reported as one hex entry (e.g. ``0x10000``)."""
    if isinstance(mask, bool) or not isinstance(mask, int) or not 0 <= mask <= 0xFFFFFFFF:
        raise SecurityDescriptorError(f"access mask {mask!r} must be an integer between 0 and 0xffffffff")
    names = [name for name, bit in WMI_RIGHTS.items() if mask & bit]
    unknown = mask & ~sum(WMI_RIGHTS.values())
    if unknown:
        names.append(f"{unknown:#x}")
    return names


def inherit_name(flags: int) -> str:
    """CI/NP/IO part of ACE flags -> a word from INHERIT_FLAGS; combinations with no word (IO without CI, NP
    without CI) are described by their flag names joined with '+', so nothing is hidden."""
    bits = flags & _INHERIT_MASK
    for name, value in INHERIT_FLAGS.items():
        if bits == value:
            return name
    return "+".join(n for n, v in ACE_FLAGS.items() if bits & v)


def flag_names(flags: int) -> list[str]:
    names = [name for name, bit in ACE_FLAGS.items() if flags & bit]
    unknown = flags & ~sum(ACE_FLAGS.values())
    if unknown:
        names.append(f"{unknown:#x}")
    return names


def flags_from_names(names: list[str] | tuple[str, ...]) -> int:
    flags = 0
    for name in names:
        key = str(name).strip().lower()
        if key not in ACE_FLAGS:
            raise SecurityDescriptorError(f"unknown ACE flag {name!r}; known flags: {', '.join(ACE_FLAGS)}")
        flags |= ACE_FLAGS[key]
    return flags
