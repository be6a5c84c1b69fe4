# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Message text helpers: counted nouns, bounded echoes, names as written."""

from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._text import (
    MESSAGE_LIMIT,
    as_written,
    console_text,
    plural,
    truncate_for_message,
)


@pytest.mark.parametrize(
    ("count", "noun", "expected"),
    [
        (0, "namespace", "0 namespaces"),
        (1, "namespace", "1 namespace"),
        (2, "namespace", "2 namespaces"),
        (1, "finding", "1 finding"),
        (29, "finding", "29 findings"),
        (1, "change", "1 change"),
        (3, "change", "3 changes"),
        (2, "class", "2 classes"),
        (2, "entry", "2 entries"),
        (2, "key", "2 keys"),
        (2, "ACE", "2 ACEs"),
    ],
)
def test_plural(count: int, noun: str, expected: str) -> None:
    assert plural(count, noun) == expected


def test_plural_irregular_form() -> None:
    assert plural(1, "child", "children") == "1 child"
    assert plural(4, "child", "children") == "4 children"


def test_short_text_is_unchanged() -> None:
    assert truncate_for_message("O:BAG:BAD:(A;;CC;;;BA)") == "O:BAG:BAD:(A;;CC;;;BA)"
    assert truncate_for_message("x" * MESSAGE_LIMIT) == "x" * MESSAGE_LIMIT


def test_long_text_is_cut_and_its_length_said() -> None:
    text = "D:" + "(A;;CC;;;BA)" * 10_000
    shown = truncate_for_message(text)
    assert shown.startswith(text[:MESSAGE_LIMIT] + "...")
    assert shown.endswith(f"({len(text)} characters in all)")
    assert len(shown) < MESSAGE_LIMIT + 40
    assert truncate_for_message("abcdef", limit=3) == "abc... (6 characters in all)"


def test_containers_print_as_data_not_as_python_types() -> None:
    class TaggedDict(dict):  # stands in for Ansible's _AnsibleTaggedDict, a dict subclass with its own repr
        def __repr__(self) -> str:
            return f"_AnsibleTaggedDict({dict.__repr__(self)})"

    shown = truncate_for_message(TaggedDict(principal="BA", rights=["Enable"]))
    assert shown == '{"principal": "BA", "rights": ["Enable"]}'
    assert "Tagged" not in truncate_for_message([TaggedDict(a=1)] * 1000)
    assert truncate_for_message(None) == "null"
    assert truncate_for_message(12) == "12"


def test_names_keep_single_backslashes() -> None:
    name = "CORP\\jdoe"
    assert as_written(name) == "'CORP\\jdoe'"
    assert "\\\\" not in as_written(name)
    assert repr(name) == "'CORP\\\\jdoe'"  # what messages printed before: the doubled backslash


def test_names_show_control_characters_and_are_bounded() -> None:
    assert as_written("CORP\\a\nb\tc\x00") == "'CORP\\a\\nb\\tc\\x00'"
    assert as_written("") == "''"
    long_name = "N" * 100_000
    assert as_written(long_name) == f"'{'N' * MESSAGE_LIMIT}... (100000 characters in all)'"


HOSTILE = (
    "Contoso\x1b[2J\x1b[31mred\x1b[0m\x1b]8;;http://evil/\x07link\x1b]8;;\x07\u202eexe.txt\u2066x\u2069"
    "\x9b31m\u200e\u200f\u2028\u2029\x00\x7f\ufeff\u200b\ud800\nfake: [OK] all hosts compliant"
)
RAW = [chr(code) for code in (*range(0x20), *range(0x7F, 0xA0))] + list(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\ud800"
)


def test_console_text_shows_every_terminal_control_escaped() -> None:
    shown = console_text(HOSTILE)
    assert not [char for char in shown if char in RAW]
    assert "\\x1b[2J" in shown and "\\u202e" in shown and "\\u2066" in shown and "\\x9b" in shown
    assert "\\nfake: [OK]" in shown and len(shown.splitlines()) == 1
    for char in RAW:
        assert char not in console_text(f"a{char}b"), hex(ord(char))
    # Backslashes and ordinary non-ASCII text stay as they are.
    assert console_text("CORP\\jdoe Zoë 東京") == "CORP\\jdoe Zoë 東京"


def test_console_text_is_bounded_after_escaping() -> None:
    shown = console_text("\x1b" * 1_000_000, 100)
    assert len(shown) < 160 and shown.endswith("(4000000 characters in all)")


def test_console_text_escapes_every_unicode_control_and_format_character() -> None:
    # The class, not a list of examples: every code point Unicode calls a control (Cc), format (Cf) or line/paragraph
    # separator (Zl/Zp) character is shown escaped, so none can recolour, reorder or hide console text.
    import unicodedata

    hidden = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Cc", "Cf", "Zl", "Zp")]
    shown = console_text("".join(hidden), 10**7)
    assert not any(unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") for char in shown)
