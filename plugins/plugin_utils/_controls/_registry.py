# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The controls of winsec.wmi.baseline, as data: one table drives their IDs, which option turns each on, how each is
built from the baseline's options, and the tests that check the documentation lists every one.

A new control is one entry here (and its class's ``from_baseline``); tests/unit/plugins/plugin_utils/_controls/
test_registry.py then fails until the module's documentation, the role's README and the hardening guide name it.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .._control import Control
from .._scripts._script_audit import AdsiScriptAudit, AsyncScriptAudit
from .._subscriptions._event_subscriptions import EventSubscriptions
from .._wmi_errors import WmiActionError
from ._dcom_hardening import DcomHardening
from ._exceptions import ControlExceptions
from ._namespace_audit import NamespaceAudit
from ._namespace_controls import (
    BroadGrants,
    DaclIntegrity,
    ExplicitSds,
    NamespaceOwner,
    NamespaceTreeRead,
    OrphanedSids,
)
from ._unsecapp_lockdown import UnsecappLockdown


@dataclass(frozen=True)
class OptIn:
    """The option that turns a control on (the control runs only where it is set) and the role variable behind it."""

    option: tuple[str, str]  # ("scripts", "paths"): winsec.wmi.baseline's scripts.paths
    role_variable: str

    def enabled(self, params: t.Mapping[str, t.Any]) -> bool:
        group, key = self.option
        return bool((params.get(group) or {}).get(key))

    def describe(self) -> str:
        """'scripts.paths (wmi_hardening_script_paths)': what the user sets, in the module and in the role."""
        return f"{'.'.join(self.option)} ({self.role_variable})"


# Scripts: the controls read files, so only where the user says which.
SCRIPT_PATHS = OptIn(("scripts", "paths"), "wmi_hardening_script_paths")
# Reading a SACL needs SeSecurityPrivilege (GetSecurityDescriptor, Microsoft Learn): only where the user asks.
NAMESPACE_AUDIT = OptIn(("namespace_audit", "enabled"), "wmi_hardening_namespace_audit")


@dataclass(frozen=True)
class RegisteredControl:
    control: type[Control]
    # None: the control always runs (unless the user leaves it out with controls / skip_controls).
    opt_in: OptIn | None = None

    @property
    def id(self) -> str:
        return self.control.id


# In ID order; also the order in which they are built, so of two bad options the same one is named first every run.
CONTROLS: tuple[RegisteredControl, ...] = (
    RegisteredControl(UnsecappLockdown),
    RegisteredControl(ExplicitSds),
    RegisteredControl(DaclIntegrity),
    RegisteredControl(BroadGrants),
    RegisteredControl(OrphanedSids),
    RegisteredControl(NamespaceOwner),
    RegisteredControl(AdsiScriptAudit, SCRIPT_PATHS),
    RegisteredControl(AsyncScriptAudit, SCRIPT_PATHS),
    RegisteredControl(EventSubscriptions),
    RegisteredControl(DcomHardening),
    RegisteredControl(NamespaceAudit, NAMESPACE_AUDIT),
)
# Every control an exception, controls or skip_controls may name, whether or not this run enables it (an exceptions
# file is shared between audits that select different controls).
CONTROL_IDS = frozenset(entry.id for entry in CONTROLS)


class BaselineOptions:
    """What every control is built from: the baseline's validated options, the run's exceptions, and the reads
    several controls share (built here once, so the runner sends and parses them once)."""

    def __init__(self, params: t.Mapping[str, t.Any], exceptions: ControlExceptions) -> None:
        self.params = params
        self.exceptions = exceptions
        # Built before any control, whichever runs: a bad namespace is refused first, on every run.
        self.namespace_tree = NamespaceTreeRead(params["namespaces"])


def build_controls(params: t.Mapping[str, t.Any], exceptions: ControlExceptions) -> list[Control]:
    """The selected controls, in ID order, each given the run's exceptions (a fix never touches an excepted
    finding). Bad options, unknown IDs and opt-in controls selected without their option are refused here, before
    any host is contacted."""
    options = BaselineOptions(params, exceptions)
    available = {
        entry.id: entry.control.from_baseline(options)
        for entry in CONTROLS
        if entry.opt_in is None or entry.opt_in.enabled(params)
    }
    known = ", ".join(sorted(CONTROL_IDS))
    unknown_excepted = exceptions.unknown(CONTROL_IDS)
    if unknown_excepted:
        # An exception for a misspelt control (WMI-04) would accept nothing on every host, silently.
        raise WmiActionError(
            "; ".join(f"{item.where}.control: unknown control ID {item.control!r}" for item in unknown_excepted)
            + f"; known: {known}"
        )
    selected = [control.upper() for control in params.get("controls") or available]
    unknown = sorted(set(selected) - CONTROL_IDS)
    if unknown:
        raise WmiActionError(f"controls: unknown control ID(s) {', '.join(unknown)}; known: {known}")
    off = sorted(set(selected) - set(available))
    if off:
        # Known controls that read what the user must name first: say which option turns each on.
        opt_ins = {entry.id: entry.opt_in for entry in CONTROLS if entry.opt_in is not None}
        raise WmiActionError(
            f"controls: {', '.join(off)} selected but not enabled; "
            + "; ".join(f"{control_id} needs {opt_ins[control_id].describe()}" for control_id in off)
            + f". Enabled here: {', '.join(sorted(available))}"
        )
    skipped = {control.upper() for control in params.get("skip_controls") or []}
    unknown_skipped = sorted(skipped - CONTROL_IDS)
    if unknown_skipped:
        # A misspelt skip (WMI-4) would run the very control the user meant to leave out, silently.
        raise WmiActionError(f"skip_controls: unknown control ID(s) {', '.join(unknown_skipped)}; known: {known}")
    return [available[key] for key in sorted(available) if key in selected and key not in skipped]
