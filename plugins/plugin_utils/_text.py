# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Small text helpers for messages a user reads: counts with the right noun, bounded echoes of input, and
names written as the user wrote them (not as Python's repr writes them)."""

from __future__ import annotations

import json
import re
import typing as t

__all__ = ["CONSOLE_LIMIT", "MESSAGE_LIMIT", "as_written", "console_text", "plural", "truncate_for_message"]

# Longest echo of user or host input in a message. Hostile or mistaken inputs can be 100,000 characters long;
# a message that repeats them whole buries the error and bloats every job event.
MESSAGE_LIMIT = 200

# Longest line of host-derived text on the console (a warning, a msg): longer ones are cut and say their length.
CONSOLE_LIMIT = 2000

# Control characters would break a one-line message (a newline inside a name looks like two lines of output);
# they are shown escaped. Backslashes are left alone: 'CORP\jdoe' stays 'CORP\jdoe'.
_VISIBLE_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What a terminal would act on or reorder instead of showing: C0 controls (ESC starts colour, clear-screen and OSC 8
# link sequences), DEL, C1 controls (U+009B is a one-character CSI), the bidirectional marks, embeddings, overrides
# and isolates (U+061C, U+200E/F, U+202A-U+202E, U+2066-U+2069: Unicode UAX #9; "Trojan Source", CVE-2021-42574),
# the line and paragraph separators, invisible zero-width characters and BOM, and unpaired surrogates; and the rest
# of Unicode's format characters (category Cf: soft hyphen, Arabic number signs, the Mongolian vowel separator,
# interlinear annotation, the tag characters U+E0000-U+E007F that can smuggle invisible text).
_ESCAPED = re.compile(
    "[\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _VISIBLE_CONTROLS:
        return _VISIBLE_CONTROLS[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def console_text(value: t.Any, limit: int = CONSOLE_LIMIT) -> str:
    """Host-derived text made safe for a console line: every control character, bidi override or isolate, line
    separator and invisible character shown escaped (ESC as \\x1b, U+202E as \\u202e), and at most ``limit``
    characters (then cut, saying its length). The one sanitizer for warnings, msg, --diff and every console line."""
    return truncate_for_message(_ESCAPED.sub(_escape, _as_text(value)), limit)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` followed by the noun in the right number: ``plural(1, "namespace")`` -> "1 namespace".

    Regular English plurals are built (finding -> findings, class -> classes, entry -> entries); pass
    ``plural_form`` for anything else.
    """
    if count == 1:
        return f"{count} {singular}"
    if plural_form is not None:
        return f"{count} {plural_form}"
    return f"{count} {_regular_plural(singular)}"


def _regular_plural(noun: str) -> str:
    lower = noun.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if lower.endswith("y") and len(lower) > 1 and lower[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def _as_text(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    try:
        # JSON, not repr: Ansible's tagged containers (dict and list subclasses) print as plain data, without
        # internal type names such as _AnsibleTaggedDict.
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def truncate_for_message(value: t.Any, limit: int = MESSAGE_LIMIT) -> str:
    """``value`` as text of at most ``limit`` characters, followed by how long the whole was when it was cut.

    Strings are used as they are; other values as JSON (so no Python reprs or internal type names leak into a
    message).
    """
    text = _as_text(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters in all)"


def as_written(name: t.Any, limit: int = MESSAGE_LIMIT) -> str:
    """A name for a message, quoted, as the user wrote it: ``CORP\\jdoe`` gives ``'CORP\\jdoe'`` with one
    backslash (Python's repr would double it). Control characters are shown escaped; long input is truncated."""
    return f"'{console_text(name, limit)}'"


def plain_data(value: t.Any) -> t.Any:
    """A plain copy of task data: str/int/float/dict/list subclasses (Ansible's tagged values) become the base type,
    so validation messages and results never name internal types such as _AnsibleTaggedDict."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, t.Mapping):
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item) for item in value]
    return value
