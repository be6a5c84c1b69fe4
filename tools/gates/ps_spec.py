"""Read PowerShell with the tree-sitter PowerShell grammar: syntax errors, and a module's Ansible.Basic arg spec.

There is no PowerShell on the build machines. What we can still prove statically:

* the file parses (``syntax_errors``);
* the ``$spec`` hashtable literal handed to ``[Ansible.Basic.AnsibleModule]::Create($args, $spec)`` evaluates to
  a plain data structure (``module_arg_spec``), which the gates compare with the module's documentation.

The evaluator accepts only literals: hashtables, arrays, quoted strings without interpolation, integers, $true,
$false and $null. Anything else (a variable, a call, "$interpolated" text) raises SpecError naming the line, so a
spec built at run time fails the gate loudly instead of being half-checked.
"""

from __future__ import annotations

import pathlib
import re
from typing import Any

import tree_sitter
import tree_sitter_powershell

LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())

# Spec keys whose value Ansible.Basic turns into a list when a single value is given (Ansible.Basic.cs specDefaults).
LIST_KEYS = {
    "aliases",
    "choices",
    "deprecated_aliases",
    "mutually_exclusive",
    "required_if",
    "required_one_of",
    "required_together",
}


class SpecError(Exception):
    """The module's arg spec cannot be read statically."""


def parse(source: bytes) -> tree_sitter.Tree:
    return tree_sitter.Parser(LANGUAGE).parse(source)


def syntax_errors(tree: tree_sitter.Tree) -> list[str]:
    """Return 'line:col: message' for every ERROR or MISSING node (empty when the file parses)."""
    found: list[str] = []

    def walk(node: tree_sitter.Node) -> None:
        if node.is_missing:
            found.append(f"{node.start_point[0] + 1}:{node.start_point[1] + 1}: missing {node.type!r}")
        elif node.type == "ERROR":
            text = (node.text or b"").decode(errors="replace").splitlines()
            snippet = text[0][:60] if text else ""
            found.append(f"{node.start_point[0] + 1}:{node.start_point[1] + 1}: syntax error near {snippet!r}")
        if node.has_error:
            for child in node.children:
                walk(child)

    walk(tree.root_node)
    if tree.root_node.has_error and not found:
        found.append("1:1: syntax error")
    return found


def _unwrap(node: tree_sitter.Node) -> tree_sitter.Node:
    """Skip the grammar's chains of single-child precedence nodes (pipeline -> ... -> unary_expression)."""
    while node.child_count == 1:
        node = node.children[0]
    return node


def _where(node: tree_sitter.Node) -> str:
    return f"line {node.start_point[0] + 1}"


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode()


def _values(node: tree_sitter.Node) -> list[Any]:
    """Evaluate the elements of an array body (comma lists and/or newline-separated statements)."""
    node = _unwrap(node)
    if node.type in ("array_literal_expression", "statement_list"):
        items: list[Any] = []
        for child in node.named_children:
            if child.type == "comment":
                continue
            items.extend(_values(child))
        return items
    return [evaluate(node)]


def evaluate(node: tree_sitter.Node) -> Any:
    """Evaluate a PowerShell literal expression to Python data."""
    node = _unwrap(node)
    kind = node.type
    if kind == "hash_literal_expression":
        result: dict[str, Any] = {}
        body = next((c for c in node.named_children if c.type == "hash_literal_body"), None)
        entries = [] if body is None else [c for c in body.named_children if c.type == "hash_entry"]
        for entry in entries:
            key_node, value_node = entry.named_children[0], entry.named_children[-1]
            key = evaluate(key_node) if _unwrap(key_node).type != "simple_name" else _text(_unwrap(key_node))
            if not isinstance(key, str):
                raise SpecError(f"{_where(entry)}: hashtable key {_text(key_node)!r} is not a name or string")
            if any(k.lower() == key.lower() for k in result):
                raise SpecError(f"{_where(entry)}: duplicate hashtable key {key!r}")
            result[key] = evaluate(value_node)
        return result
    if kind == "array_expression":
        inner = [c for c in node.named_children]
        return [] if not inner else [v for c in inner for v in _values(c)]
    if kind == "array_literal_expression":
        return _values(node)
    if kind == "verbatim_string_characters":
        text = _text(node)
        return text[1:-1].replace("''", "'")
    if kind == "expandable_string_literal":
        text = _text(node)
        if "$" in text or "`" in text:
            raise SpecError(f"{_where(node)}: {text!r} is an expandable string; use a 'single-quoted' literal")
        return text[1:-1]
    if kind == "decimal_integer_literal":
        return int(_text(node))
    if kind == "hexadecimal_integer_literal":
        return int(_text(node), 16)
    if kind == "variable":
        name = _text(node).lower()
        constants = {"$true": True, "$false": False, "$null": None}
        if name in constants:
            return constants[name]
        raise SpecError(f"{_where(node)}: variable {_text(node)} in the spec; the spec must be a literal")
    if kind == "unary_expression" and _text(node.children[0]) == "-" and node.child_count == 2:
        value = evaluate(node.children[1])
        if isinstance(value, int):
            return -value
    raise SpecError(f"{_where(node)}: {kind} {_text(node)[:60]!r}: the spec must be a literal")


def _assignments(root: tree_sitter.Node) -> dict[str, list[tree_sitter.Node]]:
    """Map lower-cased variable name -> right-hand sides of its top-level assignments."""
    found: dict[str, list[tree_sitter.Node]] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "assignment_expression":
            left, right = _unwrap(node.named_children[0]), node.named_children[-1]
            if left.type == "variable":
                found.setdefault(_text(left).lower(), []).append(right)
        stack.extend(reversed(node.named_children))
    return found


def module_arg_spec(path: pathlib.Path) -> dict[str, Any]:
    """Return the literal arg spec passed to [Ansible.Basic.AnsibleModule]::Create in a module file."""
    source = path.read_bytes()
    tree = parse(source)
    errors = syntax_errors(tree)
    if errors:
        raise SpecError(f"{path}: does not parse: {errors[0]}")
    match = re.search(rb"\[Ansible\.Basic\.AnsibleModule\]::Create\(\s*\$args\s*,\s*(\$\w+)", source, re.IGNORECASE)
    if not match:
        raise SpecError(f"{path}: no [Ansible.Basic.AnsibleModule]::Create($args, $<spec>) call")
    variable = match.group(1).decode().lower()
    rhs = _assignments(tree.root_node).get(variable, [])
    if len(rhs) != 1:
        raise SpecError(f"{path}: {variable} must be assigned exactly once (found {len(rhs)})")
    try:
        spec = evaluate(rhs[0])
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    if not isinstance(spec, dict):
        raise SpecError(f"{path}: {variable} is not a hashtable")
    return spec


def normalise(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply Ansible.Basic's own normalisation (single value -> list for list keys), recursively."""
    result = {}
    for key, value in spec.items():
        if key in LIST_KEYS and value is not None and not isinstance(value, list):
            value = [value]
        if key == "options" and isinstance(value, dict):
            value = {name: normalise(option) if isinstance(option, dict) else option for name, option in value.items()}
        result[key] = value
    return result
