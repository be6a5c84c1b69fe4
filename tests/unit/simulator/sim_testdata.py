"""Shared constants and helpers of the simulator unit tests (a uniquely named module: conftest is not importable)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).resolve().parent / "data"
STUB_COLLECTIONS = REPO_ROOT / "simulator" / "stub_collections"
WIN_PING_STUB = STUB_COLLECTIONS / "ansible_collections/ansible/windows/plugins/modules/win_ping.ps1"
# Through the collection tree, so ansible derives the FQN ansible_collections.winsec.wmi.plugins.modules.wmi_state.
WMI_STATE_PS1 = REPO_ROOT / "collections/ansible_collections/winsec/wmi/plugins/modules/wmi_state.ps1"
BUILDER = Path(__file__).resolve().parent / "payload_builder.py"


def build_payloads(specs: list[tuple[str, Path, dict[str, Any]]], tmp_dir: Path) -> list[bytes]:
    """Payloads as the installed ansible-core's winrm connection sends them, one per (module, path, args)."""
    collection_paths = [str(STUB_COLLECTIONS), str(REPO_ROOT / "collections")]
    spec_file = tmp_dir / "specs.json"
    spec_file.write_text(
        json.dumps(
            [
                {"module_name": name, "module_path": str(path), "args": args, "collection_paths": collection_paths}
                for name, path, args in specs
            ]
        ),
        encoding="utf-8",
    )
    subprocess.run([sys.executable, str(BUILDER), str(spec_file), str(tmp_dir)], check=True, cwd=REPO_ROOT)
    return [(tmp_dir / f"{index}.bin").read_bytes() for index in range(len(specs))]
