"""Identify the module and its arguments from the stdin of a WinRS command.

Only stdin is trusted: the command line is the same bootstrap for every module (notes §1.2). Two formats exist:

* ansible-core >= 2.19: ``<bootstrap JSON>\\n\\0\\0\\0\\0\\n<exec manifest JSON>[\\n\\0\\0\\0\\0\\n<input>]``
  (``module_manifest._get_bootstrap_input``). The module is the **last** action, named ``module_wrapper.ps1``; its
  ``Script`` is ``<module FQN>.ps1`` and its ``complex_args`` variable holds the arguments (notes §1.3).
* ansible-core <= 2.18: ``<exec_wrapper.ps1 source>\\n\\n\\0\\0\\0\\0<JSON manifest>``; the arguments are
  ``module_args`` and the only module name is ``module_args["_ansible_module_name"]`` (notes §1.4).

``json.dumps`` escapes control characters, so four raw NUL bytes never occur inside the JSON: splitting on them is safe.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

SEPARATOR = b"\0\0\0\0"
MODULE_WRAPPER = "module_wrapper.ps1"
_FQN_PREFIX = "ansible_collections."
_FQN_MODULES = ".plugins.modules."


class PayloadError(ValueError):
    """The stdin is not an exec-wrapper payload the simulator understands."""


@dataclass
class ModuleCall:
    """One module execution as the host would see it."""

    module: str
    """Canonical module name: a FQCN (``winsec.wmi.wmi_state``) or ``ansible.legacy.<name>`` when not qualified."""
    args: dict[str, Any]
    """Module arguments including the ``_ansible_*`` keys."""
    payload_format: str
    """``exec_manifest`` (ansible-core >= 2.19) or ``legacy_json`` (<= 2.18)."""
    module_source: str | None = None
    """The PowerShell module source shipped in the payload, when present."""
    wrappers: list[str] = field(default_factory=list)
    """Wrapper actions run before the module (become, async, coverage)."""
    embedded_scripts: list[str] = field(default_factory=list)
    """Names of every script embedded in the payload (module utils included)."""
    become_user: str | None = None
    """The runas become user, when the task uses become (the exec wrapper switches identity on the host)."""

    @property
    def check_mode(self) -> bool:
        return bool(self.args.get("_ansible_check_mode", False))

    @property
    def diff(self) -> bool:
        return bool(self.args.get("_ansible_diff", False))

    def user_args(self) -> dict[str, Any]:
        """The arguments without the ``_ansible_*`` keys the controller injects."""
        return {k: v for k, v in self.args.items() if not k.startswith("_ansible_")}


@dataclass
class ScriptCall:
    """A bootstrap payload that runs an internal ansible script rather than a module (put_file, mkdtemp, ...)."""

    script: str
    params: dict[str, Any]


def module_name_from_script(script: str) -> str:
    """``ansible_collections.ns.coll.plugins.modules.name.ps1`` -> ``ns.coll.name``; ``ansible.legacy.x.ps1`` kept."""
    name = script[: -len(".ps1")] if script.lower().endswith(".ps1") else script
    if name.startswith(_FQN_PREFIX) and _FQN_MODULES in name:
        collection, _, leaf = name[len(_FQN_PREFIX) :].partition(_FQN_MODULES)
        return f"{collection}.{leaf}"
    return name


def _b64_text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value).decode("utf-8-sig", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"{what} is not JSON: {exc}") from exc


def parse_payload(stdin: bytes) -> ModuleCall | ScriptCall:
    """Parse a WinRS stdin payload from any supported ansible-core."""
    if SEPARATOR not in stdin:
        raise PayloadError("no exec-wrapper separator (four NUL bytes) in stdin")
    head, _, rest = stdin.partition(SEPARATOR)
    head = head.strip()
    if head.startswith(b"{"):
        return _parse_exec_manifest(head, rest)
    return _parse_legacy(rest)


def _parse_exec_manifest(head: bytes, rest: bytes) -> ModuleCall | ScriptCall:
    bootstrap = _parse_json(head, "bootstrap input")
    if not isinstance(bootstrap, dict) or "script" not in bootstrap:
        raise PayloadError("bootstrap input has no 'script'")
    manifest_bytes, _, _extra_input = rest.partition(SEPARATOR)
    manifest = _parse_json(manifest_bytes.strip(), "exec manifest")
    actions = manifest.get("actions") if isinstance(manifest, dict) else None
    if not isinstance(actions, list) or not actions:
        raise PayloadError("exec manifest has no actions")
    scripts = manifest.get("scripts") or {}
    last = actions[-1]
    params = last.get("params") or {}
    if last.get("name") != MODULE_WRAPPER:
        return ScriptCall(script=str(last.get("name")), params=params)
    script = str(params.get("Script", ""))
    complex_args: dict[str, Any] | None = None
    for variable in params.get("Variables") or []:
        if variable.get("Name") == "complex_args":
            complex_args = variable.get("Value")
    if complex_args is None:
        raise PayloadError("module_wrapper.ps1 action has no complex_args variable")
    source_entry = scripts.get(script) or {}
    become_user = next(
        (str(a["params"]["BecomeUser"]) for a in actions[:-1] if (a.get("params") or {}).get("BecomeUser")), None
    )
    return ModuleCall(
        module=module_name_from_script(script),
        args=dict(complex_args),
        payload_format="exec_manifest",
        module_source=_b64_text(source_entry.get("script")),
        wrappers=[str(action.get("name")) for action in actions[:-1]],
        embedded_scripts=sorted(scripts),
        become_user=become_user,
    )


def _parse_legacy(rest: bytes) -> ModuleCall:
    manifest = _parse_json(rest.strip(), "exec-wrapper JSON")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("module_args"), dict):
        raise PayloadError("exec-wrapper JSON has no module_args")
    args: dict[str, Any] = dict(manifest["module_args"])
    name = args.get("_ansible_module_name")
    if not isinstance(name, str) or not name:
        raise PayloadError("module_args has no _ansible_module_name (the only module name in a <=2.18 payload)")
    embedded = sorted(
        [*(manifest.get("powershell_modules") or {}), *(manifest.get("csharp_utils") or {})],
    )
    return ModuleCall(
        module=name,
        args=args,
        payload_format="legacy_json",
        module_source=_b64_text(manifest.get("module_entry")),
        wrappers=[str(a) for a in manifest.get("actions") or []],
        embedded_scripts=embedded,
        become_user=str(manifest["become_user"]) if manifest.get("become_user") else None,
    )
