# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The rules of the legacy WMI script audit, on the tokens of _script_lexers (pure, stdlib).

ADSI-WMI extension: IWMIExtension's members (WMIObjectPath, GetWMIObject, GetWMIServices) accessed on an object;
the object counts as ADSI when the script assigns it from an ADSI source (an LDAP://, WinNT:// or GC:// path string,
[ADSI], System.DirectoryServices, IADs*) or iterates one. Asynchronous WMI: SWbemSink creation, SWbemServices'
*Async and SWbemObject's *Async_ methods, WScript.ConnectObject sink wiring, Register-WmiEvent and
Register-CimIndicationEvent; then, inside the callbacks (sink event handlers, -Action blocks), privileged work.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

from ._script_lexers import Token

ADSI_RULES = frozenset({"adsi_wmi_extension"})
ASYNC_RULES = frozenset(
    {
        "async_wmi_sink",
        "async_wmi_call",
        "async_wmi_sink_wiring",
        "async_wmi_event_registration",
        "async_handler_privileged",
    }
)
ALL_RULES = ADSI_RULES | ASYNC_RULES

# IWMIExtension's members: the ADSI extension for WMI that Windows Server 2003 no longer ships.
ADSI_WMI_MEMBERS = {"wmiobjectpath", "getwmiobject", "getwmiservices"}
_ADSI_PATH = re.compile(r"^\s*(LDAP|WinNT|GC)://", re.IGNORECASE)
_ADSI_WORDS = {"iadscomputer", "iads", "iadscontainer", "getdirectoryentry"}
_ADSI_TYPES = ("adsi", "adsisearcher", "system.directoryservices")
# SWbemServices' asynchronous methods; SWbemObject's end in "Async_" (ExecMethodAsync_, PutAsync_, ...).
ASYNC_METHODS = {
    "execqueryasync",
    "execnotificationqueryasync",
    "instancesofasync",
    "getasync",
    "execmethodasync",
    "deleteasync",
    "associatorsofasync",
    "referencestoasync",
    "subclassesofasync",
}
_OBJECT_ASYNC = re.compile(r"^[a-z]+async_$")
SINK_PROGID = "wbemscripting.swbemsink"
SINK_EVENTS = ("onobjectready", "oncompleted", "onprogress", "onobjectput")
PS_EVENT_REGISTRATION = {"register-wmievent", "register-cimindicationevent"}
# What a callback must not do when anyone can trigger it: shut down, kill, stop services, start processes, write the
# registry (Win32_OperatingSystem, Win32_Process, Win32_Service, StdRegProv methods; WScript.Shell; cmdlets).
PRIVILEGED_MEMBERS = {
    "win32shutdown",
    "win32shutdowntracker",
    "shutdown",
    "reboot",
    "terminate",
    "stopservice",
    "changestartmode",
    "regwrite",
    "regdelete",
    "setstringvalue",
    "setexpandedstringvalue",
    "setmultistringvalue",
    "setdwordvalue",
    "setqwordvalue",
    "setbinaryvalue",
    "createkey",
    "deletekey",
    "deletevalue",
    "run",
    "exec",
}
PRIVILEGED_COMMANDS = {
    "stop-computer",
    "restart-computer",
    "stop-process",
    "stop-service",
    "set-service",
    "start-process",
    "set-itemproperty",
    "new-itemproperty",
    "remove-itemproperty",
    "invoke-expression",
}
PRIVILEGED_WMI_METHODS = {"create", "terminate", "win32shutdown", "stopservice", "reboot", "shutdown"}


@dataclass
class ScriptText:
    """One file's code units: (language, tokens) per script body (a .wsf has several), plus its lines."""

    path: str
    language: str
    encoding: str
    lines: list[str]
    units: list[tuple[str, list[Token]]] = field(default_factory=list)
    sink_objects: list[tuple[int, int, str]] = field(default_factory=list)  # WSF <object progid=SWbemSink id=...>


@dataclass
class Hit:
    finding_id: str
    token: Token
    language: str
    detail: dict[str, t.Any] = field(default_factory=dict)


def _member(tokens: list[Token], index: int) -> bool:
    return index > 0 and tokens[index].kind == "word" and tokens[index - 1].is_op(".")


def _receiver(tokens: list[Token], index: int) -> str:
    """The name an access ``x.Member`` is made on (x), or '' when it is an expression."""
    if index >= 2 and tokens[index - 2].kind in ("word", "var"):
        return tokens[index - 2].text.lower()
    return ""


def statement_bounds(tokens: list[Token]) -> list[tuple[int, int]]:
    """For each token, the bounds [start, end) of the statement holding it. An eol token, or the bracket that
    encloses the token, ends a statement; a bracketed group inside a statement belongs to it. Two linear passes
    (a script may be one 1 MB line)."""
    openers, closers = ("(", "[", "{"), (")", "]", "}")
    starts, ends = [0] * len(tokens), [len(tokens)] * len(tokens)
    stack: list[int] = []
    current = 0
    for index, token in enumerate(tokens):
        starts[index] = current
        if token.kind == "op" and token.text in openers:
            stack.append(current)
            current = index + 1
        elif token.kind == "op" and token.text in closers:
            current = stack.pop() if stack else index + 1
        elif token.kind == "eol":
            current = index + 1
    stack = []
    current = len(tokens)
    for index in range(len(tokens) - 1, -1, -1):
        token = tokens[index]
        if token.kind == "op" and token.text in closers:
            stack.append(current)
            current = index
        elif token.kind == "op" and token.text in openers:
            current = stack.pop() if stack else index
        elif token.kind == "eol":
            current = index
        ends[index] = current
    return list(zip(starts, ends, strict=True))


def _arguments(tokens: list[Token], index: int) -> list[list[Token]]:
    """The arguments of the call named by tokens[index]: ``f(a, b)``, or VBScript's statement form ``f a, b``."""
    start = index + 1
    closing = None
    if start < len(tokens) and tokens[start].is_op("("):
        start += 1
        closing = ")"
    arguments: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[start:]:
        if closing is None and token.kind == "eol" and depth == 0:
            break
        if token.is_op("(", "[", "{"):
            depth += 1
        elif token.is_op(")", "]", "}"):
            if depth == 0:
                break
            depth -= 1
        elif token.is_op(",") and depth == 0:
            arguments.append([])
            continue
        arguments[-1].append(token)
    return [argument for argument in arguments if argument]


def _is_adsi_source(token: Token, adsi_names: set[str]) -> bool:
    if token.kind == "string":
        return bool(_ADSI_PATH.match(token.text)) or token.text.lower() == "adsdsoobject"
    if token.kind == "type":
        return token.text.startswith(_ADSI_TYPES)
    if token.kind in ("word", "var"):
        return token.text.lower() in adsi_names or token.text.lower() in _ADSI_WORDS
    return False


def _assigned_name(tokens: list[Token], start: int) -> str | None:
    """The variable a statement assigns (``Set x =``, ``var x =``, ``x =``, ``$x =``, ``For Each x In``)."""
    index = start
    if index < len(tokens) and tokens[index].is_word("set", "var", "dim", "let", "const"):
        index += 1
    if (
        index < len(tokens)
        and tokens[index].is_word("for")
        and index + 2 < len(tokens)
        and tokens[index + 1].is_word("each")
    ):
        return tokens[index + 2].text.lower()
    if index + 1 < len(tokens) and tokens[index].kind in ("word", "var") and tokens[index + 1].is_op("="):
        return tokens[index].text.lower()
    return None


def _defined_names(tokens: list[Token]) -> set[str]:
    """Functions and methods the script defines itself (``function X``, ``Sub X``, ``obj.X = function``)."""
    names = set()
    for index, token in enumerate(tokens[:-1]):
        if token.is_word("function", "sub") and tokens[index + 1].kind == "word":
            names.add(tokens[index + 1].text.lower())
        elif (
            _member(tokens, index)
            and tokens[index + 1].is_op("=")
            and index + 2 < len(tokens)
            and tokens[index + 2].is_word("function")
        ):
            names.add(token.text.lower())
    return names


def _handler_ranges(tokens: list[Token], language: str, prefixes: set[str]) -> list[tuple[int, int, str]]:
    """Token ranges of asynchronous callbacks: sink event handlers (VBScript Sub/JScript function named
    <prefix>OnObjectReady..., or JScript ``function SINK::OnObjectReady``) and PowerShell -Action blocks."""
    ranges = []
    for index, token in enumerate(tokens):
        if language == "powershell":
            if _is_action_parameter(token) and index + 1 < len(tokens) and tokens[index + 1].is_op("{"):
                ranges.append((index + 1, _matching(tokens, index + 1), "-Action"))
            continue
        if not token.is_word("sub", "function") or index + 1 >= len(tokens) or tokens[index + 1].kind != "word":
            continue
        name = tokens[index + 1].text.lower()
        after = index + 2
        if after + 2 < len(tokens) and tokens[after].is_op(":") and tokens[after + 1].is_op(":"):
            name = f"{name}_{tokens[after + 2].text.lower()}"  # function SINK::OnObjectReady
        if not any(name.endswith(event) for event in SINK_EVENTS):
            continue
        prefix = name[: -len(next(event for event in SINK_EVENTS if name.endswith(event)))]
        if prefixes and prefix not in prefixes and prefix.rstrip("_") + "_" not in prefixes:
            continue
        if language == "vbscript":
            end = next(
                (
                    i
                    for i in range(index + 2, len(tokens) - 1)
                    if tokens[i].is_word("end") and tokens[i + 1].is_word("sub", "function")
                ),
                len(tokens),
            )
        else:
            brace = next((i for i in range(index, len(tokens)) if tokens[i].is_op("{")), len(tokens) - 1)
            end = _matching(tokens, brace)
        ranges.append((index, end, tokens[index + 1].text))
    return ranges


def _is_action_parameter(token: Token) -> bool:
    # PowerShell accepts any unambiguous prefix of a parameter name (-Act, -Action).
    return token.kind == "param" and len(token.text) >= 2 and "action".startswith(token.text)


def _matching(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        if tokens[index].is_op("{"):
            depth += 1
        elif tokens[index].is_op("}"):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens)


def _privileged_actions(
    tokens: list[Token], bounds: list[tuple[int, int]], start: int, end: int
) -> list[tuple[Token, str]]:
    body = tokens[start:end]
    mentions_process = any(
        token.text.lower() == "win32_process" or "win32_process" in token.text.lower()
        for token in body
        if token.kind in ("word", "string")
    )
    actions = []
    for offset, token in enumerate(body):
        index = start + offset
        name = token.text.lower()
        privileged_member = name in PRIVILEGED_MEMBERS or (name == "create" and mentions_process)
        if (_member(tokens, index) and privileged_member) or (token.kind == "word" and name in PRIVILEGED_COMMANDS):
            actions.append((token, token.text))
        elif token.kind == "word" and name in ("invoke-cimmethod", "invoke-wmimethod"):
            statement_end = bounds[index][1]
            method = next(
                (
                    tokens[i + 1].text
                    for i in range(index, statement_end - 1)
                    if tokens[i].kind == "param" and tokens[i].text in ("methodname", "name")
                ),
                "",
            )
            if method.lower() in PRIVILEGED_WMI_METHODS:
                actions.append((token, f"{token.text} {method}"))
    return actions


def find_hits(script: ScriptText, rules: frozenset[str]) -> list[Hit]:
    hits: list[Hit] = []
    adsi_names: set[str] = set()
    sink_names: set[str] = set()
    prefixes = {f"{object_id.lower()}_" for _line, _column, object_id in script.sink_objects}
    for line, column, object_id in script.sink_objects:
        hits.append(
            Hit(
                "async_wmi_sink", Token("string", "WbemScripting.SWbemSink", line, column), "wsf", {"prefix": object_id}
            )
        )
    all_tokens = [token for _language, tokens in script.units for token in tokens]
    file_has_adsi = any(_is_adsi_source(token, set()) for token in all_tokens)
    defined = _defined_names(all_tokens)
    for language, tokens in script.units:
        bounds = statement_bounds(tokens)
        for index, token in enumerate(tokens):
            name = token.text.lower()
            start, end = bounds[index]
            if index == start and (assigned := _assigned_name(tokens, start)):
                rhs = tokens[start + 1 : end]
                if any(_is_adsi_source(other, adsi_names) for other in rhs):
                    adsi_names.add(assigned)
                if any(other.kind == "string" and other.text.lower() == SINK_PROGID for other in rhs):
                    sink_names.add(assigned)
            if _member(tokens, index) and name in ADSI_WMI_MEMBERS:
                receiver = _receiver(tokens, index)
                if name in defined and receiver not in adsi_names:
                    continue
                confirmed = receiver in adsi_names
                detail: dict[str, t.Any] = {
                    "receiver": tokens[index - 2].text if receiver else "",
                    "member": token.text,
                }
                detail.update(confirmed=confirmed, adsi_in_file=file_has_adsi)
                hits.append(Hit("adsi_wmi_extension", token, language, detail))
            elif token.kind == "string" and name == SINK_PROGID and _is_object_creation(tokens, index):
                call = tokens[index - 2] if index >= 2 else token
                arguments = _arguments(tokens, index - 2) if call.is_word("createobject") else []
                prefix = arguments[1][0].text if len(arguments) > 1 and arguments[1][0].kind == "string" else ""
                if prefix:
                    prefixes.add(prefix.lower())
                hits.append(Hit("async_wmi_sink", token, language, {"prefix": prefix}))
            elif token.kind == "word" and name == "swbemsink":  # Dim s As SWbemSink; New-Object -ComObject ...SWbemSink
                hits.append(Hit("async_wmi_sink", token, language, {"prefix": ""}))
            elif _member(tokens, index) and (name in ASYNC_METHODS or _OBJECT_ASYNC.match(name)):
                hits.append(Hit("async_wmi_call", token, language, {"method": token.text}))
            elif _member(tokens, index) and name == "connectobject":
                arguments = _arguments(tokens, index)
                if len(arguments) >= 2 and arguments[1][0].kind == "string":
                    target = arguments[0][0].text.lower()
                    prefixes.add(arguments[1][0].text.lower())
                    if target in sink_names or any(hit.finding_id.startswith("async_wmi") for hit in hits):
                        hits.append(Hit("async_wmi_sink_wiring", token, language, {"prefix": arguments[1][0].text}))
            elif token.kind == "word" and name in PS_EVENT_REGISTRATION:
                statement = tokens[index:end]
                has_action = any(_is_action_parameter(other) for other in statement)
                hits.append(
                    Hit("async_wmi_event_registration", token, language, {"cmdlet": token.text, "action": has_action})
                )
    if any(hit.finding_id.startswith("async_wmi") for hit in hits):
        for language, tokens in script.units:
            bounds = statement_bounds(tokens)
            for start, end, handler in _handler_ranges(tokens, language, prefixes):
                for action, what in _privileged_actions(tokens, bounds, start, end):
                    hits.append(Hit("async_handler_privileged", action, language, {"handler": handler, "action": what}))
    return [hit for hit in hits if hit.finding_id in rules]


def _is_object_creation(tokens: list[Token], index: int) -> bool:
    """Whether the string at tokens[index] is the ProgID argument of CreateObject, ActiveXObject or New-Object."""
    if index >= 2 and tokens[index - 1].is_op("(") and tokens[index - 2].is_word("createobject", "activexobject"):
        return True
    if index >= 1 and tokens[index - 1].is_word("createobject"):
        return True  # VBScript: CreateObject "WbemScripting.SWbemSink" (statement form)
    return index >= 1 and tokens[index - 1].kind == "param" and "comobject".startswith(tokens[index - 1].text)
