# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The namespace tree: the one read model of an ``sd_get`` reply, and the one decoder of a descriptor a host returns.

The runner (_control.read_host) builds one NamespaceTree per checked sd_get reply and hands it to every control that
reads it, so each descriptor is decoded once per host, whichever controls judge it: WMI-002 to WMI-006, WMI-022 and
the namespace_sd / namespace_sd_info modules. Each entry carries the name as WMI spells it (shown), its identity
(``_wmi_names.namespace_key``, compared), the descriptor decoded once (SACL included where the host returned it), the
host's error for it, and the tree around it: parent, descendants, and where one of its explicit ACEs applies.

A descriptor the host returned that cannot be decoded is that entry's problem, kept with it and raised (one named
sentence, ``decode_descriptor``) only when a control asks for that descriptor: the controls that read that reply are
in error, the host's other controls keep their results. Pure, no I/O.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import binascii
import operator
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass, field

from .._sd._sd import INHERIT_ONLY_ACE, Ace, SecurityDescriptor, SecurityDescriptorError, sd_from_bytes
from .._wmi_errors import WmiActionError, op_value
from .._wmi_names import namespace_key, parent_namespace_key


def decode_descriptor(sd_base64: str, namespace: str) -> SecurityDescriptor:
    """The one decoder of a descriptor a host returned (base64 of a self-relative SECURITY_DESCRIPTOR, MS-DTYP
    2.4.6), with its one error: a host's bytes that do not decode are named, never guessed at (``validate``: a
    character outside the base64 alphabet is refused, not skipped)."""
    try:
        data = base64.b64decode(sd_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        cause = f"not base64: {exc}"
    else:
        try:
            return sd_from_bytes(data)
        except SecurityDescriptorError as exc:
            cause = str(exc)
    raise WmiActionError(
        f"The host returned a security descriptor of {namespace} this collection cannot parse: {cause}"
    )


@dataclass(frozen=True, eq=False)
class NamespaceEntry:
    """One namespace as read: ``name`` as the host spelled it (to show), ``key`` its identity (to compare)."""

    name: str
    key: str
    # The base64 text read: what a write of this namespace expects to replace (expected_sd). None when unread.
    sd_base64: str | None
    # The descriptor, decoded once; None when the host did not return one or it does not decode (``problem``).
    sd: SecurityDescriptor | None
    # The host's error for this namespace ({code, hresult, message}), when it could not read it.
    error: t.Mapping[str, t.Any] | None = None
    # Why the descriptor the host returned does not decode (decode_descriptor's sentence).
    problem: str | None = None
    # Whether the descriptor carries the SACL (sd_get with sacl: GetSecurityDescriptor's bytes); None when not told.
    sacl_returned: bool | None = None

    @classmethod
    def read(cls, name: str, sd_base64: str | None, **extra: t.Any) -> NamespaceEntry:
        """An entry from the host's text: its descriptor decoded here, once."""
        sd, problem = None, None
        if sd_base64 and not extra.get("error"):
            try:
                sd = decode_descriptor(sd_base64, name)
            except WmiActionError as failure:
                problem = failure.msg
        return cls(name, namespace_key(name), sd_base64, sd, problem=problem, **extra)

    @classmethod
    def of(cls, name: str, sd: SecurityDescriptor) -> NamespaceEntry:
        """An entry for a descriptor already decoded (pure callers and tests)."""
        return cls(name, namespace_key(name), None, sd)

    @property
    def unread(self) -> bool:
        """The host returned no descriptor for it (its error, or none at all)."""
        return bool(self.error) or not self.sd_base64

    @property
    def descriptor(self) -> SecurityDescriptor:
        """The decoded descriptor; WmiActionError (the decoder's sentence) when it does not decode. Ask only of an
        entry that was read (not ``unread``)."""
        if self.sd is None:
            raise WmiActionError(self.problem or f"The host returned no security descriptor for {self.name}.")
        return self.sd

    @property
    def parent_key(self) -> str | None:
        return parent_namespace_key(self.name)

    @property
    def dacl(self) -> tuple[Ace, ...]:
        return self.descriptor.dacl.aces if self.descriptor.dacl is not None else ()

    @property
    def sacl(self) -> tuple[Ace, ...]:
        return self.descriptor.sacl.aces if self.descriptor.sacl is not None else ()

    def is_below(self, other: NamespaceEntry | str) -> bool:
        """Whether this namespace is a descendant of ``other`` (an entry or a namespace path)."""
        ancestor = other.key if isinstance(other, NamespaceEntry) else namespace_key(other)
        return self.key.startswith(ancestor + "\\")


@dataclass(frozen=True, eq=False)
class NamespaceTree(Mapping[str, t.Any]):
    """One sd_get reply as a tree: each namespace read once (the first entry of a key wins), in the order read,
    parents before children as GetSD walks them; the accounts the host resolved; the op's failure.

    It stays a read-only mapping of the checked reply's keys, so ``decide(host, results)`` keeps one signature for
    every control; controls read the model (``entries``, ``principals``), not the keys."""

    reply: t.Mapping[str, t.Any]
    entries: tuple[NamespaceEntry, ...]
    # SID -> account name (None: does not resolve), as the host resolved them (sd_get with resolve_names).
    principals: t.Mapping[str, str | None]
    _derived: dict[str, t.Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_reply(cls, reply: t.Mapping[str, t.Any]) -> NamespaceTree:
        """The model of one checked sd_get reply (the runner builds it once per reply). A failed op keeps its
        failure: ``checked`` raises it, by name, to the controls that read it."""
        if isinstance(reply, NamespaceTree):
            return reply
        failed = bool(reply.get("failed"))
        entries = () if failed else _unique(reply.get("namespaces") or [])
        return cls(reply, entries, {} if failed else dict(reply.get("principals") or {}))

    @classmethod
    def from_entries(
        cls, entries: t.Iterable[t.Mapping[str, t.Any]], principals: t.Mapping[str, str | None] | None = None
    ) -> NamespaceTree:
        """A tree of sd_get namespace entries ({namespace, sd, error}) alone (pure callers and tests)."""
        return cls({"failed": False}, _unique(entries), dict(principals or {}))

    @classmethod
    def of_descriptors(cls, namespaces: t.Iterable[tuple[str, SecurityDescriptor]]) -> NamespaceTree:
        """A tree of descriptors already decoded, each namespace once (pure callers and tests)."""
        seen: dict[str, NamespaceEntry] = {}
        for name, sd in namespaces:
            entry = NamespaceEntry.of(name, sd)
            seen.setdefault(entry.key, entry)
        return cls({"failed": False}, tuple(seen.values()), {})

    # --- the reply's keys, read-only ---
    def __getitem__(self, key: str) -> t.Any:
        return self.reply[key]

    def __iter__(self) -> t.Iterator[str]:
        return iter(self.reply)

    def __len__(self) -> int:
        return len(self.reply)

    __hash__ = object.__hash__  # identity: one model per reply

    def __eq__(self, other: object) -> bool:
        return self is other

    # --- the model ---
    def checked(self, context: str) -> NamespaceTree:
        """The tree, or the op's named failure (WmiOperationError) when the host could not run the read."""
        op_value(self.reply, context)
        return self

    @property
    def sacl_read(self) -> bool:
        """Whether the host read the SACLs (sd_get with sacl: the connecting account holds SeSecurityPrivilege)."""
        return bool(self.reply.get("sacl_read"))

    def readable(self) -> NamespaceTree:
        """The tree of the namespaces the host returned a descriptor for; the first descriptor that does not decode
        raises its named sentence (WmiActionError): a tree judged with a hole in it could hide a grant."""

        def build() -> NamespaceTree:
            read = tuple(entry for entry in self.entries if not entry.unread)
            for entry in read:
                entry.descriptor  # noqa: B018 - raises the entry's decoding problem
            return NamespaceTree(self.reply, read, self.principals)

        return t.cast(NamespaceTree, self.derived("readable", (), build))

    def entry(self, namespace: str) -> NamespaceEntry | None:
        return self._by_key().get(namespace_key(namespace))

    def parent(self, entry: NamespaceEntry) -> NamespaceEntry | None:
        """The parent namespace's entry, when it was read."""
        return self._by_key().get(entry.parent_key) if entry.parent_key else None

    def descendants(self, entry: NamespaceEntry) -> list[NamespaceEntry]:
        """Every namespace read below ``entry``, in the order read."""
        return [other for other in self.entries if other.is_below(entry)]

    def applies_on(self, entry: NamespaceEntry, ace: Ace) -> list[str]:
        """The namespaces read where an explicit ACE of ``entry``'s DACL is effective: ``entry`` itself unless the ACE
        is inherit-only, and every namespace below that holds an inherited copy of it (same type, SID and mask; the
        flags differ by inheritance, MS-DTYP 2.4.4.1)."""
        applies = [] if ace.flags & INHERIT_ONLY_ACE else [entry.name]
        for other in self.descendants(entry):
            if other.sd is None or other.sd.dacl is None:
                continue
            if any(
                copy.inherited
                and not copy.flags & INHERIT_ONLY_ACE
                and (copy.type, copy.sid, copy.mask) == (ace.type, ace.sid, ace.mask)
                for copy in other.sd.dacl.aces
            ):
                applies.append(other.name)
        return applies

    def derived(self, name: str, others: tuple[NamespaceTree, ...], compute: t.Callable[[], t.Any]) -> t.Any:
        """What ``compute`` derives from this tree and ``others`` (e.g. the findings WMI-003 to WMI-006 share),
        computed once per reply whichever control asks first. Kept on the read model, never on a control."""
        cached = self._derived.get(name)
        if cached is not None and len(cached[0]) == len(others) and all(map(operator.is_, cached[0], others)):
            return cached[1]
        value = compute()
        self._derived[name] = (others, value)
        return value

    def _by_key(self) -> dict[str, NamespaceEntry]:
        return t.cast(
            dict[str, NamespaceEntry], self.derived("by_key", (), lambda: {entry.key: entry for entry in self.entries})
        )


def _unique(entries: t.Iterable[t.Mapping[str, t.Any]]) -> tuple[NamespaceEntry, ...]:
    """Each namespace once (the first entry of a key), each descriptor decoded once."""
    seen: dict[str, NamespaceEntry] = {}
    for raw in entries:
        name = str(raw.get("namespace"))
        if namespace_key(name) in seen:
            continue
        sd_base64 = str(raw["sd"]) if raw.get("sd") else None
        entry = NamespaceEntry.read(name, sd_base64, error=raw.get("error"), sacl_returned=raw.get("sacl_returned"))
        seen[entry.key] = entry
    return tuple(seen.values())


def merged(trees: t.Sequence[NamespaceTree]) -> NamespaceTree:
    """Several replies read together (several namespaces asked for) as one tree: each namespace once, in the order
    read; the accounts all of them resolved. A view over the entries already decoded: nothing is decoded again."""
    if len(trees) == 1:
        return trees[0]
    first, others = trees[0], tuple(trees[1:])

    def build() -> NamespaceTree:
        seen: dict[str, NamespaceEntry] = {}
        principals: dict[str, str | None] = {}
        for tree in trees:
            for entry in tree.entries:
                seen.setdefault(entry.key, entry)
            principals.update(tree.principals)
        return NamespaceTree({"failed": False}, tuple(seen.values()), principals)

    return t.cast(NamespaceTree, first.derived("merged", others, build))


def read_tree(namespaces: t.Sequence[str], results: t.Sequence[t.Mapping[str, t.Any]]) -> NamespaceTree:
    """The sd_get replies of ``namespaces`` (one each, in that order) as one tree; a failed read raises its named
    failure."""
    contexts = [f"reading the security descriptors of {name}" for name in namespaces]
    return merged(namespace_trees(results, contexts))


def namespace_trees(replies: t.Sequence[t.Mapping[str, t.Any]], contexts: t.Sequence[str]) -> list[NamespaceTree]:
    """The models of a control's sd_get replies (built by the runner; built here for direct callers), each checked:
    the first failed op raises its named failure."""
    return [NamespaceTree.from_reply(reply).checked(context) for reply, context in zip(replies, contexts, strict=True)]
