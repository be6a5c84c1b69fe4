# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan and report HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault (pure, no I/O)."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from .._diff import registry_diff
from .._text import as_written

REGISTRY_VALUE = "unsecapp_access_control_default"
REGISTRY_PATH = "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault"
DESIRED_VALUE = {"enabled": 1, "disabled": 0}
WRITE_TYPES = {"dword": "REG_DWORD", "string": "REG_SZ"}
STRING_TYPES = ("REG_SZ", "REG_EXPAND_SZ")

# Whitespace the value's text may carry around its digits: ASCII only, as the digits are (see number_in_text).
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"

# UnsecAppAccessControlDefault=1 makes unsecapp.exe accept only authenticated callbacks; a pre-Windows 2000 caller's
# LocalSystem has no network identity to authenticate with, so its asynchronous callbacks fail ("Setting Security
# on an Asynchronous Call", Microsoft Learn). Said in the tense of what happens in this run.
PRE_2000_CALLERS_WARNING_CHECK_MODE = (
    "Setting UnsecAppAccessControlDefault to 1 would make unsecapp.exe accept only authenticated callbacks. If this "
    "server runs asynchronous WMI scripts against pre-Windows 2000 machines (NT 4.0 and earlier), their callbacks "
    "would fail: LocalSystem there has no network identity to authenticate with. Make those scripts "
    "semisynchronous before applying this change."
)
PRE_2000_CALLERS_WARNING_WRITTEN = (
    "UnsecAppAccessControlDefault is now 1: unsecapp.exe accepts only authenticated callbacks. If this server runs "
    "asynchronous WMI scripts against pre-Windows 2000 machines (NT 4.0 and earlier), their callbacks now fail: "
    "LocalSystem there has no network identity to authenticate with. Make those scripts semisynchronous."
)


@dataclass(frozen=True)
class ValueState:
    """The registry value as read, with its normalised number (absent counts as 0, None = not a number)."""

    exists: bool
    type: str | None
    data: t.Any
    value: int | None

    def to_dict(self) -> dict[str, t.Any]:
        return {"exists": self.exists, "type": self.type, "data": self.data, "value": self.value}

    def wire(self) -> dict[str, t.Any]:
        """The 'expected' argument of a registry_write: this state in the contract's string form."""
        if not self.exists:
            return {"exists": False}
        return {"exists": True, "type": self.type, "data": data_as_string(self.data)}

    def describe(self) -> str:
        if not self.exists:
            return f"{REGISTRY_PATH} is absent (counts as 0)\n"
        return f"{REGISTRY_PATH} = {shown_data(self.data)} ({self.type})\n"


@dataclass(frozen=True)
class UnsecappPlan:
    before: ValueState
    after: ValueState
    desired: int
    write_type: str
    needs_write: bool
    warnings: list[str] = field(default_factory=list)

    def write_operation(self) -> dict[str, t.Any]:
        return {
            "op": "registry_write",
            "value": REGISTRY_VALUE,
            "data": str(self.desired),
            "value_type": self.write_type,
            "expected": self.before.wire(),
        }


def shown_data(data: t.Any) -> str:
    """The value's data for a message: a number as it is, anything else quoted and bounded (it may be long)."""
    if isinstance(data, int) and not isinstance(data, bool):
        return str(data)
    return as_written(data)


def number_in_text(text: str) -> int | None:
    """The number a REG_SZ holds: ASCII digits only, around them only ASCII whitespace; else None.

    str.isdigit() also accepts other scripts' digits (U+0661 ARABIC-INDIC DIGIT ONE, U+FF11 FULLWIDTH DIGIT ONE) and
    superscripts (U+00B2 SUPERSCRIPT TWO, on which int() fails): they are not the ASCII text a registry value of 1
    holds, so none of them counts as compliant; they are drift, shown as read.
    """
    digits = text.strip(_ASCII_WHITESPACE)
    if digits and all("0" <= c <= "9" for c in digits):
        return int(digits)
    return None


def data_as_string(data: t.Any) -> str:
    # Same text wmi_state compares with: PowerShell's "$($value)" of an int, a string, or a string array.
    if isinstance(data, list):
        return " ".join(str(item) for item in data)
    if isinstance(data, bool):
        return str(int(data))
    return str(data)


def normalise(read: t.Mapping[str, t.Any]) -> ValueState:
    """Read result (registry_read or a registry_write's before/after) -> ValueState."""
    exists = bool(read.get("exists"))
    reg_type = read.get("type") if exists else None
    data = read.get("data") if exists else None
    value: int | None
    if not exists:
        value = 0
    elif reg_type == "REG_DWORD" and isinstance(data, int) and not isinstance(data, bool):
        # REG_DWORD (what most tools write) and REG_SZ (Microsoft's sample) are the documented forms; a REG_QWORD or
        # any other type is not shown to be read by unsecapp, so it never counts as enabled.
        value = data
    elif reg_type in STRING_TYPES and isinstance(data, str):
        # Microsoft's own sample writes the value with StdRegProv.SetStringValue (REG_SZ "1").
        value = number_in_text(data)
    else:
        value = None
    return ValueState(exists=exists, type=reg_type, data=data, value=value)


def plan(read: t.Mapping[str, t.Any], state: str, value_type: str, *, check_mode: bool) -> UnsecappPlan:
    """Decide whether to write, and predict the value after the write.

    ``check_mode`` is true when this run does not write (check mode, or a read-only audit): the warnings then say
    what would happen instead of what now happens.
    """
    before = normalise(read)
    desired = DESIRED_VALUE[state]
    auto_type = "string" if before.type in STRING_TYPES else "dword"
    write_type = auto_type if value_type == "auto" else value_type
    warnings: list[str] = []
    if before.exists and before.value is None:
        warnings.append(
            f"{REGISTRY_PATH} holds {shown_data(before.data)} ({before.type}), which is not a number (only ASCII "
            f"digits 0-9 count); it is treated as non-compliant and {'would be' if check_mode else 'is'} replaced."
        )
    # An explicit value_type converts a value of the other type; 'auto' never rewrites for the type alone.
    wrong_type = value_type != "auto" and before.exists and before.type != WRITE_TYPES[write_type]
    needs_write = before.value != desired or wrong_type
    if needs_write:
        data: t.Any = desired if write_type == "dword" else str(desired)
        after = ValueState(exists=True, type=WRITE_TYPES[write_type], data=data, value=desired)
        # Only a change of behaviour is worth a warning: REG_SZ '1' rewritten as REG_DWORD 1 changes nothing.
        if desired == 1 and before.value != 1:
            warnings.append(PRE_2000_CALLERS_WARNING_CHECK_MODE if check_mode else PRE_2000_CALLERS_WARNING_WRITTEN)
    else:
        after = before
    return UnsecappPlan(before, after, desired, write_type, needs_write, warnings)


def diff(before: ValueState, after: ValueState) -> dict[str, str]:
    """The value as read and as the planned write leaves it (absent reads as 0: Microsoft Learn, "Setting Security on
    an Asynchronous Call")."""
    return registry_diff(REGISTRY_PATH, before.to_dict(), after.to_dict(), absent="absent: counts as 0")
