# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Permanent WMI event subscriptions (MITRE ATT&CK T1546.003): inventory, join, classification, and the control
WMI-020 "no non-allow-listed permanent event consumers".

A permanent subscription is three objects in one namespace (Microsoft Learn, "Receiving Events at All Times"): an
``__EventFilter`` (the event query), a logical consumer (an instance of a consumer class, e.g.
``CommandLineEventConsumer``) and a ``__FilterToConsumerBinding`` that links them. A consumer's key is its class AND
its Name, so two consumers of different classes may share a name: bindings are joined to consumers by both, and a
``CommandLineEventConsumer`` called "SCM Event Log Consumer" is not the built-in ``NTEventLogEventConsumer``.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import binascii
import re
import typing as t
from dataclasses import dataclass, field, fields

from .._control import Control, Decision, HostContext, Reference
from .._controls._exceptions import NO_EXCEPTIONS, ControlExceptions
from .._namespaces._namespace_findings import normalise_namespace
from .._os_profile import OsProfile
from .._text import plural
from .._wmi_errors import WmiActionError, describe_error, op_value
from .._wmi_names import class_key, instance_key, namespace_key, wmi_case_key

if t.TYPE_CHECKING:
    from .._controls._registry import BaselineOptions

MITRE_T1546_003 = Reference(
    "MITRE ATT&CK T1546.003: Event Triggered Execution: Windows Management Instrumentation Event Subscription",
    "https://attack.mitre.org/techniques/T1546/003/",
)
DOCS_PERMANENT_CONSUMERS = Reference(
    "Receiving Events at All Times (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/receiving-events-at-all-times",
)
DOCS_STANDARD_CONSUMERS = Reference(
    "Monitoring and Responding to Events with Standard Consumers (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/monitoring-and-responding-to-events-with-standard-consumers",
)

# Every namespace: a permanent subscription can be registered in any of them, not only in root\\subscription and
# root\\default, so a verdict on fewer would miss one placed elsewhere.
DEFAULT_NAMESPACES = ("root",)
DEFAULT_RECURSE = True

# The five standard consumer classes Windows registers (Microsoft Learn, "Monitoring and Responding to Events with
# Standard Consumers"). Any other class is a consumer provider someone installed: a COM server WMI loads.
STANDARD_CONSUMER_CLASSES = frozenset(
    {
        class_key(name)
        for name in (
            "ActiveScriptEventConsumer",
            "CommandLineEventConsumer",
            "LogFileEventConsumer",
            "NTEventLogEventConsumer",
            "SMTPEventConsumer",
        )
    }
)
# The two that run code: CommandLineEventConsumer launches a process, ActiveScriptEventConsumer runs VBScript or
# JScript; both as LocalSystem in the WMI service (Microsoft Learn, same page).
CODE_RUNNING_CLASSES = {
    class_key("CommandLineEventConsumer"): "runs a program when the event fires (CommandLineEventConsumer)",
    class_key("ActiveScriptEventConsumer"): "runs a script when the event fires (ActiveScriptEventConsumer)",
}

CLASSIFICATIONS = ("builtin", "allowed", "suspicious", "unrecognised")


# --- the objects as the host reports them ----------------------------------------------------------------------

# The key a field has in wmi_state's reply (plugins/modules/wmi_state.yml RETURN) where its name differs.
_REPLY_KEYS = {"cls": "class"}


class SubscriptionPart:
    """What the three parts of a subscription share: each is built from, and shown as, the dictionary wmi_state
    returns for it (the same keys), by one builder over the dataclass's fields - a field typed ``str`` is the host's
    text, one that may be None stays None when the host says null, ``properties`` is a dictionary."""

    @classmethod
    def from_reply(cls, raw: t.Mapping[str, t.Any], *, strict: bool = False) -> t.Self:
        """The part as the host reported it. ``strict``: a missing key of the part's identity raises KeyError (an
        echo that does not name a part), else it reads as the text 'None', as a checked reply never has it."""
        values: dict[str, t.Any] = {}
        for item in fields(t.cast(t.Any, cls)):
            key = _REPLY_KEYS.get(item.name, item.name)
            if strict and _is_identity(item) and key not in raw:
                raise KeyError(key)
            value = raw.get(key)
            if item.name == "properties":
                values[item.name] = dict(value or {})
            elif _is_identity(item):
                values[item.name] = str(value)
            else:
                values[item.name] = _text(value)
        return cls(**values)

    @property
    def key(self) -> tuple[str, ...]:
        """The part's identity as WMI compares it: its namespace and its key properties (each part names them)."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, t.Any]:
        return {
            _REPLY_KEYS.get(item.name, item.name): (
                dict(getattr(self, item.name)) if item.name == "properties" else getattr(self, item.name)
            )
            for item in fields(t.cast(t.Any, self))
        }


def _is_identity(item: t.Any) -> bool:
    """A field the part always has (typed ``str``, never None): its namespace and key properties."""
    return str(item.type) == "str"


@dataclass(frozen=True)
class EventFilter(SubscriptionPart):
    namespace: str
    name: str
    query: str | None = None
    query_language: str | None = None
    event_namespace: str | None = None
    creator_sid: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """A filter's identity: its namespace and its Name (the key of __EventFilter), as WMI compares them."""
        return (namespace_key(self.namespace), instance_key(self.name))

    def expected(self) -> dict[str, t.Any]:
        """What event_subscription_remove compares before it deletes this filter (the definition read)."""
        return {key: value for key, value in self.to_dict().items() if key != "namespace"}


CONSUMER_TEXT_FIELDS = ("command_line_template", "executable_path", "script_text", "script_file_name")


@dataclass(frozen=True)
class EventConsumer(SubscriptionPart):
    namespace: str
    name: str
    cls: str
    command_line_template: str | None = None
    executable_path: str | None = None
    script_text: str | None = None
    script_file_name: str | None = None
    scripting_engine: str | None = None
    # Every other property the host returned (LogFile's Filename and Text, SMTP's ToLine, NTEventLog's SourceName,
    # ...): kept so a removed consumer can be recreated.
    properties: t.Mapping[str, t.Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (namespace_key(self.namespace), class_key(self.cls), instance_key(self.name))

    def expected(self) -> dict[str, t.Any]:
        return {key: value for key, value in self.to_dict().items() if key not in ("namespace", "properties")}


@dataclass(frozen=True)
class EventBinding(SubscriptionPart):
    namespace: str
    filter: str
    consumer: str
    consumer_class: str | None  # None only from a host whose primitive does not report the reference's class

    @property
    def key(self) -> tuple[str, str, str, str]:
        """A binding's identity: its namespace and the filter and consumer it references (its two key properties)."""
        return (
            namespace_key(self.namespace),
            instance_key(self.filter),
            class_key(self.consumer_class),
            instance_key(self.consumer),
        )

    def expected(self) -> dict[str, t.Any]:
        return {"filter": self.filter, "consumer": self.consumer, "consumer_class": self.consumer_class}


@dataclass(frozen=True)
class Inventory:
    filters: tuple[EventFilter, ...]
    consumers: tuple[EventConsumer, ...]
    bindings: tuple[EventBinding, ...]


def _text(value: t.Any) -> str | None:
    return None if value is None else str(value)


def parse_inventory(results: t.Iterable[t.Mapping[str, t.Any]]) -> Inventory:
    """event_subscriptions results (wmi_state.yml RETURN) -> one inventory; each object once (a namespace asked
    for twice, e.g. root and root\\subscription with recurse, is listed once)."""
    filters: dict[tuple[str, str], EventFilter] = {}
    consumers: dict[tuple[str, str, str], EventConsumer] = {}
    bindings: dict[tuple[str, str, str, str], EventBinding] = {}
    for result in results:
        for item in (EventFilter.from_reply(raw) for raw in result.get("filters") or []):
            filters.setdefault(item.key, item)
        for consumer in (EventConsumer.from_reply(raw) for raw in result.get("consumers") or []):
            consumers.setdefault(consumer.key, consumer)
        for binding in (EventBinding.from_reply(raw) for raw in result.get("bindings") or []):
            bindings.setdefault(binding.key, binding)
    return Inventory(tuple(filters.values()), tuple(consumers.values()), tuple(bindings.values()))


# --- known subscriptions: built-ins and the user's allow-list ---------------------------------------------------


@dataclass(frozen=True)
class KnownSubscription:
    """A subscription the user (allow-list) or Windows (built-in) is known to create.

    A consumer matches by namespace, class and name - never by name alone; ``filter``, ``query`` and
    ``command_line`` narrow it further when given (compared case-insensitively, whitespace collapsed).
    """

    consumer: str
    consumer_class: str
    namespace: str = "root\\subscription"
    filter: str | None = None
    query: str | None = None
    command_line: str | None = None
    description: str = ""
    # The Windows versions (major, minor) it ships with, for the built-ins; None = any.
    min_version: tuple[int, int] | None = None
    max_version: tuple[int, int] | None = None

    def applies_to(self, profile: OsProfile | None) -> bool:
        if profile is None:
            return True
        version = (profile.major, profile.minor)
        return (self.min_version is None or version >= self.min_version) and (
            self.max_version is None or version <= self.max_version
        )

    def matches(self, consumer: EventConsumer, event_filter: EventFilter | None) -> bool:
        if (namespace_key(self.namespace), class_key(self.consumer_class), instance_key(self.consumer)) != (
            consumer.key
        ):
            return False
        if self.command_line is not None and _squash(self.command_line) != _squash(consumer.command_line_template):
            return False
        if self.filter is not None and (
            event_filter is None or instance_key(event_filter.name) != instance_key(self.filter)
        ):
            return False
        return self.query is None or (event_filter is not None and _squash(self.query) == _squash(event_filter.query))

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "namespace": self.namespace,
            "filter": self.filter,
            "consumer": self.consumer,
            "consumer_class": self.consumer_class,
            "query": self.query,
            "command_line": self.command_line,
        }


def _squash(text: str | None) -> str:
    # Command lines and queries compared as Windows compares file names and WQL keywords: ignoring case code unit
    # by code unit, never by casefold() (which makes 'power\u017fhell' the same text as 'powershell').
    return wmi_case_key(" ".join((text or "").split()))


# Subscriptions Windows creates itself. No Microsoft page lists them; they are what a clean installation holds and
# what incident-response tools treat as known-good (e.g. woanware/wmi-parser, https://github.com/woanware/wmi-parser,
# labels the SCM pair "common binding ... possibly legitimate"). Each is pinned to its class, namespace and query,
# so a look-alike with another class, place or trigger is not built-in.
BUILTIN_SUBSCRIPTIONS: tuple[KnownSubscription, ...] = (
    KnownSubscription(
        consumer="SCM Event Log Consumer",
        consumer_class="NTEventLogEventConsumer",
        filter="SCM Event Log Filter",
        query="select * from MSFT_SCMEventLogEvent",
        description="Service Control Manager events to the event log (Windows Vista / Server 2008 and later)",
        min_version=(6, 0),
    ),
    KnownSubscription(
        consumer="BVTConsumer",
        consumer_class="CommandLineEventConsumer",
        filter="BVTFilter",
        command_line="cscript KernCap.vbs",
        description="Build verification test consumer (Windows 2000, XP and Server 2003)",
        min_version=(5, 0),
        max_version=(5, 2),
    ),
)


def known_subscriptions(entries: t.Iterable[t.Mapping[str, t.Any]] | None, option: str) -> list[KnownSubscription]:
    """The module option (a list of dicts) -> KnownSubscription; a missing consumer_class is refused because a
    name alone would let a consumer of another class pass."""
    known = []
    for index, entry in enumerate(entries or []):
        consumer, consumer_class = entry.get("consumer"), entry.get("consumer_class")
        if not consumer or not consumer_class:
            raise WmiActionError(
                f"{option}[{index}]: give consumer and consumer_class (e.g. NTEventLogEventConsumer); a consumer "
                "name alone would also admit a command-line consumer given the same name."
            )
        try:
            namespace = normalise_namespace(str(entry.get("namespace") or "root\\subscription"))
        except ValueError as exc:
            raise WmiActionError(f"{option}[{index}].namespace: {exc}") from None
        known.append(
            KnownSubscription(
                consumer=str(consumer),
                consumer_class=str(consumer_class),
                namespace=namespace,
                filter=_text(entry.get("filter")),
                query=_text(entry.get("query")),
                command_line=_text(entry.get("command_line")),
                description=str(entry.get("description") or ""),
            )
        )
    return known


# --- indicators --------------------------------------------------------------------------------------------------

# powershell.exe accepts any unambiguous prefix of a parameter name; -EncodedCommand also answers to -ec and -e.
_ENCODED_SWITCHES = sorted({"encodedcommand"[:length] for length in range(1, 15)} | {"ec"}, key=len, reverse=True)
_ENCODED = re.compile(r"(?i)(?:^|\s)[-/](?:" + "|".join(_ENCODED_SWITCHES) + r")\s+['\"]?([A-Za-z0-9+/]{8,}={0,2})")
_LOLBINS = (
    "mshta",
    "rundll32",
    "regsvr32",
    "certutil",
    "bitsadmin",
    "wscript",
    "cscript",
    "msbuild",
    "installutil",
    "regasm",
    "regsvcs",
    "cmstp",
    "msiexec",
    "wmic",
)
_LOLBIN = re.compile(r"(?i)(?:^|[\\/\s\"'(&|;])(" + "|".join(_LOLBINS) + r")(?:\.exe)?(?=[\s\"']|$)")
_POWERSHELL = re.compile(r"(?i)(?:^|[\\/\s\"'])(?:powershell|pwsh)(?:\.exe)?(?=[\s\"']|$)")
_DOWNLOAD = re.compile(
    r"(?i)(DownloadString|DownloadFile|DownloadData|Net\.WebClient|Invoke-WebRequest|Invoke-RestMethod|"
    r"\biwr\b|\birm\b|Start-BitsTransfer|MSXML2\.(?:Server)?XMLHTTP|Microsoft\.XMLHTTP|WinHttp\.WinHttpRequest|"
    r"ADODB\.Stream|urlcache)"
)
_EXECUTE = re.compile(
    r"(?i)(WScript\.Shell|Shell\.Application|ShellExecute|\.Run\b|\.Exec\b|Invoke-Expression|\bIEX\b|"
    r"Start-Process|Win32_Process|\bcmd(?:\.exe)?\s+/c|GetObject\(\s*[\"']script:)"
)
_NETWORK = re.compile(r"(?i)(\\\\[A-Za-z0-9._$@-]+\\[^\s\"']*|\b(?:https?|ftp)://[^\s\"')]+)")
_USER_WRITABLE = re.compile(
    r"(?i)([A-Z]:\\(?:Users|ProgramData|Windows\\Temp|Temp|PerfLogs)\\[^\s\"']*|%(?:TEMP|TMP|APPDATA|LOCALAPPDATA|"
    r"PUBLIC|PROGRAMDATA)%[^\s\"']*)"
)


@dataclass(frozen=True)
class Indicator:
    id: str
    severity: str
    message: str
    evidence: str | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return {"id": self.id, "severity": self.severity, "message": self.message, "evidence": self.evidence}


def decode_encoded_command(argument: str) -> str | None:
    """PowerShell's -EncodedCommand argument is base64 of UTF-16LE text; None when it is not."""
    try:
        raw = base64.b64decode(argument + "=" * (-len(argument) % 4), validate=True)
        return raw.decode("utf-16-le") if len(raw) % 2 == 0 else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def text_indicators(text: str, where: str) -> list[Indicator]:
    """What in a command line or script text makes a consumer suspicious (one indicator per kind)."""
    found: list[Indicator] = []
    scanned = text
    encoded = _ENCODED.search(text)
    if encoded:
        decoded = decode_encoded_command(encoded.group(1))
        evidence = f"decoded: {_clip(decoded)}" if decoded else _clip(encoded.group(0).strip())
        found.append(Indicator("encoded_powershell", "high", f"{where} runs an encoded PowerShell command", evidence))
        if decoded:
            scanned = f"{text}\n{decoded}"
    lolbin = _LOLBIN.search(scanned)
    if lolbin:
        found.append(
            Indicator(
                "lolbin",
                "high",
                f"{where} starts {lolbin.group(1).lower()}, a signed Windows binary often used to run attacker code",
                _clip(lolbin.group(0).strip()),
            )
        )
    download = _DOWNLOAD.search(scanned)
    if download:
        found.append(Indicator("downloads", "high", f"{where} downloads content", _clip(download.group(1))))
    if _POWERSHELL.search(scanned) and not encoded and not download:
        found.append(Indicator("powershell", "medium", f"{where} starts PowerShell", None))
    execute = _EXECUTE.search(scanned)
    if execute:
        found.append(Indicator("executes", "high", f"{where} starts other programs or code", _clip(execute.group(1))))
    network = _NETWORK.search(scanned)
    if network:
        found.append(
            Indicator("network_path", "high", f"{where} refers to a network location", _clip(network.group(1)))
        )
    writable = _USER_WRITABLE.search(scanned)
    if writable:
        found.append(
            Indicator(
                "user_writable_path",
                "medium",
                f"{where} refers to a path ordinary users can write to",
                _clip(writable.group(1)),
            )
        )
    return found


def consumer_indicators(consumer: EventConsumer) -> list[Indicator]:
    """Every reason to suspect this consumer, most serious first."""
    found: list[Indicator] = []
    cls = class_key(consumer.cls)
    if cls in CODE_RUNNING_CLASSES:
        found.append(Indicator("code_running_consumer", "high", f"The consumer {CODE_RUNNING_CLASSES[cls]}", None))
    elif cls not in STANDARD_CONSUMER_CLASSES:
        found.append(
            Indicator(
                "custom_consumer_class",
                "medium",
                f"{consumer.cls} is not one of Windows' standard consumer classes: WMI loads the COM server that "
                "implements it",
                consumer.cls,
            )
        )
    seen: set[str] = set()
    for indicator in field_indicators(consumer, CONSUMER_TEXT_FIELDS):
        if indicator.id not in seen:
            seen.add(indicator.id)
            found.append(indicator)
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(found, key=lambda indicator: order.get(indicator.severity, 3))


_FIELD_LABELS = {
    "command_line_template": "The command line",
    "executable_path": "The executable path",
    "script_text": "The script",
    "script_file_name": "The script file",
}


def field_indicators(consumer: EventConsumer, fields: t.Iterable[str]) -> list[Indicator]:
    """The text indicators of some of the consumer's text fields (CONSUMER_TEXT_FIELDS), field by field."""
    found: list[Indicator] = []
    for name in fields:
        value = getattr(consumer, name)
        if value:
            found.extend(text_indicators(value, _FIELD_LABELS[name]))
    return found


def unpinned_indicator(known: KnownSubscription, consumer: EventConsumer, list_name: str) -> Indicator | None:
    """Why a consumer that ``known`` matches is still suspicious: an indicator in a text field the entry does not
    pin. An entry pins the command line only (``command_line``); the executable path and a script are never pinned.
    Matching by namespace, class and name alone, the entry would keep admitting the consumer after someone rewrote
    what it runs (an attacker who can edit an allowed consumer stays compliant), so what it runs must be free of
    indicators or pinned."""
    unpinned = [name for name in CONSUMER_TEXT_FIELDS if not (name == "command_line_template" and known.command_line)]
    suspicious = {name: field_indicators(consumer, (name,)) for name in unpinned}
    suspicious = {name: found for name, found in suspicious.items() if found}
    if not suspicious:
        return None
    what = " and ".join(_FIELD_LABELS[name].removeprefix("The ") for name in suspicious)
    how = (
        "give the entry command_line to pin it"
        if list(suspicious) == ["command_line_template"]
        else "an entry cannot pin an executable path or a script; remove what makes it suspicious"
    )
    entry = known.description or f"{known.consumer_class}.{known.consumer} in {known.namespace}"
    return Indicator(
        "allow_list_unpinned",
        "high",
        f"The {list_name} entry ({entry}) matches this consumer by namespace, class and name only and does not pin "
        f"its {what}, which is suspicious ({how})",
        "; ".join(indicator.message for found in suspicious.values() for indicator in found),
    )


# --- joining and classifying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subscription:
    """One binding with what it links (filter and consumer, either possibly missing), or an unbound consumer."""

    namespace: str
    binding: EventBinding | None
    event_filter: EventFilter | None
    consumer: EventConsumer | None
    classification: str
    indicators: tuple[Indicator, ...] = ()
    known: KnownSubscription | None = None
    problems: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        filter_name = self.binding.filter if self.binding else (self.event_filter.name if self.event_filter else "-")
        consumer_name = self.binding.consumer if self.binding else (self.consumer.name if self.consumer else "-")
        consumer_class = (self.binding.consumer_class if self.binding else None) or (
            self.consumer.cls if self.consumer else "?"
        )
        return f"{self.namespace}: {filter_name} -> {consumer_class}.{consumer_name}"

    @property
    def allowed(self) -> bool:
        return self.classification in ("builtin", "allowed")

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "classification": self.classification,
            "bound": self.binding is not None,
            "filter": self.event_filter.to_dict() if self.event_filter else None,
            "consumer": self.consumer.to_dict() if self.consumer else None,
            "binding": self.binding.to_dict() if self.binding else None,
            "reasons": [indicator.to_dict() for indicator in self.indicators],
            "problems": list(self.problems),
            "known_as": (self.known.description or "allow-listed") if self.known else None,
        }


@dataclass(frozen=True)
class Classified:
    subscriptions: tuple[Subscription, ...]
    orphan_filters: tuple[EventFilter, ...]
    orphan_bindings: tuple[EventBinding, ...]

    @property
    def unbound_consumers(self) -> tuple[EventConsumer, ...]:
        return tuple(s.consumer for s in self.subscriptions if s.binding is None and s.consumer is not None)


def classify_consumer(
    consumer: EventConsumer,
    event_filter: EventFilter | None,
    builtins: t.Sequence[KnownSubscription],
    allowed: t.Sequence[KnownSubscription],
) -> tuple[str, KnownSubscription | None, tuple[Indicator, ...]]:
    indicators = tuple(consumer_indicators(consumer))
    # The first entry that matches and pins every suspicious field wins; a match that does not is kept as the reason.
    unpinned: Indicator | None = None
    for classification, entries, list_name in (("builtin", builtins, "built-in"), ("allowed", allowed, "allow-list")):
        for known in entries:
            if not known.matches(consumer, event_filter):
                continue
            reason = unpinned_indicator(known, consumer, list_name)
            if reason is None:
                return classification, known, indicators
            unpinned = unpinned or reason
    if unpinned is not None:
        return "suspicious", None, (unpinned, *indicators)
    return ("suspicious" if indicators else "unrecognised"), None, indicators


def classify(
    inventory: Inventory,
    *,
    builtins: t.Sequence[KnownSubscription],
    allowed: t.Sequence[KnownSubscription] = (),
) -> Classified:
    """Join bindings to filters (namespace + name) and consumers (namespace + class + name), then classify each."""
    filters = {f.key: f for f in inventory.filters}
    consumers = {c.key: c for c in inventory.consumers}
    by_name: dict[tuple[str, str], list[EventConsumer]] = {}
    for consumer in inventory.consumers:
        by_name.setdefault((consumer.key[0], consumer.key[2]), []).append(consumer)

    subscriptions: list[Subscription] = []
    orphan_bindings: list[EventBinding] = []
    bound_filters: set[tuple[str, str]] = set()
    bound_consumers: set[tuple[str, str, str]] = set()
    for binding in inventory.bindings:
        namespace = namespace_key(binding.namespace)
        event_filter = filters.get((namespace, instance_key(binding.filter)))
        problems: list[str] = []
        if binding.consumer_class is not None:
            linked = consumers.get((namespace, class_key(binding.consumer_class), instance_key(binding.consumer)))
        else:
            # Only the name is known: join only when it is unambiguous, and say so.
            candidates = by_name.get((namespace, instance_key(binding.consumer)), [])
            linked = candidates[0] if len(candidates) == 1 else None
            problems.append("the host did not report the binding's consumer class; joined by name only")
        if event_filter is not None:
            bound_filters.add((namespace, instance_key(event_filter.name)))
        else:
            problems.append(f"the binding refers to a filter that does not exist ({binding.filter})")
        if linked is not None:
            bound_consumers.add(linked.key)
        else:
            problems.append(
                f"the binding refers to a consumer that does not exist ({binding.consumer_class or '?'}."
                f"{binding.consumer})"
            )
        if linked is None:
            orphan_bindings.append(binding)
            subscriptions.append(
                Subscription(binding.namespace, binding, event_filter, None, "unrecognised", problems=tuple(problems))
            )
            continue
        classification, known, indicators = classify_consumer(linked, event_filter, builtins, allowed)
        if event_filter is None:
            orphan_bindings.append(binding)
        subscriptions.append(
            Subscription(
                binding.namespace, binding, event_filter, linked, classification, indicators, known, tuple(problems)
            )
        )
    for consumer in inventory.consumers:
        if consumer.key in bound_consumers:
            continue
        classification, known, indicators = classify_consumer(consumer, None, builtins, allowed)
        subscriptions.append(
            Subscription(
                consumer.namespace,
                None,
                None,
                consumer,
                classification,
                indicators,
                known,
                ("no binding links this consumer to a filter: it never runs until one is created",),
            )
        )
    orphan_filters = tuple(f for f in inventory.filters if f.key not in bound_filters)
    return Classified(tuple(subscriptions), orphan_filters, tuple(orphan_bindings))


def subscription_findings(classified: Classified) -> list[dict[str, t.Any]]:
    """The findings of WMI-020: every consumer that is neither built-in nor allow-listed, and every orphan."""
    findings: list[dict[str, t.Any]] = []
    for subscription in classified.subscriptions:
        if subscription.consumer is None or subscription.allowed:
            continue
        reasons = [
            indicator.message + (f" ({indicator.evidence})" if indicator.evidence else "")
            for indicator in subscription.indicators
        ]
        suspicious = subscription.classification == "suspicious"
        state = "active" if subscription.binding is not None and subscription.event_filter is not None else "inactive"
        findings.append(
            {
                "id": "suspicious_event_consumer" if suspicious else "unrecognised_event_consumer",
                "severity": max(
                    (indicator.severity for indicator in subscription.indicators),
                    key=lambda severity: {"high": 2, "medium": 1}.get(severity, 0),
                    default="medium",
                ),
                "namespace": subscription.namespace,
                "subscription": subscription.name,
                "consumer_class": subscription.consumer.cls,
                "consumer": subscription.consumer.name,
                "filter": subscription.event_filter.name if subscription.event_filter else None,
                "state": state,
                "reasons": [indicator.to_dict() for indicator in subscription.indicators],
                "message": (
                    f"{'Suspicious' if suspicious else 'Unrecognised'} {state} permanent event consumer "
                    f"{subscription.name}"
                    + (f": {'; '.join(reasons)}." if reasons else " (not built-in, not allow-listed).")
                ),
            }
        )
    for binding in classified.orphan_bindings:
        findings.append(
            {
                "id": "orphan_binding",
                "severity": "low",
                "namespace": binding.namespace,
                "subscription": f"{binding.namespace}: {binding.filter} -> {binding.consumer_class}.{binding.consumer}",
                "message": f"Binding {binding.filter} -> {binding.consumer_class}.{binding.consumer} in "
                f"{binding.namespace} links to a filter or consumer that does not exist.",
            }
        )
    for event_filter in classified.orphan_filters:
        findings.append(
            {
                "id": "orphan_filter",
                "severity": "info",
                "namespace": event_filter.namespace,
                "filter": event_filter.name,
                "message": f"Event filter {event_filter.name} in {event_filter.namespace} is bound to no consumer.",
            }
        )
    return findings


def builtins_for(profile: OsProfile | None, override: t.Sequence[KnownSubscription] | None) -> list[KnownSubscription]:
    """The user's list replaces the built-in one entirely; the built-in one is filtered by the host's version."""
    if override is not None:
        return list(override)
    return [known for known in BUILTIN_SUBSCRIPTIONS if known.applies_to(profile)]


# --- reads ---------------------------------------------------------------------------------------------------------


def subscription_reads(namespaces: t.Sequence[str], *, recurse: bool) -> list[dict[str, t.Any]]:
    """One event_subscriptions operation for all namespaces (WMI queries them one by one on the host)."""
    operation: dict[str, t.Any] = {"op": "event_subscriptions", "namespaces": list(namespaces)}
    if recurse:
        operation["recurse"] = True
    return [operation]


def parse_namespace_list(names: t.Sequence[str] | None, option: str = "namespaces") -> list[str]:
    try:
        namespaces = [normalise_namespace(name) for name in (names or DEFAULT_NAMESPACES)]
    except ValueError as exc:
        raise WmiActionError(f"{option}: {exc}") from None
    unique: dict[str, str] = {}
    for namespace in namespaces:
        unique.setdefault(namespace_key(namespace), namespace)
    return list(unique.values())


# --- the control ---------------------------------------------------------------------------------------------------


class EventSubscriptions(Control):
    """WMI-020: every permanent event consumer is built-in or allow-listed (report only; removal is a module)."""

    id = "WMI-020"
    title = "No non-allow-listed permanent WMI event consumers (T1546.003)"
    severity = "high"
    references = (MITRE_T1546_003, DOCS_PERMANENT_CONSUMERS, DOCS_STANDARD_CONSUMERS)

    def __init__(
        self,
        *,
        namespaces: t.Sequence[str] | None = None,
        recurse: bool = DEFAULT_RECURSE,
        allowed: t.Iterable[t.Mapping[str, t.Any]] | None = None,
        builtin: t.Iterable[t.Mapping[str, t.Any]] | None = None,
        exceptions: ControlExceptions = NO_EXCEPTIONS,
    ) -> None:
        self.namespaces = parse_namespace_list(namespaces)
        self.recurse = recurse
        self.allowed = known_subscriptions(allowed, "allowed")
        self.builtin_override = None if builtin is None else known_subscriptions(builtin, "builtin")
        self.exceptions = exceptions

    @classmethod
    def from_options(
        cls, options: t.Mapping[str, t.Any] | None, exceptions: ControlExceptions = NO_EXCEPTIONS
    ) -> EventSubscriptions:
        """``{namespaces, recurse, allowed, builtin}``, all optional (winsec.wmi.event_subscription_info's options)."""
        options = options or {}
        return cls(
            namespaces=options.get("namespaces"),
            recurse=bool(options.get("recurse", DEFAULT_RECURSE)),
            allowed=options.get("allowed"),
            builtin=options.get("builtin"),
            exceptions=exceptions,
        )

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> EventSubscriptions:
        return cls.from_options(options.params.get("event_subscriptions"), options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return subscription_reads(self.namespaces, recurse=self.recurse)

    def inventory(self, results: t.Sequence[t.Mapping[str, t.Any]]) -> Inventory:
        where = ", ".join(self.namespaces) + (" and below" if self.recurse else "")
        return parse_inventory([op_value(result, f"listing the event subscriptions in {where}") for result in results])

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        inventory = self.inventory(results)
        builtins = builtins_for(host.profile, self.builtin_override)
        classified = classify(inventory, builtins=builtins, allowed=self.allowed)
        findings = subscription_findings(classified)
        # With recurse, a namespace that could not be read is listed, not fatal: the others are still judged.
        unreadable: list[dict[str, t.Any]] = [
            {"namespace": str(item.get("namespace")), "error": describe_error(item.get("error")).to_dict()}
            for result in results
            for item in result.get("namespace_errors") or []
        ]
        findings += [
            {
                "id": "namespace_unreadable",
                "severity": "medium",
                "namespace": item["namespace"],
                "message": f"The subscriptions of {item['namespace']} could not be read: "
                f"{item['error']['name']} ({item['error']['explanation']})",
            }
            for item in unreadable
        ]
        offending = [f for f in findings if f["id"] in ("suspicious_event_consumer", "unrecognised_event_consumer")]
        counts = {name: 0 for name in CLASSIFICATIONS}
        for subscription in classified.subscriptions:
            if subscription.consumer is not None:
                counts[subscription.classification] += 1
        result: dict[str, t.Any] = {
            "os": host.os_facts,
            "namespaces": self.namespaces,
            "recurse": self.recurse,
            "subscriptions": [subscription.to_dict() for subscription in classified.subscriptions],
            "filters": [f.to_dict() for f in inventory.filters],
            "consumers": [c.to_dict() for c in inventory.consumers],
            "bindings": [b.to_dict() for b in inventory.bindings],
            "orphans": {
                "filters": [f.to_dict() for f in classified.orphan_filters],
                "bindings": [b.to_dict() for b in classified.orphan_bindings],
                "consumers": [c.to_dict() for c in classified.unbound_consumers],
            },
            "counts": counts,
            "findings": findings,
            "finding_count": len(findings),
            "builtin": [known.to_dict() for known in builtins],
            "namespace_errors": unreadable,
            "compliant": not offending and not unreadable,
        }
        actual = ", ".join(f"{plural(count, name, name)}" for name, count in counts.items() if count) or "none"
        expected = "only built-in or allow-listed permanent event consumers"
        if unreadable and not offending:
            # Never compliant on a partial read.
            reason = f"{plural(len(unreadable), 'namespace')} could not be read: " + ", ".join(
                item["namespace"] for item in unreadable[:5]
            )
            result["msg"] = f"{reason}; the others hold only built-in or allow-listed consumers."
            return Decision("error", expected, actual, findings=findings, reason=reason, result=result)
        if not offending:
            result["msg"] = f"{plural(len(inventory.consumers), 'event consumer')}, all built-in or allow-listed."
            return Decision("compliant", expected, actual, findings=findings, result=result)
        result["msg"] = (
            f"{plural(len(offending), 'permanent event consumer')} neither built-in nor allow-listed "
            f"({counts['suspicious']} suspicious): " + "; ".join(f["subscription"] for f in offending[:5])
        )
        return Decision(
            "drift",
            expected,
            actual,
            findings=findings,
            remediation=(
                "Investigate each consumer (T1546.003 persistence runs as LocalSystem). Remove the ones that are not "
                "wanted with winsec.wmi.event_subscription (state=absent; it returns the definition removed), or add "
                "the wanted ones to the allow-list by namespace, consumer class and name - and, where what it runs "
                "looks suspicious, by its command line (command_line)."
            ),
            result=result,
        )
