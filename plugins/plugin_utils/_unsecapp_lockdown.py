# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.unsecapp_lockdown: read the value and the OS, write only when needed."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t

from ._os_profile import PRE_2003_MITIGATIONS, host_facts, os_profile
from ._unsecapp import REGISTRY_PATH, REGISTRY_VALUE, WRITE_TYPES, diff, normalise, plan
from ._wmi_errors import WmiCaller


def run_unsecapp_lockdown(caller: WmiCaller, params: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The whole module: read (1 round trip), and write only when needed (1 more)."""
    facts_result, read_result = caller.wmi_call([{"op": "facts"}, {"op": "registry_read", "value": REGISTRY_VALUE}])
    facts = caller.op_value(facts_result, "reading the host's OS facts")
    profile = os_profile(facts)
    os_facts = {**host_facts(facts), "family": profile.family, "pre_2003": profile.pre_2003}
    read = caller.op_value(read_result, f"reading {REGISTRY_PATH}")
    current = normalise(read)
    result: dict[str, t.Any] = {
        "changed": False,
        "os": os_facts,
        "before": current.to_dict(),
        "after": current.to_dict(),
        "observed_type": current.type,
        "written_type": None,
    }
    if profile.pre_2003:
        return {
            **result,
            "applicable": False,
            "compliant": False,
            "msg": f"Not applicable on {profile.family}. {PRE_2003_MITIGATIONS}",
        }

    decision = plan(read, params["state"], params["value_type"])
    result.update(applicable=True, warnings=list(decision.warnings))
    if not decision.needs_write:
        return {**result, "compliant": True, "msg": f"UnsecAppAccessControlDefault is already {decision.desired}."}

    result.update(changed=True, after=decision.after.to_dict(), written_type=WRITE_TYPES[decision.write_type])
    if caller.diff_mode:
        result["diff"] = diff(decision.before, decision.after)
    if caller.check_mode:
        return {
            **result,
            "compliant": False,
            "msg": f"UnsecAppAccessControlDefault would be set to "
            f"{decision.desired} ({WRITE_TYPES[decision.write_type]}).",
        }

    (write_result,) = caller.wmi_call([decision.write_operation()])
    written = caller.op_value(write_result, f"writing {REGISTRY_PATH}")
    after = normalise(written["after"])
    result.update(after=after.to_dict())
    if caller.diff_mode:
        result["diff"] = diff(normalise(written["before"]), after)
    if after.value != decision.desired:
        return {
            **result,
            "failed": True,
            "compliant": False,
            "msg": f"{REGISTRY_PATH} reads {after.data!r} after writing {decision.desired}.",
        }
    return {
        **result,
        "compliant": True,
        "msg": f"UnsecAppAccessControlDefault set to {decision.desired} ({after.type}).",
    }
