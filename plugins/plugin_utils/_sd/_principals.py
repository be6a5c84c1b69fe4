# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Well-known principals: SID strings, SDDL aliases and the display names Windows uses (English locale).

Principals are matched by SID, never by name (SIDs are what AccessCheck compares, MS-DTYP 2.5.3.2): names
are only for input convenience and display.
Anything not known here (domain accounts, local users, localized names) must be resolved on the host.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._text import as_written
from ._sd import (
    SID_ALIASES,
    SecurityDescriptorError,
    Sid,
)

__all__ = ["WELL_KNOWN_PRINCIPALS", "principal_name", "principal_to_sid"]

# SID -> name as LookupAccountSid returns it on an English system (well-known-sids docs).
WELL_KNOWN_PRINCIPALS: dict[str, str] = {
    "S-1-0-0": "NULL SID",
    "S-1-1-0": "Everyone",
    "S-1-2-0": "LOCAL",
    "S-1-2-1": "CONSOLE LOGON",
    "S-1-3-0": "CREATOR OWNER",
    "S-1-3-1": "CREATOR GROUP",
    "S-1-3-4": "OWNER RIGHTS",
    "S-1-5-1": "NT AUTHORITY\\DIALUP",
    "S-1-5-2": "NT AUTHORITY\\NETWORK",
    "S-1-5-3": "NT AUTHORITY\\BATCH",
    "S-1-5-4": "NT AUTHORITY\\INTERACTIVE",
    "S-1-5-6": "NT AUTHORITY\\SERVICE",
    "S-1-5-7": "NT AUTHORITY\\ANONYMOUS LOGON",
    "S-1-5-9": "NT AUTHORITY\\ENTERPRISE DOMAIN CONTROLLERS",
    "S-1-5-10": "NT AUTHORITY\\SELF",
    "S-1-5-11": "NT AUTHORITY\\Authenticated Users",
    "S-1-5-12": "NT AUTHORITY\\RESTRICTED",
    "S-1-5-13": "NT AUTHORITY\\TERMINAL SERVER USER",
    "S-1-5-14": "NT AUTHORITY\\REMOTE INTERACTIVE LOGON",
    "S-1-5-15": "NT AUTHORITY\\This Organization",
    "S-1-5-17": "NT AUTHORITY\\IUSR",
    "S-1-5-18": "NT AUTHORITY\\SYSTEM",
    "S-1-5-19": "NT AUTHORITY\\LOCAL SERVICE",
    "S-1-5-20": "NT AUTHORITY\\NETWORK SERVICE",
    "S-1-5-32-544": "BUILTIN\\Administrators",
    "S-1-5-32-545": "BUILTIN\\Users",
    "S-1-5-32-546": "BUILTIN\\Guests",
    "S-1-5-32-547": "BUILTIN\\Power Users",
    "S-1-5-32-548": "BUILTIN\\Account Operators",
    "S-1-5-32-549": "BUILTIN\\Server Operators",
    "S-1-5-32-550": "BUILTIN\\Print Operators",
    "S-1-5-32-551": "BUILTIN\\Backup Operators",
    "S-1-5-32-552": "BUILTIN\\Replicator",
    "S-1-5-32-554": "BUILTIN\\Pre-Windows 2000 Compatible Access",
    "S-1-5-32-555": "BUILTIN\\Remote Desktop Users",
    "S-1-5-32-556": "BUILTIN\\Network Configuration Operators",
    "S-1-5-32-558": "BUILTIN\\Performance Monitor Users",
    "S-1-5-32-559": "BUILTIN\\Performance Log Users",
    "S-1-5-32-562": "BUILTIN\\Distributed COM Users",
    "S-1-5-32-568": "BUILTIN\\IIS_IUSRS",
    "S-1-5-32-569": "BUILTIN\\Cryptographic Operators",
    "S-1-5-32-573": "BUILTIN\\Event Log Readers",
    "S-1-5-32-574": "BUILTIN\\Certificate Service DCOM Access",
    "S-1-5-32-575": "BUILTIN\\RDS Remote Access Servers",
    "S-1-5-32-576": "BUILTIN\\RDS Endpoint Servers",
    "S-1-5-32-577": "BUILTIN\\RDS Management Servers",
    "S-1-5-32-578": "BUILTIN\\Hyper-V Administrators",
    "S-1-5-32-579": "BUILTIN\\Access Control Assistance Operators",
    "S-1-5-32-580": "BUILTIN\\Remote Management Users",
    "S-1-15-2-1": "APPLICATION PACKAGE AUTHORITY\\ALL APPLICATION PACKAGES",
    "S-1-16-4096": "Mandatory Label\\Low Mandatory Level",
    "S-1-16-8192": "Mandatory Label\\Medium Mandatory Level",
    "S-1-16-8448": "Mandatory Label\\Medium Plus Mandatory Level",
    "S-1-16-12288": "Mandatory Label\\High Mandatory Level",
    "S-1-16-16384": "Mandatory Label\\System Mandatory Level",
}

# Extra input spellings people use (short names, .\ and "NT AUTHORITY"-less forms). Matched case-insensitively.
_EXTRA_NAMES: dict[str, str] = {
    "administrators": "S-1-5-32-544",
    "users": "S-1-5-32-545",
    "guests": "S-1-5-32-546",
    "system": "S-1-5-18",
    "local system": "S-1-5-18",
    "localsystem": "S-1-5-18",
    "authenticated users": "S-1-5-11",
    "local service": "S-1-5-19",
    "localservice": "S-1-5-19",
    "network service": "S-1-5-20",
    "networkservice": "S-1-5-20",
    "interactive": "S-1-5-4",
    "network": "S-1-5-2",
    "anonymous logon": "S-1-5-7",
    "creator owner": "S-1-3-0",
    "distributed com users": "S-1-5-32-562",
    "performance monitor users": "S-1-5-32-558",
    "performance log users": "S-1-5-32-559",
    "remote management users": "S-1-5-32-580",
    "event log readers": "S-1-5-32-573",
}

_SID_BY_NAME: dict[str, str] = {
    **{name.lower(): sid for sid, name in WELL_KNOWN_PRINCIPALS.items()},
    **{
        name.lower().replace("builtin\\", "").replace("nt authority\\", ""): sid
        for sid, name in WELL_KNOWN_PRINCIPALS.items()
        if "\\" in name and not name.startswith("Mandatory")
    },
    **_EXTRA_NAMES,
}


def principal_to_sid(text: str) -> Sid | None:
    """SID string, absolute SDDL alias (BA, SY...) or well-known name (case-insensitive) -> Sid.

    Returns None when the principal must be looked up on the host (domain or local accounts, localized names).
    Raises SecurityDescriptorError for a malformed SID string (``S-1-...`` that does not parse).
    """
    if not isinstance(text, str):
        raise SecurityDescriptorError(f"principal {as_written(text)} must be a string")
    value = text.strip()
    if value[:2].upper() == "S-" and value[2:3].isdigit():
        return Sid.parse("S-" + value[2:])
    if len(value) == 2 and value.upper() in SID_ALIASES:
        return Sid.parse(SID_ALIASES[value.upper()])
    key = value.lower()
    if key.startswith(".\\"):
        key = key[2:]
    sid = _SID_BY_NAME.get(key)
    return Sid.parse(sid) if sid else None


def principal_name(sid: Sid, resolved: Mapping[str, str | None] | None = None) -> str:
    """Host-resolved name if given, else the well-known name, else the SID string (orphaned SIDs stay readable)."""
    text = str(sid)
    if resolved:
        name = resolved.get(text)
        if name:
            return name
    return WELL_KNOWN_PRINCIPALS.get(text, text)
