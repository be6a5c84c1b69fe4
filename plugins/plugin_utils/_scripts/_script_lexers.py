# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading script files as Windows writes them, and one small tokeniser per script language (pure, stdlib).

The tokenisers exist so that the script audit sees code only: a word inside a comment or a string literal is not a
call. They are deliberately small (no parser): they know each language's comments, string literals and escapes,
statement ends, and little else. Comments are dropped; string literals become ``string`` tokens carrying their
value, so a rule can still ask "is the argument of GetObject an LDAP:// path?".
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import bisect
import codecs
import re
import typing as t
from dataclasses import dataclass

LANGUAGES = {
    ".vbs": "vbscript",
    ".vbe": "vbscript",
    ".js": "jscript",
    ".jse": "jscript",
    ".wsf": "wsf",
    ".ps1": "powershell",
    ".psm1": "powershell",
}
# The Script Encoder (screnc.exe) marks encoded VBScript/JScript (.vbe, .jse, and script blocks with
# language="VBScript.Encode") with this signature; their text cannot be read without decoding them first.
ENCODED_SIGNATURE = "#@~^"


class Token(t.NamedTuple):
    """kind: word, string, op, eol (statement end), param (PowerShell -Name), var ($name), type ([Name]).

    A named tuple: a file makes up to a million of them, and a tuple is the cheapest immutable record to build."""

    kind: str
    text: str
    line: int
    column: int

    def is_word(self, *names: str) -> bool:
        return self.kind == "word" and self.text.lower() in names

    def is_op(self, *ops: str) -> bool:
        return self.kind == "op" and self.text in ops


class UnreadableScript(ValueError):
    """The bytes are not script text (binary, encoded, or not decodable); the message says which."""


def language_of(path: str) -> str | None:
    dot = path.rfind(".")
    return LANGUAGES.get(path[dot:].lower()) if dot >= 0 else None


# The ANSI code page assumed when the host did not say which it uses (an older target, or a repository scanned on the
# controller): Windows-1252, the code page of Western-European Windows installations.
DEFAULT_ANSI_CODE_PAGE = 1252


def ansi_codec(code_page: int | None) -> str:
    """The Python codec of a Windows ANSI code page (GetACP's number, e.g. 1251 -> cp1251, 932 -> cp932); cp1252
    when the number is absent, not an integer, or a code page Python has no codec for."""
    if isinstance(code_page, int) and not isinstance(code_page, bool) and code_page > 0:
        try:
            return codecs.lookup(f"cp{code_page}").name
        except LookupError:
            pass
    return f"cp{DEFAULT_ANSI_CODE_PAGE}"


def decode_script(data: bytes, code_page: int | None = None) -> tuple[str, str]:
    """Script bytes -> (text, encoding name). Raises UnreadableScript for binary data.

    Windows editors save scripts as ANSI (the system code page: ``code_page``, the host's GetACP, else cp1252), UTF-8
    with or without a BOM, or "Unicode" (UTF-16 LE with a BOM: Notepad's "Unicode" and Windows PowerShell 5.1's
    ``>`` redirection write it); WSH reads all of them. UTF-16 without a BOM is recognised by its NUL bytes: ASCII
    text in UTF-16 LE has a NUL after every character.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return _decode(data[len(bom) :], encoding.replace("-sig", "")), encoding
    sample = data[:4096]
    if b"\x00" in sample:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) > len(odd) * 0.6 and even.count(0) < len(even) * 0.1:
            return _decode(data, "utf-16-le"), "utf-16-le"
        if even.count(0) > len(even) * 0.6 and odd.count(0) < len(odd) * 0.1:
            return _decode(data, "utf-16-be"), "utf-16-be"
        raise UnreadableScript("binary file (NUL bytes outside a UTF-16 pattern), not script text")
    controls = sum(1 for byte in sample if byte < 0x20 and byte not in (0x09, 0x0A, 0x0C, 0x0D, 0x1A, 0x1B))
    if sample and controls > len(sample) * 0.05:
        raise UnreadableScript(f"binary file ({controls} control bytes in the first {len(sample)}), not script text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = ansi_codec(code_page)
    if codec != "cp1252":
        # Multi-byte code pages (932, 936, 949, 950) may meet byte pairs they do not define: keep the rest readable.
        return data.decode(codec, errors="replace"), codec
    # ANSI: cp1252 leaves five bytes undefined; Windows maps them to the C1 controls of the same number.
    text = data.decode("cp1252", errors="surrogateescape")
    return re.sub("[\udc80-\udcff]", lambda hole: chr(ord(hole.group()) - 0xDC00), text), "cp1252"


def _decode(data: bytes, encoding: str) -> str:
    if encoding.startswith("utf-16") and len(data) % 2:
        data = data[:-1]  # a stray last byte (truncated copy) must not make the whole file unreadable
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableScript(f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None


# --- shared scanning helpers ----------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"(?:0[xX][0-9A-Fa-f]+|&[hH][0-9A-Fa-f]+&?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)")


class _Cursor:
    """Position bookkeeping: an index into the text plus the line and column a token starts at (both 1-based)."""

    def __init__(self, text: str, line: int = 1, column: int = 1) -> None:
        self.text = text
        self.i = 0
        self.line = line
        self.column = column
        self.tokens: list[Token] = []

    def advance(self, count: int) -> None:
        end = min(self.i + count, len(self.text))
        newlines = self.text.count("\n", self.i, end)
        if newlines:
            self.line += newlines
            self.column = end - self.text.rfind("\n", self.i, end)
        else:
            self.column += end - self.i
        self.i += count

    def emit(self, kind: str, text: str, length: int) -> None:
        self.tokens.append(Token(kind, text, self.line, self.column))
        self.advance(length)

    def peek(self, offset: int = 0) -> str:
        index = self.i + offset
        return self.text[index] if index < len(self.text) else ""

    def startswith(self, prefix: str, *, ignore_case: bool = False) -> bool:
        chunk = self.text[self.i : self.i + len(prefix)]
        return chunk.lower() == prefix.lower() if ignore_case else chunk == prefix

    def skip_to(self, end: int) -> None:
        self.advance(max(end, self.i) - self.i)

    def last(self) -> Token | None:
        return self.tokens[-1] if self.tokens else None


def _find(text: str, needle: str, start: int) -> int:
    """Index just past ``needle`` at or after ``start``, or the end of the text (an unterminated construct)."""
    found = text.find(needle, start)
    return len(text) if found < 0 else found + len(needle)


def _line_end(text: str, start: int) -> int:
    found = text.find("\n", start)
    return len(text) if found < 0 else found


# --- VBScript -------------------------------------------------------------------------------------------------------

_VBS_CONTINUATION = re.compile(r"_[ \t\r\f\v]*(?:\n|$)")


class _NextCharacter:
    """The next index of ']' and of a line break at or after a position, each search redone only once the cursor has
    passed its last answer: linear over a scan, even on a line of a million unclosed '['."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found = {"]": -1, "\n": -1}

    def _next(self, char: str, index: int) -> int:
        if self.found[char] < index:
            position = self.text.find(char, index)
            self.found[char] = len(self.text) if position < 0 else position
        return self.found[char]

    def next_close(self, index: int) -> int:
        return self._next("]", index)

    def next_newline(self, index: int) -> int:
        return self._next("\n", index)


def tokenize_vbscript(text: str, line: int = 1, column: int = 1) -> list[Token]:
    """VBScript: ' and Rem comments to the end of the line; "..." strings with "" as the only escape; [bracketed]
    identifiers."""
    cur = _Cursor(text, line, column)
    brackets = _NextCharacter(text)
    while cur.i < len(text):
        char = cur.peek()
        if char == "\n" or char == ":":
            cur.emit("eol", char, 1)
        elif char in " \t\r\f\v":
            cur.advance(1)
        elif char == "_" and (continuation := _VBS_CONTINUATION.match(text, cur.i)):
            cur.skip_to(continuation.end())  # line continuation: the statement goes on
        elif char == "'":
            cur.skip_to(_line_end(text, cur.i))
        elif char == "[" and (close := brackets.next_close(cur.i)) < brackets.next_newline(cur.i):
            # [name]: a bracketed identifier, any characters but ] and a line break (VBScript Language Reference,
            # VBScript Naming Restrictions / Visual Basic "Escaped identifiers"): [GetWMIObject] is GetWMIObject.
            cur.emit("word", text[cur.i + 1 : close], close + 1 - cur.i)
        elif char == '"':
            end, value = cur.i + 1, []
            while end < len(text) and text[end] != "\n":
                if text[end] == '"':
                    if text[end + 1 : end + 2] == '"':
                        value.append('"')
                        end += 2
                        continue
                    end += 1
                    break
                value.append(text[end])
                end += 1
            cur.emit("string", "".join(value), end - cur.i)
        elif match := _WORD.match(text, cur.i):
            word = match.group()
            previous = cur.last()
            if word.lower() == "rem" and (previous is None or previous.kind == "eol"):
                cur.skip_to(_line_end(text, cur.i))  # Rem is a comment only where a statement starts
            else:
                cur.emit("word", word, len(word))
        elif match := _NUMBER.match(text, cur.i):
            cur.emit("op", match.group(), len(match.group()))
        else:
            cur.emit("op", char, 1)
    return cur.tokens


# --- JScript --------------------------------------------------------------------------------------------------------

# After these tokens a "/" divides; anywhere else it starts a regular expression literal (ECMA-262 3rd edition).
_JS_VALUE_ENDS = (")", "]", "}")
_JS_KEYWORDS_BEFORE_REGEX = {
    "return",
    "typeof",
    "in",
    "instanceof",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
}


def tokenize_jscript(text: str, line: int = 1, column: int = 1) -> list[Token]:
    """JScript: // and /* */ comments, '...' and "..." strings with backslash escapes, /regex/ literals."""
    cur = _Cursor(text, line, column)
    while cur.i < len(text):
        char = cur.peek()
        if char == "\n" or char == ";":
            cur.emit("eol", char, 1)
        elif char in " \t\r\f\v":
            cur.advance(1)
        elif char == "/" and cur.peek(1) == "/":
            cur.skip_to(_line_end(text, cur.i))
        elif char == "/" and cur.peek(1) == "*":
            cur.skip_to(_find(text, "*/", cur.i + 2))
        elif char in "'\"":
            end, value = cur.i + 1, []
            while end < len(text) and text[end] != char and text[end] != "\n":
                if text[end] == "\\" and end + 1 < len(text):
                    value.append(_JS_ESCAPES.get(text[end + 1], text[end + 1]))
                    end += 2
                    continue
                value.append(text[end])
                end += 1
            cur.emit("string", "".join(value), end + 1 - cur.i)
        elif char == "/" and _regex_allowed(_last_significant(cur.tokens)):
            end, in_class = cur.i + 1, False
            while end < len(text) and text[end] != "\n":
                if text[end] == "\\":
                    end += 2
                    continue
                if text[end] == "[":
                    in_class = True
                elif text[end] == "]":
                    in_class = False
                elif text[end] == "/" and not in_class:
                    break
                end += 1
            end += 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1  # flags
            cur.emit("string", text[cur.i : end], end - cur.i)
        elif match := _WORD.match(text, cur.i):
            cur.emit("word", match.group(), len(match.group()))
        elif match := _NUMBER.match(text, cur.i):
            cur.emit("op", match.group(), len(match.group()))
        else:
            cur.emit("op", char, 1)
    return cur.tokens


_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _last_significant(tokens: list[Token]) -> Token | None:
    """The last token before the cursor, line terminators not counted. A line terminator does not decide whether a
    '/' divides or starts a regular expression: ECMA-262 (5.1 edition, clause 7, Lexical Grammar) chooses the goal
    symbol InputElementDiv where a division may follow (after an expression: an identifier, literal, ')' or ']') and
    InputElementRegExp elsewhere, whatever whitespace or line terminators stand between; the same holds for JScript
    (ECMA-262 3rd edition, 7). An eol token for ';' does count: a regular expression may start after it."""
    for token in reversed(tokens):
        if not (token.kind == "eol" and token.text == "\n"):
            return token
    return None


def _regex_allowed(previous: Token | None) -> bool:
    if previous is None or previous.kind == "eol":
        return True
    if previous.kind == "word":
        return previous.text in _JS_KEYWORDS_BEFORE_REGEX
    if previous.kind == "string":
        return False
    return not (previous.text in _JS_VALUE_ENDS or previous.text[:1].isdigit())


# --- PowerShell -----------------------------------------------------------------------------------------------------

# A backtick escapes the next character inside a bareword or member name too (about_Special_Characters; the
# PowerShell Language Specification 2.3.7, escaped characters): $c.Get`WMIObject() calls GetWMIObject.
_PS_WORD = re.compile(r"(?:[A-Za-z_]|`[^\r\n])(?:[A-Za-z0-9_]|`[^\r\n])*(?:-[A-Za-z_][A-Za-z0-9_]*)*")
_PS_VARIABLE = re.compile(r"\$(?:[A-Za-z]+:)?[A-Za-z0-9_?^$]+")
# A type literal's name is bounded (no .NET type name is longer), so that a run of unclosed '[' cannot make each
# attempt read to the end of the file.
_PS_TYPE_LONGEST = 512
_PS_TYPE = re.compile(rf"\[([A-Za-z_][A-Za-z0-9_.`,\[\] ]{{0,{_PS_TYPE_LONGEST}}}?)\](?!\])")
# The escape sequences of PowerShell (about_Special_Characters): `n is a newline, not an "n"; any other escaped
# character stands for itself.
_PS_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "e": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
# Characters that end a generic token (bareword argument) in PowerShell's tokenizer: whitespace and these.
_PS_TOKEN_ENDS = " \t\r\n\f\v;(){}|&,"


def tokenize_powershell(text: str, line: int = 1, column: int = 1) -> list[Token]:
    """PowerShell: # and <# #> comments, '...' ('' escape) and "..." (backtick and "" escapes) strings, @'...'@ and
    @"..."@ here-strings, $variables, -Parameters, [Type] literals. Code inside "$(...)" stays part of the string."""
    cur = _Cursor(text, line, column)
    brackets = _NextCharacter(text)
    while cur.i < len(text):
        char = cur.peek()
        if char == "\n" or char == ";":
            cur.emit("eol", char, 1)
        elif char in " \t\r\f\v":
            cur.advance(1)
        elif char == "`" and not (
            cur.peek(1) not in ("", "\r", "\n")
            and (cur.peek(1).isalpha() or cur.peek(1) == "_")
            and _PS_WORD.match(text, cur.i)
        ):
            cur.advance(2)  # a line continuation (backtick-newline), or an escaped character outside a word
        elif char == "<" and cur.peek(1) == "#":
            cur.skip_to(_find(text, "#>", cur.i + 2))
        elif char == "#" and _inside_generic_token(cur):
            # '#' starts a comment only where a token starts (PowerShell Language Specification 2.2.3, Comments;
            # about_Comments): inside a bareword such as step#1 it is part of the word, and the line goes on.
            end = cur.i
            while end < len(text) and text[end] not in _PS_TOKEN_ENDS:
                end += 1
            cur.emit("word", text[cur.i : end], end - cur.i)
        elif char == "#":
            cur.skip_to(_line_end(text, cur.i))
        elif char == "@" and cur.peek(1) in ("'", '"'):
            quote = text[cur.i + 1]
            # A here-string ends with the quote and @ at the very start of a line (about_Quoting_Rules).
            closing = re.compile(r"\n" + re.escape(quote) + "@").search(text, cur.i)
            end = len(text) if closing is None else closing.end()
            body = text[_line_end(text, cur.i) + 1 : end - 2 if closing else end]
            cur.emit("string", body.rstrip("\r\n"), end - cur.i)
        elif char in "'\"":
            end, value = cur.i + 1, []
            while end < len(text):
                current = text[end]
                if char == '"' and current == "`" and end + 1 < len(text):
                    value.append(text[end + 1])
                    end += 2
                    continue
                if current == char:
                    if text[end + 1 : end + 2] == char:
                        value.append(char)
                        end += 2
                        continue
                    end += 1
                    break
                value.append(current)
                end += 1
            cur.emit("string", "".join(value), end - cur.i)
        elif char == "$" and cur.peek(1) == "{":
            # ${any name}: braced variable name, ends at the first } (an unterminated one runs to the end of file)
            end = _find(text, "}", cur.i + 2)
            cur.emit("var", text[cur.i + 2 : end].rstrip("}").lower(), end - cur.i)
        elif char == "$" and (match := _PS_VARIABLE.match(text, cur.i)):
            cur.emit("var", match.group()[1:].lower(), len(match.group()))
        elif char == "-" and (match := _PS_WORD.match(text, cur.i + 1)) and _starts_argument(cur):
            cur.emit("param", match.group().lower(), len(match.group()) + 1)
        elif (
            char == "["
            and brackets.next_close(cur.i) - cur.i <= _PS_TYPE_LONGEST
            and (match := _PS_TYPE.match(text, cur.i))
            and _starts_argument(cur)
        ):
            cur.emit("type", match.group(1).replace(" ", "").lower(), len(match.group()))
        elif match := _PS_WORD.match(text, cur.i):
            cur.emit("word", _unescape_powershell(match.group()), len(match.group()))
        elif match := _NUMBER.match(text, cur.i):
            cur.emit("op", match.group(), len(match.group()))
        elif char == ":" and cur.peek(1) == ":":
            cur.emit("op", ".", 2)  # static member access reads like instance member access for the rules
        else:
            cur.emit("op", char, 1)
    return cur.tokens


def _unescape_powershell(word: str) -> str:
    if "`" not in word:
        return word
    return re.sub("`(.)", lambda escape: _PS_ESCAPES.get(escape.group(1), escape.group(1)), word)


def _inside_generic_token(cur: _Cursor) -> bool:
    """Whether the character at the cursor continues the token before it: the previous character is not whitespace
    or a token-ending character, and the token before is a bareword (a command name or argument)."""
    last = cur.last()
    previous_char = cur.text[cur.i - 1] if cur.i else "\n"
    return last is not None and last.kind == "word" and previous_char not in _PS_TOKEN_ENDS


def _starts_argument(cur: _Cursor) -> bool:
    """A '-' or '[' preceded by whitespace or an opening token starts a parameter or a type literal; right after a
    value (``$a-1``, ``$list[0]``) it is an operator or an index."""
    previous_char = cur.text[cur.i - 1] if cur.i else "\n"
    last = cur.last()
    if previous_char in " \t\r\n(,;={|!" or last is None:
        return True
    return last.kind == "op" and last.text in ("(", ",", "=", "{", "|", "!", "+")


# --- WSF (Windows Script Files: XML with script blocks) ---------------------------------------------------------

_XML_ATTRIBUTE = re.compile(r"([A-Za-z_:][\w:.-]*)\s*=\s*(\"[^\"<>]*\"|'[^'<>]*')")
_WSF_TAG = re.compile(r"<(script|object)\b", re.IGNORECASE)
_WSF_SCRIPT_END = re.compile(r"</script\s*>")


@dataclass(frozen=True)
class WsfElement:
    """A <script> block (its language, body offset) or an <object> element (its attributes), as found in a .wsf."""

    tag: str
    attributes: dict[str, str]
    line: int
    column: int
    body: str = ""
    body_line: int = 0
    body_column: int = 0


def wsf_elements(text: str) -> list[WsfElement]:
    """The <script> and <object> elements of a .wsf, outside XML comments, in one forward pass (no search runs ahead
    more than once: an unterminated comment, tag or script block ends at the end of the file, as an XML parser would
    read it up to its error). CDATA markers in a body are blanked (same length), so the body keeps its line and
    column numbers."""
    lowered = text.lower()
    line_starts = [0] + [match.end() for match in re.finditer("\n", text)]
    elements = []
    index = 0
    comment = -1
    while True:
        tag = _WSF_TAG.search(lowered, index)
        if tag is None:
            break
        if comment < index:  # the next comment opening, searched again only once passed
            comment = lowered.find("<!--", index)
            comment = len(text) if comment < 0 else comment
        if comment < tag.start():
            closing = lowered.find("-->", comment + 4)
            if closing < 0:
                break
            index = closing + 3
            continue
        name = tag.group(1)
        tag_end = lowered.find(">", tag.end())
        if tag_end < 0:
            break
        attributes = _attributes(text[tag.end() : tag_end])
        line, column = _position(line_starts, tag.start())
        if name == "object" or text[tag_end - 1] == "/":  # <object ...> or an empty <script .../>
            elements.append(WsfElement(name, attributes, line, column))
            index = tag_end + 1
            continue
        body_start = tag_end + 1
        end_tag = _WSF_SCRIPT_END.search(lowered, body_start)
        body_end = len(text) if end_tag is None else end_tag.start()
        body = _blank_markup(text[body_start:body_end])
        body_line, body_column = _position(line_starts, body_start)
        elements.append(WsfElement("script", attributes, line, column, body, body_line, body_column))
        index = len(text) if end_tag is None else end_tag.end()
    return elements


def _blank_markup(body: str) -> str:
    """A script body with its XML comments and CDATA markers replaced by spaces (newlines kept), in one pass."""
    parts = []
    index = 0
    while (opening := body.find("<!--", index)) >= 0:
        closing = body.find("-->", opening + 4)
        end = len(body) if closing < 0 else closing + 3
        parts.append(body[index:opening])
        parts.append(re.sub(r"[^\n]", " ", body[opening:end]))
        index = end
    parts.append(body[index:])
    return "".join(parts).replace("<![CDATA[", " " * 9).replace("]]>", "   ")


def _attributes(text: str) -> dict[str, str]:
    return {name.lower(): value[1:-1] for name, value in _XML_ATTRIBUTE.findall(text)}


def _position(line_starts: list[int], index: int) -> tuple[int, int]:
    line = bisect.bisect_right(line_starts, index)
    return line, index - line_starts[line - 1] + 1


TOKENIZERS: dict[str, t.Callable[..., list[Token]]] = {
    "vbscript": tokenize_vbscript,
    "jscript": tokenize_jscript,
    "powershell": tokenize_powershell,
}
# <script language="..."> names WSH accepts, and the tokeniser each needs.
WSF_LANGUAGES = {
    "vbscript": "vbscript",
    "vbs": "vbscript",
    "jscript": "jscript",
    "javascript": "jscript",
    "js": "jscript",
}
