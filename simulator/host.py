"""One simulated Windows host: OS profile, registry, namespaces, accounts, subscriptions, files, counters."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .consumer_classes import SCHEMAS, defaults
from .lsa import Lsa
from .namespaces import NamespaceTree
from .profiles import OsProfile

HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKEY_LOCAL_MACHINE": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKEY_CURRENT_USER": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKEY_CLASSES_ROOT": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKEY_USERS": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
    "HKEY_CURRENT_CONFIG": "HKEY_CURRENT_CONFIG",
}

CIMOM_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"
OLE_APPCOMPAT_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole\\AppCompat"

# wmi_state's fixed list of registry values (plugins/modules/wmi_state.yml, option "value").
NAMED_VALUES: dict[str, tuple[str, str]] = {
    "unsecapp_access_control_default": (CIMOM_KEY, "UnsecAppAccessControlDefault"),
    "dcom_require_integrity_activation_authentication_level": (
        OLE_APPCOMPAT_KEY,
        "RequireIntegrityActivationAuthenticationLevel",
    ),
    "dcom_raise_activation_authentication_level": (OLE_APPCOMPAT_KEY, "RaiseActivationAuthenticationLevel"),
}

BA = "S-1-5-32-544"
BU = "S-1-5-32-545"
EVERYONE = "S-1-1-0"
AUTHENTICATED_USERS = "S-1-5-11"
NETWORK = "S-1-5-2"
REMOTE_MANAGEMENT_USERS = "S-1-5-32-580"
LOCAL_SYSTEM = "S-1-5-18"


class RegistryPathError(ValueError):
    pass


def normalize_key(path: str) -> str:
    """``HKLM:\\SOFTWARE\\x``, ``HKLM\\SOFTWARE\\x``, ``HKEY_LOCAL_MACHINE\\SOFTWARE\\x`` -> one display form."""
    text = path.replace("/", "\\").strip("\\")
    hive, _, rest = text.partition("\\")
    hive = hive.rstrip(":").upper()
    if hive not in HIVES:
        raise RegistryPathError(f"unknown registry hive in {path!r}")
    parts = [p for p in rest.split("\\") if p]
    return "\\".join([HIVES[hive], *parts])


@dataclass
class RegValue:
    name: str
    type: str  # REG_SZ, REG_DWORD, REG_QWORD, REG_EXPAND_SZ, REG_MULTI_SZ, REG_BINARY, REG_NONE
    data: Any


@dataclass
class RegKey:
    path: str
    values: dict[str, RegValue] = field(default_factory=dict)  # lower-case name -> value


class Registry:
    """The 64-bit view of the registry (the only view the collection reads and writes)."""

    def __init__(self) -> None:
        self.keys: dict[str, RegKey] = {}

    def key(self, path: str) -> RegKey | None:
        return self.keys.get(normalize_key(path).lower())

    def create_key(self, path: str) -> RegKey:
        canonical = normalize_key(path)
        parts = canonical.split("\\")
        for depth in range(1, len(parts) + 1):
            sub = "\\".join(parts[:depth])
            self.keys.setdefault(sub.lower(), RegKey(sub))
        return self.keys[canonical.lower()]

    def delete_key(self, path: str) -> bool:
        prefix = normalize_key(path).lower()
        doomed = [k for k in self.keys if k == prefix or k.startswith(prefix + "\\")]
        for k in doomed:
            del self.keys[k]
        return bool(doomed)

    def subkeys(self, path: str) -> list[str]:
        prefix = normalize_key(path).lower() + "\\"
        return sorted(
            {self.keys[k].path.split("\\")[prefix.count("\\")] for k in self.keys if k.startswith(prefix)},
            key=str.lower,
        )

    def get(self, path: str, name: str) -> RegValue | None:
        key = self.key(path)
        return key.values.get(name.lower()) if key else None

    def set(self, path: str, name: str, value_type: str, data: Any) -> None:
        key = self.create_key(path)
        existing = key.values.get(name.lower())
        # Windows keeps the value name's original spelling when an existing value is overwritten.
        key.values[name.lower()] = RegValue(existing.name if existing else name, value_type, data)

    def delete(self, path: str, name: str) -> bool:
        key = self.key(path)
        return bool(key and key.values.pop(name.lower(), None))

    def snapshot(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            key.path: {v.name: {"type": v.type, "data": v.data} for v in key.values.values()}
            for key in sorted(self.keys.values(), key=lambda k: k.path.lower())
            if key.values
        }


@dataclass
class Caller:
    """A connecting account: WinRM authenticates it, WMI and the registry check its token."""

    user: str
    password: str
    sid: str
    admin: bool
    # Deny-only groups of the token (SE_GROUP_USE_FOR_DENY_ONLY): WindowsIdentity.Groups omits them, its DenyOnlySid
    # claims name them; a deny ACE matches them, an allow never does.
    deny_only: tuple[str, ...] = ()

    def token(self) -> list[str]:
        if self.sid == LOCAL_SYSTEM:
            return [LOCAL_SYSTEM, BA, EVERYONE, AUTHENTICATED_USERS]
        groups = [EVERYONE, AUTHENTICATED_USERS, NETWORK, BU]
        if self.admin:
            groups.append(BA)
        else:
            groups.append(REMOTE_MANAGEMENT_USERS)
        return [self.sid, *groups]


@dataclass
class EventFilter:
    namespace: str
    name: str
    query: str
    query_language: str = "WQL"
    event_namespace: str = "root\\cimv2"
    creator_sid: str | None = None


@dataclass
class EventConsumer:
    namespace: str
    name: str
    cls: str  # CommandLineEventConsumer, ActiveScriptEventConsumer, NTEventLogEventConsumer, ...
    command_line_template: str | None = None
    executable_path: str | None = None
    script_text: str | None = None
    script_file_name: str | None = None
    scripting_engine: str | None = None
    # Every other property set on the instance (LogFile's Filename, SMTP's ToLine, ...), as wmi_state reports them.
    properties: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # WMI stores a standard consumer with its class's declared defaults (consumer_classes.py): a read returns them.
        if self.cls in SCHEMAS:
            self.properties = {**defaults(self.cls), **self.properties}


@dataclass
class EventBinding:
    namespace: str
    filter: str  # relative path, e.g. __EventFilter.Name="SCM Event Log Filter"
    consumer: str  # e.g. NTEventLogEventConsumer.Name="SCM Event Log Consumer"


class HostCounters:
    """What tests assert on: requests, module executions (= round trips), writes per kind."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests: Counter[str] = Counter()
        self.module_executions: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.refused_writes: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.argspec_mismatches = 0
        self.shells_opened = 0
        self.http_requests = 0  # every POST to /wsman/<host>, faulted or not
        self.unauthorized = 0
        self.lsa_batches = 0  # translation calls: wmi_state sends one batch per op, whatever the number of SIDs
        # WS-Man bytes on the wire (HTTP bodies, headers not counted): what a host's link carries per run.
        self.bytes_received = 0
        self.bytes_sent = 0

    def count(self, field: str, key: str | None = None) -> None:
        """Increment a counter (``key`` for the per-kind ones) under the lock: handler threads share a host."""
        with self.lock:
            if key is None:
                setattr(self, field, getattr(self, field) + 1)
            else:
                getattr(self, field)[key] += 1

    def add_bytes(self, *, received: int = 0, sent: int = 0) -> None:
        with self.lock:
            self.bytes_received += received
            self.bytes_sent += sent

    def total_writes(self) -> int:
        with self.lock:
            return sum(self.writes.values())

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.http_requests,
                "requests_by_action": dict(self.requests),
                "unauthorized": self.unauthorized,
                "round_trips": sum(self.module_executions.values()),
                "module_executions": dict(self.module_executions),
                "writes": sum(self.writes.values()),
                "writes_by_kind": dict(self.writes),
                "refused_writes": dict(self.refused_writes),
                "faults_injected": dict(self.faults),
                "argspec_mismatches": self.argspec_mismatches,
                "shells_opened": self.shells_opened,
                "lsa_batches": self.lsa_batches,
                "bytes_received": self.bytes_received,
                "bytes_sent": self.bytes_sent,
            }


@dataclass
class Host:
    name: str
    profile: OsProfile
    computer_name: str
    dns_host_name: str
    domain: str | None  # DNS domain when joined, else None (workgroup)
    workgroup: str
    lsa: Lsa
    namespaces: NamespaceTree
    registry: Registry
    callers: dict[str, Caller]
    filters: list[EventFilter] = field(default_factory=list)
    consumers: list[EventConsumer] = field(default_factory=list)
    bindings: list[EventBinding] = field(default_factory=list)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # lower path -> (display path, content)
    faults: dict[str, Any] = field(default_factory=dict)
    ansi_code_page: int = 1252  # GetACP: Western European (Windows-1252) unless a fleet host says otherwise
    # Host variables the inventory carries as a real one would (e.g. winsec_wmi_os, filled from AD's operatingSystem).
    inventory_vars: dict[str, Any] = field(default_factory=dict)
    counters: HostCounters = field(default_factory=HostCounters)
    events: list[dict[str, Any]] = field(default_factory=list)  # simulator-side log (e.g. why SetSD refused)
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def part_of_domain(self) -> bool:
        return self.domain is not None

    def authenticate(self, user: str, password: str) -> Caller | None:
        """Basic auth: ``user``, ``HOST\\user``, ``.\\user`` or ``user@domain`` all name the same account."""
        leaf = user.split("\\")[-1].split("@")[0].lower()
        caller = self.callers.get(leaf)
        if caller is None or caller.password != password:
            return None
        return caller

    def take_fault(self, kind: str) -> Any:
        """The fault's value if it fires now. ``true`` fires always; an int n fires on the next n occasions."""
        with self.lock:
            value = self.faults.get(kind)
            if value is None or value is False or value == 0:
                return None
            if not isinstance(value, bool) and kind not in ("latency", "operation_timeout", "module_start_seconds"):
                if value > 1:
                    self.faults[kind] = value - 1
                else:
                    del self.faults[kind]
            self.counters.count("faults", kind)
            return value

    def log(self, kind: str, **details: Any) -> None:
        self.events.append({"kind": kind, **details})
        del self.events[:-200]  # bounded: a long benchmark must not grow memory

    def state(self) -> dict[str, Any]:
        """Everything a test may want to assert on, JSON-serialisable."""
        with self.lock:
            return {
                "name": self.name,
                "os": {
                    "profile": self.profile.key,
                    "caption": self.profile.caption,
                    "version": self.profile.version,
                    "pre_2003": self.profile.pre_2003,
                },
                "computer_name": self.computer_name,
                "dns_host_name": self.dns_host_name,
                "domain": self.domain,
                "registry": self.registry.snapshot(),
                # Keyed by the lower-case path (lookups are case-insensitive); WMI's spelling is in namespace_names.
                "namespaces": {
                    node.path.lower(): self.namespaces.sddl(node.path) for node in self.namespaces.walk("root")
                },
                "namespace_names": [node.path for node in self.namespaces.walk("root")],
                "null_sd_namespaces": [n.path for n in self.namespaces.walk("root") if n.null_sd],
                # Each namespace's own audit ACEs (its SACL less what it inherits), where it has any.
                "namespace_audit": {
                    node.path.lower(): [vars(ace) for ace in node.audit]
                    for node in self.namespaces.walk("root")
                    if node.audit
                },
                "subscriptions": {
                    "filters": [vars(f) for f in self.filters],
                    "consumers": [{**vars(c), "class": c.cls} for c in self.consumers],
                    "bindings": [vars(b) for b in self.bindings],
                },
                "files": sorted(display for display, _ in self.files.values()),
                "callers": {c.user: {"sid": c.sid, "admin": c.admin} for c in self.callers.values()},
                "faults": dict(self.faults),
                "events": list(self.events),
            }
