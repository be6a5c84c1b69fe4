# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How WMI tells its names apart: one identity function per kind of name (namespace path, class name, instance key).

WMI compares object paths - namespace, class and key values - case-insensitively ("String comparisons that deal with
object paths are always case-insensitive", Microsoft Learn, "WMI Object Path Requirements"). Windows' case-insensitive
ordinal comparison upper-cases each UTF-16 code unit through the system's one-to-one uppercase table
(CompareStringOrdinal with bIgnoreCase, RtlUpcaseUnicodeChar; Microsoft Learn) - never a full case fold. So two names
that Python's casefold() or lower() merge can be two objects to WMI: KELVIN SIGN (U+212A) is not K, LONG S (U+017F)
is not s, dotless i (U+0131) is not I, 'ss' is not 'ß', and NFC and NFD spellings, fullwidth letters, Greek and
Cyrillic lookalikes, trailing NO-BREAK SPACE and zero-width characters all name different objects. Comparing with
casefold() let a consumer named 'Contoso Backup Tas\u212a' pass as the allow-listed 'Contoso Backup Task'.

What these functions return is a key to compare and index with, never a name to show: show the name as the host
spelled it.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import re

# Windows' ordinal casing leaves these alone although Unicode gives them an uppercase: the dotless i (U+0131, whose
# uppercase I would make it the Turkish i) and the long s (U+017F, whose uppercase is S). .NET's OrdinalIgnoreCase
# makes the same exceptions to match Windows (dotnet/runtime, GlobalizationNative_InitOrdinalCasingPage).
_KEPT = frozenset("\u0131\u017f")


def _upper_code_unit(char: str) -> str:
    if char in _KEPT or ord(char) > 0xFFFF:
        # Characters outside the BMP are two UTF-16 code units to Windows, each upper-cased alone: unchanged.
        return char
    upper = char.upper()
    # Only one-to-one mappings: 'ß'.upper() is 'SS' in Python, but a code unit maps to one code unit in Windows.
    return upper if len(upper) == 1 and ord(upper) <= 0xFFFF else char


def wmi_case_key(text: str) -> str:
    """``text`` upper-cased code unit by code unit, as Windows compares names ignoring case (see the module doc)."""
    if text.isascii():
        return text.upper()
    return "".join(_upper_code_unit(char) for char in text)


def namespace_key(namespace: str) -> str:
    """The identity of a namespace path: separators as backslashes, no leading or trailing separator, case as
    Windows compares it ('ROOT/CimV2' and 'root\\cimv2' are one namespace; 'root\\cimv\u2082' is another)."""
    return wmi_case_key(namespace.replace("/", "\\").strip("\\"))


def parent_namespace_key(namespace: str) -> str | None:
    """The identity of a namespace's parent, or None for root."""
    key = namespace_key(namespace)
    return key.rsplit("\\", 1)[0] if "\\" in key else None


def class_key(class_name: str | None) -> str:
    """The identity of a WMI class name (CommandLineEventConsumer and commandlineeventconsumer are one class); an
    unknown class (None) is the empty key."""
    return wmi_case_key(class_name or "")


def instance_key(key_value: str | None) -> str:
    """The identity of a string key property's value, such as the Name of an __EventFilter or of a consumer."""
    return wmi_case_key(key_value or "")


def property_key(property_name: str) -> str:
    """The identity of a property name (CreatorSID and creatorsid are one property)."""
    return wmi_case_key(property_name)


# Characters WMI does not allow in a namespace name (wildcards, quotes, the path's own delimiters, control
# characters): a host that reports one is not reporting a namespace.
_INVALID_NAMESPACE_CHARS = re.compile(r'[*?"<>|:\x00-\x1f]')


def namespace_problem(namespace: str) -> str | None:
    """Why ``namespace`` is not a namespace path WMI could hold (root\\...), or None when it could be."""
    parts = [part.strip() for part in namespace.replace("/", "\\").split("\\") if part.strip()]
    if not parts:
        return "is empty"
    if namespace_key(parts[0]) != "ROOT":
        return "does not start with root"
    if any(_INVALID_NAMESPACE_CHARS.search(part) for part in parts):
        return "contains a character WMI does not allow in a name"
    return None
