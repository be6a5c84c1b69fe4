# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The wmi_hardening role's variables and tags, as winsec.wmi.baseline reads them inside the role."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import difflib
import re
import typing as t

ROLE_PREFIX = "wmi_hardening_"
_CONTROL_TAG = re.compile(r"^WMI-[0-9]+$", re.IGNORECASE)
# Set by the role itself, not by the user (the baseline's registered result).
ROLE_OWN_VARIABLES = frozenset({"wmi_hardening_result"})


def unknown_role_variables(defined: t.Iterable[str], known: t.Iterable[str]) -> list[str]:
    """One warning per wmi_hardening_* variable the role does not know, with the nearest known name: Ansible passes
    any variable silently, so wmi_hardening_report_directory would write no report and wmi_hardening_mod: enforce
    would audit."""
    known_names = sorted({*known, *ROLE_OWN_VARIABLES})
    warnings = []
    for name in sorted(set(defined)):
        if not name.startswith(ROLE_PREFIX) or name in known_names:
            continue
        nearest = difflib.get_close_matches(name, known_names, n=1, cutoff=0.6)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        warnings.append(f"{name} is not a variable of the winsec.wmi.wmi_hardening role and is ignored{hint}.")
    return warnings


def controls_from_tags(
    params: t.Mapping[str, t.Any], run_tags: t.Iterable[str], skip_tags: t.Iterable[str]
) -> dict[str, t.Any]:
    """The role's control selection with the tags named after control IDs added: ``--tags WMI-004`` selects that
    control (with wmi_hardening_controls), ``--skip-tags WMI-005`` skips it. Other tags (``all``, a task tag) select
    nothing here."""
    selected = [tag.upper() for tag in run_tags if _CONTROL_TAG.match(str(tag))]
    skipped = [tag.upper() for tag in skip_tags if _CONTROL_TAG.match(str(tag))]
    if not selected and not skipped:
        return dict(params)
    controls = list(dict.fromkeys([*(params.get("controls") or []), *selected])) or None
    return {**params, "controls": controls, "skip_controls": [*(params.get("skip_controls") or []), *skipped]}
