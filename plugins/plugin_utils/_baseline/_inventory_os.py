# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Hosts Ansible cannot manage, from inventory: NT 4.0, 2000 and XP have no WinRM; Server 2003 has PowerShell 2.0
at most, below ansible-core's floor. Their verdict is not_applicable with the mitigation, without contacting them.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import re

from .._os_profile import PRE_2003_MITIGATION, PRE_2003_WHY

# Inventory values (the documented host variable winsec_wmi_os, AD's operatingSystem attribute, or a
# Win32_OperatingSystem Caption) of releases Ansible cannot manage: NT 4.0, 2000 and XP have no WinRM; Server 2003
# has PowerShell 2.0 at most, below the PowerShell 3.0 (ansible-core 2.18) and 5.1 (2.19+) that ansible-core's
# bootstrap requires.
#
# A value is read as words: case, "(R)"/"(TM)"/"®"/"™", punctuation, "Microsoft"/"Windows", edition and product
# words, architectures, R2 (2003 only) and service packs do not count. What is left - the release itself - must be
# exactly one of the spellings below, or the value is not classified and the host is read as before. So "Windows
# Server 2003 based appliance" (a word that is not part of a release name) or "Windows NT 6.1" (Windows 7's kernel)
# connect: a host is skipped only when the whole value names an unmanageable release.
SERVER_2003 = "Windows Server 2003"
_RELEASES: dict[tuple[str, ...], str] = {
    # AD writes "Windows NT" for NT 4.0 (operatingSystemVersion "4.0"); NT 5.x is the kernel of 2000, XP, 2003
    # (https://learn.microsoft.com/en-us/windows/win32/sysinfo/operating-system-version).
    **{core: "Windows NT 4.0" for core in [("nt",), ("nt", "4"), ("nt", "4.0"), ("nt", "4.00")]},
    **{core: "Windows 2000" for core in [("2000",), ("nt", "5.0")]},
    **{core: "Windows XP" for core in [("xp",), ("nt", "5.1")]},
    # NT 5.2 is Server 2003 and XP Professional x64 Edition: either way PowerShell 2.0 at most.
    **{core: SERVER_2003 for core in [("2003",), ("2003", "r2"), ("nt", "5.2")]},
}
# Glued and short spellings, as one word, and what they stand for.
_ALIASES = {
    "nt4": ("nt", "4"),
    "nt4.0": ("nt", "4.0"),
    "winnt": ("nt",),
    "winnt4": ("nt", "4"),
    "w2k": ("2000",),
    "win2k": ("2000",),
    "win2000": ("2000",),
    "w2000": ("2000",),
    "winxp": ("xp",),
    "w2k3": ("2003",),
    "win2k3": ("2003",),
    "win2003": ("2003",),
    "w2003": ("2003",),
    "ws2003": ("2003",),
    "2003r2": ("2003", "r2"),
    "w2k3r2": ("2003", "r2"),
    "ws2003r2": ("2003", "r2"),
}
# Words that qualify a release without naming it: vendor, product line, editions (Server 2003's Standard,
# Enterprise, Datacenter, Web, Small Business, Storage, Compute Cluster; XP's Home, Professional, Media Center,
# Tablet PC, Embedded, N, Starter; 2000's Professional, Advanced Server, Datacenter; NT 4.0's Workstation, Server,
# Terminal Server Edition), architectures and service packs.
_QUALIFIERS = frozenset(
    [
        *("microsoft", "ms", "windows", "win", "family"),
        *("server", "workstation", "standard", "enterprise", "datacenter", "data", "center", "web", "edition"),
        *("professional", "pro", "home", "advanced", "small", "business", "sbs", "storage", "compute", "cluster"),
        *("embedded", "media", "tablet", "pc", "n", "starter", "terminal"),
        *("x64", "x86", "amd64", "ia64", "itanium", "32", "64", "bit"),
    ]
)
_SERVICE_PACK = re.compile(r"^sp\d+[a-z]?$")
_TRADEMARKS = re.compile(r"\((?:r|tm|c)\)|[\u00ae\u2122\u00a9]")
_ITANIUM_SYSTEMS = re.compile(r"\bfor (?:64 bit )?itanium based systems\b")

SERVER_2003_REASON = (
    "Windows Server 2003 has PowerShell 2.0 at most, below the PowerShell that ansible-core's bootstrap requires "
    "(3.0 for ansible-core 2.18, 5.1 from 2.19), so Ansible cannot audit it."
)
SERVER_2003_MITIGATION = (
    "Check by hand that HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault is 1, prefer "
    "synchronous or semisynchronous WMI scripts, and plan the host's retirement."
)


def _release_words(inventory_os: str) -> tuple[str, ...]:
    """The words of an inventory value that name the release, qualifiers dropped (see _RELEASES)."""
    text = _TRADEMARKS.sub(" ", inventory_os.lower())
    text = re.sub(r"[^a-z0-9.]+", " ", text)
    # A dot belongs to a version ("4.0"), never to a word's end ("Edition.").
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = _ITANIUM_SYSTEMS.sub(" ", f" {' '.join(text.split())} ")
    words = text.split()
    core: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word in ("sp", "pack") and index < len(words) and re.fullmatch(r"\d+[a-z]?", words[index]):
            index += 1  # "SP 4", "Service Pack 3"
        elif word in _QUALIFIERS or word == "service" or _SERVICE_PACK.match(word):
            continue
        elif word != "sp":
            core.extend(_ALIASES.get(word, (word,)))
    return tuple(core)


def unmanageable_os(inventory_os: str | None) -> tuple[str, str, str] | None:
    """(family, why, mitigation) when the inventory says Ansible cannot manage this host; None otherwise (connect)."""
    if not inventory_os or not isinstance(inventory_os, str):
        return None
    family = _RELEASES.get(_release_words(inventory_os))
    if family is None:
        return None
    if family == SERVER_2003:
        return family, SERVER_2003_REASON, SERVER_2003_MITIGATION
    return family, f"{family} has no WinRM, so Ansible cannot connect. {PRE_2003_WHY}", PRE_2003_MITIGATION
