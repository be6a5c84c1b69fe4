"""A stand-in for ``pwsh`` that answers only ansible-test validate-modules' arg-spec question, statically.

validate-modules runs ``pwsh .../validate_modules/ps_argspec.ps1 <manifest json>`` to load a PowerShell module with
``[Ansible.Basic.AnsibleModule]::_DebugArgSpec`` set and print the spec handed to ``AnsibleModule.Create`` as JSON
(ansible_test/_util/controller/sanity/validate-modules/validate_modules/module_args.py, get_ps_argument_spec).
Without pwsh it crashes the whole test. This stand-in prints the same JSON, evaluated from the ``$spec`` literal
with the tree-sitter PowerShell grammar (tools/gates/ps_spec.py), normalised as Ansible.Basic does before it
prints, so validate-modules' own doc-vs-spec rules run on the .ps1 with no ignore line.

Anything else asked of it fails (exit 1): it is not PowerShell. ``nox -e ansible-test-sanity`` generates the ``pwsh``
wrapper in its work directory and puts it on PATH only for ansible-test, with pslint skipped (pslint needs the real
PSScriptAnalyzer, which would be skipped without pwsh anyway).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import ps_spec


def main(argv: list[str]) -> int:
    if len(argv) != 2 or pathlib.Path(argv[0]).name != "ps_argspec.ps1":
        print(
            "winsec.wmi gates: this 'pwsh' only answers ansible-test's ps_argspec.ps1; PowerShell is not installed",
            file=sys.stderr,
        )
        return 1
    manifest = json.loads(argv[1])
    try:
        spec = ps_spec.normalise(ps_spec.module_arg_spec(pathlib.Path(manifest["module_path"])))
    except ps_spec.SpecError as exc:
        print(f"static arg spec evaluation failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
