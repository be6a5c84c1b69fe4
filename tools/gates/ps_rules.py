"""Gate: PowerShell rules that catch, without PowerShell, the mistakes that only show on a Windows host.

Each rule reads the tree-sitter PowerShell parse (tools/gates/ps_spec.py) and reports 'line:col: rule: message':

* ``hex-literal-sign``: a hexadecimal literal from 0x80000000 to 0xFFFFFFFF without the ``L`` suffix. PowerShell
  (5.1 and 7) types it as a negative [int]; ``[uint32]0x80041003`` throws. Write ``0x80041003L``.
* ``hresult-unwrapped``: ``.HResult`` read on an ErrorRecord's ``.Exception`` (directly, or through a variable
  assigned from one in the same function). A .NET method's exception reaches ``catch`` wrapped in
  MethodInvocationException (HRESULT 0x80131501); unwrap to its InnerException first.
* ``ps51-syntax``: syntax newer than Windows PowerShell 5.1 - the ternary ``a ? b : c``, ``??``, ``??=``, ``?.`` and
  ``?[]`` (7.0), ``&&``/``||`` pipeline chains (7.0), ``ForEach-Object -Parallel`` (7.0) and ``clean`` blocks (7.3).
* ``long-line``: a line longer than 160 characters; ``crowded-line``: more than two statements on one line (a
  script block's ``;``-separated statements; hashtable entries are not statements). Read on a host, in a
  transcript or in a diff, PowerShell that runs as SYSTEM must be readable line by line.
* ``culture-sort``: ``Sort-Object``/``sort``. It compares strings culture-aware and has no comparer parameter;
  anything ordered for a contract must use ``[Array]::Sort($names, [StringComparer]::Ordinal)``.

Usage: python tools/gates/ps_rules.py [file.ps1|file.psm1 ...]   (default: every .ps1/.psm1 under plugins/)
"""

from __future__ import annotations

import pathlib
import re
import sys
from collections.abc import Iterator

import tree_sitter

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import ps_spec

_HEX = re.compile(r"^0x([0-9a-f]+)([a-z]*)$", re.IGNORECASE)
_FOREACH_NAMES = {"foreach-object", "foreach", "%"}
_SORT_NAMES = {"sort-object", "sort"}
_PS7_OPERATORS = {
    "?": "'?' (the ternary a ? b : c, or the null-conditional ?. / ?[]) is PowerShell 7",
    "??": "'??' / '??=' (null-coalescing) is PowerShell 7",
    "??=": "'??=' (null-coalescing assignment) is PowerShell 7",
}


def _nodes(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode(errors="replace")


def _at(node: tree_sitter.Node, rule: str, message: str) -> str:
    return f"{node.start_point[0] + 1}:{node.start_point[1] + 1}: {rule}: {message}"


def _unwrap(node: tree_sitter.Node) -> tree_sitter.Node:
    while node.child_count == 1:
        node = node.children[0]
    return node


def _member(node: tree_sitter.Node) -> str | None:
    """The member name of a member_access node, lower case."""
    if node.type != "member_access":
        return None
    name = next((c for c in node.children if c.type == "member_name"), None)
    return _text(name).lower() if name is not None else None


def _scope(node: tree_sitter.Node) -> tree_sitter.Node:
    """The enclosing function (variables are function-scoped for this purpose), else the file."""
    current = node
    while current.parent is not None and current.type != "function_statement":
        current = current.parent
    return current


def hex_literal_sign(root: tree_sitter.Node) -> list[str]:
    found = []
    for node in _nodes(root):
        if node.type != "hexadecimal_integer_literal":
            continue  # with an L suffix the grammar does not even see a number: nothing to check
        match = _HEX.match(_text(node).strip())
        # The grammar does not know the L suffix: it may end the literal just before it ([uint32]0x80041003L).
        suffixed = root.text is not None and root.text[node.end_byte : node.end_byte + 1].lower() == b"l"
        if (
            match
            and not suffixed
            and not match.group(2).lower().startswith("l")
            and 0x80000000 <= int(match.group(1), 16) <= 0xFFFFFFFF
        ):
            found.append(
                _at(node, "hex-literal-sign", f"{_text(node)} is a negative [int] in PowerShell; write {_text(node)}L")
            )
    return found


def hresult_unwrapped(root: tree_sitter.Node) -> list[str]:
    found = []
    for node in _nodes(root):
        if _member(node) != "hresult":
            continue
        target = _unwrap(node.children[0])
        wrapped = _member(target) == "exception"
        if target.type == "variable":
            name = _text(target).lower()
            for other in _nodes(_scope(node)):
                if other.type == "assignment_expression":
                    left, right = _unwrap(other.children[0]), _unwrap(other.children[-1])
                    if left.type == "variable" and _text(left).lower() == name and _member(right) == "exception":
                        wrapped = True
        if wrapped:
            found.append(
                _at(
                    node,
                    "hresult-unwrapped",
                    "HResult of an ErrorRecord's Exception: a .NET method's exception is wrapped in "
                    "MethodInvocationException (0x80131501); read the InnerException's HResult",
                )
            )
    return found


def ps51_syntax(root: tree_sitter.Node) -> list[str]:
    found = []
    for node in _nodes(root):
        if node.type == "pipeline_chain_tail":
            operator = _text(node.children[0]) if node.children else "&&"
            found.append(_at(node, "ps51-syntax", f"'{operator}' pipeline chains are PowerShell 7"))
        elif node.type == "ERROR" and node.child_count == 0 and _text(node).strip() in _PS7_OPERATORS:
            found.append(_at(node, "ps51-syntax", _PS7_OPERATORS[_text(node).strip()]))
        elif node.type == "ERROR" and any(
            c.type == "simple_name" and _text(c).strip().lower() == "clean" for c in node.children
        ):
            found.append(_at(node, "ps51-syntax", "'clean' blocks are PowerShell 7.3"))
        elif node.type == "command":
            name = next((c for c in node.children if c.type == "command_name"), None)
            if name is None or _text(name).lower() not in _FOREACH_NAMES:
                continue
            for parameter in _nodes(node):
                text = _text(parameter).lower()
                if parameter.type == "command_parameter" and len(text) >= 3 and "-parallel".startswith(text):
                    found.append(_at(parameter, "ps51-syntax", "ForEach-Object -Parallel is PowerShell 7"))
    return found


def culture_sort(root: tree_sitter.Node) -> list[str]:
    found = []
    for node in _nodes(root):
        if node.type == "command_name" and _text(node).lower() in _SORT_NAMES:
            found.append(
                _at(
                    node,
                    "culture-sort",
                    f"{_text(node)} compares culture-aware and takes no comparer; use "
                    "[Array]::Sort($names, [StringComparer]::Ordinal)",
                )
            )
    return found


MAX_LINE = 160  # characters, as yamllint's line-length for the YAML next to it
MAX_STATEMENTS_PER_LINE = 2


def long_line(root: tree_sitter.Node) -> list[str]:
    source = root.text or b""
    return [
        f"{number}:{MAX_LINE + 1}: long-line: {len(line)} characters; wrap at {MAX_LINE} (one idea per line)"
        for number, line in enumerate(source.decode(errors="replace").splitlines(), start=1)
        if len(line) > MAX_LINE
    ]


def crowded_line(root: tree_sitter.Node) -> list[str]:
    found = []
    for node in _nodes(root):
        if node.type != "statement_list":
            continue
        lines: dict[int, list[tree_sitter.Node]] = {}
        for child in node.named_children:
            if child.type not in ("comment", "empty_statement"):
                lines.setdefault(child.start_point[0], []).append(child)
        for statements in lines.values():
            if len(statements) > MAX_STATEMENTS_PER_LINE:
                found.append(
                    _at(
                        statements[0],
                        "crowded-line",
                        f"{len(statements)} statements on one line; at most {MAX_STATEMENTS_PER_LINE}",
                    )
                )
    return found


RULES = (hex_literal_sign, hresult_unwrapped, ps51_syntax, culture_sort, long_line, crowded_line)


def check_source(source: bytes) -> list[str]:
    root = ps_spec.parse(source).root_node
    return sorted(
        {problem for rule in RULES for problem in rule(root)}, key=lambda p: [int(x) for x in p.split(":")[:2]]
    )


def check_file(path: pathlib.Path) -> list[str]:
    return [f"{path}:{problem}" for problem in check_source(path.read_bytes())]


def main(argv: list[str]) -> int:
    files = [pathlib.Path(a) for a in argv] or sorted(
        p for pattern in ("*.ps1", "*.psm1") for p in pathlib.Path("plugins").rglob(pattern)
    )
    problems = [p for path in files for p in check_file(path)]
    for problem in problems:
        print(problem)
    print(f"ps_rules: {len(files)} PowerShell file(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
