# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every PowerShell file the collection ships parses with the tree-sitter PowerShell grammar.

There is no pwsh on the build machines, so this is the only check that the code which runs on Windows is
well-formed before it reaches a host. The parser and error reporting are the gates' own (tools/gates/ps_spec.py);
test_syntax_error_is_reported proves the check can fail.
"""

from __future__ import annotations

import pathlib
import sys

import pytest

pytest.importorskip("tree_sitter")
pytest.importorskip("tree_sitter_powershell")

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "gates"))
import ps_spec  # noqa: E402  (tools/gates is a script directory, not a package)

SCRIPTS = sorted(p for pattern in ("*.ps1", "*.psm1") for p in (ROOT / "plugins").rglob(pattern))


def errors_in(path: pathlib.Path) -> list[str]:
    return ps_spec.syntax_errors(ps_spec.parse(path.read_bytes()))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_powershell_file_parses(script: pathlib.Path) -> None:
    assert errors_in(script) == [], f"{script.relative_to(ROOT)} has PowerShell syntax errors"


def test_syntax_error_is_reported(tmp_path: pathlib.Path) -> None:
    good = tmp_path / "good.ps1"
    good.write_text("$spec = @{ options = @{ name = @{ type = 'str' } } }\nif ($true) { Write-Output 'ok' }\n")
    broken = tmp_path / "broken.ps1"
    broken.write_text("$spec = @{ options = @{ name = @{ type = 'str' } }\nif ($true) { Write-Output 'ok' \n")

    assert errors_in(good) == []
    errors = errors_in(broken)
    assert errors, "an unclosed hashtable and script block must be reported"
    assert all(e.split(":")[0].isdigit() for e in errors), errors  # each error names its line
