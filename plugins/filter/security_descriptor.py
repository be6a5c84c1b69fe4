# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters converting WMI namespace security descriptors between SDDL, binary and a readable structure.

Documentation is in the .yml sidecar of each filter (sddl_to_sd.yml, sd_to_sddl.yml, ...).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._acl_view import acl_view, sd_from_view
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    SecurityDescriptorError,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._wmi_rights import mask_to_rights, rights_to_mask

_FORMATS = ("base64", "list", "hex")


def _optional(value: Any) -> Any:
    # `domain_sid=omit` arrives as the omit placeholder string; treat it (and '') like "not given".
    if value is None or (isinstance(value, str) and (not value or value.startswith("__omit_place_holder__"))):
        return None
    return value


def _sddl_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise AnsibleFilterError(f"{name} expects an SDDL string, got {type(value).__name__}")
    return value


def _sd_bytes(data: Any) -> bytes:
    """Bytes from a list of ints (what GetSD returns), bytes, a base64 string or a hex string."""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, list | tuple):
        if not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in data):
            raise AnsibleFilterError("sd_to_sddl: a list input must contain only integers 0-255 (GetSD's SD array)")
        return bytes(data)
    if isinstance(data, str):
        text = "".join(data.split())
        hex_text = text[2:] if text[:2].lower() == "0x" else text
        # A self-relative SD starts with revision byte 01: hex "01..." vs base64 "AQ..." - no overlap.
        if hex_text and all(c in "0123456789abcdefABCDEF" for c in hex_text):
            if len(hex_text) % 2:
                raise AnsibleFilterError("sd_to_sddl: hex input has an odd number of digits")
            return bytes.fromhex(hex_text)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise AnsibleFilterError(f"sd_to_sddl: input is neither hex nor valid base64: {exc}") from None
    raise AnsibleFilterError(f"sd_to_sddl expects a list of integers, bytes, base64 or hex, got {type(data).__name__}")


def _guard(name: str, func: Callable[[], Any]) -> Any:
    try:
        return func()
    except SecurityDescriptorError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from None


def sddl_to_sd(sddl: Any, domain_sid: Any = None, format: str = "base64") -> Any:
    """SDDL -> self-relative binary SD in Windows' layout, as base64 (default), a list of ints or hex."""
    text = _sddl_text(sddl, "sddl_to_sd")
    fmt = str(_optional(format) or "base64").lower()
    if fmt not in _FORMATS:
        raise AnsibleFilterError(f"sddl_to_sd: format must be one of {', '.join(_FORMATS)}, not {format!r}")
    data = _guard("sddl_to_sd", lambda: sd_to_bytes(sd_from_sddl(text, _optional(domain_sid))))
    if fmt == "list":
        return list(data)
    if fmt == "hex":
        return data.hex()
    return base64.b64encode(data).decode("ascii")


def sd_to_sddl_filter(data: Any, domain_sid: Any = None) -> str:
    """Binary SD (GetSD's list of ints, bytes, base64 or hex) -> SDDL as Windows prints it."""
    raw = _sd_bytes(data)
    result: str = _guard("sd_to_sddl", lambda: sd_to_sddl(sd_from_bytes(raw), _optional(domain_sid)))
    return result


def sddl_to_acl(sddl: Any, domain_sid: Any = None, resolved: Any = None) -> dict[str, Any]:
    """SDDL -> readable structure (owner, group, dacl_flags, aces with names, rights and inheritance in words)."""
    text = _sddl_text(sddl, "sddl_to_acl")
    names = _optional(resolved)
    if names is not None and not isinstance(names, Mapping):
        raise AnsibleFilterError("sddl_to_acl: resolved must be a mapping of SID string to name")
    result: dict[str, Any] = _guard("sddl_to_acl", lambda: acl_view(sd_from_sddl(text, _optional(domain_sid)), names))
    return result


def acl_to_sddl(structure: Any, domain_sid: Any = None) -> str:
    """Readable structure (as returned by sddl_to_acl, or written by hand) -> SDDL."""
    if not isinstance(structure, Mapping):
        raise AnsibleFilterError(f"acl_to_sddl expects a mapping, got {type(structure).__name__}")
    result: str = _guard("acl_to_sddl", lambda: sd_to_sddl(sd_from_view(structure), _optional(domain_sid)))
    return result


def wmi_rights(value: Any) -> Any:
    """Mask (int or numeric string) -> list of right names; a name or list of names -> mask."""
    if isinstance(value, bool):
        raise AnsibleFilterError("wmi_rights expects a mask or right names, not a boolean")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # a numeric string is a mask; anything else is a right name
            value = int(value.strip(), 0)
    if isinstance(value, int):
        return _guard("wmi_rights", lambda: mask_to_rights(value))
    if isinstance(value, str | list | tuple):
        return _guard("wmi_rights", lambda: rights_to_mask(value))
    raise AnsibleFilterError(f"wmi_rights expects a mask or right names, got {type(value).__name__}")


class FilterModule:
    """winsec.wmi security descriptor filters."""

    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "sddl_to_sd": sddl_to_sd,
            "sd_to_sddl": sd_to_sddl_filter,
            "sddl_to_acl": sddl_to_acl,
            "acl_to_sddl": acl_to_sddl,
            "wmi_rights": wmi_rights,
        }
