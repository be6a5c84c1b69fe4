# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The --diff of every write, one builder per kind: registry values, namespace DACLs, namespace SACLs, subscriptions.

Ansible's convention: a module that changes something returns ``diff`` ({before, after, before_header,
after_header}, or a list of them), in check mode and for real, and the default callback prints it as a unified diff
(ansible-core lib/ansible/plugins/callback/__init__.py, CallbackBase._get_diff; AWX "Show Changes" is --diff). The
text here is built from what the CONTROLLER read and planned, never from what the host echoes after a write, so
check mode and the real run show the same diff. Names that come from the host (namespaces, account names, registry
data, consumers' command lines) are host-controlled text: each goes through console_text, so a newline cannot fake a
diff line and an escape sequence cannot rewrite the operator's console.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import json
import typing as t

from ._sd._acl_view import ACE_TYPE_WORDS
from ._sd._principals import principal_name
from ._sd._sd import FAILED_ACCESS_ACE_FLAG, SUCCESSFUL_ACCESS_ACE_FLAG, SYSTEM_AUDIT_ACE_TYPE, Ace, Acl, sd_to_sddl
from ._sd._sd_model import SE_DACL_PROTECTED, SE_SACL_PROTECTED, SE_SELF_RELATIVE, SecurityDescriptor
from ._sd._wmi_rights import flag_names, inherit_name, mask_to_rights
from ._text import console_text, plural

Diff = dict[str, str]
Resolved = t.Mapping[str, str | None]


def _diff(header: str, before: str, after: str) -> Diff:
    return {"before_header": header, "after_header": header, "before": before, "after": after}


def combined(diffs: t.Iterable[Diff | list[Diff] | None]) -> Diff | list[Diff] | None:
    """Several writes' diffs as the one ``diff`` result key: None for none, the dict for one, else the list (the
    default callback renders each entry of a list in turn)."""
    flat: list[Diff] = []
    for diff in diffs:
        if isinstance(diff, list):
            flat.extend(diff)
        elif diff:
            flat.append(diff)
    if not flat:
        return None
    return flat[0] if len(flat) == 1 else flat


def labelled(label: str, diff: Diff | list[Diff] | None) -> list[Diff]:
    """``diff`` (one or several) with ``label`` (a control ID) in front of each header, for the baseline's list."""
    items = diff if isinstance(diff, list) else [diff] if diff else []
    return [
        {**item, "before_header": f"{label} {item['before_header']}", "after_header": f"{label} {item['after_header']}"}
        for item in items
    ]


# --- registry values ----------------------------------------------------------------------------------------------


def registry_text(path: str, value: t.Mapping[str, t.Any], absent: str = "absent") -> str:
    """``HKLM\\...\\Name = REG_DWORD 1``; text data quoted (an empty or spaced REG_SZ must show); absent as said."""
    if not value.get("exists"):
        return f"{path} ({absent})\n"
    data = value.get("data")
    if isinstance(data, int) and not isinstance(data, bool):
        shown = str(data)
    elif isinstance(data, str):
        shown = f"'{console_text(data)}'"
    else:
        shown = console_text(json.dumps(data, default=str))
    return f"{path} = {console_text(value.get('type') or 'unknown type')} {shown}\n"


def registry_diff(
    path: str, before: t.Mapping[str, t.Any], after: t.Mapping[str, t.Any], *, absent: str = "absent"
) -> Diff:
    """One registry value as read (``{exists, type, data}``) and as the planned write leaves it."""
    return _diff(f"{path} (registry value)", registry_text(path, before, absent), registry_text(path, after, absent))


# --- security descriptors -----------------------------------------------------------------------------------------


# An audit entry logs successful and/or failed accesses (MS-DTYP 2.4.4.1, ACE_HEADER AceFlags).
_AUDIT_OUTCOMES = ((SUCCESSFUL_ACCESS_ACE_FLAG, "success"), (FAILED_ACCESS_ACE_FLAG, "failure"))


def ace_line(ace: Ace, resolved: Resolved | None) -> str:
    """One ACE in words: type (and audit outcome), principal and SID, rights, inheritance and flags, origin."""
    kind = ACE_TYPE_WORDS.get(ace.type, f"type {ace.type:#x}")
    if ace.type == SYSTEM_AUDIT_ACE_TYPE:
        outcomes = [word for bit, word in _AUDIT_OUTCOMES if ace.flags & bit]
        kind = f"{kind} {'+'.join(outcomes) or 'no outcome'}"
    rights = ", ".join(mask_to_rights(ace.mask)) or "no rights"
    flags = ", ".join(flag_names(ace.flags)) or "none"
    origin = "inherited" if ace.inherited else "explicit"
    who = console_text(principal_name(ace.sid, resolved))
    return f"  {kind} {who} ({ace.sid}): {rights}; inherit {inherit_name(ace.flags)} (flags {flags}); {origin}\n"


def _acl_lines(what: str, present: bool, acl: Acl | None, protected: bool, resolved: Resolved | None) -> list[str]:
    if not present:
        return [f"{what}: absent\n"]
    if acl is None:
        return [f"{what}: NULL (no access control)\n"]
    state = "protected" if protected else "inheriting"
    return [f"{what}: {plural(len(acl.aces), 'entry')}, {state}\n", *(ace_line(ace, resolved) for ace in acl.aces)]


def descriptor_text(sd: SecurityDescriptor, resolved: Resolved | None = None) -> str:
    """The SDDL and a readable table of owner, group and DACL entries (explicit and inherited)."""
    lines = [f"sddl: {sd_to_sddl(sd)}\n"]
    for what, sid in (("owner", sd.owner), ("group", sd.group)):
        lines.append(f"{what}: {console_text(principal_name(sid, resolved))} ({sid})\n" if sid else f"{what}: none\n")
    lines += _acl_lines("dacl", sd.has_dacl, sd.dacl, bool(sd.control & SE_DACL_PROTECTED), resolved)
    return "".join(lines)


def descriptor_diff(
    namespace: str, before: SecurityDescriptor, after: SecurityDescriptor, resolved: Resolved | None = None
) -> Diff:
    """A namespace's security descriptor as read and as the planned SetSD leaves it (inherited entries included)."""
    return _diff(
        f"{console_text(namespace)} (namespace security descriptor)",
        descriptor_text(before, resolved),
        descriptor_text(after, resolved),
    )


def sacl_sddl(sd: SecurityDescriptor) -> str:
    """The SACL part of a descriptor as SDDL ('S:' plus its flags and entries; 'none' when it has none)."""
    if sd.sacl is None:
        return "none"
    return sd_to_sddl(SecurityDescriptor(control=SE_SELF_RELATIVE | (sd.control & SE_SACL_PROTECTED), sacl=sd.sacl))


def sacl_text(sd: SecurityDescriptor, resolved: Resolved | None = None) -> str:
    """The SACL part of a descriptor: its SDDL ``S:`` part and one line per audit entry."""
    lines = [f"sacl: {sacl_sddl(sd)}\n"]
    if sd.sacl is not None:
        lines += _acl_lines("audit", True, sd.sacl, bool(sd.control & SE_SACL_PROTECTED), resolved)
    return "".join(lines)


def sacl_diff(
    namespace: str, before: SecurityDescriptor, after: SecurityDescriptor, resolved: Resolved | None = None
) -> Diff:
    """A namespace's SACL as read and as the planned write leaves it."""
    return _diff(f"{console_text(namespace)} (namespace SACL)", sacl_text(before, resolved), sacl_text(after, resolved))


# --- event subscriptions ------------------------------------------------------------------------------------------

# What each kind of part is called in WMI, for the line that names it.
_PART_CLASSES = {"filter": "__EventFilter", "binding": "__FilterToConsumerBinding"}


def part_text(kind: str, part: t.Mapping[str, t.Any]) -> str:
    """One filter, consumer or binding (its to_dict()): a line naming it, then one line per property it has."""
    namespace = console_text(part.get("namespace") or "")
    if kind == "binding":
        title = (
            f"{_PART_CLASSES['binding']} in {namespace}: filter '{console_text(part.get('filter'))}' -> "
            f"{console_text(part.get('consumer_class') or '?')} '{console_text(part.get('consumer'))}'"
        )
        return f"{title}\n"
    cls = _PART_CLASSES.get(kind) or console_text(part.get("class") or kind)
    lines = [f"{cls} '{console_text(part.get('name'))}' in {namespace}\n"]
    skipped = {"namespace", "name", "class", "properties"}
    values = [(key, value) for key, value in part.items() if key not in skipped]
    values += sorted((dict(part.get("properties") or {})).items())
    for key, value in values:
        if value is None or value == "" or value == []:
            continue
        shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        lines.append(f"  {console_text(key)}: {console_text(shown)}\n")
    return "".join(lines)


def subscription_diff(
    subscription: str,
    before: t.Sequence[tuple[str, t.Mapping[str, t.Any]]],
    after: t.Sequence[tuple[str, t.Mapping[str, t.Any]]],
) -> Diff:
    """A subscription's parts in the WMI repository before and after: ``(kind, part.to_dict())`` each."""
    return _diff(
        f"{console_text(subscription)} (WMI repository)",
        "".join(part_text(kind, part) for kind, part in before),
        "".join(part_text(kind, part) for kind, part in after),
    )
