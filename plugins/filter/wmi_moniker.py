# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters building WMI monikers and object paths from a computer's DNS host name and name, and parsing them back.

They replace the ADSI extension for WMI (IWMIExtension.WMIObjectPath / GetWMIObject / GetWMIServices), which
Windows Server 2003 removed. Documentation is in the .yml sidecars (wmi_moniker.yml, wmi_object_path.yml,
wmi_moniker_parse.yml).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_moniker import (
    MonikerError,
    WmiMoniker,
    build_moniker,
    object_path,
    parse,
)


def _given(value: Any) -> Any:
    # `x=omit` arrives as the omit placeholder string; treat it (and '') like "not given".
    if value is None or (isinstance(value, str) and (not value or value.startswith("__omit_place_holder__"))):
        return None
    return value


def _parts(
    filter_name: str,
    dns_host_name: Any,
    name: Any = None,
    namespace: Any = "root/cimv2",
    class_name: Any = None,
    keys: Any = None,
    **security: Any,
) -> WmiMoniker:
    if isinstance(dns_host_name, Mapping):
        # The output of wmi_moniker_parse, possibly changed: build from its parts.
        unknown = set(dns_host_name) - set(WmiMoniker().to_dict())
        if unknown:
            raise AnsibleFilterError(f"{filter_name}: unknown parts {', '.join(sorted(map(str, unknown)))}")
        return WmiMoniker(**{**WmiMoniker(namespace=None, impersonation_level=None).to_dict(), **dns_host_name})
    if _given(dns_host_name) is not None and not isinstance(dns_host_name, str):
        raise AnsibleFilterError(f"{filter_name}: expects a DNS host name string, got {type(dns_host_name).__name__}")
    keys = dict(_given(keys) or {})
    class_name = _given(class_name)
    if _given(name) is not None:
        # The computer itself: what IWMIExtension.WMIObjectPath returned (Win32_ComputerSystem.Name=<host name>).
        class_name = class_name or "Win32_ComputerSystem"
        keys.setdefault("Name", str(name))
    privileges = _given(security.pop("privileges", None)) or []
    if isinstance(privileges, str):
        privileges = [item.strip() for item in privileges.split(",") if item.strip()]
    return WmiMoniker(
        server=_given(dns_host_name),
        namespace=_given(namespace),
        class_name=class_name,
        keys=keys,
        privileges=list(privileges),
        **{key: _given(value) for key, value in security.items()},
    )


def wmi_moniker(
    dns_host_name: Any,
    name: Any = None,
    namespace: Any = "root/cimv2",
    class_name: Any = None,
    keys: Any = None,
    impersonation_level: Any = "impersonate",
    authentication_level: Any = None,
    authority: Any = None,
    locale: Any = None,
    privileges: Any = None,
) -> str:
    try:
        return build_moniker(
            _parts(
                "wmi_moniker",
                dns_host_name,
                name,
                namespace,
                class_name,
                keys,
                impersonation_level=impersonation_level,
                authentication_level=authentication_level,
                authority=authority,
                locale=locale,
                privileges=privileges,
            )
        )
    except (MonikerError, TypeError) as exc:
        raise AnsibleFilterError(f"wmi_moniker: {exc}") from None


def wmi_object_path(
    dns_host_name: Any, name: Any = None, namespace: Any = "root/cimv2", class_name: Any = None, keys: Any = None
) -> str:
    try:
        return object_path(_parts("wmi_object_path", dns_host_name, name, namespace, class_name, keys))
    except (MonikerError, TypeError) as exc:
        raise AnsibleFilterError(f"wmi_object_path: {exc}") from None


def wmi_moniker_parse(text: Any) -> dict[str, Any]:
    try:
        return parse(text).to_dict()
    except MonikerError as exc:
        raise AnsibleFilterError(f"wmi_moniker_parse: {exc}") from None


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "wmi_moniker": wmi_moniker,
            "wmi_object_path": wmi_object_path,
            "wmi_moniker_parse": wmi_moniker_parse,
        }
