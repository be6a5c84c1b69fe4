# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The lines a person reads first: the host's verdict line and the console warnings naming the host."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t


def verdict_line(result: t.Mapping[str, t.Any], *, writes: str | None = None) -> str:
    """'drift (WMI-001 drift, WMI-004 drift): 4 of 6 controls compliant' - the one line a user reads first.

    ``writes`` is what the run does to the host: None (audit: it never writes), 'check' (enforce in check mode:
    the line ends with what a real run would change) or 'run' (what this run changed)."""
    records = result["controls"]
    passing = sum(1 for record in records if record["status"] in ("compliant", "remediated"))
    judged = sum(1 for record in records if record["status"] != "not_applicable")
    problems = [f"{record['id']} {record['status']}" for record in records if record["status"] in ("drift", "error")]
    detail = f" ({', '.join(problems)})" if problems else ""
    if result["status"] == "not_applicable":
        return f"not_applicable: {records[0].get('reason', '') if records else 'no control applies'}"
    line = f"{result['status']}{detail}: {passing} of {judged} controls compliant"
    changing = [record["id"] for record in records if record.get("changes")]
    if writes == "check":
        line += f"; a real run would change {', '.join(changing)}" if changing else "; a real run would change nothing"
    elif writes == "run" and changing:
        line += f"; changed {', '.join(changing)}"
    return line


# Verdicts a person must see even when ANSIBLE_DISPLAY_OK_HOSTS=false hides ok results: the baseline prints them as
# a warning naming the host (warnings always print, and identical warnings collapse, so each names its host).
VERDICTS_WARNED = frozenset({"drift", "error"})


DECISIONS_SHOWN = 4


def verdict_warning(host: str, result: t.Mapping[str, t.Any]) -> list[str]:
    """One line for a host a person must act on: 'web01: drift (WMI-004 drift): 5 of 6 controls compliant; needs a
    decision: WMI-004 on root\\ContosoBackup'. None for the others."""
    if result.get("status") not in VERDICTS_WARNED:
        return []
    pending = decisions(result.get("controls", []))
    shown = ", ".join(pending[:DECISIONS_SHOWN]) + (
        f" and {len(pending) - DECISIONS_SHOWN} more" if len(pending) > DECISIONS_SHOWN else ""
    )
    return [f"{host}: {result['msg']}" + (f"; needs a decision: {shown}" if pending else "")]


def host_warnings(host: str | None, result: t.Mapping[str, t.Any], shared: t.Collection[str] = ()) -> list[str]:
    """The host's warnings, each naming the host (Ansible prints warnings without a host and collapses identical
    ones), its verdict first. ``shared`` are the exact texts the controller wrote from the user's own input (an
    exception that matched nothing): the same on every host, so they print once. Matched by whole text, never by
    words: a warning quoting a host's file or consumer name must not pass for one and lose its host."""
    warnings = list(result.get("warnings", []))
    if not host:
        return warnings
    named = [f"{host}: {warning}" for warning in warnings if warning not in shared]
    return [*verdict_warning(host, result), *named, *(warning for warning in warnings if warning in shared)]


def decisions(records: t.Iterable[t.Mapping[str, t.Any]]) -> list[str]:
    """'WMI-004 on root\\ContosoBackup' for each drift the baseline will not fix by itself (a person decides; the
    report holds each finding's message and remediation)."""
    found: list[str] = []
    for record in records:
        if record["status"] != "drift" or record["remediation"]["automatic"]:
            continue
        for finding in record["findings"]:
            if finding.get("excepted"):
                continue
            where = finding.get("namespace") or finding.get("file") or ""
            # What a person decides about: the principal of a grant, the subscription of a consumer.
            what = finding.get("subscription") or finding.get("principal") or ""
            item = f"{record['id']}{' on ' + where if where else ''}{f' ({what})' if what else ''}"
            if item not in found:
                found.append(item)
    return found
