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
import typing as t
import unicodedata

__all__ = ["CONSOLE_LIMIT", "MESSAGE_LIMIT", "as_written", "console_safe", "plural", "truncate_for_message"]

# Longest echo of user or host input in a message. Hostile or mistaken inputs can be 100,000 characters long;
# a message that repeats them whole buries the error and bloats every job event.
MESSAGE_LIMIT = 200

# Longest host-supplied field (an SDDL, a consumer's command line) in console output such as a --diff: long enough for
# a namespace descriptor with dozens of ACEs, short enough that a hostile host cannot flood a job's output.
CONSOLE_LIMIT = 2000

# Control characters would break a one-line message (a newline inside a name looks like two lines of output);
# they are shown escaped. Backslashes are left alone: 'CORP\jdoe' stays 'CORP\jdoe'.
_VISIBLE_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


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
    text = _as_text(name)
    shown = "".join(_VISIBLE_CONTROLS.get(c, f"\\x{ord(c):02x}" if ord(c) < 0x20 or c == "\x7f" else c) for c in text)
    return f"'{truncate_for_message(shown, limit)}'"


def _escaped(char: str) -> str:
    """A character a terminal or log viewer would act on, shown as an escape; every other character as it is.

    C0/C1 controls (ESC starts ANSI sequences that recolour or rewrite the console) and Unicode format characters
    (category Cf: the bidirectional overrides U+202A-U+202E and isolates U+2066-U+2069 reorder what follows, "Trojan
    Source", CVE-2021-42574; zero-width characters hide text) are escaped, as are line and paragraph separators."""
    if char in _VISIBLE_CONTROLS:
        return _VISIBLE_CONTROLS[char]
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    return char


def console_safe(text: t.Any, limit: int = CONSOLE_LIMIT) -> str:
    """Host-controlled text for one line of console output (a --diff line, a warning): control and format characters
    escaped (a newline cannot fake another line, an escape sequence cannot rewrite the screen), at most ``limit``
    characters followed by how long the whole was. Backslashes stay as they are (root\\cimv2, CORP\\jdoe)."""
    shown = "".join(_escaped(char) for char in _as_text(text))
    return truncate_for_message(shown, limit)


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
