# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t

from ansible_collections.winsec.wmi.plugins.modules.event_subscription import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription import (
    EventSubscriptionRemoval,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription_restore import (
    EventSubscriptionRestore,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiAction
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError

# The options that name a subscription to remove; a restore takes everything from its definition instead.
NAMING_OPTIONS = ("namespace", "filter", "consumer", "consumer_class")


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION
    REQUIRED_TOGETHER: t.ClassVar[list[list[str]]] = [["consumer", "consumer_class"]]
    REQUIRED_IF: t.ClassVar[list[tuple[str, t.Any, list[str]]]] = [("state", "present", ["definition"])]

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        if params["state"] == "present":
            given = [name for name in NAMING_OPTIONS if params.get(name) is not None]
            if given:
                raise WmiActionError(
                    f"state=present restores exactly what definition holds (each entry names its namespace): "
                    f"{', '.join(given)} cannot be given with it."
                )
            return run_module(self, EventSubscriptionRestore(params["definition"]))
        if params.get("definition") is not None:
            raise WmiActionError("definition is for state=present; state=absent names the subscription to remove.")
        return run_module(self, EventSubscriptionRemoval.from_params(params))
