"""Gate: every PowerShell module's Ansible.Basic arg spec matches its documentation.

ansible-test's validate-modules reads a .ps1 arg spec by running it in pwsh, which these machines do not have.
This check does the same comparison statically: it evaluates the ``$spec`` literal with the tree-sitter
PowerShell grammar (tools/gates/ps_spec.py) and compares it, option by option and suboption by suboption, with
DOCUMENTATION in the module's .yml sidecar (or .py stub):

  * the same option names, and the same aliases;
  * type (default str), elements, required, default, choices;
  * no option both required and defaulted;
  * supports_check_mode against attributes.check_mode.support.

Usage: python tools/gates/ps_argspec_check.py [module.ps1 ...]   (default: plugins/modules/*.ps1)
Exit 1 with one line per mismatch, 0 when every module agrees with its docs.
"""

from __future__ import annotations

import ast
import pathlib
import sys
from typing import Any

import yaml

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import ps_spec


def load_docs(module: pathlib.Path) -> dict[str, Any]:
    """Return DOCUMENTATION of a module from its .yml sidecar or .py stub."""
    for suffix in (".yml", ".yaml"):
        sidecar = module.with_suffix(suffix)
        if sidecar.exists():
            return dict(yaml.safe_load(sidecar.read_text())["DOCUMENTATION"])
    stub = module.with_suffix(".py")
    if stub.exists():
        for node in ast.parse(stub.read_text()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "DOCUMENTATION" for t in node.targets):
                return dict(yaml.safe_load(ast.literal_eval(node.value)))
    raise ps_spec.SpecError(f"{module}: no documentation (.yml sidecar or .py stub) found")


def _norm_list(value: Any) -> Any:
    return sorted(map(str, value)) if isinstance(value, list) else value


def compare_options(spec: dict[str, Any], docs: dict[str, Any], where: str) -> list[str]:
    """Compare an arg spec 'options' dict with a docs 'options'/'suboptions' dict; return the mismatches."""
    problems = []
    for name in sorted(set(spec) - set(docs)):
        problems.append(f"{where}{name}: in the arg spec but not documented")
    for name in sorted(set(docs) - set(spec)):
        problems.append(f"{where}{name}: documented but not in the arg spec")
    for name in sorted(set(spec) & set(docs)):
        s, d, here = spec[name] or {}, docs[name] or {}, f"{where}{name}"
        checks = {
            "type": (s.get("type", "str"), d.get("type", "str")),
            "elements": (s.get("elements"), d.get("elements")),
            "required": (bool(s.get("required", False)), bool(d.get("required", False))),
            "default": (s.get("default"), d.get("default")),
            "choices": (_norm_list(s.get("choices")), _norm_list(d.get("choices"))),
            "aliases": (_norm_list(s.get("aliases") or []), _norm_list(d.get("aliases") or [])),
        }
        for key, (spec_value, doc_value) in checks.items():
            if spec_value != doc_value:
                problems.append(f"{here}: {key} is {spec_value!r} in the arg spec but {doc_value!r} in the docs")
        if s.get("required") and "default" in s and s["default"] is not None:
            problems.append(f"{here}: required and has a default")
        sub_spec, sub_docs = s.get("options"), d.get("suboptions")
        if sub_spec or sub_docs:
            problems += compare_options(sub_spec or {}, sub_docs or {}, f"{here}.")
    return problems


def check_module(module: pathlib.Path) -> list[str]:
    try:
        spec = ps_spec.normalise(ps_spec.module_arg_spec(module))
        docs = load_docs(module)
    except ps_spec.SpecError as exc:
        return [str(exc)]
    problems = [f"{module}: {p}" for p in compare_options(spec.get("options") or {}, docs.get("options") or {}, "")]
    check_mode = ((docs.get("attributes") or {}).get("check_mode") or {}).get("support", "none")
    if bool(spec.get("supports_check_mode", False)) != (check_mode in ("full", "partial")):
        problems.append(
            f"{module}: supports_check_mode={spec.get('supports_check_mode', False)} "
            f"but attributes.check_mode.support={check_mode}"
        )
    return problems


def main(argv: list[str]) -> int:
    modules = [pathlib.Path(a) for a in argv] or sorted(pathlib.Path("plugins/modules").glob("*.ps1"))
    problems = [p for module in modules for p in check_module(module)]
    for problem in problems:
        print(problem)
    print(f"ps_argspec_check: {len(modules)} PowerShell module(s), {len(problems)} mismatch(es)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
