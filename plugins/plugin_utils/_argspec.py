# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A module's argument spec, read from its DOCUMENTATION: one spec shared by code and docs.

Apart from _wmi_action (and its ActionBase) so that what needs only the spec - the simulator validating a module's
arguments as the host's Ansible.Basic would, the compliance report - does not import ansible-core's action plugin
machinery (a quarter of a second per process).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import copy
import functools
import typing as t

import yaml

# libyaml's loader when PyYAML has one, as ansible-core's own YAML loading does: parsing a module's DOCUMENTATION
# with the pure-Python loader took 6 ms and every task pays it again (each runs in a freshly forked worker).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# DOCUMENTATION option keys that are also argument-spec keys (sub-options are 'options' in an argument spec).
_SPEC_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log", "apply_defaults")


def argspec_from_options(options: t.Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    """Build an argument spec from the 'options' of a module's DOCUMENTATION."""
    spec: dict[str, dict[str, t.Any]] = {}
    for name, doc in options.items():
        entry = {key: copy.deepcopy(doc[key]) for key in _SPEC_KEYS if key in doc}
        entry.setdefault("type", "str")
        if "suboptions" in doc:
            entry["options"] = argspec_from_options(doc["suboptions"])
        spec[name] = entry
    return spec


@functools.lru_cache(maxsize=64)
def documented_options(documentation: str) -> t.Mapping[str, t.Any]:
    """The 'options' of a module's DOCUMENTATION, parsed once per process. Callers get copies (argspec_from_options
    deep-copies every value it keeps), so the cached parse is never changed."""
    return yaml.load(documentation, Loader=YAML_LOADER).get("options") or {}


def argspec_from_doc(documentation: str) -> dict[str, dict[str, t.Any]]:
    """The argument spec of a module, read from its DOCUMENTATION YAML."""
    return argspec_from_options(documented_options(documentation))
