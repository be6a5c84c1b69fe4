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


# The arg-spec gate (tools/gates/ps_argspec_check.py, also behind ansible-test's validate-modules here) must catch
# a .ps1 spec that drifts from its documentation, and refuse a spec it cannot read statically.
MODULE_PS1 = """#!powershell
#AnsibleRequires -CSharpUtil Ansible.Basic
$spec = @{
    options = @{
        name = @{ type = 'str'; required = $true }
        size = @{ type = 'int'; default = 5 }
        mode = @{ type = 'str'; choices = 'a', 'b'; default = 'a' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
"""
MODULE_DOCS = """DOCUMENTATION:
  module: sample
  short_description: Sample
  description: [Sample.]
  options:
    name: {description: Name., type: str, required: true}
    size: {description: Size., type: int, default: 5}
    mode: {description: Mode., type: str, choices: [a, b], default: a}
  attributes:
    check_mode: {support: full}
"""


def argspec_problems(tmp_path: pathlib.Path, ps1: str, docs: str) -> list[str]:
    import ps_argspec_check

    (tmp_path / "sample.ps1").write_text(ps1)
    (tmp_path / "sample.yml").write_text(docs)
    return ps_argspec_check.check_module(tmp_path / "sample.ps1")


def test_argspec_check_accepts_matching_docs(tmp_path: pathlib.Path) -> None:
    assert argspec_problems(tmp_path, MODULE_PS1, MODULE_DOCS) == []


def test_argspec_check_reports_drift(tmp_path: pathlib.Path) -> None:
    drifted = MODULE_PS1.replace("default = 5", "default = 6").replace(
        "        mode = @{", "        extra = @{ type = 'bool' }\n        mode = @{"
    )
    problems = argspec_problems(tmp_path, drifted, MODULE_DOCS.replace("check_mode: {support: full}", "{}"))
    assert any("size: default is 6 in the arg spec but 5 in the docs" in p for p in problems), problems
    assert any("extra: in the arg spec but not documented" in p for p in problems), problems


def test_argspec_check_refuses_a_spec_built_at_run_time(tmp_path: pathlib.Path) -> None:
    dynamic = MODULE_PS1.replace("default = 5", "default = $env:SIZE")
    problems = argspec_problems(tmp_path, dynamic, MODULE_DOCS)
    assert len(problems) == 1 and "must be a literal" in problems[0], problems


# Rules for what only a Windows host would show (tools/gates/ps_rules.py): each fails on a sample of the mistake and
# passes on its fixed form; every shipped file passes.
def rule_problems(source: str) -> list[str]:
    import ps_rules

    return ps_rules.check_source(source.encode())


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_powershell_file_keeps_the_rules(script: pathlib.Path) -> None:
    import ps_rules

    assert ps_rules.check_file(script) == []


@pytest.mark.parametrize(
    ("rule", "broken", "fixed"),
    [
        ("hex-literal-sign", "$h = [uint32]0x80041003", "$h = [uint32]0x80041003L"),
        ("hex-literal-sign", "$map = @{ AccessDenied = 0x80041003 }", "$map = @{ AccessDenied = 0x80041003L }"),
        (
            "hresult-unwrapped",
            "try { [IO.File]::ReadAllBytes('x') } catch { $h = $_.Exception.HResult }",
            "try { [IO.File]::ReadAllBytes('x') } catch { $h = $_.Exception.InnerException.HResult }",
        ),
        (
            "hresult-unwrapped",
            "function f($r) { $e = $r.Exception; $e.HResult }",
            "function f($r) { $e = Get-InnerException $r; $e.HResult }\nfunction g($r) { $e = $r.Exception; $e }",
        ),
        ("ps51-syntax", "$a = $x ? 1 : 2", "$a = if ($x) { 1 } else { 2 }"),
        ("ps51-syntax", "$a = $x ?? 2", "$a = if ($null -ne $x) { $x } else { 2 }"),
        ("ps51-syntax", "$a ??= 2", "if ($null -eq $a) { $a = 2 }"),
        ("ps51-syntax", "$a = ${x}?.Name", "$a = if ($x) { $x.Name }"),
        ("ps51-syntax", "Get-Item x && Write-Output ok", "Get-Item x; if ($?) { Write-Output ok }"),
        ("ps51-syntax", "Get-Item x || Write-Output no", "Get-Item x; if (-not $?) { Write-Output no }"),
        ("ps51-syntax", "1..3 | ForEach-Object -Parallel { $_ }", "1..3 | ForEach-Object -Process { $_ }"),
        ("ps51-syntax", "1..3 | % -Par { $_ }", "1..3 | % { $_ }"),
        ("ps51-syntax", "function f { process { 1 } clean { 2 } }", "function f { process { 1 } end { 2 } }"),
        (
            "culture-sort",
            "$names | Sort-Object",
            "$names = [string[]]$names; [Array]::Sort($names, [StringComparer]::Ordinal)",
        ),
        (
            "culture-sort",
            "$items | sort Name",
            "$n = [string[]]@($items.Name); [Array]::Sort($n, [StringComparer]::Ordinal)",
        ),
        ("long-line", "$a = '" + "x" * 160 + "'", "$a = '" + "x" * 150 + "'"),
        ("crowded-line", "$a = 1; $b = 2; $c = 3", "$a = 1; $b = 2\n$c = 3"),
        ("crowded-line", "if ($x) { $a = 1; $b = 2; return $a }", "if ($x) {\n    $a = 1; $b = 2\n    return $a\n}"),
        (
            "crowded-line",
            "$h = @{ a = 1 }; $i = 2; f",
            "$h = @{ a = 1; b = 2; c = 3; d = 4 }; f",
        ),  # entries are not statements
    ],
)
def test_rule_fails_on_the_mistake_and_passes_on_the_fix(rule: str, broken: str, fixed: str) -> None:
    problems = rule_problems(broken)
    assert any(f": {rule}: " in p for p in problems), problems
    assert rule_problems(fixed) == []


def test_rules_ignore_strings_and_comments() -> None:
    assert rule_problems("# $x ?? 1 and 0x80041003 | Sort-Object\n$s = 'a ?? b && c 0x80041003'\n") == []
