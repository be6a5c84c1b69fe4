"""The host side of ``winsec.wmi.wmi_state``: every operation of plugins/modules/wmi_state.yml, on the host model.

The contract (options, result shape, error codes) is the ``.yml`` sidecar; this file follows it and nothing else.
Where the contract's prose is stricter than its option spec (a write must carry the state it expects to replace;
each op needs its own parameters), a violation fails the module with ``SIMULATOR CONTRACT VIOLATION`` so tests
catch the client, rather than the simulator guessing what the PowerShell would do.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
from dataclasses import dataclass
from typing import Any

from .host import NAMED_VALUES, Caller, Host, RegValue
from .namespaces import WmiError, normalize, sids_in

CONTRACT_PREFIX = "SIMULATOR CONTRACT VIOLATION"
E_ACCESSDENIED = 0x80070005  # HRESULT of a registry write refused by the key's ACL (UnauthorizedAccessException)
E_INVALIDARG = 0x80070057  # HRESULT of "The parameter is incorrect" (.NET ArgumentException)

WRITE_OPS = frozenset({"registry_write", "sd_set"})

# Parameters each op needs (the contract's descriptions; the option spec cannot say "required when op=...").
REQUIRED_BY_OP: dict[str, tuple[str, ...]] = {
    "facts": (),
    "registry_read": ("value",),
    "registry_write": ("value", "data", "value_type", "expected"),
    "sd_get": ("namespace",),
    "sd_set": ("namespace", "sd", "expected_sd"),
    "caller_rights": ("namespace",),
    "sid_lookup": ("names",),
    "name_lookup": ("sids",),
    "event_subscriptions": (),
    "script_files": ("paths",),
}


class ContractViolation(ValueError):
    pass


@dataclass
class OpOutcome:
    result: dict[str, Any]
    wrote: bool = False  # the host's state was written (counts as a write even if the value did not change)
    changed: bool = False


def _error(code: str, message: str, hresult: int | None = None) -> dict[str, Any]:
    return {"code": code, "hresult": hresult, "message": message}


def _wmi_error(exc: WmiError) -> dict[str, Any]:
    return _error("WMI", exc.message, exc.hresult)


def check_contract(operations: list[dict[str, Any]]) -> None:
    problems = []
    for index, op in enumerate(operations):
        missing = [name for name in REQUIRED_BY_OP[op["op"]] if op.get(name) is None]
        if missing:
            problems.append(f"operations[{index}] (op={op['op']}) needs {', '.join(missing)}")
    if problems:
        raise ContractViolation(f"{CONTRACT_PREFIX}: " + "; ".join(problems))


def run(host: Host, caller: Caller, params: dict[str, Any], check_mode: bool) -> tuple[dict[str, Any], bool]:
    """Run all operations; returns (module result, whether anything was written)."""
    operations: list[dict[str, Any]] = params["operations"]
    check_contract(operations)
    results = []
    wrote = changed = write_failed = False
    with host.lock:
        for op in operations:
            name = op["op"]
            if name in WRITE_OPS:
                if check_mode:
                    # Writes are refused in check mode (contract notes); the action plugins never send them.
                    outcome = OpOutcome({"error": _error("CHECK_MODE", "Writes are refused in check mode.")})
                    host.counters.count("refused_writes", f"{name}:check_mode")
                elif write_failed:
                    outcome = OpOutcome({"error": _error("SKIPPED", "Skipped because an earlier write failed.")})
                else:
                    outcome = _OPS[name](host, caller, op)
            else:
                outcome = _OPS[name](host, caller, op)
            failed = "error" in outcome.result
            if name in WRITE_OPS and failed:
                write_failed = True
            if outcome.wrote:
                host.counters.count("writes", {"registry_write": "registry", "sd_set": "namespace_sd"}[name])
            wrote |= outcome.wrote
            changed |= outcome.changed
            results.append({"op": name, "failed": failed, **outcome.result})
    return {"changed": changed, "results": results}, wrote


# --- reads ---------------------------------------------------------------------------------------------------------


def _facts(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    profile = host.profile
    return OpOutcome(
        {
            "os_caption": profile.caption,
            "os_version": profile.version,
            "os_build": profile.build,
            "product_type": profile.product_type,
            "computer_name": host.computer_name,
            "dns_host_name": host.dns_host_name,
            "domain": host.domain or host.workgroup,
            "part_of_domain": host.part_of_domain,
            "ps_version": profile.ps_version,
        }
    )


def _value_view(value: RegValue | None) -> dict[str, Any]:
    if value is None:
        return {"exists": False, "type": None, "data": None}
    return {"exists": True, "type": value.type, "data": value.data}


def _registry_read(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    key_path, value_name = NAMED_VALUES[op["value"]]
    key = host.registry.key(key_path)
    value = host.registry.get(key_path, value_name)
    return OpOutcome({"key_exists": key is not None, **_value_view(value)})


def _sd_get(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    namespace = op["namespace"]
    try:
        nodes = list(host.namespaces.walk(namespace)) if op.get("recurse") else [host.namespaces.get(namespace)]
    except WmiError as exc:
        return OpOutcome({"namespaces": [], "error": _wmi_error(exc)})
    token = caller.token()
    entries: list[dict[str, Any]] = []
    for node in nodes:
        try:
            data = host.namespaces.get_sd(node.path, token)
            entries.append({"namespace": node.path, "sd": base64.b64encode(data).decode(), "error": None})
        except WmiError as exc:
            entries.append({"namespace": node.path, "sd": None, "error": _wmi_error(exc)})
    result: dict[str, Any] = {"namespaces": entries}
    if op.get("resolve_names"):
        principals: dict[str, str | None] = {}
        for entry in entries:
            if entry["sd"]:
                for sid in sids_in(base64.b64decode(entry["sd"])):
                    principals.setdefault(sid, host.lsa.lookup_sid(sid))
        result["principals"] = principals
    # The op fails when the namespace asked for cannot be read; descendants report their own errors.
    if entries and entries[0]["error"]:
        result["error"] = entries[0]["error"]
    return OpOutcome(result)


def _caller_rights(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    try:
        return OpOutcome({"mask": host.namespaces.rights(op["namespace"], caller.token())})
    except WmiError as exc:
        return OpOutcome({"mask": None, "error": _wmi_error(exc)})


def _sid_lookup(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    return OpOutcome({"accounts": [{"name": name, "sid": host.lsa.lookup_name(name)} for name in op["names"]]})


def _name_lookup(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    bad = [sid for sid in op["sids"] if not host.lsa.is_sid_string(sid)]
    if bad:
        return OpOutcome(
            {"accounts": [], "error": _error("LOOKUP", f"Not a SID string: {', '.join(bad)}", E_INVALIDARG)}
        )
    return OpOutcome({"accounts": [{"sid": sid, "name": host.lsa.lookup_sid(sid)} for sid in op["sids"]]})


def _event_subscriptions(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    wanted = []
    for namespace in op.get("namespaces") or []:
        try:
            wanted.append(normalize(host.namespaces.get(namespace).path))
        except WmiError as exc:
            return OpOutcome({"filters": [], "consumers": [], "bindings": [], "error": _wmi_error(exc)})
    return OpOutcome(
        {
            "filters": [
                {
                    "namespace": f.namespace,
                    "name": f.name,
                    "query": f.query,
                    "query_language": f.query_language,
                    "event_namespace": f.event_namespace,
                    "creator_sid": f.creator_sid,
                }
                for f in host.filters
                if normalize(f.namespace) in wanted
            ],
            "consumers": [
                {
                    "namespace": c.namespace,
                    "name": c.name,
                    "class": c.cls,
                    "command_line_template": c.command_line_template,
                    "executable_path": c.executable_path,
                    "script_text": c.script_text,
                    "script_file_name": c.script_file_name,
                    "scripting_engine": c.scripting_engine,
                }
                for c in host.consumers
                if normalize(c.namespace) in wanted
            ],
            "bindings": [
                {"namespace": b.namespace, "filter": b.filter, "consumer": b.consumer}
                for b in host.bindings
                if normalize(b.namespace) in wanted
            ],
        }
    )


def _file_entry(display: str, content: bytes, max_bytes: int) -> dict[str, Any]:
    truncated = len(content) > max_bytes
    return {
        "path": display,
        "size": len(content),
        "content": None if truncated else base64.b64encode(content).decode(),
        "truncated": truncated,
        "error": None,
    }


def _script_files(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    patterns = [p.lower() for p in op.get("patterns") or []]
    max_bytes = int(op.get("max_bytes") or 0) if op.get("max_bytes") is not None else 1048576
    files = []
    for path in op["paths"]:
        key = path.replace("/", "\\").rstrip("\\").lower()
        if key in host.files:
            display, content = host.files[key]
            files.append(_file_entry(display, content, max_bytes))
            continue
        under = sorted((k, v) for k, v in host.files.items() if k.startswith(key + "\\"))
        if not under:
            files.append(
                {
                    "path": path,
                    "size": None,
                    "content": None,
                    "truncated": False,
                    "error": _error("NOT_FOUND", f"Cannot find path '{path}' because it does not exist."),
                }
            )
            continue
        for _key, (display, content) in under:
            leaf = display.rsplit("\\", 1)[-1].lower()
            if not patterns or any(fnmatch.fnmatchcase(leaf, p) for p in patterns):
                files.append(_file_entry(display, content, max_bytes))
    return OpOutcome({"files": files})


# --- writes --------------------------------------------------------------------------------------------------------


def _registry_write(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    key_path, value_name = NAMED_VALUES[op["value"]]
    current = host.registry.get(key_path, value_name)
    before = _value_view(current)
    expected = op["expected"]
    now_matches = bool(expected.get("exists")) == before["exists"] and (
        not before["exists"]
        or (str(expected.get("type")) == before["type"] and str(expected.get("data")) == str(before["data"]))
    )
    if not now_matches:
        return OpOutcome(
            {
                "before": before,
                "after": before,
                "error": _error(
                    "CHANGED_SINCE_READ",
                    f"{key_path}\\{value_name} is {before} now, not {expected}; nothing was written.",
                ),
            }
        )
    if not caller.admin:
        host.counters.count("refused_writes", "registry:access_denied")
        return OpOutcome(
            {
                "before": before,
                "after": before,
                "error": _error("WMI", "Requested registry access is not allowed.", E_ACCESSDENIED),
            }
        )
    data: Any
    if op["value_type"] == "dword":
        try:
            data = int(str(op["data"]).strip(), 10)
            if not 0 <= data <= 0xFFFFFFFF:
                raise ValueError(data)
        except ValueError:
            return OpOutcome(
                {
                    "before": before,
                    "after": before,
                    "error": _error("WMI", f"The parameter is incorrect: {op['data']!r} is not a DWORD.", E_INVALIDARG),
                }
            )
        reg_type = "REG_DWORD"
    else:
        data, reg_type = str(op["data"]), "REG_SZ"
    host.registry.set(key_path, value_name, reg_type, data)
    after = _value_view(host.registry.get(key_path, value_name))
    return OpOutcome({"before": before, "after": after}, wrote=True, changed=before != after)


def _sd_set(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    namespace = op["namespace"]
    try:
        new_sd = base64.b64decode(op["sd"], validate=True)
        expected = base64.b64decode(op["expected_sd"], validate=True)
    except (binascii.Error, ValueError):
        return OpOutcome({"sd": None, "error": _error("WMI", "Invalid parameter", 0x80041008)})
    token = caller.token()
    try:
        host.namespaces.get(namespace)
        current = host.namespaces.get_sd(namespace, token)
    except WmiError as exc:
        return OpOutcome({"sd": None, "error": _wmi_error(exc)})
    if current != expected:
        return OpOutcome(
            {
                "sd": base64.b64encode(current).decode(),
                "error": _error(
                    "CHANGED_SINCE_READ",
                    f"The security descriptor of {namespace} changed since it was read; nothing was written.",
                ),
            }
        )
    try:
        outcome = host.namespaces.set_sd(namespace, new_sd, token)
    except WmiError as exc:
        host.counters.count("refused_writes", f"namespace_sd:0x{exc.hresult:08X}")
        host.log("setsd_refused", namespace=namespace, hresult=f"0x{exc.hresult:08X}", reason=exc.reason)
        return OpOutcome({"sd": None, "error": _wmi_error(exc)})
    if outcome.accepted_null:
        host.log("setsd_null_accepted", namespace=namespace, note="pre-2003: the namespace now inherits its parent")
    try:
        after = host.namespaces.get_sd(namespace, token)
        sd_after: str | None = base64.b64encode(after).decode()
    except WmiError:  # the caller removed its own ReadSecurity: the write happened, the read-back cannot
        after, sd_after = b"", None
    return OpOutcome({"sd": sd_after}, wrote=True, changed=after != current)


_OPS = {
    "facts": _facts,
    "registry_read": _registry_read,
    "registry_write": _registry_write,
    "sd_get": _sd_get,
    "sd_set": _sd_set,
    "caller_rights": _caller_rights,
    "sid_lookup": _sid_lookup,
    "name_lookup": _name_lookup,
    "event_subscriptions": _event_subscriptions,
    "script_files": _script_files,
}

assert set(_OPS) == set(REQUIRED_BY_OP)
