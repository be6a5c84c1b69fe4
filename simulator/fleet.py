"""Build hosts from a fleet file (YAML). See simulator/README.md for the format and fleets/*.yml for examples."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from . import content
from .host import CIMOM_KEY, OLE_APPCOMPAT_KEY, Caller, EventBinding, EventConsumer, EventFilter, Host, Registry
from .lsa import Lsa
from .namespaces import ROOT_DEFAULT_SDDL, NamespaceTree, audit_aces_from_sddl
from .profiles import OsProfile, get_profile, with_wmf51

PRE_XP_ROOT_SDDL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;WD)"
FLEETS_DIR = Path(__file__).resolve().parent / "fleets"

DEFAULT_ACCOUNTS = {
    "admin": {"user": "simadmin", "password": "Sim-Admin-Pass1"},
    "nonadmin": {"user": "simuser", "password": "Sim-User-Pass1"},
}

KNOWN_HOST_KEYS = frozenset(
    {
        "name",
        "count",
        "profile",
        "domain",
        "workgroup",
        "accounts",
        "registry",
        "unsecapp",
        "dcom",
        "namespaces",
        "sacl",
        "extra_namespaces",
        "subscriptions",
        "scripts",
        "files",
        "faults",
        "wmf51",
        "sd_denial",
        "inventory_vars",
        "local_users",
        "domain_users",
        "groups",
    }
)


@dataclass
class Fleet:
    name: str
    hosts: dict[str, Host]
    source: dict[str, Any]


def resolve_fleet_path(name_or_path: str | Path) -> Path:
    """``small`` / ``demo`` name a shipped fleet; anything else is a path."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = FLEETS_DIR / f"{name_or_path}.yml"
    if shipped.is_file():
        return shipped
    raise FileNotFoundError(f"no fleet file {name_or_path!r} (and no simulator/fleets/{name_or_path}.yml)")


def _sid_from_name(kind: str, name: str) -> str:
    """A stable S-1-5-21-a-b-c domain/machine SID derived from a name (same fleet file -> same SIDs)."""
    digest = hashlib.sha256(f"{kind}:{name.lower()}".encode()).digest()
    subs = [int.from_bytes(digest[i : i + 4], "little") % 4000000000 for i in (0, 4, 8)]
    return "S-1-5-21-" + "-".join(str(s) for s in subs)


def _default_namespaces(profile: OsProfile) -> list[tuple[str, str | None]]:
    """(path, explicit SDDL or None = inherit everything) in creation order, per Windows release."""
    major_minor = profile.major_minor
    # NT 4.0 and 2000 predate the LOCAL SERVICE / NETWORK SERVICE accounts (XP) and granted Everyone where later
    # releases grant Authenticated Users.
    root_sddl = ROOT_DEFAULT_SDDL if major_minor >= (5, 1) else PRE_XP_ROOT_SDDL
    # WMI's own spelling of the leaf names, as a recursive __NAMESPACE walk returns them on Windows: CIMV2, DEFAULT
    # and SECURITY in capitals (the contract warns that ROOT\CIMV2 may come back as root\cimv2 and vice versa).
    spaces: list[tuple[str, str | None]] = [
        ("root", root_sddl),
        ("root\\CIMV2", None),
        ("root\\CIMV2\\Security", None),
        ("root\\DEFAULT", None),
        ("root\\subscription", None),
        ("root\\SECURITY", None),
        ("root\\WMI", None),
        ("root\\directory", None),
        ("root\\directory\\LDAP", None),
    ]
    if profile.nt4_style_namespaces:
        return spaces
    spaces += [("root\\RSOP", None), ("root\\RSOP\\Computer", None), ("root\\RSOP\\User", None)]
    if major_minor >= (5, 1):
        spaces.append(("root\\SecurityCenter", None))
    if major_minor >= (5, 2):
        spaces += [("root\\Policy", None), ("root\\cimv2\\TerminalServices", None), ("root\\MicrosoftDNS", None)]
    if major_minor >= (6, 0):
        spaces += [
            ("root\\SecurityCenter2", None),
            ("root\\Interop", None),
            ("root\\cimv2\\power", None),
            ("root\\cimv2\\Security\\MicrosoftVolumeEncryption", None),
            ("root\\Microsoft", None),
            ("root\\Microsoft\\Windows", None),
            # WCF creates its namespace with its own, protected SD (learn.microsoft.com/dotnet/framework/wcf/
            # diagnostics/wmi). By [MS-WMI] 2.2.30.2 its P flag keeps its ACEs from its children; root's CI ACEs
            # still reach it (only the parent's flag counts). Unverified on Windows (simulator/README.md).
            (
                "root\\ServiceModel",
                "O:BAG:BAD:P(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CC;;;NS)(A;CI;CC;;;LS)(A;CI;CC;;;BU)",
            ),
        ]
    if major_minor >= (6, 2):
        spaces += [
            ("root\\StandardCimv2", None),
            ("root\\Microsoft\\Windows\\TaskScheduler", None),
            ("root\\Microsoft\\Windows\\Storage", None),
            ("root\\Microsoft\\Windows\\DesiredStateConfiguration", None),
        ]
    if major_minor >= (10, 0):
        spaces.append(("root\\Microsoft\\Windows\\Defender", None))
    # A third-party product namespace with an explicit grant to its service account on top of the inherited ACEs.
    spaces.append(("root\\ContosoBackup", "O:BAG:BAD:(A;CI;CCDCRPWP;;;NS)"))
    return spaces


def _default_registry(registry: Registry, profile: OsProfile) -> None:
    registry.set(CIMOM_KEY, "Logging", "REG_SZ", "1")
    registry.set(CIMOM_KEY, "Repository Directory", "REG_EXPAND_SZ", "%SystemRoot%\\system32\\wbem\\Repository")
    registry.set("HKLM\\SOFTWARE\\Microsoft\\Ole", "EnableDCOM", "REG_SZ", "Y")
    if profile.major_minor >= (6, 0):
        registry.create_key(OLE_APPCOMPAT_KEY)
    registry.set("HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "ProductName", "REG_SZ", profile.caption)
    registry.set(
        "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "CurrentBuildNumber", "REG_SZ", str(profile.build)
    )


def _registry_value(registry: Registry, key: str, name: str, spec: Any) -> None:
    """``spec`` is null/absent (value absent), a bare int (REG_DWORD), a bare str (REG_SZ) or {type, data}."""
    if spec is None:
        registry.delete(key, name)
    elif isinstance(spec, bool):
        raise ValueError(f"{key}\\{name}: use a number or {{type, data}}, not a boolean")
    elif isinstance(spec, int):
        registry.set(key, name, "REG_DWORD", spec)
    elif isinstance(spec, str):
        registry.set(key, name, "REG_SZ", spec)
    else:
        registry.set(key, name, str(spec["type"]), spec["data"])


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def build_host(spec: dict[str, Any]) -> Host:
    unknown = set(spec) - KNOWN_HOST_KEYS
    if unknown:
        raise ValueError(f"host {spec.get('name')!r}: unknown keys {sorted(unknown)}")
    name = str(spec["name"])
    profile = get_profile(str(spec.get("profile", "2022")))
    # WMF 5.1 on 2008 R2 / 2012 R2 (default: installed, as ansible-core 2.19+ needs it); ignored elsewhere.
    profile = with_wmf51(profile, bool(spec.get("wmf51", profile.wmf51_available)))
    domain = spec.get("domain") or None
    computer_name = name.upper().replace(".", "-")[:15]  # NetBIOS names are at most 15 characters
    dns_host_name = f"{name.lower()}.{domain}" if domain else name.lower()
    accounts = _merge(DEFAULT_ACCOUNTS, spec.get("accounts") or {})
    local_users = {str(accounts["admin"]["user"]): 1000, str(accounts["nonadmin"]["user"]): 1001}
    for index, user in enumerate(spec.get("local_users") or []):
        local_users[str(user)] = 1002 + index
    machine_sid = _sid_from_name("machine", name)
    domain_sid = _sid_from_name("domain", domain) if domain else None
    lsa = Lsa(
        computer_name=computer_name,
        machine_sid=machine_sid,
        nt_version=profile.major_minor,
        domain_netbios=domain.split(".")[0].upper() if domain else None,
        domain_dns=domain,
        domain_sid=domain_sid,
        local_users=local_users,
        domain_users={str(u): 1100 + i for i, u in enumerate(spec.get("domain_users") or [])},
    )
    callers = {
        str(accounts[role]["user"]).lower(): Caller(
            user=str(accounts[role]["user"]),
            password=str(accounts[role]["password"]),
            sid=f"{machine_sid}-{local_users[str(accounts[role]['user'])]}",
            admin=role == "admin",
        )
        for role in ("admin", "nonadmin")
    }

    denial = str(spec.get("sd_denial", "return_value"))
    if denial not in ("return_value", "cim_error"):
        raise ValueError(f"host {name!r}: sd_denial is return_value or cim_error, not {denial!r}")
    tree = NamespaceTree(pre_2003=profile.pre_2003, denial_as_cim_error=denial == "cim_error")
    for path, sddl in _default_namespaces(profile):
        tree.add(path, sddl)
    for path in spec.get("extra_namespaces") or []:
        tree.add(str(path))
    for path, sddl in (spec.get("namespaces") or {}).items():
        # SDDL in a fleet file may name this host's accounts: {machine} / {domain} expand to their SIDs, and an
        # orphan is simply a SID nobody can resolve (e.g. {machine}-1109 for a deleted local user).
        text = str(sddl).format(machine=machine_sid, domain=domain_sid or "S-1-5-21-0-0-0")
        tree.add(str(path), text)
    for path, sacl in (spec.get("sacl") or {}).items():
        # A namespace's own audit ACEs, as SDDL (e.g. "S:(AU;CISA;WD;;;WD)"); GetSD shows them to privileged callers.
        tree.get(str(path)).audit = audit_aces_from_sddl(str(sacl))

    registry = Registry()
    _default_registry(registry, profile)
    if "unsecapp" in spec:
        _registry_value(registry, CIMOM_KEY, "UnsecAppAccessControlDefault", spec["unsecapp"])
    dcom = spec.get("dcom") or {}
    if "require_integrity" in dcom:
        _registry_value(
            registry, OLE_APPCOMPAT_KEY, "RequireIntegrityActivationAuthenticationLevel", dcom["require_integrity"]
        )
    if "raise_level" in dcom:
        _registry_value(registry, OLE_APPCOMPAT_KEY, "RaiseActivationAuthenticationLevel", dcom["raise_level"])
    for key, values in (spec.get("registry") or {}).items():
        registry.create_key(str(key))
        for value_name, value_spec in (values or {}).items():
            _registry_value(registry, str(key), str(value_name), value_spec)

    host = Host(
        name=name,
        profile=profile,
        computer_name=computer_name,
        dns_host_name=dns_host_name,
        domain=domain,
        workgroup=str(spec.get("workgroup") or "WORKGROUP"),
        lsa=lsa,
        namespaces=tree,
        registry=registry,
        callers=callers,
        faults=dict(spec.get("faults") or {}),
        inventory_vars=dict(spec.get("inventory_vars") or {}),
    )
    for preset in spec.get("subscriptions", content.default_subscription_presets(profile)) or []:
        # A preset, or {preset, name}: the preset with its consumer renamed (a hostile name, in tests of the console).
        renamed = str(preset["name"]) if isinstance(preset, dict) else None
        preset = preset["preset"] if isinstance(preset, dict) else preset
        filters, consumers, bindings = content.subscription_preset(str(preset), admin_sid=callers_admin_sid(host))
        if renamed is not None:
            consumers = [{**c, "name": renamed} for c in consumers]
            # A binding names its consumer by relative path, Class.Name="..." with \ and " escaped.
            quoted = renamed.replace("\\", "\\\\").replace('"', '\\"')
            bindings = [{**b, "consumer": f'{b["consumer"].split(".", 1)[0]}.Name="{quoted}"'} for b in bindings]
        host.filters += [EventFilter(**f) for f in filters]
        host.consumers += [EventConsumer(**c) for c in consumers]
        host.bindings += [EventBinding(**b) for b in bindings]
    for preset in spec.get("scripts") or []:
        for path, data in content.script_preset(str(preset), host.dns_host_name, host.computer_name).items():
            host.files[path.lower()] = (path, data)
    for path, text in (spec.get("files") or {}).items():
        host.files[str(path).lower()] = (str(path), str(text).encode("utf-8"))
    return host


def callers_admin_sid(host: Host) -> str:
    return next(c.sid for c in host.callers.values() if c.admin)


def load_fleet(name_or_path: str | Path) -> Fleet:
    path = resolve_fleet_path(name_or_path)
    return fleet_from_document(path.stem, yaml.safe_load(path.read_text(encoding="utf-8")) or {}, where=str(path))


def fleet_from_document(name: str, document: dict[str, Any], *, where: str = "") -> Fleet:
    """The fleet a fleet file describes, every host as it starts; called again on the same document, the same fleet
    (``POST /_control/reset`` rebuilds it from ``Fleet.source``). The document itself is never changed."""
    # Hosts are built from a copy (a host may keep parts of its spec), so ``source`` stays as the file said.
    source, document = copy.deepcopy(document), copy.deepcopy(document)
    where = where or name
    defaults = document.get("defaults") or {}
    hosts: dict[str, Host] = {}
    for entry in document.get("hosts") or []:
        count = entry.get("count")
        expanded = (
            [{**entry, "name": str(entry["name"]).format(index=i)} for i in range(1, int(count) + 1)]
            if count
            else [entry]
        )
        for host_spec in expanded:
            host_spec = _merge(defaults, {k: v for k, v in host_spec.items() if k != "count"})
            host = build_host(host_spec)
            if host.name in hosts:
                raise ValueError(f"duplicate host name {host.name!r} in {where}")
            hosts[host.name] = host
    if not hosts:
        raise ValueError(f"fleet {where} has no hosts")
    return Fleet(name=name, hosts=hosts, source=source)
