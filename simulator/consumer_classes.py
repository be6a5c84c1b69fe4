"""The five standard consumer classes as WMI declares them, and how a value given for one of their properties is
typed before WMI stores it.

The declarations are the "Syntax" blocks of the Microsoft Learn class pages (ActiveScriptEventConsumer,
CommandLineEventConsumer, LogFileEventConsumer, NTEventLogEventConsumer, SMTPEventConsumer,
https://learn.microsoft.com/windows/win32/wmisdk/<class name>), inherited properties included, parsed here rather
than retyped so the model stays the document. A property with a default (``uint32 KillTimeout = 0;``) holds that
default on every instance WMI stores, whether or not the creator gave it: a read returns it.

Typing follows what wmi_state.ps1's New-EventSubscriptionPart does with the class schema (Get-CimClass,
CimClassProperties CimType) and what PowerShell's conversion does with each CimType: an integer outside the
type's range, a fraction, text that is not a number, a list for a scalar or a scalar for an array does not convert
and the instance is not created. Without the schema, New-CimInstance types a value from its .NET type alone
(PowerShell src/Microsoft.Management.Infrastructure.CimCmdlets/CimNewCimInstance.cs builds each property with
CimProperty.Create(name, value, flags), whose CimType comes from the value): a JSON integer goes out as SInt32 and
WMI refuses it for a uint32 property with WBEM_E_TYPE_MISMATCH (0x80041005). That path is no longer taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Inherited from __EventConsumer (each class page lists them in its syntax block).
_INHERITED = """
  uint8   CreatorSID[];
  string  MachineName;
  uint32  MaximumQueueSize;
  string  Name;
"""

DECLARATIONS = {
    "ActiveScriptEventConsumer": """
  uint32 KillTimeout = 0;
  string ScriptingEngine;
  string ScriptFileName;
  string ScriptText;
""",
    "CommandLineEventConsumer": """
  string  CommandLineTemplate;
  boolean CreateNewConsole = False;
  boolean CreateNewProcessGroup = True;
  boolean CreateSeparateWowVdm = False;
  boolean CreateSharedWowVdm = False;
  string  DesktopName;
  string  ExecutablePath;
  uint32  FillAttributes;
  boolean ForceOffFeedback = False;
  boolean ForceOnFeedback = False;
  uint32  KillTimeout = 0;
  sint32  Priority = 0x20;
  boolean RunInteractively = False;
  uint32  ShowWindowCommand;
  boolean UseDefaultErrorMode = False;
  string  WindowTitle;
  string  WorkingDirectory;
  uint32  XCoordinate;
  uint32  XNumCharacters;
  uint32  XSize;
  uint32  YCoordinate;
  uint32  YNumCharacters;
  uint32  YSize;
  uint32  FillAttribute;
""",
    "LogFileEventConsumer": """
  string  Filename;
  boolean IsUnicode;
  uint64  MaximumFileSize = 65535;
  string  Text;
""",
    "NTEventLogEventConsumer": """
  uint16 Category;
  string NameOfRawDataProperty;
  uint32 EventID;
  uint32 EventType = 1;
  string InsertionStringTemplates[] = {""};
  uint32 NumberOfInsertionStrings = 0;
  string NameOfUserSidProperty;
  string SourceName;
  string UNCServerName;
""",
    "SMTPEventConsumer": """
  string BccLine;
  string CcLine;
  string FromLine;
  string HeaderFields[];
  string Message;
  string ReplyToLine;
  string SMTPServer;
  string Subject;
  string ToLine;
""",
}

_RANGES = {
    "uint8": (0, 2**8 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
    "uint64": (0, 2**64 - 1),
    "sint32": (-(2**31), 2**31 - 1),
}
_LINE = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(?:\s*=\s*(.+?))?;\s*$")


@dataclass(frozen=True)
class Property:
    name: str
    cim_type: str  # string, boolean, uint8, uint16, uint32, uint64, sint32
    array: bool
    default: Any  # None: no default


def _literal(text: str, cim_type: str) -> Any:
    if text.startswith("{"):
        return [_literal(item.strip(), cim_type) for item in text.strip("{}").split(",")]
    if cim_type == "boolean":
        return text.lower() == "true"
    if cim_type == "string":
        return text.strip('"')
    return int(text, 0)


def _parse(body: str) -> dict[str, Property]:
    declared: dict[str, Property] = {}
    for line in filter(str.strip, (_INHERITED + body).splitlines()):
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"not a MOF property declaration: {line!r}")
        cim_type, name, array, default = match.groups()
        value = None if default is None else _literal(default, cim_type)
        declared[name.casefold()] = Property(name, cim_type, bool(array), value)
    return declared


SCHEMAS: dict[str, dict[str, Property]] = {cls: _parse(body) for cls, body in DECLARATIONS.items()}


class NotConvertible(ValueError):
    """A value the class schema's CimType cannot hold; nothing is created."""


def _scalar(value: Any, prop: Property) -> Any:
    if prop.cim_type == "string":
        if isinstance(value, (dict, list)):
            raise NotConvertible(f"{prop.name} is a string; {type(value).__name__} given")
        return str(value)  # as PowerShell's [string] conversion: 30 -> "30", $true -> "True"
    if prop.cim_type == "boolean":
        if not isinstance(value, bool):
            raise NotConvertible(f"{prop.name} is a boolean; {value!r} given")
        return value
    low, high = _RANGES[prop.cim_type]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise NotConvertible(f"{prop.name} is {prop.cim_type}; {value!r} given")
    try:
        number = int(value, 10) if isinstance(value, str) else int(value)
    except ValueError as exc:
        raise NotConvertible(f"{prop.name} is {prop.cim_type}; {value!r} is not a number") from exc
    if number != value and not isinstance(value, str):
        raise NotConvertible(f"{prop.name} is {prop.cim_type}; {value!r} has a fraction")
    if not low <= number <= high:
        raise NotConvertible(f"{prop.name} is {prop.cim_type} ({low}..{high}); {number} is outside it")
    return number


def typed(cls: str, name: str, value: Any) -> tuple[str, Any]:
    """(the property's declared name, the value as its CimType holds it); NotConvertible when it does not fit."""
    prop = SCHEMAS[cls].get(name.casefold())
    if prop is None:
        raise NotConvertible(f"{cls} has no property {name}")
    if value is None:
        return prop.name, None
    if prop.array != isinstance(value, list):
        raise NotConvertible(f"{prop.name} is {'an array' if prop.array else 'not an array'}; {value!r} given")
    if prop.array:
        return prop.name, [_scalar(item, prop) for item in value]
    return prop.name, _scalar(value, prop)


def defaults(cls: str) -> dict[str, Any]:
    """The properties WMI fills on every instance of the class, by declared name (CreatorSID is WMI's own)."""
    return {p.name: p.default for p in SCHEMAS[cls].values() if p.default is not None and p.name != "CreatorSID"}
