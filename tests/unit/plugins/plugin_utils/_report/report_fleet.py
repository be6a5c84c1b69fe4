# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A crafted fleet of baseline results for the report tests: every host status, and hostile host-derived text."""

from __future__ import annotations

import copy
import json
import typing as t
from pathlib import Path

# Strings a host can put into a report (names of principals, namespaces, script paths, messages).
SCRIPT_TAG = "<script>alert(1)</script>"
CDATA_END = "]]>"
FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_PRINCIPAL = f"CORP\\{SCRIPT_TAG}\"'&{CDATA_END}|pipe"
HOSTILE_NAMESPACE = "root\\evil|ns\nsecond line\r\nthird *bold* _it_ [link](javascript:alert(1)) # `code`"
NON_ASCII = "Bénédicte Ωmega 日本語 \u2028sep"
LONG_NAME = "x" * 10_000
CONTROL_CHARS = "nul\x00bell\x07esc\x1b"
SCHEMA_PATH = Path(__file__).resolve().parents[5] / "docs" / "schemas" / "wmi-compliance.schema.json"


def control(control_id: str, status: str, **extra: t.Any) -> dict[str, t.Any]:
    record = {
        "id": control_id,
        "title": f"Title of {control_id}",
        "severity": "high",
        "status": status,
        "expected": {"enabled": True},
        "actual": {"enabled": status == "compliant"},
        "findings": [],
        "remediation": {"automatic": True, "text": "Run winsec.wmi.harden."},
        "references": [{"title": "Microsoft Learn", "url": "https://learn.microsoft.com/en-us/windows/win32/wmi/"}],
        "changes": [],
    }
    record.update(extra)
    return record


def baseline(status: str, controls: list[dict[str, t.Any]], **extra: t.Any) -> dict[str, t.Any]:
    counts = dict.fromkeys(("compliant", "drift", "remediated", "not_applicable", "excepted", "error"), 0)
    for item in controls:
        counts[item["status"]] += 1
    record = {
        "changed": False,
        "status": status,
        # The keys winsec.wmi.baseline returns (_os_profile.host_facts, plus family and pre_2003).
        "os": {
            "os_caption": "Microsoft Windows Server 2022 Datacenter",
            "os_version": "10.0.20348",
            "os_build": 20348,
            "family": "2003",
            "pre_2003": False,
        },
        "counts": counts,
        "controls": controls,
    }
    record.update(extra)
    return record


def fleet() -> dict[str, t.Any]:
    """Host name -> registered result, as compliance_report reads them from hostvars."""
    hostile_finding = {
        "id": "broad_write",
        "severity": "high",
        "message": f"{HOSTILE_PRINCIPAL} holds WriteSecurity on {HOSTILE_NAMESPACE}",
        "namespace": HOSTILE_NAMESPACE,
        "principal": HOSTILE_PRINCIPAL,
        "sid": "S-1-5-21-1-2-3-1107",
        "rights": ["WriteSecurity", FORMULA],
        "file": f"C:\\scripts\\{FORMULA}.vbs",
        "line": 12,
    }
    return {
        "web01": baseline("compliant", [control("WMI-001", "compliant"), control("WMI-002", "compliant")]),
        "app02": baseline(
            "drift",
            [
                control("WMI-001", "compliant"),
                control(
                    "WMI-002",
                    "drift",
                    findings=[hostile_finding],
                    remediation={"automatic": False, "text": f"Remove {HOSTILE_PRINCIPAL}; review {FORMULA}"},
                    references=[{"title": SCRIPT_TAG, "url": "javascript:alert(1)"}],
                ),
            ],
        ),
        "backup01": baseline(
            "excepted",
            [
                control("WMI-001", "compliant"),
                control(
                    "WMI-002",
                    "excepted",
                    reason=f"backup product account {NON_ASCII}: change CHG-42",
                    findings=[{**hostile_finding, "excepted": True, "reason": "CHG-42"}],
                ),
            ],
        ),
        "nt4-legacy": baseline(
            "not_applicable",
            [
                control(
                    "WMI-001",
                    "not_applicable",
                    reason="Windows NT 4.0 has no unsecapp check: use synchronous or semisynchronous scripts",
                ),
            ],
            os={"family": "nt4", "pre_2003": True, "source": "inventory"},
        ),
        "fixed01": baseline(
            "remediated",
            [control("WMI-001", "remediated", changes=["UnsecappAccessControlDefault 0 -> 1"])],
            changed=True,
        ),
        "sqlerr": baseline(
            "error",
            [control("WMI-001", "compliant"), control("WMI-002", "error", reason="WBEM_E_ACCESS_DENIED (0x80041003)")],
        ),
        "dc01": {"unreachable": True, "changed": False, "msg": "ntlm: HTTPSConnectionPool: Connection refused"},
        "fs01": {"failed": True, "changed": False, "msg": "winsec.wmi.wmi_state failed on the host: boom"},
        "skipped01": {"skipped": True, "changed": False, "skip_reason": "Conditional result was False"},
        "never01": None,
        f"{SCRIPT_TAG}{CDATA_END}{FORMULA}|{NON_ASCII}\n{CONTROL_CHARS}": baseline(
            "drift", [control(f"{FORMULA}{SCRIPT_TAG}", "drift", title=HOSTILE_NAMESPACE, findings=[hostile_finding])]
        ),
        LONG_NAME: baseline("compliant", [control("WMI-001", "compliant")]),
    }


def fleet_copy() -> dict[str, t.Any]:
    return copy.deepcopy(fleet())


def schema() -> dict[str, t.Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
