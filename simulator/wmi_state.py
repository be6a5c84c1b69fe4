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
from dataclasses import dataclass, replace
from typing import Any

from ._paths import install_collection_path
from .consumer_classes import NotConvertible, typed
from .host import BA, LOCAL_SYSTEM, NAMED_VALUES, Caller, EventBinding, EventConsumer, EventFilter, Host, RegValue
from .namespaces import WmiError, leaf, normalize, sids_in

install_collection_path()

from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (  # noqa: E402
    Ace,
    Acl,
    Sid,
    sd_from_bytes,
    sd_to_bytes,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_state_contract import (  # noqa: E402
    FAILURE_KEYS,
    REQUIRED_BY_OP,
    WRITE_OPS,
)

CONTRACT_PREFIX = "SIMULATOR CONTRACT VIOLATION"
E_ACCESSDENIED = 0x80070005  # HRESULT of a registry write refused by the key's ACL (UnauthorizedAccessException)
SE_DACL_PRESENT = 0x0004  # SECURITY_DESCRIPTOR control bit (MS-DTYP 2.4.6)
SE_SACL_PRESENT = 0x0010  # same word (MS-DTYP 2.4.6)
SYSTEM_AUDIT_ACE_TYPE = 0x02  # MS-DTYP 2.4.4.1


class ContractViolation(ValueError):
    pass


@dataclass
class OpOutcome:
    result: dict[str, Any]
    wrote: bool = False  # the host's state was written (counts as a write even if the value did not change)


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
        elif op["op"] == "registry_write" and op["value_type"] == "dword" and not _is_dword(op["data"]):
            # wmi_state.ps1 fails the whole call before running anything ([uint32]::TryParse).
            raise ContractViolation(f"registry_write data '{op['data']}' is not a DWORD (0 to 4294967295)")
    if problems:
        raise ContractViolation(f"{CONTRACT_PREFIX}: " + "; ".join(problems))


def _is_dword(text: str) -> bool:
    try:
        return 0 <= int(str(text).strip(), 10) <= 0xFFFFFFFF
    except ValueError:
        return False


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
                    if host.take_fault("change_before_write"):
                        _change_behind_our_back(host, op)
                    outcome = _OPS[name](host, caller, op)
            else:
                outcome = _OPS[name](host, caller, op)
            failed = "error" in outcome.result
            if name in WRITE_OPS and failed:
                write_failed = True
            if outcome.wrote:
                kinds = {
                    "registry_write": "registry",
                    "sd_set": "namespace_sd",
                    "sacl_set": "namespace_sacl",
                    "event_subscription_remove": "event_subscription",
                    "event_subscription_create": "event_subscription",
                }
                host.counters.count("writes", kinds[name])
            wrote |= outcome.wrote
            # wmi_state.ps1 reports changed for every write op that succeeded, whether or not the value differed.
            changed |= name in WRITE_OPS and not failed
            if failed:
                # wmi_state.ps1's catch leaves only what it set before the op ran: {op, failed, error}.
                entry = dict(zip(FAILURE_KEYS, (name, True, outcome.result["error"]), strict=True))
            else:
                entry = {"op": name, "failed": False, **outcome.result}
            results.append(entry)
    return {"changed": changed, "results": results}, wrote


def _change_behind_our_back(host: Host, op: dict[str, Any]) -> None:
    """The change_before_write fault: another administrator changes the target between our read and our write.

    The registry value becomes REG_DWORD 7; a namespace gains an explicit ACE for Performance Monitor Users. Neither is
    counted as one of our writes; the event log says what happened.
    """
    if op["op"] == "registry_write":
        key_path, value_name = NAMED_VALUES[op["value"]]
        host.registry.set(key_path, value_name, "REG_DWORD", 7)
    elif op["op"] == "event_subscription_remove":
        # The filter's query or the consumer's command line is edited; a binding is deleted (it has nothing else).
        found = _subscription_part(host, op)
        if isinstance(found, EventFilter):
            found.query = f"{found.query} AND TargetInstance.Name <> 'x'"
        elif isinstance(found, EventConsumer):
            found.command_line_template = f"{found.command_line_template or ''} /changed"
        elif found is not None:
            host.bindings.remove(found)
    elif op["op"] == "event_subscription_create":
        # The other administrator creates the same part first (with its own definition): ours must not replace it.
        if _subscription_part(host, {**op, "expected_instance": op["instance"]}) is None:
            _add_part(host, op, host.namespaces.get(op["namespace"]).path, creator_sid=BA)
    else:
        system = [LOCAL_SYSTEM, BA]
        current = sd_from_bytes(host.namespaces.get_sd(op["namespace"], system))
        assert current.dacl is not None  # simulator invariant: every modelled namespace has a DACL
        extra = Ace(0, 0x2, 0x1, Sid.parse("S-1-5-32-558"))
        explicit = tuple(ace for ace in current.dacl.aces if not ace.inherited)
        changed = replace(current, dacl=Acl((*explicit, extra)))
        host.namespaces.set_sd(op["namespace"], sd_to_bytes(changed), system)
    host.log("changed_behind_our_back", op=op["op"], target=op.get("value") or op.get("namespace"))


def _subscription_part(host: Host, op: dict[str, Any]) -> EventFilter | EventConsumer | EventBinding | None:
    """The filter, consumer or binding event_subscription_remove names by the key properties of expected_instance
    (compared case-insensitively, as WMI compares keys)."""
    expected = op["expected_instance"]
    key = normalize(op["namespace"])

    def same(a: Any, b: Any) -> bool:
        return ("" if a is None else str(a)).lower() == ("" if b is None else str(b)).lower()

    if op["kind"] == "filter":
        return next(
            (f for f in host.filters if normalize(f.namespace) == key and same(f.name, expected.get("name"))), None
        )
    if op["kind"] == "consumer":
        return next(
            (
                c
                for c in host.consumers
                if normalize(c.namespace) == key
                and same(c.cls, expected.get("class"))
                and same(c.name, expected.get("name"))
            ),
            None,
        )
    return next(
        (
            b
            for b in host.bindings
            if normalize(b.namespace) == key
            and same(_ref_name(b.filter), expected.get("filter"))
            and same(_ref_class(b.consumer), expected.get("consumer_class"))
            and same(_ref_name(b.consumer), expected.get("consumer"))
        ),
        None,
    )


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
            # WindowsIdentity.GetCurrent(): the token wmi_state runs with (the connecting account's).
            "caller_sid": caller.sid,
            "caller_name": f"{host.computer_name}\\{caller.user}",
            "caller_groups": caller.token()[1:] if caller.token()[0] == caller.sid else caller.token(),
            "caller_deny_only_groups": list(caller.deny_only),
        }
    )


def _value_view(value: RegValue | None) -> dict[str, Any]:
    """A value as wmi_state.ps1 reports it: DWORD/QWORD as unsigned ints, binary as base64, multi-string as a list."""
    if value is None:
        return {"exists": False, "type": None, "data": None}
    data: Any = value.data
    if value.type in ("REG_BINARY", "REG_NONE"):
        data = base64.b64encode(bytes(value.data)).decode()
    elif value.type == "REG_MULTI_SZ":
        data = [str(x) for x in value.data]
    elif value.type not in ("REG_DWORD", "REG_QWORD"):
        data = str(value.data)
    return {"exists": True, "type": value.type, "data": data}


def _registry_read(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    key_path, value_name = NAMED_VALUES[op["value"]]
    key = host.registry.key(key_path)
    value = host.registry.get(key_path, value_name)
    return OpOutcome({"key_exists": key is not None, **_value_view(value)})


def _sd_get(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    """Like wmi_state.ps1's Read-NamespaceTree: one entry per namespace, named as requested (children: parent name +
    their own name in WMI's spelling, siblings in ordinal order). A namespace whose SD cannot be read has its error;
    one whose children cannot be listed keeps its SD and gets the listing error; the rest of the tree is still read."""
    token = caller.token()
    entries: list[dict[str, Any]] = []
    # Administrators hold SeSecurityPrivilege ("Manage auditing and security log") by default; wmi_state.ps1 enables
    # it for the read. Other accounts do not hold it, and WMI leaves the SACL out.
    sacl_read = bool(op.get("sacl")) and caller.admin
    # GetSD is modelled never to return the SACL (stricter than Windows: no document says it does). The SACL comes
    # only through the documented path, GetSecurityDescriptor with the privilege enabled, converted to bytes by
    # Win32_SecurityDescriptorHelper.Win32SDToBinarySD; fault sacl_path: getsd_only is a host where that path fails
    # (the helper class needs Vista / Server 2008), so the ps1 falls back to GetSD and says sacl_returned: false.
    documented = sacl_read and host.faults.get("sacl_path") != "getsd_only"

    def read(name: str, path: str) -> None:
        entry: dict[str, Any] = {"namespace": name, "sd": None, "error": None}
        if op.get("sacl"):
            entry["sacl_returned"] = False
        entries.append(entry)
        try:
            data = host.namespaces.get_sd(path, token)
            if documented:
                data = _with_sacl(data, host.namespaces.audit_aces(path))
                entry["sacl_returned"] = True
            entry["sd"] = base64.b64encode(data).decode()
        except WmiError as exc:
            entry["error"] = _wmi_error(exc)
        if not op.get("recurse"):
            return
        try:
            children = host.namespaces.children(path, token)
        except WmiError as exc:
            entry["error"] = entry["error"] or _wmi_error(exc)
            return
        for child in children:
            read(f"{name}\\{leaf(child)}", child)

    read(op["namespace"], op["namespace"])
    result: dict[str, Any] = {"namespaces": entries}
    if op.get("sacl"):
        result["sacl_read"] = sacl_read
    if op.get("resolve_names"):
        sids = list(
            dict.fromkeys(sid for entry in entries if entry["sd"] for sid in sids_in(base64.b64decode(entry["sd"])))
        )
        answers = _translate(host, sids, host.lsa.lookup_sid)
        result["principals"] = {sid: value for sid, (value, _error) in zip(sids, answers, strict=True)}
        result["principal_errors"] = {sid: error for sid, (_value, error) in zip(sids, answers, strict=True) if error}
    return OpOutcome(result)


def _with_sacl(data: bytes, aces: list[Any]) -> bytes:
    """The descriptor with its SACL, as GetSD returns it to a caller with SeSecurityPrivilege enabled."""
    if not aces:
        return data
    sd = sd_from_bytes(data)
    sacl = Acl(tuple(Ace(a.type, a.flags, a.mask, Sid.parse(a.sid)) for a in aces))
    return sd_to_bytes(replace(sd, control=sd.control | SE_SACL_PRESENT, sacl=sacl))


def _translate(host: Host, items: list[str], lookup: Any) -> list[tuple[str | None, dict[str, Any] | None]]:
    """wmi_state.ps1's Resolve-Identity: one batch; each item gets its value or a LOOKUP error."""
    host.counters.count("lsa_batches")
    answers: list[tuple[str | None, dict[str, Any] | None]] = []
    for item in items:
        value = lookup(item)
        error = (
            None
            if value
            else _error("LOOKUP", f"'{item}' could not be translated (no such account, or an orphaned SID)")
        )
        answers.append((value, error))
    return answers


def _caller_rights(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    try:
        return OpOutcome({"mask": host.namespaces.caller_rights(op["namespace"], caller.token())})
    except WmiError as exc:
        return OpOutcome({"mask": None, "error": _wmi_error(exc)})


def _sid_lookup(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    answers = _translate(host, op["names"], host.lsa.lookup_name)
    accounts = [
        {"name": name, "sid": sid, "error": error} for name, (sid, error) in zip(op["names"], answers, strict=True)
    ]
    return OpOutcome({"accounts": accounts})


def _name_lookup(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    # A malformed SID string does not resolve either (its SecurityIdentifier constructor throws: a LOOKUP error).
    answers = _translate(host, op["sids"], host.lsa.lookup_sid)
    accounts = [
        {"sid": sid, "name": name, "error": error} for sid, (name, error) in zip(op["sids"], answers, strict=True)
    ]
    return OpOutcome({"accounts": accounts})


def _event_subscriptions(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    """As wmi_state.ps1's Get-EventSubscription. Reported per namespace as requested (the PowerShell echoes the name
    it queried). Without recurse a missing namespace fails the op (Get-CimInstance -ErrorAction Stop); with recurse
    (Read-SubscriptionTree) a namespace that cannot be opened or listed is one entry of namespace_errors and the rest
    of the tree is still read."""
    found: dict[str, list[dict[str, Any]]] = {"filters": [], "consumers": [], "bindings": []}

    def read(namespace: str, path: str) -> None:
        # Each instance as _subscription_entry shapes it (wmi_state.ps1's ConvertTo-*Entry); a binding's consumer is
        # named by its reference's Name and class (CimSystemProperties.ClassName): consumers are keyed by both.
        key = normalize(path)
        found["filters"] += [_subscription_entry(namespace, f) for f in host.filters if normalize(f.namespace) == key]
        found["consumers"] += [
            _subscription_entry(namespace, c) for c in host.consumers if normalize(c.namespace) == key
        ]
        found["bindings"] += [_subscription_entry(namespace, b) for b in host.bindings if normalize(b.namespace) == key]

    if not op.get("recurse"):
        for namespace in op.get("namespaces") or []:
            try:
                read(namespace, host.namespaces.get(namespace).path)
            except WmiError as exc:
                return OpOutcome({"error": _wmi_error(exc)})
        return OpOutcome(dict(found))
    token = caller.token()
    errors: list[dict[str, Any]] = []

    def tree(name: str, path: str) -> None:
        try:
            read(name, host.namespaces.connect(path, token).path)  # Get-CimInstance opens it: needs Enable
            children = host.namespaces.children(path, token)
        except WmiError as exc:
            errors.append({"namespace": name, "error": _wmi_error(exc)})
            return
        for child in children:
            tree(f"{name}\\{leaf(child)}", child)

    for namespace in op.get("namespaces") or []:
        tree(namespace, namespace)
    return OpOutcome({**found, "namespace_errors": errors})


def _ref_name(reference: str) -> str:
    """``NTEventLogEventConsumer.Name="SCM Event Log Consumer"`` -> ``SCM Event Log Consumer``."""
    _, _, value = reference.partition("=")
    return value.strip().strip('"') if value else reference


def _ref_class(reference: str) -> str:
    """``NTEventLogEventConsumer.Name="SCM Event Log Consumer"`` -> ``NTEventLogEventConsumer``."""
    return reference.partition(".")[0].strip()


def _event_subscription_remove(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    """As wmi_state.ps1's Remove-EventSubscriptionPart: found by its key properties, removed only if every property
    in expected_instance still holds (compared as strings, as "$(...)" does: null is the empty string)."""
    try:
        host.namespaces.get(op["namespace"])
    except WmiError as exc:
        return OpOutcome({"error": _wmi_error(exc)})
    found = _subscription_part(host, op)
    described = f"{op['kind']} in {op['namespace']!r}"
    if found is None:
        return OpOutcome(
            {"error": _error("CHANGED_SINCE_READ", f"the {described} no longer exists; nothing was removed")}
        )
    entry = _subscription_entry(op["namespace"], found)
    for name, value in op["expected_instance"].items():
        now = entry.get(name)
        if ("" if now is None else str(now)) != ("" if value is None else str(value)):
            return OpOutcome(
                {
                    "error": _error(
                        "CHANGED_SINCE_READ", f"the {described} changed since it was read ({name}); nothing was removed"
                    )
                }
            )
    if not caller.admin:
        return OpOutcome({"error": _error("WMI", "Access denied", 0x80041003)})
    if isinstance(found, EventFilter):
        host.filters.remove(found)
    elif isinstance(found, EventConsumer):
        host.consumers.remove(found)
    else:
        host.bindings.remove(found)
    host.log("event_subscription_removed", namespace=op["namespace"], part=op["kind"], instance=entry)
    return OpOutcome({"removed": entry}, wrote=True)


# The five standard consumer classes (Microsoft Learn, "Monitoring and Responding to Events with Standard Consumers"):
# the only ones wmi_state.ps1's New-EventSubscriptionPart creates.
STANDARD_CONSUMER_CLASSES = (
    "ActiveScriptEventConsumer",
    "CommandLineEventConsumer",
    "LogFileEventConsumer",
    "NTEventLogEventConsumer",
    "SMTPEventConsumer",
)


def _event_subscription_create(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    """As wmi_state.ps1's New-EventSubscriptionPart: refused when an instance with the same keys exists (or, for a
    binding, when its filter or consumer does not); WMI stores the creating account's SID as CreatorSID."""
    try:
        path = host.namespaces.get(op["namespace"]).path
    except WmiError as exc:
        return OpOutcome({"error": _wmi_error(exc)})
    new = op["instance"]
    described = f"{op['kind']} in {op['namespace']!r}"
    if _subscription_part(host, {**op, "expected_instance": new}) is not None:
        return OpOutcome({"error": _error("CHANGED_SINCE_READ", f"the {described} exists; nothing was created")})
    if op["kind"] == "consumer" and _standard_class(new.get("class")) is None:
        message = f"'{new.get('class')}' is not a standard consumer class; nothing was created"
        return OpOutcome({"error": _error("UNEXPECTED", message)})
    if op["kind"] == "binding":
        references = (
            ("filter", {"name": new.get("filter")}),
            ("consumer", {"class": new.get("consumer_class"), "name": new.get("consumer")}),
        )
        for kind, key in references:
            if _subscription_part(host, {"namespace": op["namespace"], "kind": kind, "expected_instance": key}) is None:
                message = f"the filter or consumer of the {described} does not exist; nothing was created"
                return OpOutcome({"error": _error("CHANGED_SINCE_READ", message)})
    if not caller.admin:
        return OpOutcome({"error": _error("WMI", "Access denied", 0x80041003)})
    try:
        part = _add_part(host, op, path, creator_sid=caller.sid)
    except NotConvertible as exc:
        return OpOutcome({"error": _error("INVALID_PROPERTY", f"{exc}; nothing was created")})
    entry = _subscription_entry(op["namespace"], part)
    host.log("event_subscription_created", namespace=op["namespace"], part=op["kind"], instance=entry)
    return OpOutcome({"created": entry}, wrote=True)


# The consumer properties wmi_state returns as their own keys (ConvertTo-ConsumerEntry's $script:consumerFields).
_NAMED_CONSUMER_FIELDS = {
    "command_line_template": "CommandLineTemplate",
    "executable_path": "ExecutablePath",
    "script_text": "ScriptText",
    "script_file_name": "ScriptFileName",
    "scripting_engine": "ScriptingEngine",
}


def _standard_class(name: Any) -> str | None:
    return next((known for known in STANDARD_CONSUMER_CLASSES if known.lower() == str(name).lower()), None)


def _add_part(host: Host, op: dict[str, Any], path: str, *, creator_sid: str) -> Any:
    """The instance as New-CimInstance stores it: only the properties the read returns, CreatorSID the creator's."""
    new = op["instance"]
    if op["kind"] == "filter":
        event_filter = EventFilter(
            path, new["name"], new["query"], new.get("query_language"), new.get("event_namespace"), creator_sid
        )
        host.filters.append(event_filter)
        return event_filter
    if op["kind"] == "consumer":
        # Every value typed from the class schema, as the ps1 does before New-CimInstance; one that does not convert
        # raises NotConvertible before anything is stored. WMI then fills the class's defaults (EventConsumer).
        cls = str(_standard_class(new["class"]))
        given = {k: v for k, v in (new.get("properties") or {}).items() if k != "CreatorSID" and v is not None}
        properties = dict(typed(cls, k, v) for k, v in given.items())
        named = {k: typed(cls, _NAMED_CONSUMER_FIELDS[k], new.get(k))[1] for k in _NAMED_CONSUMER_FIELDS if new.get(k)}
        consumer = EventConsumer(path, new["name"], cls, **named, properties=properties)
        host.consumers.append(consumer)
        return consumer
    binding = EventBinding(
        path, f'__EventFilter.Name="{new["filter"]}"', f'{new["consumer_class"]}.Name="{new["consumer"]}"'
    )
    host.bindings.append(binding)
    return binding


def _subscription_entry(namespace: str, part: EventFilter | EventConsumer | EventBinding) -> dict[str, Any]:
    """One instance in the shape event_subscriptions returns it."""
    if isinstance(part, EventFilter):
        return {
            "namespace": namespace,
            "name": part.name,
            "query": part.query,
            "query_language": part.query_language,
            "event_namespace": part.event_namespace,
            "creator_sid": part.creator_sid,
        }
    if isinstance(part, EventConsumer):
        return {
            "namespace": namespace,
            "name": part.name,
            "class": part.cls,
            "command_line_template": part.command_line_template,
            "executable_path": part.executable_path,
            "script_text": part.script_text,
            "script_file_name": part.script_file_name,
            "scripting_engine": part.scripting_engine,
            "properties": dict(part.properties),
        }
    return {
        "namespace": namespace,
        "filter": _ref_name(part.filter),
        "consumer": _ref_name(part.consumer),
        "consumer_class": _ref_class(part.consumer),
    }


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
    """As wmi_state.ps1's Get-ScriptFile: one directory at a time, no junction or symbolic link followed (fault
    ``junctions``: {path: target}, each listed in unread with REPARSE_POINT), a directory that cannot be listed
    (fault ``unreadable_dirs``, access denied) or a path longer than MAX_PATH (fault ``long_paths: true``, .NET
    Framework before 4.6.2 throws PathTooLongException) listed in unread with its error, never failing the op."""
    patterns = [p.lower() for p in op.get("patterns") or []]
    max_bytes = int(op.get("max_bytes") or 0) if op.get("max_bytes") is not None else 1048576
    junctions = {_file_key(k): str(k) for k in host.faults.get("junctions") or {}}
    unreadable = {_file_key(k): str(k) for k in host.faults.get("unreadable_dirs") or []}
    files: list[dict[str, Any]] = []
    unread: list[dict[str, Any]] = []

    def blocked(key: str, root: str) -> str | None:
        """The top-most junction or unreadable directory between root and key (root itself included)."""
        parts = key[len(root) :].split("\\")
        for i in range(1, len(parts) + 1):
            prefix = root + "\\".join(parts[:i])
            if (prefix in junctions and prefix != root) or prefix in unreadable:
                return prefix
        return None

    for path in op["paths"]:
        key = _file_key(path)
        if host.faults.get("long_paths") and len(path) > _MAX_PATH:
            unread.append({"path": path, "kind": "path", "error": _error("FILE", _TOO_LONG, 0x800700CE)})
            continue
        if key in host.files:
            display, content = host.files[key]
            files.append(_file_entry(display, content, max_bytes))
            continue
        under = sorted(k for k in (*host.files, *junctions, *unreadable) if k.startswith(key + "\\") or k == key)
        if not under:
            files.append(
                {
                    "path": path,
                    "size": None,
                    "content": None,
                    "truncated": False,
                    "error": _error("NOT_FOUND", f"'{path}' does not exist"),
                }
            )
            continue
        reported: set[str] = set()
        for item in under:
            stop = blocked(item, key)
            if stop is not None:
                if stop not in reported:
                    reported.add(stop)
                    unread.append(_unread_directory(stop, junctions, unreadable))
                continue
            if item not in host.files:
                continue
            display, content = host.files[item]
            leaf = display.rsplit("\\", 1)[-1].lower()
            if not patterns or any(fnmatch.fnmatchcase(leaf, p) for p in patterns):
                if host.faults.get("long_paths") and len(display) > _MAX_PATH:
                    unread.append({"path": display, "kind": "file", "error": _error("FILE", _TOO_LONG, 0x800700CE)})
                    continue
                files.append(_file_entry(display, content, max_bytes))
    return OpOutcome({**_within_budget(files, op), "unread": unread, "ansi_code_page": host.ansi_code_page})


_MAX_PATH = 259  # characters of a path .NET Framework before 4.6.2 opens (MAX_PATH 260 with its terminator)
_TOO_LONG = "The specified path, file name, or both are too long."  # PathTooLongException, HRESULT 0x800700CE


def _file_key(path: str) -> str:
    return str(path).replace("/", "\\").rstrip("\\").lower()


def _unread_directory(key: str, junctions: dict[str, str], unreadable: dict[str, str]) -> dict[str, Any]:
    if key in unreadable:
        error = _error("FILE", f"Access to the path '{unreadable[key]}' is denied.", E_ACCESSDENIED)
        return {"path": unreadable[key], "kind": "directory", "error": error}
    why = f"'{junctions[key]}' is a junction or symbolic link; not followed (it may loop or lead off the host)"
    return {"path": junctions[key], "kind": "directory", "error": _error("REPARSE_POINT", why)}


def _within_budget(files: list[dict[str, Any]], op: dict[str, Any]) -> dict[str, Any]:
    """max_files and max_total_bytes, applied in listing order as wmi_state.ps1 applies them while it reads."""
    max_files = op["max_files"] if op.get("max_files") is not None else 1000
    max_total = op["max_total_bytes"] if op.get("max_total_bytes") is not None else 16777216
    kept: list[dict[str, Any]] = []
    total = 0
    for entry in files:
        if len(kept) >= max_files:
            return {"files": kept, "stopped": "max_files"}
        if entry["content"] is not None and total + entry["size"] > max_total:
            message = f"not read: it would pass max_total_bytes ({max_total})"
            kept.append({**entry, "content": None, "error": _error("BUDGET", message)})
            return {"files": kept, "stopped": "max_total_bytes"}
        total += entry["size"] if entry["content"] is not None else 0
        kept.append(entry)
    return {"files": kept, "stopped": None}


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
                "error": _error("ACCESS_DENIED", "Requested registry access is not allowed.", E_ACCESSDENIED),
            }
        )
    data: Any
    if op["value_type"] == "dword":
        data, reg_type = int(str(op["data"]).strip(), 10), "REG_DWORD"  # validated before the batch ran
    else:
        data, reg_type = str(op["data"]), "REG_SZ"
    host.registry.set(key_path, value_name, reg_type, data)
    after = _value_view(host.registry.get(key_path, value_name))
    return OpOutcome({"before": before, "after": after}, wrote=True)


def _decoded(sd_base64: str) -> bytes:
    """The bytes of a base64 descriptor, or none when it is not base64 (the ps1's FromBase64String throws)."""
    try:
        return base64.b64decode(sd_base64, validate=True)
    except (binascii.Error, ValueError):
        return b""


def dacl_refusal(sd_base64: str) -> str | None:
    """wmi_state.ps1's Assert-DaclPresent: the byte check sd_set makes on every release before calling WMI.

    A self-relative SD (MS-DTYP 2.4.6) has Revision 1 at offset 0, Control at 2, OffsetDacl at 16. SE_DACL_PRESENT
    clear is no DACL; present with OffsetDacl 0 is a NULL DACL (everyone full control).
    """
    data = _decoded(sd_base64)
    if len(data) < 20 or data[0] != 1:
        return "sd is not a base64 self-relative security descriptor"
    control = int.from_bytes(data[2:4], "little")
    if not control & SE_DACL_PRESENT or int.from_bytes(data[16:20], "little") == 0:
        return "sd has no DACL or a NULL DACL"
    return None


def _sd_set(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    namespace = op["namespace"]
    refusal = dacl_refusal(op["sd"])
    if refusal:
        host.counters.count("refused_writes", "namespace_sd:invalid_sd")
        return OpOutcome({"error": _error("INVALID_SD", f"{refusal}; nothing was written")})
    new_sd = base64.b64decode(op["sd"])
    token = caller.token()
    try:
        host.namespaces.get(namespace)
        current = host.namespaces.get_sd(namespace, token)
    except WmiError as exc:
        return OpOutcome({"error": _wmi_error(exc)})
    if _access_view(current) != _access_view(_decoded(op["expected_sd"])):
        message = f"The security descriptor of {namespace} changed since it was read; nothing was written."
        return OpOutcome({"error": _error("CHANGED_SINCE_READ", message)})
    try:
        host.namespaces.set_sd(namespace, new_sd, token)
    except WmiError as exc:
        host.counters.count("refused_writes", f"namespace_sd:0x{exc.hresult:08X}")
        host.log("setsd_refused", namespace=namespace, hresult=f"0x{exc.hresult:08X}", reason=exc.reason)
        return OpOutcome({"error": _wmi_error(exc)})
    return _read_written(lambda: host.namespaces.get_sd(namespace, token))


def _access_view(data: bytes) -> tuple[Any, ...] | None:
    """What sd_set's expected_sd guards, as the ps1's Get-AccessView compares it: owner, group and DACL (the
    RawSecurityDescriptor's SDDL of those three sections), never the SACL - whether a read carried the SACL depends
    on the privilege and on COM's token caching ("Executing Privileged Operations"), not on the namespace."""
    try:
        sd = sd_from_bytes(data)
    except ValueError:
        return None
    return (sd.owner, sd.group, sd.dacl, sd.control & SE_DACL_PRESENT)


def _read_written(read: Any) -> OpOutcome:
    """wmi_state.ps1's Read-WrittenSd: the write happened; a read-back that fails (e.g. the caller removed its own
    ReadSecurity) is the op's read_back_error, not a failed op."""
    try:
        return OpOutcome({"sd": base64.b64encode(read()).decode(), "read_back_error": None}, wrote=True)
    except WmiError as exc:
        return OpOutcome({"sd": None, "read_back_error": _wmi_error(exc)}, wrote=True)


def sacl_refusal(sd_base64: str) -> str | None:
    """wmi_state.ps1's byte check in Write-NamespaceSacl: a self-relative SD (MS-DTYP 2.4.6) holding a SACL and
    nothing else - SE_SACL_PRESENT set and OffsetSacl (12) not 0, SE_DACL_PRESENT clear, OffsetOwner (4) and
    OffsetGroup (8) 0 - so the write cannot change the DACL, owner or group."""
    data = _decoded(sd_base64)
    word = int.from_bytes
    if (
        len(data) < 20
        or data[0] != 1
        or data[2] & (SE_DACL_PRESENT | SE_SACL_PRESENT) != SE_SACL_PRESENT
        or word(data[12:16], "little") == 0
        or word(data[4:8], "little") != 0
        or word(data[8:12], "little") != 0
    ):
        return "sd is not a self-relative security descriptor holding a SACL and no owner, group or DACL"
    try:
        aces = sd_from_bytes(data).sacl
    except ValueError:
        return "sd is not a self-relative security descriptor"
    # Assert-SaclAlone: what BinarySDToWin32SD makes of the SACL must be the SACL sent. Win32_ACE carries AceType,
    # AceFlags, AccessMask and Trustee only (Microsoft Learn, Win32_ACE), so an object, callback or label ACE does
    # not survive the round trip; the model accepts SYSTEM_AUDIT_ACE_TYPE (2) alone (stricter where undocumented).
    if aces is not None and any(ace.type != SYSTEM_AUDIT_ACE_TYPE for ace in aces.aces):
        return "the converted descriptor is not the SACL sent alone (an ACE type Win32_ACE cannot carry)"
    return None


def _privileged_sd(host: Host, path: str, token: Any) -> bytes:
    """GetSD with SeSecurityPrivilege enabled: the descriptor with its SACL."""
    return _with_sacl(host.namespaces.get_sd(path, token), host.namespaces.audit_aces(path))


def _sacl_set(host: Host, caller: Caller, op: dict[str, Any]) -> OpOutcome:
    namespace = op["namespace"]
    refusal = sacl_refusal(op["sd"])
    if refusal:
        host.counters.count("refused_writes", "namespace_sacl:invalid_sd")
        return OpOutcome({"error": _error("INVALID_SD", f"{refusal}; nothing was written")})
    if not caller.admin:
        # Only Administrators hold SeSecurityPrivilege ("Manage auditing and security log") by default.
        host.counters.count("refused_writes", "namespace_sacl:privilege")
        message = "setting a SACL needs SeSecurityPrivilege, which the connecting account does not hold"
        return OpOutcome({"error": _error("PRIVILEGE", f"{message}; nothing was written")})
    token = caller.token()
    try:
        current = _privileged_sd(host, namespace, token)
    except WmiError as exc:
        return OpOutcome({"error": _wmi_error(exc)})
    if base64.b64encode(current).decode() != op["expected_sd"]:
        message = f"The security descriptor of {namespace} changed since it was read; nothing was written."
        return OpOutcome({"error": _error("CHANGED_SINCE_READ", message)})
    try:
        host.namespaces.set_sacl(namespace, sd_from_bytes(base64.b64decode(op["sd"])).sacl or Acl(()), token)
    except WmiError as exc:
        return OpOutcome({"error": _wmi_error(exc)})
    return _read_written(lambda: _privileged_sd(host, namespace, token))


_OPS = {
    "facts": _facts,
    "registry_read": _registry_read,
    "registry_write": _registry_write,
    "sd_get": _sd_get,
    "sd_set": _sd_set,
    "sacl_set": _sacl_set,
    "caller_rights": _caller_rights,
    "sid_lookup": _sid_lookup,
    "name_lookup": _name_lookup,
    "event_subscriptions": _event_subscriptions,
    "event_subscription_remove": _event_subscription_remove,
    "event_subscription_create": _event_subscription_create,
    "script_files": _script_files,
}

assert set(_OPS) == set(REQUIRED_BY_OP)
