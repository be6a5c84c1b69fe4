"""Build real module payloads with the installed ansible-core (run as a separate process by the tests).

A separate process because building a >= 2.19 payload needs ansible's collection finder configured for the module's
collection, which is global interpreter state the rest of the test session must not inherit.

Usage: python payload_builder.py SPECS.json OUT_DIR   (SPECS: [{"module_name", "module_path", "args"}, ...])
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Any


def build(module_name: str, module_path: str, args: dict[str, Any], collection_paths: list[str]) -> bytes:
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=collection_paths)._install()
    kwargs: dict[str, Any] = {
        "module_name": module_name,
        "module_path": module_path,
        "module_args": args,
        "templar": Templar(loader=DataLoader()),
        "task_vars": {},
    }
    if "shell_plugin" in inspect.signature(module_common.modify_module).parameters:  # 2.21+
        from ansible.plugins.loader import shell_loader

        kwargs["shell_plugin"] = shell_loader.get("powershell")
    built = module_common.modify_module(**kwargs)
    if isinstance(built, tuple):  # <= 2.18: (b_module_data, module_style, shebang)
        return bytes(built[0])
    get_command_args = getattr(built, "get_command_args", None)
    if get_command_args is not None and (command_args := get_command_args(None)):  # 2.21: (argv, stdin)
        return bytes(command_args[1])
    return bytes(built.b_module_data)  # 2.19, 2.20: the payload is the module data


def main() -> None:
    specs = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    out_dir = Path(sys.argv[2])
    for index, spec in enumerate(specs):
        data = build(spec["module_name"], spec["module_path"], spec["args"], spec["collection_paths"])
        (out_dir / f"{index}.bin").write_bytes(data)


if __name__ == "__main__":
    main()
