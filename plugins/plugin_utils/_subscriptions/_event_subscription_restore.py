# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Restoring a removed permanent WMI event subscription (winsec.wmi.event_subscription, state=present).

The definition is the ``removed`` value of an earlier state=absent run. Every entry is validated before the host is
contacted; then one read of the namespaces involved decides, per entry: present with the same definition (nothing to
do), present with another definition (fail, write nothing: never overwrite what someone else created), or missing
(create it). Filters and consumers are created before the bindings, so a binding never points at nothing.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from .._control import Control, Decision, HostContext
from .._namespaces._namespace_findings import normalise_namespace
from .._text import as_written, plural, truncate_for_message
from .._wmi_errors import WmiActionError, op_value
from .._wmi_names import class_key, instance_key, namespace_key, property_key
from ._event_subscription import CREATOR_SID_PROPERTY, RemovalPlan, parts_drift, verify_parts
from ._event_subscriptions import (
    DOCS_PERMANENT_CONSUMERS,
    MITRE_T1546_003,
    EventBinding,
    EventConsumer,
    EventFilter,
    Inventory,
    builtins_for,
    classify_consumer,
    parse_inventory,
)

# The properties each standard consumer class declares besides Name (Microsoft Learn: ActiveScriptEventConsumer,
# CommandLineEventConsumer, LogFileEventConsumer, NTEventLogEventConsumer and SMTPEventConsumer class pages), plus
# MachineName and MaximumQueueSize, which all inherit from __EventConsumer. Only these can be restored: a consumer of
# any other class needs a consumer provider that someone installed, and this module does not register providers.
_INHERITED = ("MachineName", "MaximumQueueSize")
CONSUMER_PROPERTIES: dict[str, tuple[str, ...]] = {
    "ActiveScriptEventConsumer": ("KillTimeout", "ScriptFileName", "ScriptingEngine", "ScriptText"),
    "CommandLineEventConsumer": (
        "CommandLineTemplate",
        "CreateNewConsole",
        "CreateNewProcessGroup",
        "CreateSeparateWowVdm",
        "CreateSharedWowVdm",
        "DesktopName",
        "ExecutablePath",
        "FillAttribute",
        "FillAttributes",
        "ForceOffFeedback",
        "ForceOnFeedback",
        "KillTimeout",
        "Priority",
        "RunInteractively",
        "ShowWindowCommand",
        "UseDefaultErrorMode",
        "WindowTitle",
        "WorkingDirectory",
        "XCoordinate",
        "XNumCharacters",
        "XSize",
        "YCoordinate",
        "YNumCharacters",
        "YSize",
    ),
    "LogFileEventConsumer": ("Filename", "IsUnicode", "MaximumFileSize", "Text"),
    "NTEventLogEventConsumer": (
        "Category",
        "EventID",
        "EventType",
        "InsertionStringTemplates",
        "NameOfRawDataProperty",
        "NameOfUserSidProperty",
        "NumberOfInsertionStrings",
        "SourceName",
        "UNCServerName",
    ),
    "SMTPEventConsumer": (
        "BccLine",
        "CcLine",
        "FromLine",
        "HeaderFields",
        "Message",
        "ReplyToLine",
        "SMTPServer",
        "Subject",
        "ToLine",
    ),
}
# The CIM type of every consumer property that is not a string, and the defaults WMI stores on every instance of a
# class (the same class pages' syntax blocks: "uint32 KillTimeout = 0;"). wmi_state types each value from the class
# schema and refuses (INVALID_PROPERTY) what the type cannot hold; the definition is checked the same way first.
_BOOLEAN = "boolean"
CONSUMER_TYPES: dict[str, str] = {
    **dict.fromkeys(
        ("CreateNewConsole", "CreateNewProcessGroup", "CreateSeparateWowVdm", "CreateSharedWowVdm"), _BOOLEAN
    ),
    **dict.fromkeys(("ForceOffFeedback", "ForceOnFeedback", "RunInteractively", "UseDefaultErrorMode"), _BOOLEAN),
    "IsUnicode": _BOOLEAN,
    **dict.fromkeys(
        ("MaximumQueueSize", "KillTimeout", "FillAttribute", "FillAttributes", "ShowWindowCommand"), "uint32"
    ),
    **dict.fromkeys(("XCoordinate", "XNumCharacters", "XSize", "YCoordinate", "YNumCharacters", "YSize"), "uint32"),
    **dict.fromkeys(("EventID", "EventType", "NumberOfInsertionStrings"), "uint32"),
    "Priority": "sint32",
    "Category": "uint16",
    "MaximumFileSize": "uint64",
    **dict.fromkeys(("InsertionStringTemplates", "HeaderFields"), "string[]"),
}
_INTEGER_RANGES = {"uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}
_INTEGER_RANGES["sint32"] = (-(2**31), 2**31 - 1)
CONSUMER_DEFAULTS: dict[str, dict[str, t.Any]] = {
    "ActiveScriptEventConsumer": {"KillTimeout": 0},
    "CommandLineEventConsumer": {
        **dict.fromkeys(("CreateNewConsole", "CreateSeparateWowVdm", "CreateSharedWowVdm"), False),
        **dict.fromkeys(("ForceOffFeedback", "ForceOnFeedback", "RunInteractively", "UseDefaultErrorMode"), False),
        "CreateNewProcessGroup": True,
        "KillTimeout": 0,
        "Priority": 0x20,
    },
    "LogFileEventConsumer": {"MaximumFileSize": 65535},
    "NTEventLogEventConsumer": {"EventType": 1, "InsertionStringTemplates": [""], "NumberOfInsertionStrings": 0},
    "SMTPEventConsumer": {},
}
# The consumer properties event_subscriptions returns as their own keys (the rest are in 'properties').
NAMED_CONSUMER_FIELDS = {
    "command_line_template": "CommandLineTemplate",
    "executable_path": "ExecutablePath",
    "script_text": "ScriptText",
    "script_file_name": "ScriptFileName",
    "scripting_engine": "ScriptingEngine",
}
# WMI stores the creating account's SID in CreatorSID itself (Microsoft Learn, __EventFilter and __EventConsumer):
# it is accepted in a definition, never written, and never compared (a restore is created by whoever runs it).
CREATOR_SID = CREATOR_SID_PROPERTY

_FILTER_KEYS = ("namespace", "name", "query", "query_language", "event_namespace", "creator_sid")
_CONSUMER_KEYS = ("namespace", "name", "class", *NAMED_CONSUMER_FIELDS, "properties")
_BINDING_KEYS = ("namespace", "filter", "consumer", "consumer_class")


def _standard_class(name: str) -> str | None:
    return next((known for known in CONSUMER_PROPERTIES if class_key(known) == class_key(name)), None)


# --- the definition ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    filters: tuple[EventFilter, ...]
    consumers: tuple[EventConsumer, ...]
    bindings: tuple[EventBinding, ...]

    @property
    def empty(self) -> bool:
        return not (self.filters or self.consumers or self.bindings)

    @property
    def namespaces(self) -> list[str]:
        unique: dict[str, str] = {}
        for namespace in (
            [p.namespace for p in self.filters]
            + [p.namespace for p in self.consumers]
            + [p.namespace for p in self.bindings]
        ):
            unique.setdefault(namespace_key(normalise_namespace(namespace)), namespace)
        return list(unique.values())

    def to_dict(self) -> dict[str, list[dict[str, t.Any]]]:
        """The shape of state=absent's ``removed`` (and of event_subscription_info's lists)."""
        return {
            "bindings": [b.to_dict() for b in self.bindings],
            "consumers": [c.to_dict() for c in self.consumers],
            "filters": [f.to_dict() for f in self.filters],
        }


class _Problems:
    """Every problem of a definition, each naming its entry, reported together before anything is sent."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")


def _text_field(entry: t.Mapping[str, t.Any], key: str, where: str, problems: _Problems, *, required: bool) -> t.Any:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip() and required):
        if required:
            problems.add(where, f"{key} is required")
        return None
    if not isinstance(value, str):
        problems.add(where, f"{key} must be a string, not {type(value).__name__}")
        return None
    return value


def _entries(definition: t.Mapping[str, t.Any], kind: str, problems: _Problems) -> list[t.Mapping[str, t.Any]]:
    entries = definition.get(kind) or []
    if not isinstance(entries, list):
        problems.add(f"definition.{kind}", "must be a list")
        return []
    return entries


def _common(
    entry: t.Any, allowed: tuple[str, ...], where: str, problems: _Problems
) -> tuple[t.Mapping[str, t.Any], str | None] | None:
    if not isinstance(entry, t.Mapping):
        problems.add(where, "must be a dict in the shape state=absent returns in removed")
        return None
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        problems.add(where, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    namespace = _text_field(entry, "namespace", where, problems, required=True)
    if namespace is not None:
        try:
            namespace = normalise_namespace(namespace)
        except ValueError as exc:
            problems.add(where, str(exc))
            namespace = None
    return entry, namespace


def _parse_filter(raw: t.Any, where: str, problems: _Problems) -> EventFilter | None:
    common = _common(raw, _FILTER_KEYS, where, problems)
    if common is None:
        return None
    entry, namespace = common
    name = _text_field(entry, "name", where, problems, required=True)
    query = _text_field(entry, "query", where, problems, required=True)
    language = _text_field(entry, "query_language", where, problems, required=True)
    event_namespace = _text_field(entry, "event_namespace", where, problems, required=False)
    if namespace is None or name is None or query is None or language is None:
        return None
    return EventFilter(namespace, name, query, language, event_namespace, _text_or_none(entry.get("creator_sid")))


def _text_or_none(value: t.Any) -> str | None:
    return None if value is None else str(value)


def _parse_properties(raw: t.Any, cls: str, where: str, problems: _Problems) -> dict[str, t.Any]:
    if raw is None:
        return {}
    if not isinstance(raw, t.Mapping):
        problems.add(where, "properties must be a dict")
        return {}
    allowed = {property_key(name): name for name in (*CONSUMER_PROPERTIES[cls], *_INHERITED, CREATOR_SID)}
    named = {property_key(name) for name in NAMED_CONSUMER_FIELDS.values()}
    properties: dict[str, t.Any] = {}
    for key, value in raw.items():
        canonical = allowed.get(property_key(str(key)))
        if canonical is None:
            problems.add(where, f"properties.{key} is not a property of {cls}")
        elif property_key(canonical) in named:
            problems.add(where, f"properties.{key} belongs in its own key ({_snake(canonical)}), as removed returns it")
        elif not _scalar_or_list(value):
            problems.add(where, f"properties.{key} must be a string, number, boolean or a list of them")
        elif value is not None and (refusal := _type_refusal(canonical, value)):
            problems.add(where, f"properties.{key}: {refusal}")
        elif value is not None:
            properties[canonical] = value
    return properties


def _type_refusal(name: str, value: t.Any) -> str | None:
    """Why the property's CIM type cannot hold value, or None; a number for a string property is not refused (the
    host stores its text), but a boolean is, since its text would be True/False rather than what YAML showed."""
    cim_type = CONSUMER_TYPES.get(name, "string")
    if cim_type == _BOOLEAN:
        return None if isinstance(value, bool) else f"{name} is a boolean, {value!r} is not"
    if cim_type == "string[]":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else f"{name} is a list of strings, {value!r} is not"
    if cim_type == "string":
        return None if isinstance(value, (str, int, float)) and not isinstance(value, bool) else f"{name} is a string"
    low, high = _INTEGER_RANGES[cim_type]
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        return f"{name} is {cim_type}, a whole number from {low} to {high}; {value!r} is not"
    return None


def _snake(wmi_name: str) -> str:
    return next(key for key, value in NAMED_CONSUMER_FIELDS.items() if value == wmi_name)


def _scalar_or_list(value: t.Any) -> bool:
    scalar = (str, int, float, bool, type(None))
    return isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))


def _parse_consumer(raw: t.Any, where: str, problems: _Problems) -> EventConsumer | None:
    common = _common(raw, _CONSUMER_KEYS, where, problems)
    if common is None:
        return None
    entry, namespace = common
    name = _text_field(entry, "name", where, problems, required=True)
    given_class = _text_field(entry, "class", where, problems, required=True)
    if given_class is None:
        return None
    cls = _standard_class(given_class)
    if cls is None:
        problems.add(
            where,
            f"class {given_class} is not a standard consumer class ({', '.join(CONSUMER_PROPERTIES)}); a consumer "
            "of another class needs its provider registered, which this module does not do",
        )
        return None
    fields = {key: _text_field(entry, key, where, problems, required=False) for key in NAMED_CONSUMER_FIELDS}
    for key, value in fields.items():
        if value is not None and NAMED_CONSUMER_FIELDS[key] not in CONSUMER_PROPERTIES[cls]:
            problems.add(where, f"{key} is not a property of {cls}")
    properties = _parse_properties(entry.get("properties"), cls, where, problems)
    if namespace is None or name is None:
        return None
    return EventConsumer(namespace, name, cls, **fields, properties=properties)


def _parse_binding(raw: t.Any, where: str, problems: _Problems) -> EventBinding | None:
    common = _common(raw, _BINDING_KEYS, where, problems)
    if common is None:
        return None
    entry, namespace = common
    filter_name = _text_field(entry, "filter", where, problems, required=True)
    consumer = _text_field(entry, "consumer", where, problems, required=True)
    consumer_class = _text_field(entry, "consumer_class", where, problems, required=True)
    if namespace is None or filter_name is None or consumer is None or consumer_class is None:
        return None
    return EventBinding(namespace, filter_name, consumer, _standard_class(consumer_class) or consumer_class)


def _filter_key(f: EventFilter) -> tuple[str, str]:
    return f.key


def _consumer_key(c: EventConsumer) -> tuple[str, str, str]:
    return c.key


def _binding_key(b: EventBinding) -> tuple[str, str, str, str]:
    return b.key


def _binding_name(b: EventBinding) -> str:
    return f"{b.filter} -> {b.consumer_class}.{b.consumer} in {b.namespace}"


def parse_definition(definition: t.Any) -> Definition:
    """The ``definition`` option -> a Definition; raises WmiActionError naming every bad entry."""
    problems = _Problems()
    if not isinstance(definition, t.Mapping):
        raise WmiActionError(
            "definition must be a dict {filters, consumers, bindings}: the removed value of state=absent."
        )
    unknown = sorted(str(key) for key in definition if key not in ("filters", "consumers", "bindings"))
    if unknown:
        problems.add("definition", f"unknown key(s) {', '.join(unknown)}; allowed: filters, consumers, bindings")
    parsed_filters = [
        _parse_filter(raw, f"definition.filters[{index}]", problems)
        for index, raw in enumerate(_entries(definition, "filters", problems))
    ]
    parsed_consumers = [
        _parse_consumer(raw, f"definition.consumers[{index}]", problems)
        for index, raw in enumerate(_entries(definition, "consumers", problems))
    ]
    parsed_bindings = [
        _parse_binding(raw, f"definition.bindings[{index}]", problems)
        for index, raw in enumerate(_entries(definition, "bindings", problems))
    ]
    filters = tuple(f for f in parsed_filters if f is not None)
    consumers = tuple(c for c in parsed_consumers if c is not None)
    bindings = tuple(b for b in parsed_bindings if b is not None)
    keyed: list[tuple[str, EventFilter | EventConsumer | EventBinding, tuple[str, ...]]] = [
        *(("filters", f, _filter_key(f)) for f in filters),
        *(("consumers", c, _consumer_key(c)) for c in consumers),
        *(("bindings", b, _binding_key(b)) for b in bindings),
    ]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for kind, part, key in keyed:
        if (kind, key) in seen:
            problems.add(f"definition.{kind}", f"{_describe_part(part)} is given twice")
        seen.add((kind, key))
    if problems.items:
        raise WmiActionError(
            "The definition cannot be restored; nothing was sent to the host: " + "; ".join(problems.items) + ".",
            problems=problems.items,
        )
    result = Definition(filters, consumers, bindings)
    if result.empty:
        raise WmiActionError("definition holds no filter, consumer or binding: nothing to restore.")
    return result


def _describe_part(part: EventFilter | EventConsumer | EventBinding) -> str:
    if isinstance(part, EventFilter):
        return f"filter {part.name!r} in {part.namespace}"
    if isinstance(part, EventConsumer):
        return f"consumer {part.cls}.{part.name} in {part.namespace}"
    return f"binding {_binding_name(part)}"


# --- the plan ----------------------------------------------------------------------------------------------------


def _comparable_filter(f: EventFilter) -> dict[str, t.Any]:
    return {"query": f.query, "query_language": f.query_language, "event_namespace": f.event_namespace}


def _comparable_consumer(c: EventConsumer) -> dict[str, t.Any]:
    # A property the definition leaves out is the class default, which WMI stores on every instance (so a restored
    # consumer read back compares equal to the definition it came from, and the next run writes nothing).
    compared: dict[str, t.Any] = {key: getattr(c, key) for key in NAMED_CONSUMER_FIELDS}
    # Keyed by identity (KillTimeout and killtimeout are one property), shown as the class declares it.
    cls = _standard_class(c.cls) or ""
    declared = {property_key(name): name for name in CONSUMER_PROPERTIES.get(cls, ())}
    values = {property_key(key): value for key, value in CONSUMER_DEFAULTS.get(cls, {}).items()}
    values.update((property_key(key), value) for key, value in c.properties.items())
    for key, value in values.items():
        if key != property_key(CREATOR_SID) and value is not None:
            name = declared.get(key, key)
            compared[f"properties.{name}"] = str(value) if CONSUMER_TYPES.get(name) is None else value
    return compared


def _differences(wanted: t.Mapping[str, t.Any], present: t.Mapping[str, t.Any]) -> list[str]:
    return [
        f"{key} is {json.dumps(present.get(key))} on the host, {json.dumps(wanted.get(key))} in the definition"
        for key in sorted(set(wanted) | set(present))
        if wanted.get(key) != present.get(key)
    ]


@dataclass(frozen=True)
class RestorePlan:
    filters: tuple[EventFilter, ...]
    consumers: tuple[EventConsumer, ...]
    bindings: tuple[EventBinding, ...]
    present: int  # entries of the definition already on the host with the same definition

    @property
    def empty(self) -> bool:
        return not (self.filters or self.consumers or self.bindings)

    def to_dict(self) -> dict[str, list[dict[str, t.Any]]]:
        return Definition(self.filters, self.consumers, self.bindings).to_dict()

    def operations(self) -> list[dict[str, t.Any]]:
        """Filters and consumers first, bindings last (wmi_state skips every write after a failed one), so a
        failure half-way never leaves a binding pointing at nothing."""
        parts: list[tuple[str, EventFilter | EventConsumer | EventBinding]] = [
            *(("filter", f) for f in self.filters),
            *(("consumer", c) for c in self.consumers),
            *(("binding", b) for b in self.bindings),
        ]
        return [
            {"op": "event_subscription_create", "namespace": p.namespace, "kind": kind, "instance": instance(p)}
            for kind, p in parts
        ]


def instance(part: EventFilter | EventConsumer | EventBinding) -> dict[str, t.Any]:
    """What event_subscription_create writes: the entry without its namespace and without the creator's SID."""
    entry = {key: value for key, value in part.to_dict().items() if key not in ("namespace", "creator_sid")}
    if isinstance(part, EventConsumer):
        entry["properties"] = {k: v for k, v in part.properties.items() if property_key(k) != property_key(CREATOR_SID)}
    return entry


def plan_restore(definition: Definition, inventory: Inventory) -> RestorePlan:
    """What of the definition is missing on the host; raises WmiActionError, planning no write, when an entry exists
    with another definition or a binding would link to a filter or consumer that exists nowhere."""
    filters_on_host = {_filter_key(f): f for f in inventory.filters}
    consumers_on_host = {_consumer_key(c): c for c in inventory.consumers}
    bindings_on_host = {_binding_key(b) for b in inventory.bindings}
    conflicts: list[str] = []
    present = 0

    def missing_or_same(part: t.Any, on_host: t.Any, comparable: t.Callable[[t.Any], dict[str, t.Any]]) -> bool:
        nonlocal present
        if on_host is None:
            return True
        differences = _differences(comparable(part), comparable(on_host))
        if differences:
            conflicts.append(f"{_describe_part(part)} exists with another definition: {'; '.join(differences)}")
        else:
            present += 1
        return False

    create_filters = tuple(
        f for f in definition.filters if missing_or_same(f, filters_on_host.get(_filter_key(f)), _comparable_filter)
    )
    create_consumers = tuple(
        c
        for c in definition.consumers
        if missing_or_same(c, consumers_on_host.get(_consumer_key(c)), _comparable_consumer)
    )
    known_filters = set(filters_on_host) | {_filter_key(f) for f in definition.filters}
    known_consumers = set(consumers_on_host) | {_consumer_key(c) for c in definition.consumers}
    create_bindings = []
    for b in definition.bindings:
        if _binding_key(b) in bindings_on_host:
            present += 1
            continue
        namespace = namespace_key(b.namespace)
        if (namespace, instance_key(b.filter)) not in known_filters:
            conflicts.append(
                f"binding {_binding_name(b)}: its filter {b.filter!r} is neither in the definition nor on the host"
            )
        if (namespace, class_key(b.consumer_class), instance_key(b.consumer)) not in known_consumers:
            conflicts.append(
                f"binding {_binding_name(b)}: its consumer {b.consumer_class}.{b.consumer} is neither in the "
                "definition nor on the host"
            )
        create_bindings.append(b)
    if conflicts:
        raise WmiActionError(
            "Nothing was restored; the host holds what the definition does not: " + "; ".join(conflicts) + ".",
            conflicts=conflicts,
        )
    return RestorePlan(create_filters, create_consumers, tuple(create_bindings), present)


# --- the control -------------------------------------------------------------------------------------------------


class EventSubscriptionRestore(Control):
    """winsec.wmi.event_subscription state=present: the subscription a definition describes exists as defined."""

    id = "WMI-020-RESTORE"
    title = "Permanent WMI event subscription restored from its definition"
    severity = "high"
    references = (MITRE_T1546_003, DOCS_PERMANENT_CONSUMERS)

    def __init__(self, definition: t.Any) -> None:
        self.definition = parse_definition(definition)

    @property
    def subscription(self) -> str:
        parts = [_binding_name(b) for b in self.definition.bindings]
        if not parts:
            parts = [_describe_part(f) for f in self.definition.filters]
            parts += [_describe_part(c) for c in self.definition.consumers]
        return "; ".join(parts)

    def reads(self) -> list[dict[str, t.Any]]:
        return [{"op": "event_subscriptions", "namespaces": self.definition.namespaces}]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        where = ", ".join(self.definition.namespaces)
        inventory = parse_inventory([op_value(results[0], f"listing the event subscriptions in {where}")])
        plan = plan_restore(self.definition, inventory)
        result: dict[str, t.Any] = {"os": host.os_facts, "subscription": self.subscription, "created": plan.to_dict()}
        expected = f"{self.subscription} present as defined"
        if plan.empty:
            result["msg"] = f"{self.subscription}: present as defined ({plural(plan.present, 'part')})."
            return Decision("compliant", expected, "present", result=result)
        parts = RemovalPlan(plan.bindings, plan.consumers, plan.filters)
        warnings = [restore_warning(consumer, host) for consumer in plan.consumers]
        return parts_drift(
            host,
            self.subscription,
            parts,
            removing=False,
            writes=plan.operations(),
            result=result,
            warnings=[warning for warning in warnings if warning],
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        # The parts created before a failed one exist now: they are returned, and a re-run finds them present.
        return verify_parts(
            decision,
            results,
            "created",
            lambda operation: (
                f"creating the {operation['kind']} "
                f"{json.dumps(operation['instance'], sort_keys=True)} in {operation['namespace']}"
            ),
        )


def restore_warning(consumer: EventConsumer, host: HostContext) -> str | None:
    """What WMI-020 will say of a consumer the restore creates, when it is not harmless: a restore that recreates a
    code-running consumer (a removed record may come from a compromised host) is judged as the audit would judge it."""
    classification, _known, indicators = classify_consumer(consumer, None, builtins_for(host.profile, None), ())
    if classification != "suspicious":
        return None
    reasons = "; ".join(indicator.message for indicator in indicators)
    return (
        f"Restoring creates {as_written(consumer.cls)} {as_written(consumer.name)} in "
        f"{as_written(consumer.namespace)}, which WMI-020 (winsec.wmi.baseline) reports as suspicious unless it is "
        f"allow-listed with what it runs pinned: {truncate_for_message(reasons, 600)}. "
        "Check that the definition is the one you removed, not a host's answer."
    )
