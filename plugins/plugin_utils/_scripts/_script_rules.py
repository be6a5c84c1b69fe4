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


# How far (in tokens) a rule looks for a call's first arguments or an assignment's source. Real calls and assignments
# name them within a few tokens; the window keeps an unterminated call (``f(`` then 1 MB of anything) from being
# read to the end of the file once per call, which would make the scan quadratic.
LOOKAHEAD_TOKENS = 64


def _arguments(tokens: list[Token], index: int) -> list[list[Token]]:
    """The arguments of the call named by tokens[index]: ``f(a, b)``, or VBScript's statement form ``f a, b``
    (within LOOKAHEAD_TOKENS)."""
    start = index + 1
    closing = None
    if start < len(tokens) and tokens[start].is_op("("):
        start += 1
        closing = ")"
    arguments: list[list[Token]] = [[]]
    depth = 0
    for token in tokens[start : start + LOOKAHEAD_TOKENS]:
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
        if token.kind not in ("word", "string"):
            continue
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


def bracket_matches(tokens: list[Token]) -> list[int]:
    """For each opening bracket token, the index of the bracket that closes it (-1 when none does); -1 elsewhere.
    One pass with a stack, so that no rule ever searches forward for a closing bracket (an unterminated bracket
    would make that search run to the end of the file once per bracket: quadratic)."""
    pairs = {")": "(", "]": "[", "}": "{"}
    matches = [-1] * len(tokens)
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind != "op":
            continue
        if token.text in ("(", "[", "{"):
            stack.append(index)
        elif token.text in pairs and stack and tokens[stack[-1]].text == pairs[token.text]:
            matches[stack.pop()] = index
    return matches


def _next_index(tokens: list[Token], found: t.Callable[[int], bool]) -> list[int]:
    """For each index i, the smallest j >= i where found(j), else len(tokens) (one backward pass)."""
    following = [len(tokens)] * (len(tokens) + 1)
    for index in range(len(tokens) - 1, -1, -1):
        following[index] = index if found(index) else following[index + 1]
    return following


def _handler_ranges(
    tokens: list[Token], language: str, prefixes: set[str], matches: list[int]
) -> list[tuple[int, int, str]]:
    """Token ranges of asynchronous callbacks: sink event handlers (VBScript Sub/JScript function named
    <prefix>OnObjectReady..., or JScript ``function SINK::OnObjectReady``) and PowerShell -Action blocks.

    Linear: each range's end comes from tables built once. VBScript procedures do not nest (VBScript Language
    Reference, Sub statement: a Sub cannot be defined inside another Sub or Function), so an unterminated Sub ends at
    the next Sub or Function declaration; a JScript body ends at the brace matching its opening one, or at the end of
    the file when nothing matches."""
    ranges = []
    if language == "vbscript":
        end_procedure = _next_index(
            tokens,
            lambda i: (
                (tokens[i].is_word("end") and i + 1 < len(tokens) and tokens[i + 1].is_word("sub", "function"))
                or (tokens[i].is_word("sub", "function") and (i == 0 or not tokens[i - 1].is_word("end", "exit")))
            ),
        )
    else:
        next_brace = _next_index(tokens, lambda i: tokens[i].is_op("{"))
    for index, token in enumerate(tokens):
        if language == "powershell":
            if _is_action_parameter(token) and index + 1 < len(tokens) and tokens[index + 1].is_op("{"):
                ranges.append((index + 1, _closing(matches, index + 1, len(tokens)), "-Action"))
            continue
        if not token.is_word("sub", "function") or index + 1 >= len(tokens) or tokens[index + 1].kind != "word":
            continue
        if index > 0 and tokens[index - 1].is_word("end", "exit"):
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
            end = end_procedure[index + 1]
        else:
            brace = next_brace[index]
            end = _closing(matches, brace, len(tokens)) if brace < len(tokens) else len(tokens)
        ranges.append((index, end, tokens[index + 1].text))
    return ranges


def _is_action_parameter(token: Token) -> bool:
    # PowerShell accepts any unambiguous prefix of a parameter name (-Act, -Action).
    return token.kind == "param" and len(token.text) >= 2 and "action".startswith(token.text)


def _closing(matches: list[int], open_index: int, unmatched: int) -> int:
    return matches[open_index] if matches[open_index] >= 0 else unmatched


def _privileged_actions(
    tokens: list[Token], bounds: list[tuple[int, int]], ranges: list[tuple[int, int, str]]
) -> list[tuple[Token, str, str]]:
    """(token, action, handler) for privileged work inside the callback ranges. Each token is looked at once, in the
    first range that holds it (ranges nest when a handler is unterminated), so the pass stays linear."""
    process_mentions = [0]
    for token in tokens:
        mentions = token.kind in ("word", "string") and "win32_process" in token.text.lower()
        process_mentions.append(process_mentions[-1] + mentions)
    method_parameter = _next_index(
        tokens, lambda i: tokens[i].kind == "param" and tokens[i].text in ("methodname", "name")
    )
    actions = []
    covered = 0
    for start, end, handler in sorted(ranges):
        if end <= covered:
            continue
        mentions_process = process_mentions[end] - process_mentions[start] > 0
        for index in range(max(start, covered), end):
            token = tokens[index]
            name = token.text.lower()
            privileged_member = name in PRIVILEGED_MEMBERS or (name == "create" and mentions_process)
            if (_member(tokens, index) and privileged_member) or (token.kind == "word" and name in PRIVILEGED_COMMANDS):
                actions.append((token, token.text, handler))
            elif token.kind == "word" and name in ("invoke-cimmethod", "invoke-wmimethod"):
                parameter = method_parameter[index]
                method = tokens[parameter + 1].text if parameter + 1 < bounds[index][1] else ""
                if method.lower() in PRIVILEGED_WMI_METHODS:
                    actions.append((token, f"{token.text} {method}", handler))
        covered = end
    return actions


def _member_access(tokens: list[Token], index: int, language: str) -> tuple[str, str] | None:
    """(member name, receiver name or '') when tokens[index] names a member accessed on an object, in any form the
    language has for it; None otherwise.

    - ``x.Member`` (every language; PowerShell's ``x::Member`` is lexed the same) and PowerShell's quoted member
      name ``$x."Member"()`` (about_Methods: the member name may be a string expression).
    - JScript's bracket notation ``x["Member"]`` (ECMA-262 3rd edition 11.2.1, Property Accessors: ``a.b`` is
      ``a["b"]``).
    - PowerShell's ``$x.psbase.Invoke("Member", ...)``, ``.InvokeGet("Property")`` and ``.InvokeMember("Member",
      ...)``: how PowerShell calls an ADSI object's methods and reads its properties through DirectoryEntry.Invoke
      and DirectoryEntry.InvokeGet (System.DirectoryServices), and .NET's Type.InvokeMember (late binding).
    - VBScript's ``CallByName(x, "Member", vbMethod)`` (VBScript Language Reference, CallByName function).
    """
    token = tokens[index]
    if index > 0 and tokens[index - 1].is_op(".") and token.kind in ("word", "string"):
        return token.text, _name_at(tokens, index - 2)
    if token.kind != "string" or index < 2:
        return None
    if (
        language == "jscript"
        and tokens[index - 1].is_op("[")
        and index + 1 < len(tokens)
        and tokens[index + 1].is_op("]")
        and (tokens[index - 2].kind in ("word", "var") or tokens[index - 2].is_op(")", "]"))
    ):
        return token.text, _name_at(tokens, index - 2)
    if (
        index >= 3
        and tokens[index - 1].is_op("(")
        and tokens[index - 2].is_word("invoke", "invokemember", "invokeget")
        and tokens[index - 3].is_op(".")
    ):
        receiver = index - 4
        if receiver >= 2 and tokens[receiver].is_word("psbase") and tokens[receiver - 1].is_op("."):
            receiver -= 2
        return token.text, _name_at(tokens, receiver)
    if language == "vbscript" and tokens[index - 1].is_op(",") and index >= 3:
        call = index - 4 if tokens[index - 3].is_op("(") else index - 3
        if call >= 0 and tokens[call].is_word("callbyname"):
            return token.text, _name_at(tokens, index - 2)
    return None


def _name_at(tokens: list[Token], index: int) -> str:
    return tokens[index].text if 0 <= index < len(tokens) and tokens[index].kind in ("word", "var") else ""


def _folded_strings(tokens: list[Token]) -> dict[int, str]:
    """Concatenations of string literals, folded: {index of the first literal: the whole value} for
    ``"WbemScripting." & "SWbemSink"`` (VBScript &, also +), ``"a" + "b"`` (JScript, PowerShell). One pass."""
    folded: dict[int, str] = {}
    index = 0
    while index < len(tokens):
        if tokens[index].kind != "string":
            index += 1
            continue
        first, parts = index, [tokens[index].text]
        while index + 2 < len(tokens) and tokens[index + 1].is_op("&", "+") and tokens[index + 2].kind == "string":
            parts.append(tokens[index + 2].text)
            index += 2
        folded[first] = "".join(parts)
        index += 1
    return folded


def _with_receivers(tokens: list[Token], language: str, matches: list[int], bounds: list[tuple[int, int]]) -> list[str]:
    """For each token, the object of the innermost ``with`` block holding it ('' outside any): JScript's
    ``with (x) statement`` (ECMA-262 3rd edition 12.10: the statement's identifiers resolve on x first) and
    VBScript's ``With x`` ... ``End With`` (VBScript Language Reference, With statement). One pass with a stack."""
    receivers = [""] * len(tokens)
    openings: dict[int, list[tuple[int, str]]] = {}
    for index, token in enumerate(tokens):
        if token.kind != "word" or index + 1 >= len(tokens) or not token.is_word("with"):
            continue
        if language == "jscript" and tokens[index + 1].is_op("("):
            close = matches[index + 1]
            if close < 0 or close + 1 >= len(tokens):
                continue
            body = close + 1
            end = matches[body] if tokens[body].is_op("{") and matches[body] >= 0 else bounds[body][1]
            openings.setdefault(body, []).append((end, _name_at(tokens, index + 2)))
        elif language == "vbscript" and not (index > 0 and tokens[index - 1].is_word("end")):
            openings.setdefault(index + 1, []).append((-1, _name_at(tokens, index + 1)))
    if not openings:
        return receivers
    stack: list[tuple[int, str]] = []
    for index, token in enumerate(tokens):
        for opening in openings.get(index, []):
            stack.append(opening)
        while stack and 0 <= stack[-1][0] < index:
            stack.pop()
        if language == "vbscript" and token.is_word("with") and index > 0 and tokens[index - 1].is_word("end"):
            if stack:
                stack.pop()
            continue
        receivers[index] = stack[-1][1] if stack else ""
    return receivers


# System.Management (.NET) asynchronous WMI: ManagementOperationObserver is the sink of the asynchronous Get, Put,
# Delete, InvokeMethod overloads; ManagementEventWatcher delivers events asynchronously through its EventArrived event
# after Start() (WaitForNextEvent is its semisynchronous form, not a finding). Microsoft Learn, System.Management.
DOTNET_OBSERVER = "managementoperationobserver"
DOTNET_WATCHER = "managementeventwatcher"
DOTNET_EVENT = "eventarrived"
# The members that take a ManagementOperationObserver (ManagementObject, ManagementClass, ManagementObjectSearcher).
DOTNET_OBSERVER_METHODS = {"get", "put", "delete", "invokemethod", "copyto", "getrelated", "getrelationships"}


def find_hits(script: ScriptText, rules: frozenset[str]) -> list[Hit]:
    hits: list[Hit] = []
    adsi_names: set[str] = set()
    sink_names: set[str] = set()
    progid_names: set[str] = set()  # variables holding the SWbemSink ProgID
    watcher_names: set[str] = set()
    observer_names: set[str] = set()
    has_async = bool(script.sink_objects)
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
    extra_ranges: dict[int, list[tuple[int, int, str]]] = {}
    tables: list[tuple[list[tuple[int, int]], list[int]]] = []
    for unit, (language, tokens) in enumerate(script.units):
        bounds = statement_bounds(tokens)
        matches = bracket_matches(tokens)
        tables.append((bounds, matches))
        folded = _folded_strings(tokens)
        with_receivers = _with_receivers(tokens, language, matches, bounds)
        action_parameters = [0]
        for token in tokens:
            action_parameters.append(action_parameters[-1] + _is_action_parameter(token))
        for index, token in enumerate(tokens):
            if token.kind in ("op", "eol"):
                continue  # punctuation: no rule starts at it (each looks at the words and strings around it)
            name = token.text.lower()
            start, end = bounds[index]
            if index == start and (assigned := _assigned_name(tokens, start)):
                rhs = range(start + 1, min(end, start + 1 + LOOKAHEAD_TOKENS))
                if any(_is_adsi_source(tokens[other], adsi_names) for other in rhs):
                    adsi_names.add(assigned)
                if any(folded.get(other, "").lower() == SINK_PROGID for other in rhs):
                    if any(tokens[other].is_word("createobject", "activexobject") for other in rhs):
                        sink_names.add(assigned)
                    else:
                        progid_names.add(assigned)
                if any(tokens[other].text.lower().endswith(DOTNET_WATCHER) for other in rhs):
                    watcher_names.add(assigned.lstrip("$"))
                if any(tokens[other].text.lower().endswith(DOTNET_OBSERVER) for other in rhs):
                    observer_names.add(assigned.lstrip("$"))
            access = _member_access(tokens, index, language)
            if (
                access is None
                and token.kind == "word"
                and with_receivers[index]
                and name in ADSI_WMI_MEMBERS
                and not (index > 0 and tokens[index - 1].is_word("function", "sub"))
            ):
                access = (token.text, with_receivers[index])  # with (c) { GetWMIServices() }
            member_text = access[0] if access else ""
            member = member_text.lower()
            receiver = (access[1] or with_receivers[index]).lower() if access else ""
            if member in ADSI_WMI_MEMBERS:
                if member in defined and receiver not in adsi_names:
                    continue
                detail: dict[str, t.Any] = {
                    "receiver": access[1] if access else "",
                    "member": member_text,
                }
                detail.update(confirmed=receiver in adsi_names, adsi_in_file=file_has_adsi)
                hits.append(Hit("adsi_wmi_extension", token, language, detail))
            elif member in ASYNC_METHODS or _OBJECT_ASYNC.match(member):
                has_async = True
                hits.append(Hit("async_wmi_call", token, language, {"method": member_text}))
            elif member == "start" and receiver.lstrip("$") in watcher_names:
                has_async = True
                hits.append(Hit("async_wmi_call", token, language, {"method": "ManagementEventWatcher.Start"}))
            elif member in DOTNET_OBSERVER_METHODS and any(
                argument and argument[0].text.lower().lstrip("$") in observer_names
                for argument in _arguments(tokens, index)
            ):  # searcher.Get(observer), obj.InvokeMethod(observer, ...): the asynchronous overloads
                has_async = True
                hits.append(Hit("async_wmi_call", token, language, {"method": f"{member_text}(observer)"}))
            elif member == "connectobject":
                arguments = _arguments(tokens, index)
                if len(arguments) >= 2 and arguments[1][0].kind == "string":
                    target = arguments[0][0].text.lower()
                    prefixes.add(arguments[1][0].text.lower())
                    if target in sink_names or has_async:
                        hits.append(Hit("async_wmi_sink_wiring", token, language, {"prefix": arguments[1][0].text}))
            elif member in (DOTNET_EVENT, f"add_{DOTNET_EVENT}") or (
                token.kind in ("word", "string") and name == DOTNET_EVENT
            ):
                has_async = True
                hits.append(
                    Hit(
                        "async_wmi_event_registration",
                        token,
                        language,
                        {"cmdlet": "ManagementEventWatcher.EventArrived"},
                    )
                )
                after = index + 1
                if (
                    member == f"add_{DOTNET_EVENT}"
                    and after + 1 < len(tokens)
                    and tokens[after].is_op("(")
                    and tokens[after + 1].is_op("{")
                ):
                    closing = _closing(matches, after + 1, len(tokens))
                    extra_ranges.setdefault(unit, []).append((after + 1, closing, "EventArrived"))
            elif _creates_sink(tokens, index, folded, progid_names):
                has_async = True
                hits.append(Hit("async_wmi_sink", token, language, {"prefix": _sink_prefix(tokens, index, prefixes)}))
            elif (token.kind == "word" and name == "swbemsink") or (
                token.kind in ("word", "string", "type") and name.endswith(DOTNET_OBSERVER)
            ):  # Dim s As SWbemSink; New-Object System.Management.ManagementOperationObserver
                has_async = True
                hits.append(Hit("async_wmi_sink", token, language, {"prefix": ""}))
            elif token.kind == "word" and name in PS_EVENT_REGISTRATION:
                has_async = True
                has_action = action_parameters[end] - action_parameters[index] > 0
                hits.append(
                    Hit("async_wmi_event_registration", token, language, {"cmdlet": token.text, "action": has_action})
                )
    if has_async:
        for unit, (language, tokens) in enumerate(script.units):
            bounds, matches = tables[unit]
            ranges = _handler_ranges(tokens, language, prefixes, matches) + extra_ranges.get(unit, [])
            for action, what, handler in _privileged_actions(tokens, bounds, ranges):
                hits.append(Hit("async_handler_privileged", action, language, {"handler": handler, "action": what}))
    return [hit for hit in hits if hit.finding_id in rules]


def _creates_sink(tokens: list[Token], index: int, folded: dict[int, str], progid_names: set[str]) -> bool:
    """Whether tokens[index] is the SWbemSink ProgID (a literal, a folded concatenation, or a variable holding it)
    as the argument of an object creation."""
    token = tokens[index]
    is_progid = (index in folded and folded[index].lower() == SINK_PROGID) or (
        token.kind in ("word", "var") and token.text.lower() in progid_names
    )
    return is_progid and _is_object_creation(tokens, index)


def _sink_prefix(tokens: list[Token], index: int, prefixes: set[str]) -> str:
    """The event prefix of ``WScript.CreateObject(progid, "PREFIX_")`` (WSH: the second argument connects the
    object's events to the script's PREFIX_Event procedures), added to prefixes; '' for other creations."""
    call = index - 2 if index >= 2 and tokens[index - 1].is_op("(") else index - 1
    if call < 0 or not tokens[call].is_word("createobject"):
        return ""
    arguments = _arguments(tokens, call)
    prefix = arguments[1][0].text if len(arguments) > 1 and arguments[1][0].kind == "string" else ""
    if prefix:
        prefixes.add(prefix.lower())
    return prefix


def _is_object_creation(tokens: list[Token], index: int) -> bool:
    """Whether tokens[index] is the ProgID argument of CreateObject, ActiveXObject, New-Object -ComObject or
    Type.GetTypeFromProgID."""
    creators = ("createobject", "activexobject", "gettypefromprogid")
    if index >= 2 and tokens[index - 1].is_op("(") and tokens[index - 2].is_word(*creators):
        return True
    if index >= 1 and tokens[index - 1].is_word("createobject"):
        return True  # VBScript: CreateObject "WbemScripting.SWbemSink" (statement form)
    if index >= 2 and tokens[index - 1].is_op("("):
        index -= 1  # New-Object -ComObject ("WbemScripting." + "SWbemSink")
    return index >= 1 and tokens[index - 1].kind == "param" and "comobject".startswith(tokens[index - 1].text)
