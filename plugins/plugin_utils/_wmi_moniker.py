# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WMI monikers and object paths: build them from parts, and parse them back (pure, stdlib).

Grammar (Microsoft Learn, "Constructing a Moniker String" and "Describing the Location of a WMI Object"):
``winmgmts:`` + optional ``{security settings}`` (``impersonationLevel=``, ``authenticationLevel=``,
``authority=``, ``(privilege,!privilege)``) + optional ``[locale=ms_NNN]`` + ``!`` + an object path
``//server/namespace:Class.Key="value",Key2=5``. Object paths use the same ``server/namespace:class.keys`` parts
with backslashes: ``\\\\server\\root\\cimv2:Win32_ComputerSystem.Name="WEB01"``. String key values are quoted with
double quotes; a backslash or double quote inside is escaped with a backslash.
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

IMPERSONATE_PREFIX = "winmgmts:{impersonationLevel=impersonate}!"
IMPERSONATION_LEVELS = ("anonymous", "identify", "impersonate", "delegate")
AUTHENTICATION_LEVELS = ("default", "none", "connect", "call", "pkt", "pktIntegrity", "pktPrivacy")

# A DNS host name, NetBIOS name, "." (this computer) or an IPv4 address: nothing that could end the server part.
_SERVER = re.compile(r"^(?:\.|[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_])?)$")
_NAMESPACE_PART = re.compile(r"^[A-Za-z0-9_]+$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PRIVILEGE = re.compile(r"^!?[A-Za-z]+$")
_LOCALE = re.compile(r"^ms_[0-9A-Fa-f]{1,8}$")
# kerberos:DOMAIN\SERVER or ntlmdomain:DOMAIN (SWbemLocator.ConnectServer's strAuthority)
_AUTHORITY = re.compile(r"^(?:kerberos:[A-Za-z0-9_.-]+\\[A-Za-z0-9_.$-]+|ntlmdomain:[A-Za-z0-9_.-]+)$", re.IGNORECASE)


class MonikerError(ValueError):
    pass


@dataclass
class WmiMoniker:
    server: str | None = None
    namespace: str | None = "root/cimv2"
    class_name: str | None = None
    keys: dict[str, t.Any] = field(default_factory=dict)
    impersonation_level: str | None = "impersonate"
    authentication_level: str | None = None
    authority: str | None = None
    privileges: list[str] = field(default_factory=list)
    locale: str | None = None

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "server": self.server,
            "namespace": self.namespace,
            "class_name": self.class_name,
            "keys": dict(self.keys),
            "impersonation_level": self.impersonation_level,
            "authentication_level": self.authentication_level,
            "authority": self.authority,
            "privileges": list(self.privileges),
            "locale": self.locale,
        }


def _choice(value: str | None, choices: tuple[str, ...], name: str) -> str | None:
    if value is None:
        return None
    match = next((choice for choice in choices if choice.lower() == str(value).lower()), None)
    if match is None:
        raise MonikerError(f"{name} must be one of {', '.join(choices)}, got {str(value)[:40]!r}")
    return match


def validate(moniker: WmiMoniker) -> WmiMoniker:
    """Refuse every part that could change the meaning of the string it goes into (hostile input)."""
    if moniker.server is not None and not _SERVER.match(moniker.server):
        raise MonikerError(
            f"server must be a DNS host name, NetBIOS name, IPv4 address or '.', got {moniker.server[:80]!r}"
        )
    if moniker.namespace is not None:
        parts = re.split(r"[\\/]", moniker.namespace)
        if not all(_NAMESPACE_PART.match(part) for part in parts):
            raise MonikerError(
                f"namespace must be names separated by / or \\ (e.g. root/cimv2), got {moniker.namespace[:80]!r}"
            )
    if moniker.class_name is not None and not _IDENTIFIER.match(moniker.class_name):
        raise MonikerError(f"class_name must be a WMI class name, got {moniker.class_name[:80]!r}")
    if moniker.keys and moniker.class_name is None:
        raise MonikerError("keys need a class_name")
    if moniker.class_name is not None and moniker.server is not None and moniker.namespace is None:
        # "If you specify a class or instance, you cannot omit the namespace when you specify a computer name."
        raise MonikerError("a class or instance on a named server needs a namespace")
    for name, value in moniker.keys.items():
        if not _IDENTIFIER.match(str(name)):
            raise MonikerError(f"key property names must be identifiers, got {str(name)[:80]!r}")
        if not isinstance(value, str | int) or value is None:
            raise MonikerError(
                f"key {name}: a value must be a string, an integer or a boolean, got {type(value).__name__}"
            )
    moniker.impersonation_level = _choice(moniker.impersonation_level, IMPERSONATION_LEVELS, "impersonation_level")
    moniker.authentication_level = _choice(moniker.authentication_level, AUTHENTICATION_LEVELS, "authentication_level")
    if moniker.authority is not None and not _AUTHORITY.match(moniker.authority):
        raise MonikerError(
            f"authority must be kerberos:DOMAIN\\SERVER or ntlmdomain:DOMAIN, got {moniker.authority[:80]!r}"
        )
    for privilege in moniker.privileges:
        if not _PRIVILEGE.match(privilege):
            raise MonikerError(f"privileges are short names such as Debug or !Security, got {privilege[:40]!r}")
    if moniker.locale is not None and not _LOCALE.match(moniker.locale):
        raise MonikerError(f"locale must be ms_<hex LCID> (e.g. ms_409), got {moniker.locale[:40]!r}")
    return moniker


def key_value(value: t.Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _class_part(moniker: WmiMoniker) -> str:
    if moniker.class_name is None:
        return ""
    keys = ",".join(f"{name}={key_value(value)}" for name, value in moniker.keys.items())
    return moniker.class_name + (f".{keys}" if keys else "")


def object_path(moniker: WmiMoniker, separator: str = "\\") -> str:
    """``\\\\server\\namespace:Class.Key="value"`` (or with / as the separator, as monikers write it)."""
    validate(moniker)
    namespace = (moniker.namespace or "").replace("\\", "/").replace("/", separator)
    path = f"{separator * 2}{moniker.server}" if moniker.server is not None else ""
    if namespace:
        path += (separator if path else "") + namespace
    class_part = _class_part(moniker)
    if class_part:
        path += (":" if path else "") + class_part
    return path


def build_moniker(moniker: WmiMoniker) -> str:
    validate(moniker)
    settings = []
    if moniker.impersonation_level:
        settings.append(f"impersonationLevel={moniker.impersonation_level}")
    if moniker.authentication_level:
        settings.append(f"authenticationLevel={moniker.authentication_level}")
    if moniker.authority:
        settings.append(f"authority={moniker.authority}")
    if moniker.privileges:
        settings.append("(" + ",".join(moniker.privileges) + ")")
    text = "winmgmts:" + ("{" + ",".join(settings) + "}" if settings else "")
    if moniker.locale:
        text += f"[locale={moniker.locale}]"
    path = object_path(moniker, "/")
    if path:
        text += ("!" if settings or moniker.locale else "") + path
    return text


_SECURITY = re.compile(r"^\{(?P<settings>[^{}]*)\}")
_LOCALE_PART = re.compile(r"^\[locale=(?P<locale>[^\]]*)\]", re.IGNORECASE)


def parse(text: str) -> WmiMoniker:
    """A moniker (``winmgmts:...``) or an object path (``\\\\server\\ns:Class.Key="v"``) -> its parts."""
    if not isinstance(text, str):
        raise MonikerError(f"expected a moniker or object path string, got {type(text).__name__}")
    rest = text.strip()
    moniker = WmiMoniker(namespace=None, impersonation_level=None)
    if rest.lower().startswith("winmgmts:"):
        rest = rest[len("winmgmts:") :]
        if match := _SECURITY.match(rest):
            _parse_settings(match.group("settings"), moniker)
            rest = rest[match.end() :]
        if match := _LOCALE_PART.match(rest):
            moniker.locale = match.group("locale")
            rest = rest[match.end() :]
        if rest.startswith("!"):
            rest = rest[1:]
    _parse_path(rest, moniker)
    return validate(moniker)


def _parse_settings(settings: str, moniker: WmiMoniker) -> None:
    privileges = re.search(r"\(([^()]*)\)", settings)
    if privileges:
        moniker.privileges = [item.strip() for item in privileges.group(1).split(",") if item.strip()]
        settings = settings[: privileges.start()] + settings[privileges.end() :]
    for item in filter(None, (part.strip() for part in settings.split(","))):
        name, _sep, value = item.partition("=")
        attribute = {
            "impersonationlevel": "impersonation_level",
            "authenticationlevel": "authentication_level",
            "authority": "authority",
        }.get(name.strip().lower())
        if attribute is None or not value:
            raise MonikerError(f"unknown security setting {item[:60]!r}")
        setattr(moniker, attribute, value.strip())


def _parse_path(path: str, moniker: WmiMoniker) -> None:
    if not path:
        return
    if path[:2] in ("//", "\\\\"):
        separator = re.search(r"[\\/]", path[2:])
        moniker.server = path[2:] if separator is None else path[2 : separator.start() + 2]
        path = "" if separator is None else path[separator.end() + 2 :]
    # The namespace:class colon comes before any key value (which may hold colons itself: DeviceID="C:").
    first_value = min(
        (index for index in (path.find("="), path.find('"'), path.find("'")) if index >= 0), default=len(path)
    )
    colon_index = path.find(":", 0, first_value)
    colon = colon_index >= 0
    namespace, class_part = (path[:colon_index], path[colon_index + 1 :]) if colon else (path, "")
    # No colon: a class path (Class.Key=..., or a bare name that is not a root namespace) or a namespace.
    bare_class = not re.search(r"[\\/]", path) and not path.lower().startswith("root")
    if not colon and ("." in path or "=" in path or bare_class):
        namespace, class_part = "", path
    moniker.namespace = namespace.replace("\\", "/") or None
    if class_part:
        class_name, _dot, keys = class_part.partition(".")
        if "=" in class_name:  # Class=@ (a singleton) or Class="x" (the only key)
            class_name, _eq, value = class_name.partition("=")
            keys = "" if value == "@" else f"={value}"
        moniker.class_name = class_name
        moniker.keys = _parse_keys(keys) if keys else {}


def _parse_keys(text: str) -> dict[str, t.Any]:
    keys: dict[str, t.Any] = {}
    index = 0
    while index < len(text):
        match = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)?=").match(text, index)
        if match is None:
            raise MonikerError(f"cannot read the key properties at {text[index : index + 40]!r}")
        if not match.group(1):
            raise MonikerError('a key value without its property name (Class="value") is not supported: name the key')
        name = match.group(1)
        index = match.end()
        if text[index : index + 1] in ('"', "'"):
            value, index = _quoted(text, index)
            keys[name] = value
        else:
            end = text.find(",", index)
            end = len(text) if end < 0 else end
            raw = text[index:end]
            keys[name] = True if raw.upper() == "TRUE" else False if raw.upper() == "FALSE" else _number(raw)
            index = end
        if index < len(text):
            if text[index] != ",":
                raise MonikerError(f"expected ',' between key properties at {text[index : index + 40]!r}")
            index += 1
    return keys


def _quoted(text: str, index: int) -> tuple[str, int]:
    quote = text[index]  # object paths accept "value" and 'value'
    value = []
    index += 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            value.append(text[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(value), index + 1
        value.append(char)
        index += 1
    raise MonikerError("a quoted key value is not closed")


def _number(raw: str) -> int:
    try:
        return int(raw, 0)
    except ValueError:
        raise MonikerError(f"an unquoted key value must be a number or TRUE/FALSE, got {raw[:40]!r}") from None


def computer_system_moniker(dns_host_name: str, name: str, **settings: t.Any) -> str:
    """The replacement for IWMIExtension.WMIObjectPath: Win32_ComputerSystem of the computer, by its DNS name."""
    return build_moniker(
        WmiMoniker(server=dns_host_name, class_name="Win32_ComputerSystem", keys={"Name": name}, **settings)
    )
