# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The legacy WMI script audit (pure, stdlib): which scripts use the removed ADSI-WMI extension or asynchronous WMI.

Windows Server 2003 removed the ADSI extension for WMI (IWMIExtension: ``WMIObjectPath``, ``GetWMIObject``,
``GetWMIServices`` on ADSI computer objects), and asynchronous WMI delivers its callbacks through unsecapp.exe, which
accepts them from anyone unless ``UnsecAppAccessControlDefault`` is 1. Rules run on the tokens of
_script_lexers, so comments and string literals are never mistaken for code. Findings carry a concrete fix in the
script's own language (_script_fixes).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

from .._text import plural
from ._script_fixes import explanation, severity_of, suggested_fix
from ._script_lexers import (
    ENCODED_SIGNATURE,
    TOKENIZERS,
    WSF_LANGUAGES,
    UnreadableScript,
    decode_script,
    language_of,
    wsf_elements,
)
from ._script_rules import ADSI_RULES, ALL_RULES, ASYNC_RULES, SINK_PROGID, ScriptText, find_hits

__all__ = ["ADSI_RULES", "ALL_RULES", "ASYNC_RULES", "ScanResult", "ScriptFile", "scan_files", "scan_script"]


def read_script(path: str, data: bytes, code_page: int | None = None) -> ScriptText:
    """Bytes -> tokens per code unit. Raises UnreadableScript (binary, encoded, unknown language).

    ``code_page``: the host's ANSI code page (GetACP), used for text that is neither UTF-8 nor UTF-16."""
    language = language_of(path)
    if language is None:
        raise UnreadableScript("not a script type the audit reads (.vbs, .vbe, .js, .jse, .wsf, .ps1, .psm1)")
    text, encoding = decode_script(data, code_page)
    if text.lstrip("\ufeff").startswith(ENCODED_SIGNATURE):
        raise UnreadableScript(
            "encoded with the Script Encoder (#@~^ signature): decode it, or audit the source it was encoded from"
        )
    script = ScriptText(path, language, encoding, text.splitlines())
    if language != "wsf":
        script.units.append((language, TOKENIZERS[language](text)))
        return script
    for element in wsf_elements(text):
        if element.tag == "object":
            if element.attributes.get("progid", "").lower() == SINK_PROGID:
                script.sink_objects.append((element.line, element.column, element.attributes.get("id", "")))
            continue
        block_language = element.attributes.get("language", "").lower()
        if block_language.endswith(".encode") or ENCODED_SIGNATURE in element.body:
            raise UnreadableScript(f"line {element.line}: an encoded script block ({block_language}) cannot be read")
        if block_language in WSF_LANGUAGES:
            tokenize = TOKENIZERS[WSF_LANGUAGES[block_language]]
            script.units.append(
                (WSF_LANGUAGES[block_language], tokenize(element.body, element.body_line, element.body_column))
            )
    return script


def scan_script(
    path: str,
    data: bytes,
    *,
    lockdown: bool | None = None,
    rules: frozenset[str] = ALL_RULES,
    code_page: int | None = None,
) -> list[dict[str, t.Any]]:
    """The findings in one script file, in file order. Raises UnreadableScript for what cannot be read as script.

    ``lockdown``: the host's UnsecAppAccessControlDefault is 1 (True), is not (False), or unknown (None: a
    repository scanned on the controller); it decides the severity of the asynchronous findings.
    """
    script = read_script(path, data, code_page)
    findings = []
    for hit in sorted(find_hits(script, rules), key=lambda hit: (hit.token.line, hit.token.column, hit.finding_id)):
        line_text = script.lines[hit.token.line - 1] if 0 < hit.token.line <= len(script.lines) else ""
        context = {**hit.detail, "language": hit.language, "lockdown": lockdown}
        findings.append(
            {
                "file": path,
                "line": hit.token.line,
                "column": hit.token.column,
                "language": script.language,
                "finding_id": hit.finding_id,
                "severity": severity_of(hit.finding_id, context),
                "snippet": line_text.strip()[:200],
                "explanation": explanation(hit.finding_id, context),
                "suggested_fix": suggested_fix(hit.finding_id, context),
            }
        )
    return findings


@dataclass(frozen=True)
class ScriptFile:
    """A file as the host (or the controller) read it: content None when it was not read, with the reason."""

    path: str
    size: int | None
    content: bytes | None
    truncated: bool = False
    error: str | None = None
    skipped: str | None = None  # why it was deliberately not read (nothing there that is not read elsewhere)


@dataclass
class ScanResult:
    findings: list[dict[str, t.Any]] = field(default_factory=list)
    files: list[dict[str, t.Any]] = field(default_factory=list)  # {file, size, language, status, message}
    limits: list[str] = field(default_factory=list)  # what the bounds left out, as sentences

    @property
    def not_scanned(self) -> list[dict[str, t.Any]]:
        return [record for record in self.files if record["status"] != "scanned"]


# Status of a file that was listed but not fully scanned because the scan ran out of time.
TIME_BUDGET_EXCEEDED = "TIME_BUDGET"


def scan_files(
    files: t.Iterable[ScriptFile],
    *,
    lockdown: bool | None = None,
    rules: frozenset[str] = ALL_RULES,
    max_file_bytes: int | None = None,
    code_page: int | None = None,
    time_budget: float | None = None,
    clock: t.Callable[[], float] = time.monotonic,
) -> ScanResult:
    """Scan every file; a file that cannot be read is listed with its reason and never stops the scan.

    ``time_budget``: seconds the whole scan may take (per host). Every rule is linear in the file's size, so one
    file takes a bounded time; once the budget is spent, the remaining files are listed as not scanned
    (``TIME_BUDGET``) and ``limits`` says so, instead of the task running on for as long as the files allow.
    """
    result = ScanResult()
    deadline = None if time_budget is None else clock() + time_budget
    for script_file in files:
        record: dict[str, t.Any] = {
            "file": script_file.path,
            "size": script_file.size,
            "language": language_of(script_file.path),
        }
        if script_file.error:
            record.update(status="error", message=script_file.error)
        elif script_file.skipped:
            record.update(status="skipped", message=script_file.skipped)
        elif record["language"] is None:
            record.update(status="skipped", message="not a script type the audit reads")
        elif script_file.truncated or script_file.content is None:
            limit = f" ({plural(max_file_bytes, 'byte')})" if max_file_bytes else ""
            record.update(status="too_large", message=f"larger than max_file_bytes{limit}: not read")
        elif deadline is not None and clock() > deadline:
            record.update(
                status="error",
                message=f"{TIME_BUDGET_EXCEEDED}: scan time budget exceeded ({time_budget:g} s): not scanned",
            )
        else:
            try:
                findings = scan_script(
                    script_file.path, script_file.content, lockdown=lockdown, rules=rules, code_page=code_page
                )
            except UnreadableScript as exc:
                record.update(status="unreadable", message=str(exc))
            else:
                result.findings.extend(findings)
                record.update(status="scanned", message=plural(len(findings), "finding"))
        result.files.append(record)
    timed_out = sum(1 for record in result.files if str(record["message"]).startswith(TIME_BUDGET_EXCEEDED))
    if timed_out:
        result.limits.append(
            f"Scan time budget exceeded ({time_budget:g} s): {plural(timed_out, 'file')} not scanned; raise "
            "max_scan_seconds or narrow paths/patterns."
        )
    return result
