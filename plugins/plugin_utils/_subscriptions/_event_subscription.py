# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Removing a permanent WMI event subscription (winsec.wmi.event_subscription, state=absent).

The bindings go first, then the consumer and the filter, so a failure half-way never leaves a binding pointing at
nothing. Each removal carries the definition read and fails with CHANGED_SINCE_READ if the host changed since; the
definitions removed are returned whole, so the subscription can be recreated.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, replace

from .._control import Control, Decision, HostContext
from .._diff import subscription_diff
from .._namespaces._namespace_findings import normalise_namespace
from .._text import as_written, plural
from .._wmi_errors import WmiActionError, WmiOperationError, describe_error, op_value
from .._wmi_names import class_key, instance_key, property_key
from ._event_subscriptions import (
    DOCS_PERMANENT_CONSUMERS,
    MITRE_T1546_003,
    EventBinding,
    EventConsumer,
    EventFilter,
    Inventory,
    SubscriptionPart,
    parse_inventory,
)


@dataclass(frozen=True)
class RemovalPlan:
    bindings: tuple[EventBinding, ...]
    consumers: tuple[EventConsumer, ...]
    filters: tuple[EventFilter, ...]

    @property
    def empty(self) -> bool:
        return not (self.bindings or self.consumers or self.filters)

    def operations(self, namespace: str) -> list[dict[str, t.Any]]:
        """Bindings first, then consumers, then filters (wmi_state skips every write after a failed one)."""
        parts: list[tuple[str, EventBinding | EventConsumer | EventFilter]] = [
            *(("binding", b) for b in self.bindings),
            *(("consumer", c) for c in self.consumers),
            *(("filter", f) for f in self.filters),
        ]
        return [
            {"op": "event_subscription_remove", "namespace": namespace, "kind": kind, "expected_instance": p.expected()}
            for kind, p in parts
        ]

    def to_dict(self) -> dict[str, list[dict[str, t.Any]]]:
        return {
            "bindings": [b.to_dict() for b in self.bindings],
            "consumers": [c.to_dict() for c in self.consumers],
            "filters": [f.to_dict() for f in self.filters],
        }


def plan_removal(
    inventory: Inventory, *, filter_name: str | None, consumer_name: str | None, consumer_class: str | None
) -> RemovalPlan:
    """The bindings between the named filter and/or consumer, and the filter and consumer themselves unless another
    binding still uses them. Naming only a consumer also removes the filters that were bound to it alone (and the
    other way round): they exist only for this subscription."""

    def is_target(binding: EventBinding) -> bool:
        return (filter_name is None or instance_key(binding.filter) == instance_key(filter_name)) and (
            consumer_name is None
            or (
                instance_key(binding.consumer) == instance_key(consumer_name)
                and class_key(binding.consumer_class) == class_key(consumer_class)
            )
        )

    targets = tuple(b for b in inventory.bindings if is_target(b))
    remaining = [b for b in inventory.bindings if not is_target(b)]
    consumer_keys = {(class_key(b.consumer_class), instance_key(b.consumer)) for b in targets}
    if consumer_name is not None:
        consumer_keys.add((class_key(consumer_class), instance_key(consumer_name)))
    filter_names = {instance_key(b.filter) for b in targets}
    if filter_name is not None:
        filter_names.add(instance_key(filter_name))
    still_used_consumers = {(class_key(b.consumer_class), instance_key(b.consumer)) for b in remaining}
    still_used_filters = {instance_key(b.filter) for b in remaining}
    consumers = tuple(
        c
        for c in inventory.consumers
        if (class_key(c.cls), instance_key(c.name)) in consumer_keys - still_used_consumers
    )
    filters = tuple(f for f in inventory.filters if instance_key(f.name) in filter_names - still_used_filters)
    return RemovalPlan(targets, consumers, filters)


def describe(plan: RemovalPlan) -> str:
    """The definitions as text for --diff (one JSON object per line, sorted keys: stable and restorable)."""
    lines = [f"binding {json.dumps(b.to_dict(), sort_keys=True)}" for b in plan.bindings]
    lines += [f"consumer {json.dumps(c.to_dict(), sort_keys=True)}" for c in plan.consumers]
    lines += [f"filter {json.dumps(f.to_dict(), sort_keys=True)}" for f in plan.filters]
    return "".join(f"{line}\n" for line in lines)


class EventSubscriptionRemoval(Control):
    """winsec.wmi.event_subscription: the named subscription is absent."""

    id = "WMI-020-REMOVE"
    title = "Permanent WMI event subscription removed"
    severity = "high"
    references = (MITRE_T1546_003, DOCS_PERMANENT_CONSUMERS)

    def __init__(
        self,
        *,
        namespace: str = "root\\subscription",
        filter_name: str | None = None,
        consumer_name: str | None = None,
        consumer_class: str | None = None,
    ) -> None:
        try:
            self.namespace = normalise_namespace(namespace)
        except ValueError as exc:
            raise WmiActionError(f"namespace: {exc}") from None
        if filter_name is None and consumer_name is None:
            raise WmiActionError("Name the subscription: give filter, or consumer with consumer_class, or both.")
        if (consumer_name is None) != (consumer_class is None):
            raise WmiActionError(
                "consumer and consumer_class go together: a consumer is keyed by its class and its name."
            )
        self.filter_name = filter_name
        self.consumer_name = consumer_name
        self.consumer_class = consumer_class

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> EventSubscriptionRemoval:
        return cls(
            namespace=params.get("namespace") or "root\\subscription",
            filter_name=params.get("filter"),
            consumer_name=params.get("consumer"),
            consumer_class=params.get("consumer_class"),
        )

    @property
    def subscription(self) -> str:
        consumer = f"{self.consumer_class}.{self.consumer_name}" if self.consumer_name else "*"
        return f"{self.namespace}: {self.filter_name or '*'} -> {consumer}"

    def reads(self) -> list[dict[str, t.Any]]:
        return [{"op": "event_subscriptions", "namespaces": [self.namespace]}]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        inventory = parse_inventory([op_value(results[0], f"listing the event subscriptions in {self.namespace}")])
        plan = plan_removal(
            inventory,
            filter_name=self.filter_name,
            consumer_name=self.consumer_name,
            consumer_class=self.consumer_class,
        )
        result: dict[str, t.Any] = {"os": host.os_facts, "subscription": self.subscription, "removed": plan.to_dict()}
        expected = f"{self.subscription} absent"
        if plan.empty:
            result["msg"] = f"{self.subscription} is absent."
            return Decision("compliant", expected, "absent", result=result)
        return parts_drift(
            host, self.subscription, plan, removing=True, writes=plan.operations(self.namespace), result=result
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        return verify_parts(
            decision,
            results,
            "removed",
            lambda operation: (
                f"removing the {operation['kind']} "
                f"{json.dumps(operation['expected_instance'], sort_keys=True)} of {self.subscription}"
            ),
        )


def parts_drift(
    host: HostContext,
    subscription: str,
    parts: RemovalPlan,
    *,
    removing: bool,
    writes: list[dict[str, t.Any]],
    result: dict[str, t.Any],
    warnings: t.Sequence[str] = (),
) -> Decision:
    """The drift of a subscription whose ``parts`` are to be removed (``removing``) or created: what is counted and
    said, the changes and the diff, for the removal and the restore alike (each in the order its writes go)."""
    expected = result["subscription"] + (" absent" if removing else " present as defined")
    kinds = [("binding", parts.bindings), ("consumer", parts.consumers), ("filter", parts.filters)]
    counted = [plural(len(items), kind) for kind, items in (kinds if removing else kinds[::-1])]
    counts = f"{', '.join(counted[:-1])} and {counted[-1]}"
    done = "removed" if removing else "created"
    result["msg"] = f"{subscription}: {counts} {done if host.will_write else 'would be ' + done}."
    return Decision(
        "drift",
        expected,
        f"{'present' if removing else 'missing'} ({counts})",
        writes=writes,
        changes=[f"{'remove' if removing else 'create'} {line}" for line in describe(parts).splitlines()],
        remediation=(
            f"{'Remove' if removing else 'Restore'} {subscription} (winsec.wmi.event_subscription, "
            f"state={'absent' if removing else 'present'})."
        ),
        automatic=True,
        diff=repository_diff(subscription, parts, removed=removing),
        result=result,
        warnings=list(warnings),
    )


def repository_diff(subscription: str, plan: RemovalPlan, *, removed: bool) -> dict[str, str]:
    """The diff of a subscription's parts in the WMI repository: each part with its properties, before it is removed
    (``removed``) or after it is created."""
    parts = [
        *(("filter", f.to_dict()) for f in plan.filters),
        *(("consumer", c.to_dict()) for c in plan.consumers),
        *(("binding", b.to_dict()) for b in plan.bindings),
    ]
    return subscription_diff(subscription, before=parts if removed else [], after=[] if removed else parts)


def verify_parts(
    decision: Decision,
    results: t.Sequence[t.Mapping[str, t.Any]],
    done: str,
    what: t.Callable[[t.Mapping[str, t.Any]], str],
) -> Decision:
    """The verification of a removal or a restore (``done``: removed, created): remediated, the result recording
    the parts each write did as planned (parts_written), a warning per host answer that disagrees."""
    parts, warnings = parts_written(decision, results, done, what)
    return replace(
        decision,
        status="remediated",
        result={**decision.result, done: parts},
        warnings=[*decision.warnings, *warnings],
    )


def parts_written(
    decision: Decision,
    results: t.Sequence[t.Mapping[str, t.Any]],
    done: str,
    what: t.Callable[[t.Mapping[str, t.Any]], str],
) -> tuple[dict[str, list[dict[str, t.Any]]], list[str]]:
    """The parts each write did (``done``: removed, created), by kind, and a warning per host answer that disagrees.

    The record is what the controller read and planned (``decision.result[done]``, in the order of the writes), never
    the host's echo: a compromised host could answer the removal of a harmless consumer with another one, and a
    restore of that record would create it. An echo that names another part is a warning. At the first failed write,
    a failure that returns the parts done before it: those writes happened (changed), so the user can undo or redo
    them."""
    planned = {kind: iter(items) for kind, items in decision.result[done].items()}
    parts: dict[str, list[dict[str, t.Any]]] = {"bindings": [], "consumers": [], "filters": []}
    warnings: list[str] = []
    for operation, outcome in zip(decision.writes, results, strict=True):
        if outcome.get("failed"):
            raise WmiOperationError(
                what(operation), describe_error(outcome.get("error")), changed=any(parts.values()), **{done: parts}
            )
        kind = f"{operation['kind']}s"
        part = next(planned[kind])
        parts[kind].append(part)
        echo = outcome.get(done)
        if same_part(operation["kind"], part, echo):
            part = with_creator(part, t.cast(t.Mapping[str, t.Any], echo))
            parts[kind][-1] = part
        else:
            warnings.append(
                f"{what(operation)}: the host answered with another {operation['kind']} "
                f"({as_written(json.dumps(echo, sort_keys=True, ensure_ascii=False))}); {done} shows what was read "
                "and planned, not the host's answer. A host that answers this way may be compromised: read its "
                "subscriptions again (winsec.wmi.event_subscription_info)."
            )
    return parts, warnings


def same_part(kind: str, planned: t.Mapping[str, t.Any], echo: t.Any) -> bool:
    """Whether the host's echo of a write names the part planned: its identity as WMI compares it, and the same
    definition (every key the plan holds, compared exactly)."""
    if not isinstance(echo, t.Mapping) or set(echo) - set(planned) - {"creator_sid"}:
        return False
    identity = {"binding": EventBinding, "consumer": EventConsumer, "filter": EventFilter}[kind]
    try:
        if part_key(identity, planned) != part_key(identity, echo):
            return False
    except (TypeError, KeyError):
        return False
    identity_keys = ("namespace", "creator_sid", "name", "class", "filter", "consumer", "consumer_class", "properties")
    if any(echo.get(key) != planned.get(key) for key in planned if key not in identity_keys):
        return False
    return _without_creator(echo.get("properties")) == _without_creator(planned.get("properties"))


def _without_creator(properties: t.Any) -> t.Any:
    if not isinstance(properties, t.Mapping):
        return properties
    return {key: value for key, value in properties.items() if property_key(key) != property_key(CREATOR_SID_PROPERTY)}


def with_creator(part: dict[str, t.Any], echo: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The planned part with the creator's SID the host read back (a creation is made by the connecting account, so
    only the host knows it); nothing else is taken from the echo."""
    part = dict(part)
    if "creator_sid" in echo:
        part["creator_sid"] = echo["creator_sid"]
    echoed = echo.get("properties")
    if isinstance(echoed, t.Mapping) and isinstance(part.get("properties"), t.Mapping):
        creator = {
            key: value for key, value in echoed.items() if property_key(key) == property_key(CREATOR_SID_PROPERTY)
        }
        part["properties"] = {**part["properties"], **creator}
    return part


# WMI stores the creating account's SID in CreatorSID itself (Microsoft Learn, __EventFilter and __EventConsumer).
CREATOR_SID_PROPERTY = "CreatorSID"


def part_key(identity: type[SubscriptionPart], entry: t.Mapping[str, t.Any]) -> tuple[str, ...]:
    """The identity of a part the host echoed, as WMI compares it; KeyError when the echo lacks a key of it."""
    return identity.from_reply(entry, strict=True).key
