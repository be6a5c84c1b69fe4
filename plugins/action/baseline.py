# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winsec.wmi.plugins.action.event_subscription_info import (
    ActionModule as EventSubscriptionInfoAction,
)
from ansible_collections.winsec.wmi.plugins.action.namespace_sd import ActionModule as NamespaceSdAction
from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline import run_baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import OptionSpec, WmiAction


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION

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
        # Exceptions expire by the controller's calendar day.
        return run_baseline(self, params, datetime.date.today())
