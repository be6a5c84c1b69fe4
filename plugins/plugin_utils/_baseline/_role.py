# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wmi_hardening role's variables and tags, as winsec.wmi.baseline reads them inside the role.

The role's baseline task passes no arguments: the action reads the role's variables from the host's variables, the
same values ``"{{ wmi_hardening_x }}"`` in the task would give (the same precedence: extra vars, host vars, play
vars, role defaults). On a 2-core controller each templated task argument costs every host a Jinja compile in a
freshly forked worker; a value that is not a template costs nothing to resolve here.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import difflib
import re
import typing as t
from pathlib import Path

import yaml

from .._argspec import YAML_LOADER

ROLE_PREFIX = "wmi_hardening_"
_CONTROL_TAG = re.compile(r"^WMI-[0-9]+$", re.IGNORECASE)
# Set by the role itself, not by the user (the baseline's registered result).
ROLE_OWN_VARIABLES = frozenset({"wmi_hardening_result"})


def unknown_role_variables(defined: t.Iterable[str], known: t.Iterable[str]) -> list[str]:
    """One warning per wmi_hardening_* variable the role does not know, with the nearest known name: Ansible passes
    any variable silently, so wmi_hardening_report_directory would write no report and wmi_hardening_mod: enforce
    would audit."""
    known_names = sorted({*known, *ROLE_OWN_VARIABLES})
    warnings = []
    for name in sorted(set(defined)):
        if not name.startswith(ROLE_PREFIX) or name in known_names:
            continue
        nearest = difflib.get_close_matches(name, known_names, n=1, cutoff=0.6)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        warnings.append(f"{name} is not a variable of the winsec.wmi.wmi_hardening role and is ignored{hint}.")
    return warnings


def controls_from_tags(
    params: t.Mapping[str, t.Any], run_tags: t.Iterable[str], skip_tags: t.Iterable[str]
) -> dict[str, t.Any]:
    """The role's control selection with the tags named after control IDs added: ``--tags WMI-004`` selects that
    control (with wmi_hardening_controls), ``--skip-tags WMI-005`` skips it. Other tags (``all``, a task tag) select
    nothing here."""
    selected = [tag.upper() for tag in run_tags if _CONTROL_TAG.match(str(tag))]
    skipped = [tag.upper() for tag in skip_tags if _CONTROL_TAG.match(str(tag))]
    if not selected and not skipped:
        return dict(params)
    controls = list(dict.fromkeys([*(params.get("controls") or []), *selected])) or None
    return {**params, "controls": controls, "skip_controls": [*(params.get("skip_controls") or []), *skipped]}


# baseline option (a path into its nested options) <- the role variable that sets it.
ROLE_ARGUMENTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("mode",), "wmi_hardening_mode"),
    (("controls",), "wmi_hardening_controls"),
    (("skip_controls",), "wmi_hardening_skip_controls"),
    (("namespaces",), "wmi_hardening_namespaces"),
    (("namespace_sds",), "wmi_hardening_namespace_sds"),
    (("unsecapp_value_type",), "wmi_hardening_unsecapp_value_type"),
    (("exceptions",), "wmi_hardening_exceptions"),
    (("scripts", "paths"), "wmi_hardening_script_paths"),
    (("scripts", "patterns"), "wmi_hardening_script_patterns"),
    (("event_subscriptions", "allowed"), "wmi_hardening_event_subscriptions_allowed"),
    (("dcom", "remove_legacy_exception"), "wmi_hardening_dcom_remove_legacy_exception"),
    (("namespace_audit", "enabled"), "wmi_hardening_namespace_audit"),
    (("namespace_audit", "set_sacl"), "wmi_hardening_namespace_audit_set_sacl"),
    (("evidence",), "wmi_hardening_evidence"),
    (("fail_on_error",), "wmi_hardening_fail_on_unjudged"),
    (("fail_on_drift",), "wmi_hardening_fail_on_drift"),
    # The verdict of releases Ansible cannot manage comes from the inventory; such hosts are never contacted.
    (("inventory_os",), "winsec_wmi_os"),
)
# Empty means "the module's default": every control, the default script patterns.
_OMITTED_WHEN_EMPTY = frozenset({"wmi_hardening_controls", "wmi_hardening_script_patterns"})


def role_arguments(
    given: t.Mapping[str, t.Any], variables: t.Mapping[str, t.Any], template: t.Callable[[t.Any], t.Any]
) -> dict[str, t.Any]:
    """The baseline's arguments: those the task gives, the role's variables for the rest. ``template`` renders a
    variable's value (only values that hold a template cost anything); a variable that is not defined (the host's
    winsec_wmi_os) leaves its option out, as ``default(omit)`` did."""
    arguments = {name: dict(value) if isinstance(value, t.Mapping) else value for name, value in given.items()}
    for path, variable in ROLE_ARGUMENTS:
        if variable not in variables:
            continue
        parent = arguments
        for name in path[:-1]:
            parent = parent.setdefault(name, {})
            if not isinstance(parent, dict):
                break  # the task gave a non-dictionary here: validation names it
        else:
            if path[-1] in parent:
                continue  # the task's own argument wins
            value = template(variables[variable])
            if variable in _OMITTED_WHEN_EMPTY and not value:
                continue
            parent[path[-1]] = value
    return arguments


class RoleSpec:
    """The option names of the role's meta/argument_specs.yml, parsed once per process and again only when the file
    changes. Built when the action plugin is imported, which ansible-playbook does in its main process before it
    forks a worker per host and task: the workers inherit the parse (it took ~16 ms with the pure-Python loader, on
    every host)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._names: frozenset[str] = frozenset()
        self.option_names()

    def option_names(self) -> frozenset[str]:
        """The role's variable names; empty when the file is absent (the role is not shipped beside the action)."""
        try:
            status = self.path.stat()
        except OSError:
            return frozenset()
        stamp = (status.st_mtime_ns, status.st_size)
        if stamp != self._stamp:
            document = yaml.load(self.path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
            self._names = frozenset(document["argument_specs"]["main"]["options"])
            self._stamp = stamp
        return self._names
