"""The ansible.windows modules users run beside ours: win_ping, setup, win_reg_stat, win_regedit.

Behaviour follows the modules' PowerShell (ansible-collections/ansible.windows plugins/modules/*.ps1): result keys,
check mode, the ``diff`` structure of win_regedit, and their failure messages.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .host import Caller, Host, RegistryPathError, RegValue, normalize_key

_PS_PATH = re.compile(r"^HK(CC|CR|CU|LM|U):\\", re.IGNORECASE)

# win_regedit "type" -> (registry type, .NET RegistryValueKind name used in its diff)
_REG_TYPES = {
    "string": ("REG_SZ", "String"),
    "expandstring": ("REG_EXPAND_SZ", "ExpandString"),
    "multistring": ("REG_MULTI_SZ", "MultiString"),
    "dword": ("REG_DWORD", "DWord"),
    "qword": ("REG_QWORD", "QWord"),
    "binary": ("REG_BINARY", "Binary"),
    "none": ("REG_NONE", "None"),
}
_KIND_BY_REG_TYPE = {reg: kind for reg, kind in _REG_TYPES.values()}


class ModuleFailure(Exception):
    def __init__(self, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.extra = extra


def win_ping(host: Host, caller: Caller, params: dict[str, Any], check_mode: bool, diff: bool) -> dict[str, Any]:
    if params["data"] == "crash":  # win_ping.ps1 throws on purpose so users can test failure handling
        raise ModuleFailure("Unhandled exception while executing module: boom")
    return {"changed": False, "ping": params["data"]}


def setup(host: Host, caller: Caller, params: dict[str, Any], check_mode: bool, diff: bool) -> dict[str, Any]:
    profile = host.profile
    major, minor = profile.major_minor
    product = {1: "workstation", 2: "domain_controller", 3: "server"}[profile.product_type]
    role = (
        "Member server"
        if host.part_of_domain and profile.product_type == 3
        else "Member workstation"
        if host.part_of_domain
        else "Stand-alone server"
        if profile.product_type == 3
        else "Stand-alone workstation"
    )
    now = time.time()
    facts: dict[str, Any] = {
        "ansible_architecture": "32-bit" if profile.pre_2003 else "64-bit",
        "ansible_distribution": profile.caption,
        "ansible_distribution_version": f"{profile.version}.0",
        "ansible_distribution_major_version": str(major),
        "ansible_kernel": f"{profile.version}.0",
        "ansible_os_family": "Windows",
        "ansible_os_name": profile.caption,
        "ansible_os_product_type": product,
        "ansible_os_installation_type": "Server" if profile.product_type != 1 else "Client",
        "ansible_system": "Win32NT",
        "ansible_hostname": host.computer_name,
        "ansible_netbios_name": host.computer_name,
        "ansible_nodename": host.dns_host_name,
        "ansible_fqdn": host.dns_host_name,
        "ansible_domain": host.domain or "",
        "ansible_windows_domain": host.domain or host.workgroup,
        "ansible_windows_domain_member": host.part_of_domain,
        "ansible_windows_domain_role": role,
        "ansible_machine_id": host.lsa.machine_sid,
        "ansible_owner_name": "Administrator",
        "ansible_owner_contact": "",
        "ansible_powershell_version": int(profile.ps_version.split(".")[0]),
        "ansible_user_id": caller.user,
        "ansible_user_sid": caller.sid,
        "ansible_user_dir": f"C:\\Users\\{caller.user}",
        "ansible_user_gecos": "",
        "ansible_interfaces": [
            {
                "connection_name": "Ethernet",
                "interface_name": "Microsoft Hyper-V Network Adapter",
                "interface_index": 6,
                "macaddress": "00:15:5D:00:00:01",
                "default_gateway": "10.0.0.1",
                "dns_domain": host.domain,
            }
        ],
        "ansible_ip_addresses": ["127.0.0.1"],
        "ansible_processor_count": 2,
        "ansible_processor_cores": 2,
        "ansible_memtotal_mb": 8192,
        "ansible_swaptotal_mb": 0,
        "ansible_uptime_seconds": 86400,
        "ansible_lastboot": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(now - 86400)),
        "ansible_date_time": {
            "epoch": str(int(now)),
            "iso8601": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "date": time.strftime("%Y-%m-%d", time.gmtime(now)),
            "tz": "Coordinated Universal Time",
            "tz_offset": "+00:00",
        },
        "ansible_virtualization_type": "Hyper-V",
        "ansible_virtualization_role": "guest",
        "ansible_reboot_pending": False,
        "ansible_env": {"COMPUTERNAME": host.computer_name, "SystemRoot": "C:\\Windows", "OS": "Windows_NT"},
        "gather_subset": params["gather_subset"],
        "module_setup": True,
    }
    result: dict[str, Any] = {"changed": False, "ansible_facts": facts}
    if (major, minor) < (10, 0):
        # setup.ps1 warns exactly like this below Server 2016.
        result["warnings"] = [f"The Windows version '{major}.{minor}' is no longer supported or tested by Ansible."]
    return result


def _stat_value(value: RegValue) -> dict[str, Any]:
    raw: Any = value.data
    if value.type in ("REG_BINARY", "REG_NONE"):
        raw = [f"0x{b:02x}" for b in value.data]
    return {"type": value.type, "value": value.data, "raw_value": raw}


def win_reg_stat(host: Host, caller: Caller, params: dict[str, Any], check_mode: bool, diff: bool) -> dict[str, Any]:
    path = params["path"]
    if not _PS_PATH.match(path):
        raise ModuleFailure(f"path: {path} is not a valid registry path, see module documentation for examples.")
    result: dict[str, Any] = {"changed": False}
    key = host.registry.key(path)
    if key is None:
        result["exists"] = False
        return result
    if params.get("name") is None:
        result["exists"] = True
        result["properties"] = {v.name: _stat_value(v) for v in key.values.values()}
        result["sub_keys"] = host.registry.subkeys(path)
        return result
    value = host.registry.get(path, params["name"])
    if value is None:
        result["exists"] = False
    else:
        result.update({"exists": True, **_stat_value(value)})
    return result


def _diff_value(value: RegValue) -> dict[str, Any]:
    kind = _KIND_BY_REG_TYPE.get(value.type, value.type)
    data: Any = value.data
    if value.type in ("REG_BINARY", "REG_NONE"):
        data = [f"0x{b:02x}" for b in value.data]
    elif value.type == "REG_DWORD":
        data = f"0x{value.data:08x}"
    elif value.type == "REG_QWORD":
        data = f"0x{value.data:016x}"
    return {"type": kind, "value": data}


def _convert_data(data: Any, kind: str) -> Any:
    """win_regedit's conversion of ``data`` for each type (same rules as the module's PowerShell)."""
    if kind in ("binary", "none"):
        if data is None:
            return b""
        if isinstance(data, str):
            text = re.sub(r"[^a-f0-9,x:\-]", "", data.lower().removeprefix("hex:"))
            parts = [p for p in re.split(r"[,:]+", text) if p]
            if len(parts) == 1 and len(parts[0]) > 2:
                parts = [parts[0][i : i + 2] for i in range(0, len(parts[0]), 2)]
            return bytes(int(p.removeprefix("0x"), 16) for p in parts)
        if isinstance(data, int):
            if data > 255:
                raise ModuleFailure(
                    f"cannot convert binary data '{data}' to byte array, please specify this value as a yaml byte "
                    "array or a comma separated hex value string"
                )
            return bytes([data])
        return bytes(int(b) for b in data)
    if kind in ("dword", "qword"):
        number = 0 if data is None else int(str(data), 0)
        limit = 0xFFFFFFFF if kind == "dword" else 0xFFFFFFFFFFFFFFFF
        if number > limit:
            raise ModuleFailure(f"data cannot be larger than 0x{limit:x} when type is {kind}")
        return number
    if kind == "multistring":
        if data is None:
            return []
        return [str(x) for x in data] if isinstance(data, list) else [str(data)]
    return "" if data is None else str(data)


def win_regedit(host: Host, caller: Caller, params: dict[str, Any], check_mode: bool, diff: bool) -> dict[str, Any]:
    path, name, state = params["path"], params.get("name") or None, params["state"]
    kind = params["type"]
    result: dict[str, Any] = {"changed": False, "data_changed": False, "data_type_changed": False}
    warnings = []
    if name is None and kind != "string":
        warnings.append(
            "the data type when name is not specified can only be 'string', the type has automatically been converted"
        )
        kind = "string"
    if not _PS_PATH.match(path):
        raise ModuleFailure(f"path: {path} is not a valid powershell path, see module documentation for examples.")
    try:
        print_path = path
        normalize_key(path)
    except RegistryPathError as exc:
        raise ModuleFailure(str(exc)) from None
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    registry = host.registry
    key = registry.key(path)
    wrote = False

    def require_admin(action: str) -> None:
        if not caller.admin and normalize_key(path).upper().startswith("HKEY_LOCAL_MACHINE"):
            raise ModuleFailure(f"failed to {action} at {print_path}: Requested registry access is not allowed.")

    if state == "absent":
        if key is not None:
            if params["delete_key"] and not name:
                require_admin("delete registry key")
                if not check_mode:
                    registry.delete_key(path)
                    wrote = True
                result["changed"] = True
                before, after = {print_path: {}}, {}
            else:
                existing = registry.get(path, name or "")
                if existing is not None:
                    require_admin(f"delete registry property '{name}'")
                    if not check_mode:
                        registry.delete(path, name or "")
                        wrote = True
                    result["changed"] = True
                    before = {print_path: {name: _diff_value(existing)}}
                    after = {print_path: {}}
    else:
        reg_type = _REG_TYPES[kind][0]
        data = _convert_data(params.get("data"), kind) if params.get("data") is not None else None
        if key is None:
            require_admin("create registry key")
            if not check_mode:
                registry.create_key(path)
                wrote = True
            result["changed"] = True
            before, after = {}, {print_path: {}}
        else:
            before, after = {print_path: {}}, {print_path: {}}
        key_now = registry.key(path)
        if key_now is not None and data is not None:
            existing = registry.get(path, name or "")
            new_value = RegValue(name or "", reg_type, data)
            needs_write = existing is None
            if existing is not None:
                result["data_type_changed"] = existing.type != reg_type
                result["data_changed"] = existing.data != data
                needs_write = result["data_type_changed"] or result["data_changed"]
                before[print_path][name] = _diff_value(existing)
            if needs_write:
                require_admin(f"{'create' if existing is None else 'change'} registry property '{name}'")
                if not check_mode:
                    registry.set(path, name or "", reg_type, data)
                    wrote = True
                result["changed"] = True
                after[print_path][name] = _diff_value(new_value)
            else:
                after[print_path][name] = before[print_path][name]
    if wrote:
        host.counters.count("writes", "registry")
    if diff:
        result["diff"] = {"before": before, "after": after}
    if warnings:
        result["warnings"] = warnings
    return result


MODULES = {
    "ansible.windows.win_ping": win_ping,
    "ansible.windows.setup": setup,
    "ansible.windows.win_reg_stat": win_reg_stat,
    "ansible.windows.win_regedit": win_regedit,
}
