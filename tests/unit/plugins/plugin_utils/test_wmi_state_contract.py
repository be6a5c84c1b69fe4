# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wmi_state.ps1 against its contract, wmi_state.yml: PowerShell syntax, and the Ansible.Basic spec equal to the docs.

There is no PowerShell here; tree-sitter-powershell parses the scripts, and the $spec hashtable literal is read from
the syntax tree (never executed), so the docs the simulator validates against and the spec the host enforces cannot
drift apart.
"""

from __future__ import annotations

import pathlib
import typing as t

import pytest
import yaml

tree_sitter = pytest.importorskip("tree_sitter")
tree_sitter_powershell = pytest.importorskip("tree_sitter_powershell")

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULE = ROOT / "plugins" / "modules" / "wmi_state.ps1"
CONTRACT = ROOT / "plugins" / "modules" / "wmi_state.yml"
SCRIPTS = sorted([*ROOT.glob("plugins/modules/*.ps1"), *ROOT.glob("plugins/module_utils/*.psm1")])


def parse(source: bytes) -> t.Any:
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    return parser.parse(source)


def error_nodes(node: t.Any) -> list[t.Any]:
    found = [node] if node.type == "ERROR" or node.is_missing else []
    for child in node.children:
        found.extend(error_nodes(child))
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_powershell_parses_without_errors(script: pathlib.Path) -> None:
    source = script.read_bytes()
    tree = parse(source)
    assert not tree.root_node.has_error, [
        (node.start_point, source[node.start_byte : node.end_byte][:60]) for node in error_nodes(tree.root_node)
    ]


def test_module_header() -> None:
    lines = MODULE.read_text().splitlines()
    assert lines[0] == "#!powershell"
    assert "#AnsibleRequires -CSharpUtil Ansible.Basic" in lines
    # DESIGN: keep the target code small; larger logic belongs on the controller.
    assert len(lines) <= 260


def literal(node: t.Any, source: bytes) -> t.Any:
    """Evaluate a PowerShell literal (hashtable, array, string, int, $true/$false/$null) from its syntax tree."""
    named = node.named_children
    if node.type == "hash_literal_expression":
        body = [child for child in named if child.type == "hash_literal_body"]
        entries = body[0].named_children if body else []
        return {
            source[entry.named_children[0].start_byte : entry.named_children[0].end_byte].decode(): literal(
                entry.named_children[1], source
            )
            for entry in entries
        }
    if node.type == "array_expression":
        statements = [child for child in named if child.type == "statement_list"]
        if not statements:
            return []
        value = literal(statements[0], source)
        return value if isinstance(value, list) else [value]
    if node.type == "array_literal_expression" and len(named) > 1:
        return [literal(child, source) for child in named]
    if node.type == "string_literal":
        text = source[node.start_byte : node.end_byte].decode()
        assert text.startswith("'"), f"only verbatim strings in the spec: {text}"
        return text[1:-1].replace("''", "'")
    if node.type == "integer_literal":
        return int(source[node.start_byte : node.end_byte].decode(), 0)
    if node.type == "variable":
        text = source[node.start_byte : node.end_byte].decode().lower()
        return {"$true": True, "$false": False, "$null": None}[text]
    assert len(named) == 1, f"not a literal: {node.type} {source[node.start_byte : node.end_byte][:60]!r}"
    return literal(named[0], source)


def ps1_spec() -> dict[str, t.Any]:
    source = MODULE.read_bytes()
    tree = parse(source)
    statements = [node for node in tree.root_node.named_children if node.type == "statement_list"]
    for node in statements[0].named_children:
        text = source[node.start_byte : node.end_byte].decode()
        if text.startswith("$spec = @{"):
            assignment = node.named_children[0]
            return literal(assignment.named_children[-1], source)
    raise AssertionError("no '$spec = @{' assignment at the top level of wmi_state.ps1")


def normalise_doc(options: dict[str, t.Any]) -> dict[str, t.Any]:
    """DOCUMENTATION options -> the keys an Ansible.Basic spec carries (suboptions -> options)."""
    spec = {}
    for name, doc in options.items():
        entry = {
            key: doc[key] for key in ("type", "required", "default", "choices", "elements", "no_log") if key in doc
        }
        if entry.get("required") is False:
            del entry["required"]
        if "suboptions" in doc:
            entry["options"] = normalise_doc(doc["suboptions"])
        spec[name] = entry
    return spec


def test_ps1_spec_equals_the_documented_contract() -> None:
    spec = ps1_spec()
    assert spec.pop("supports_check_mode") is True
    documented = yaml.safe_load(CONTRACT.read_text())["DOCUMENTATION"]
    assert spec == {"options": normalise_doc(documented["options"])}


def test_contract_documents_full_check_mode() -> None:
    documented = yaml.safe_load(CONTRACT.read_text())["DOCUMENTATION"]
    assert documented["attributes"]["check_mode"]["support"] == "full"


def test_spec_reader_sees_nested_values() -> None:
    source = b"$spec = @{ options = @{ a = @{ type = 'list'; default = @('x\\y', 'it''s'); n = 0x10; r = $true } } }"
    tree = parse(source)
    value = literal(tree.root_node.named_children[0].named_children[0].named_children[0].named_children[-1], source)
    assert value == {"options": {"a": {"type": "list", "default": ["x\\y", "it's"], "n": 16, "r": True}}}
