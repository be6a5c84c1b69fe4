# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import typing as t
from pathlib import Path

from ansible.utils.display import Display
from ansible_collections.winsec.wmi.plugins.action.event_subscription_info import (
    ActionModule as EventSubscriptionInfoAction,
)
from ansible_collections.winsec.wmi.plugins.action.namespace_sd import ActionModule as NamespaceSdAction
from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._role import (
    RoleSpec,
    controls_from_tags,
    role_arguments,
    unknown_role_variables,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._run import run_baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._text import console_text
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import OptionSpec, WmiAction

# The role's variables are documented once, in its argument specification (shipped in the same collection), read
# here at import: in ansible-playbook's main process, once, not once per host.
display = Display()
ROLE_DIR = Path(__file__).resolve().parents[2] / "roles" / "wmi_hardening"
ROLE_SPEC = RoleSpec(ROLE_DIR / "meta" / "argument_specs.yml")


def in_the_role(task: t.Any) -> bool:
    """Whether the task runs inside this collection's wmi_hardening role (the wmi_hardening_ prefix is its
    namespace): the role's directory, not its name, so a user's own role called ``my_wmi_hardening`` (or a copy of
    ours) never has its options filled from wmi_hardening_* variables."""
    role = getattr(task, "_role", None)
    if role is None:
        return False
    try:
        return Path(role.get_role_path()).resolve() == ROLE_DIR
    except (OSError, TypeError):
        return False


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION

    def arguments(self, task_vars: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        given = super().arguments(task_vars)
        if not in_the_role(self._task):
            return given
        # The role's task gives no arguments: its variables are the options, resolved here per host (see
        # _baseline/_role). Without a templar (a unit test) the values are taken as they are.
        template = self._templar.template if self._templar is not None else (lambda value: value)
        return role_arguments(given, task_vars, template)

    def nested_options(self) -> dict[str, OptionSpec | None]:
        # Every item is checked before any host is contacted, each error naming its path. namespace_sds items and
        # event_subscriptions are the options of winsec.wmi.namespace_sd and winsec.wmi.event_subscription_info:
        # checked with those modules' own specs and rules, so the baseline accepts exactly what they accept.
        return {
            "namespace_sds": OptionSpec.of_action(NamespaceSdAction),
            "event_subscriptions": OptionSpec.of_action(EventSubscriptionInfoAction),
            "exceptions": None,
            "scripts": None,
            "dcom": None,
            "namespace_audit": None,
        }

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        task_vars = self._wmi_task_vars
        if in_the_role(self._task):
            # Only inside the role, and before the host is contacted: displayed, not returned, so an unreachable
            # host still shows it. Identical on every host: printed once.
            known = ROLE_SPEC.option_names()
            if known:
                for warning in unknown_role_variables(task_vars, known):
                    # A variable's name can come from a dynamic inventory: the one console sanitizer, as for
                    # every warning of a result.
                    display.warning(console_text(warning))
            # The role's tags named after control IDs select controls (documented in its argument spec).
            params = controls_from_tags(
                params, task_vars.get("ansible_run_tags") or [], task_vars.get("ansible_skip_tags") or []
            )
        # Exceptions expire by the controller's calendar day.
        return run_baseline(self, params, datetime.date.today(), host_name=task_vars.get("inventory_hostname"))
