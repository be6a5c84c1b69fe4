"""What the controller sends a host for one winsec.wmi.wmi_state call (one audit), part by part.

Builds the module payload the way ansible-core does for a task (``module_common.modify_module``, ansible-core 2.19
and later: bootstrap JSON, then the exec manifest whose ``scripts`` are base64) and prints each part's size: the
parts ansible-core adds to every PowerShell module, the collection's own PowerShell, and the C# utilities the
module asks for. WinRM sends the payload as base64 again inside SOAP envelopes (about 4/3 of it, plus the
envelopes: the simulator's ``bytes_to_host_per_host``).

    .venv/2.19/bin/python benchmarks/payload_size.py [--json FILE]

Numbers depend on the ansible-core version (each release changes its wrappers); they are printed, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import typing as t
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO_ROOT / "collections"
MODULE = COLLECTIONS / "ansible_collections" / "winsec" / "wmi" / "plugins" / "modules" / "wmi_state.ps1"
# An audit's operations do not change the payload's size by more than a few hundred bytes: the scripts dominate.
ARGS = {"operations": [{"op": "facts"}], "_ansible_check_mode": True, "_ansible_module_name": "winsec.wmi.wmi_state"}


def owner_of(name: str) -> str:
    if name.startswith("ansible_collections.winsec.wmi."):
        return "winsec.wmi"
    if name in ("Ansible.Basic.cs", "Ansible.ModuleUtils.AddType.psm1", "module_wrapper.ps1"):
        return "ansible-core (every PowerShell module)"
    return "ansible-core (asked for by winsec.wmi)"


def composition() -> dict[str, t.Any]:
    import ansible
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.plugins.loader import init_plugin_loader
    from ansible.template import Templar

    init_plugin_loader([str(COLLECTIONS)])
    built = module_common.modify_module(  # keyword-only from ansible-core 2.19
        module_name="winsec.wmi.wmi_state",
        module_path=str(MODULE),
        module_args=dict(ARGS),
        templar=Templar(loader=DataLoader()),
        task_vars={},
    )
    data: bytes = built.b_module_data
    bootstrap, manifest = data.split(b"\n\0\0\0\0\n")[:2]
    scripts = json.loads(manifest)["scripts"]
    every_module = "ansible-core (every PowerShell module)"
    parts: list[dict[str, t.Any]] = [
        {"part": "exec_wrapper.ps1 (bootstrap)", "owner": every_module, "bytes": len(bootstrap)}
    ]
    for name, script in scripts.items():
        encoded = len(script["script"])
        parts.append(
            {
                "part": name.removeprefix("ansible_collections.winsec.wmi.plugins."),
                "owner": owner_of(name),
                "bytes": encoded,
                "source_bytes": len(base64.b64decode(script["script"])),
            }
        )
    rest = len(data) - sum(part["bytes"] for part in parts)
    parts.append({"part": "manifest (actions, arguments)", "owner": "ansible-core", "bytes": rest})
    by_owner: dict[str, int] = {}
    for part in parts:
        by_owner[part["owner"]] = by_owner.get(part["owner"], 0) + part["bytes"]
    return {
        "ansible_core": ansible.__version__,
        "payload_bytes": len(data),
        "winrm_base64_bytes": (len(data) + 2) // 3 * 4,
        "parts": parts,
        "by_owner": by_owner,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args()
    sys.path.insert(0, str(COLLECTIONS))
    result = composition()
    print(f"winsec.wmi.wmi_state payload, ansible-core {result['ansible_core']}: {result['payload_bytes']:,} bytes "
          f"({result['winrm_base64_bytes']:,} as WinRM's base64)")  # fmt: skip
    for part in sorted(result["parts"], key=lambda p: -p["bytes"]):
        share = part["bytes"] / result["payload_bytes"]
        print(f"  {part['bytes']:8,}  {share:5.1%}  {part['part']:45}  {part['owner']}")
    for owner, size in result["by_owner"].items():
        print(f"  {size:8,}  {size / result['payload_bytes']:5.1%}  total of {owner}")
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
