"""LSA-like account lookups (LsaLookupNames2 / LsaLookupSids2) for one simulated host.

Behaves like Windows for what the collection relies on: well-known SIDs resolve to their bare or ``NT AUTHORITY\\``
names, BUILTIN aliases to ``BUILTIN\\<name>``, local accounts to ``<COMPUTER>\\<name>`` under the machine SID, domain
accounts to ``<NETBIOS>\\<name>`` when the host is joined, and a SID nobody knows (a deleted account: an orphan) does
not resolve. Names are matched case-insensitively, with or without their domain, or as a UPN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_SID_RE = re.compile(r"^S-1-\d+(-\d+)*$", re.IGNORECASE)

# (SID, domain or "" for bare names, name, minimum NT version or None)
_WELL_KNOWN: tuple[tuple[str, str, str, tuple[int, int] | None], ...] = (
    ("S-1-0-0", "", "NULL SID", None),
    ("S-1-1-0", "", "Everyone", None),
    ("S-1-2-0", "", "LOCAL", (6, 1)),
    ("S-1-3-0", "", "CREATOR OWNER", None),
    ("S-1-3-1", "", "CREATOR GROUP", None),
    ("S-1-3-4", "", "OWNER RIGHTS", (6, 0)),
    ("S-1-5-1", "NT AUTHORITY", "DIALUP", None),
    ("S-1-5-2", "NT AUTHORITY", "NETWORK", None),
    ("S-1-5-3", "NT AUTHORITY", "BATCH", None),
    ("S-1-5-4", "NT AUTHORITY", "INTERACTIVE", None),
    ("S-1-5-6", "NT AUTHORITY", "SERVICE", None),
    ("S-1-5-7", "NT AUTHORITY", "ANONYMOUS LOGON", None),
    ("S-1-5-9", "NT AUTHORITY", "ENTERPRISE DOMAIN CONTROLLERS", (5, 0)),
    ("S-1-5-10", "NT AUTHORITY", "SELF", (5, 0)),
    ("S-1-5-11", "NT AUTHORITY", "Authenticated Users", None),
    ("S-1-5-12", "NT AUTHORITY", "RESTRICTED", (5, 0)),
    ("S-1-5-18", "NT AUTHORITY", "SYSTEM", None),
    ("S-1-5-19", "NT AUTHORITY", "LOCAL SERVICE", (5, 1)),
    ("S-1-5-20", "NT AUTHORITY", "NETWORK SERVICE", (5, 1)),
    ("S-1-5-32-544", "BUILTIN", "Administrators", None),
    ("S-1-5-32-545", "BUILTIN", "Users", None),
    ("S-1-5-32-546", "BUILTIN", "Guests", None),
    ("S-1-5-32-547", "BUILTIN", "Power Users", None),
    ("S-1-5-32-548", "BUILTIN", "Account Operators", None),
    ("S-1-5-32-549", "BUILTIN", "Server Operators", None),
    ("S-1-5-32-550", "BUILTIN", "Print Operators", None),
    ("S-1-5-32-551", "BUILTIN", "Backup Operators", None),
    ("S-1-5-32-552", "BUILTIN", "Replicator", None),
    ("S-1-5-32-555", "BUILTIN", "Remote Desktop Users", (5, 1)),
    ("S-1-5-32-556", "BUILTIN", "Network Configuration Operators", (5, 1)),
    ("S-1-5-32-558", "BUILTIN", "Performance Monitor Users", (5, 2)),
    ("S-1-5-32-559", "BUILTIN", "Performance Log Users", (5, 2)),
    ("S-1-5-32-562", "BUILTIN", "Distributed COM Users", (5, 2)),
    ("S-1-5-32-568", "BUILTIN", "IIS_IUSRS", (6, 0)),
    ("S-1-5-32-573", "BUILTIN", "Event Log Readers", (6, 0)),
    ("S-1-5-32-580", "BUILTIN", "Remote Management Users", (6, 2)),
)

# Local accounts every host has: RID -> name.
_LOCAL_BUILTIN_ACCOUNTS = {500: "Administrator", 501: "Guest"}
# Domain groups a joined host can resolve: RID -> name.
_DOMAIN_GROUPS = {500: "Administrator", 512: "Domain Admins", 513: "Domain Users", 515: "Domain Computers"}


@dataclass
class Account:
    sid: str
    domain: str
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.domain}\\{self.name}" if self.domain else self.name


@dataclass
class Lsa:
    """The account database one host sees."""

    computer_name: str
    machine_sid: str
    nt_version: tuple[int, int]
    domain_netbios: str | None = None
    domain_dns: str | None = None
    domain_sid: str | None = None
    local_users: dict[str, int] = field(default_factory=dict)  # name -> RID (>= 1000)
    domain_users: dict[str, int] = field(default_factory=dict)  # name -> RID
    _by_sid: dict[str, Account] = field(default_factory=dict, init=False)
    _by_name: dict[str, Account] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for sid, domain, name, min_version in _WELL_KNOWN:
            if min_version is None or self.nt_version >= min_version:
                self._add(Account(sid, domain, name))
        for rid, name in _LOCAL_BUILTIN_ACCOUNTS.items():
            self._add(Account(f"{self.machine_sid}-{rid}", self.computer_name.upper(), name))
        for name, rid in self.local_users.items():
            self._add(Account(f"{self.machine_sid}-{rid}", self.computer_name.upper(), name))
        if self.domain_sid and self.domain_netbios:
            for rid, name in _DOMAIN_GROUPS.items():
                self._add(Account(f"{self.domain_sid}-{rid}", self.domain_netbios.upper(), name))
            for name, rid in self.domain_users.items():
                self._add(Account(f"{self.domain_sid}-{rid}", self.domain_netbios.upper(), name))

    def _add(self, account: Account) -> None:
        self._by_sid[account.sid.upper()] = account
        self._by_name.setdefault(account.full_name.lower(), account)
        # A bare name resolves too; like LsaLookupNames the first match wins: well-known and BUILTIN, then the
        # local machine, then the domain (the order of _add calls).
        self._by_name.setdefault(account.name.lower(), account)

    def lookup_sid(self, sid: str) -> str | None:
        """SID string -> ``DOMAIN\\name`` (or a bare well-known name); None for an orphan / unknown SID."""
        account = self._by_sid.get(sid.upper())
        return account.full_name if account else None

    def lookup_name(self, name: str) -> str | None:
        """Account name -> SID string; a SID string is returned as is (as LsaLookupNames does); None if unknown."""
        text = name.strip()
        if _SID_RE.match(text):
            return text.upper()
        if "@" in text and self.domain_dns:
            user, _, realm = text.partition("@")
            if realm.lower() == self.domain_dns.lower() and self.domain_netbios:
                text = f"{self.domain_netbios}\\{user}"
        account = self._by_name.get(text.lower())
        if account is None and "\\" in text:
            domain, _, leaf = text.partition("\\")
            # "." means the local machine (as in ".\user"); the DNS domain name is accepted like the NetBIOS one.
            if domain == ".":
                account = self._by_name.get(f"{self.computer_name}\\{leaf}".lower())
            elif self.domain_dns and domain.lower() == self.domain_dns.lower() and self.domain_netbios:
                account = self._by_name.get(f"{self.domain_netbios}\\{leaf}".lower())
        return account.sid if account else None

    @staticmethod
    def is_sid_string(text: str) -> bool:
        return bool(_SID_RE.match(text.strip()))
