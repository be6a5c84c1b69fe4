# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import datetime
import typing as t

from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline import run_baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiAction


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        # Exceptions expire by the controller's calendar day.
        return run_baseline(self, params, datetime.date.today())
