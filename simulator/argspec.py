"""Validate module arguments against the module's documented options.

For ``winsec.wmi`` modules the spec is read from the ``.yml`` doc sidecar (``DOCUMENTATION.options``) and converted
into an argument spec for ansible-core's ``ArgumentSpecValidator`` - the same validator Ansible.Basic mirrors on the
host. A mismatch is reported as a module failure starting ``SIMULATOR ARGSPEC MISMATCH`` so a test fails loudly when
the action plugins and the documented contract drift apart.

For the ansible.windows modules (not installed here) the specs are carried below, copied from their ``$spec`` blocks
(ansible-collections/ansible.windows ``plugins/modules/*.ps1``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ._paths import install_collection_path

install_collection_path()

# The converter the action plugins validate task arguments with: one converter, so the host and the controller read
# a module's documented options the same way.
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_options  # noqa: E402

MISMATCH_PREFIX = "SIMULATOR ARGSPEC MISMATCH"

# ansible.windows specs (from the modules' own $spec / Get-AnsibleParam calls).
ANSIBLE_WINDOWS_SPECS: dict[str, dict[str, Any]] = {
    "ansible.windows.win_ping": {"data": {"type": "str", "default": "pong"}},
    "ansible.windows.setup": {
        "_measure_subset": {"type": "bool", "default": False},
        "fact_path": {"type": "path"},
        "gather_subset": {"type": "list", "elements": "str", "default": ["all"]},
        "gather_timeout": {"type": "int", "default": 10},
    },
    "ansible.windows.win_reg_stat": {
        "path": {"type": "str", "required": True, "aliases": ["key"]},
        "name": {"type": "str", "aliases": ["entry", "value"]},
    },
    "ansible.windows.win_regedit": {
        "path": {"type": "str", "required": True, "aliases": ["key"]},
        "name": {"type": "str", "aliases": ["entry", "value"]},
        "data": {"type": "raw"},
        "type": {
            "type": "str",
            "default": "string",
            "choices": ["none", "binary", "dword", "expandstring", "multistring", "string", "qword"],
            "aliases": ["datatype"],
        },
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "delete_key": {"type": "bool", "default": True},
        "hive": {"type": "path"},
    },
}

# setup.ps1 adds any unknown non-underscore option as type raw, because the gather_facts action may pass options
# newer than the module ("This module can be called by the gather_facts action plugin ...").
LENIENT_MODULES = frozenset({"ansible.windows.setup"})


class ArgSpecMismatch(ValueError):
    """The arguments do not match the module's documented options."""


def options_to_argument_spec(options: Mapping[str, Any]) -> dict[str, Any]:
    """Convert ``DOCUMENTATION.options`` (ansible-doc format) into an ``argument_spec`` dict (the controller's own)."""
    return argspec_from_options(options)


@functools.cache
def _collection_spec(sidecar: str) -> dict[str, Any]:
    document = yaml.safe_load(Path(sidecar).read_text(encoding="utf-8"))
    options = (document.get("DOCUMENTATION") or {}).get("options") or {}
    return options_to_argument_spec(options)


def collection_module_spec(collection_dir: Path, leaf: str) -> dict[str, Any] | None:
    """The argument spec of ``plugins/modules/<leaf>.yml`` (None when there is no sidecar)."""
    sidecar = collection_dir / "plugins" / "modules" / f"{leaf}.yml"
    if not sidecar.is_file():
        return None
    return _collection_spec(str(sidecar))


def validate(module: str, spec: dict[str, Any], user_args: dict[str, Any]) -> dict[str, Any]:
    """Validate and coerce ``user_args`` (no ``_ansible_*`` keys); return the validated parameters with defaults.

    Raises ArgSpecMismatch with every error found.
    """
    if module in LENIENT_MODULES:
        spec = dict(spec)
        for key in user_args:
            if key not in spec and not key.startswith("_"):
                spec[key] = {"type": "raw"}
    result = ArgumentSpecValidator(spec).validate(user_args)
    if result.error_messages:
        raise ArgSpecMismatch(f"{MISMATCH_PREFIX}: {module}: " + "; ".join(result.error_messages))
    return dict(result.validated_parameters)
