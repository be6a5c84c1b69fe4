"""Run one module call on a host: resolve the module, validate its arguments, execute, shape the JSON reply."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import windows_modules, wmi_state
from ._paths import REPO_ROOT
from .argspec import ANSIBLE_WINDOWS_SPECS, ArgSpecMismatch, collection_module_spec, validate
from .host import Caller, Host
from .payload import ModuleCall

WMI_STATE = "winsec.wmi.wmi_state"

# Names a module can arrive under. <= 2.18 payloads only carry ``_ansible_module_name``: the name the action plugin
# passed to _execute_module, before _configure_module's Windows rewrite (ping -> ansible.windows.win_ping) and
# before collection search (``wmi_state`` under ``collections: [winsec.wmi]``).
_SHORT_NAMES = {
    "win_ping": "ansible.windows.win_ping",
    "ping": "ansible.windows.win_ping",
    "setup": "ansible.windows.setup",
    "win_reg_stat": "ansible.windows.win_reg_stat",
    "win_regedit": "ansible.windows.win_regedit",
    "wmi_state": WMI_STATE,
}
_UNQUALIFIED_PREFIXES = ("", "ansible.legacy", "ansible.builtin")


@dataclass
class Execution:
    module: str
    result: dict[str, Any]
    rc: int
    wrote: bool
    raw_stdout: bytes | None = None  # what the host printed when it is not a module result (the bootstrap's refusal)

    @property
    def stdout(self) -> bytes:
        if self.raw_stdout is not None:
            return self.raw_stdout
        return (json.dumps(self.result) + "\r\n").encode("utf-8")


def canonical_module(name: str) -> str:
    if name in (WMI_STATE, *windows_modules.MODULES):
        return name
    prefix, _, leaf = name.rpartition(".")
    if prefix in _UNQUALIFIED_PREFIXES and leaf in _SHORT_NAMES:
        return _SHORT_NAMES[leaf]
    return name


def _failure(module: str, msg: str, **extra: Any) -> Execution:
    return Execution(module, {"failed": True, "changed": False, "msg": msg, **extra}, rc=1, wrote=False)


_CSHARP_UTIL = re.compile(r"^#AnsibleRequires\s+-CSharpUtil\s+(\S+)\s*$", re.MULTILINE | re.IGNORECASE)


def missing_csharp_utils(call: ModuleCall) -> list[str]:
    """The ``#AnsibleRequires -CSharpUtil`` names of the module's source that its payload does not embed (ansible-core
    2.19+ ships each as ``<name>.cs``, 2.18's ``csharp_utils`` keys it by ``<name>``)."""
    required = _CSHARP_UTIL.findall(call.module_source or "")
    embedded = set(call.embedded_scripts)
    return [name for name in required if not {name, f"{name}.cs"} & embedded]


def become(host: Host, caller: Caller, user: str | None) -> Caller | None:
    """The identity the runas become wrapper switches to (None: the account is unknown to the host)."""
    if not user:
        return caller
    leaf = user.split("\\")[-1].split("@")[0].lower()
    if leaf in ("system", "localsystem"):
        # LocalSystem's token holds BUILTIN\Administrators, hence admin rights everywhere WMI looks.
        return Caller(user="SYSTEM", password="", sid="S-1-5-18", admin=True)
    return host.callers.get(leaf)


def execute(host: Host, caller: Caller, call: ModuleCall, collection_dir: Path = REPO_ROOT) -> Execution:
    """Execute ``call`` on ``host`` as ``caller``; never raises for module-level problems."""
    module = canonical_module(call.module)
    effective = become(host, caller, call.become_user)
    if effective is None:
        host.counters.count("module_executions", module)
        return _failure(
            module,
            f"Failed to become user {call.become_user}: No mapping between account names and security IDs was done.",
        )
    caller = effective
    host.counters.count("module_executions", module)
    if module == WMI_STATE:
        spec = collection_module_spec(collection_dir, "wmi_state")
        if spec is None:
            return _failure(module, "SIMULATOR: plugins/modules/wmi_state.yml (the contract) is missing")
    elif module in ANSIBLE_WINDOWS_SPECS:
        spec = ANSIBLE_WINDOWS_SPECS[module]
    else:
        # What a host says when the module needs something it does not have; the simulator only emulates the
        # modules above, so anything else fails the way a missing cmdlet does on Windows.
        leaf = module.rsplit(".", 1)[-1]
        return _failure(
            module,
            f"Unhandled exception while executing module: The term '{leaf}' is not recognized as the name of a "
            "cmdlet, function, script file, or operable program. (simulated host: module "
            f"{module} is not emulated)",
        )
    missing = missing_csharp_utils(call)
    if missing:
        # A C# util the module names but the payload does not carry is no type on the host: PowerShell stops with
        # "Unable to find type" at its first use (ansible-core's exec wrapper compiles only what it was sent).
        return _failure(module, f"Unable to find type [{missing[0]}]. (simulated host: the payload lacks {missing})")
    try:
        params = validate(module, spec, call.user_args())
    except ArgSpecMismatch as exc:
        host.counters.count("argspec_mismatches")
        return _failure(module, str(exc))

    writes_before = host.counters.total_writes()
    try:
        if module == WMI_STATE:
            result, _wrote = wmi_state.run(host, caller, params, call.check_mode)
        else:
            with host.lock:
                result = windows_modules.MODULES[module](host, caller, params, call.check_mode, call.diff)
    except wmi_state.ContractViolation as exc:
        return _failure(module, str(exc))
    except windows_modules.ModuleFailure as exc:
        return _failure(module, exc.msg, **exc.extra)
    wrote = host.counters.total_writes() > writes_before
    # Ansible.Basic adds invocation.module_args unless the controller asks it not to (2.21 stopped asking).
    if call.args.get("_ansible_inject_invocation", True):
        result.setdefault("invocation", {"module_args": params})
    return Execution(module, result, rc=1 if result.get("failed") else 0, wrote=wrote)
