# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import typing as t

from ansible_collections.winsec.wmi.plugins.modules.namespace_sd_info import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd_info import NamespaceSdInfo
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_action import WmiAction


class ActionModule(WmiAction):
    DOCUMENTATION = DOCUMENTATION

    def run_wmi(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        return run_module(self, NamespaceSdInfo(params))
