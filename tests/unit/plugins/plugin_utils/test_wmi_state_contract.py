# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wmi_state.ps1 keeps to its contract, wmi_state.yml: the Ansible.Basic header, a small size, and a $spec equal to
the documented options (sub-options, defaults, choices) and check-mode support.

The PowerShell spec reader and the comparison are the gates' own (tools/gates/ps_spec.py, ps_argspec_check.py; their
ability to fail is proven in tests/unit/test_powershell_syntax.py, which also syntax-checks every .ps1/.psm1).
"""

from __future__ import annotations

import pathlib
import sys

import pytest
import yaml

pytest.importorskip("tree_sitter")
pytest.importorskip("tree_sitter_powershell")

ROOT = pathlib.Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "tools" / "gates"))
import ps_argspec_check  # noqa: E402  (tools/gates is a script directory, not a package)

MODULE = ROOT / "plugins" / "modules" / "wmi_state.ps1"
CONTRACT = ROOT / "plugins" / "modules" / "wmi_state.yml"


def test_module_header() -> None:
    lines = MODULE.read_text().splitlines()
    assert lines[0] == "#!powershell"
    assert "#AnsibleRequires -CSharpUtil Ansible.Basic" in lines
    # DESIGN: keep the target code small; larger logic belongs on the controller.
    assert len(lines) <= 260


def test_ps1_spec_equals_the_documented_contract() -> None:
    assert ps_argspec_check.check_module(MODULE) == []


def test_contract_documents_full_check_mode() -> None:
    documented = yaml.safe_load(CONTRACT.read_text())["DOCUMENTATION"]
    assert documented["attributes"]["check_mode"]["support"] == "full"
