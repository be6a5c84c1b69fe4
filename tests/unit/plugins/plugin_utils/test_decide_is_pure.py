# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``decide`` is pure: what ``verify`` needs travels in the Decision, not on the control, so one control object can
judge two reads and verify each decision by its own plan (WMI-004's covered findings, WMI-010's per-namespace parts)."""

from __future__ import annotations

import base64
import typing as t

from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._exceptions import NO_EXCEPTIONS
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._registry import build_controls
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl, sd_to_bytes

FACTS = {"os_caption": "Microsoft Windows Server 2022", "os_version": "10.0.20348", "os_build": 20348}
INHERITED = "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"
ROOT = INHERITED.replace("CIID", "CI")
WIDE = "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)" + INHERITED[len("O:BAG:BAD:") :]


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def read(cimv2: str, default: str) -> dict[str, t.Any]:
    names = {"root": ROOT, "root\\cimv2": cimv2, "root\\default": default}
    return {
        "op": "sd_get",
        "failed": False,
        "namespaces": [{"namespace": name, "sd": b64(sddl), "error": None} for name, sddl in names.items()],
        "principals": {},
        "principal_errors": {},
    }


def params(**extra: t.Any) -> dict[str, t.Any]:
    return {"namespaces": ["root"], "namespace_sds": [], "unsecapp_value_type": "REG_DWORD", "controls": None,
            "skip_controls": None, **extra}  # fmt: skip


def test_two_decisions_of_one_control_verify_by_their_own_plan():
    (control,) = list(build_controls(params(controls=["WMI-004"]), NO_EXCEPTIONS))
    host = HostContext(FACTS, os_profile(FACTS), check_mode=False, diff_mode=False, enforce=True)
    first = control.decide(host, [read(WIDE, INHERITED)])  # Everyone writes root\cimv2
    second = control.decide(host, [read(INHERITED, WIDE)])  # ... and, on another host, root\default
    assert first.writes and second.writes
    written = [{"op": "sd_set", "failed": False, "sd": op["sd"], "read_back_error": None} for op in first.writes]
    # The first decision is verified by what it planned, whatever the control judged since.
    assert control.verify(host, first, written).status == "remediated"
