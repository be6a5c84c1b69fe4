# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode predicts the real run, over generated namespace_sd requests (hypothesis).

Each request runs through the real control and runner (plugins/plugin_utils/_control.py), first in check mode and
then for real, against a simulated host's wmi_state (simulator/wmi_state.py) in-process. Properties:

* check mode writes nothing;
* check mode and the real run agree on refused / changed / unchanged, and on the refusal code;
* the descriptor check mode predicts is the one the host reads back after the real write;
* after any accepted write (allow_lockout never set), Administrators or SYSTEM still hold Enable, ReadSecurity and
  WriteSecurity on the namespace and every descendant, by the simulator's own access check;
* a re-run of the same request changes nothing.
"""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[4]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd import NamespaceSd  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError  # noqa: E402
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import FakeWmiCaller  # noqa: E402

from simulator import namespaces as sim  # noqa: E402
from simulator import wmi_state as sim_wmi_state  # noqa: E402
from simulator.fleet import load_fleet  # noqa: E402

ENABLE_READ_WRITE_SECURITY = 0x1 | 0x20000 | 0x40000
SYSTEM_TOKEN = ["S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-5-11"]
ADMIN_TOKEN = ["S-1-5-32-544", "S-1-1-0", "S-1-5-11", "S-1-5-2", "S-1-5-32-545", "S-1-5-15", "S-1-5-113", "S-1-5-114"]
RIGHTS = ["Enable", "MethodExecute", "FullWrite", "PartialWrite", "ProviderWrite", "RemoteAccess", "ReadSecurity",
          "WriteSecurity"]  # fmt: skip
PRINCIPALS = ["BA", "SY", "AU", "WD", "BU", "NS", "LS", "S-1-5-32-558", "NETWORK"]


def simulated_host(host: t.Any, *, check_mode: bool) -> FakeWmiCaller:
    """The WmiCaller the action plugin would be, speaking to a simulated host in-process as its administrator."""
    admin = next(caller for caller in host.callers.values() if caller.admin)

    def reply(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        return sim_wmi_state.run(host, admin, {"operations": operations}, check_mode)[0]["results"]

    return FakeWmiCaller(reply, check_mode=check_mode, diff_mode=True)


aces = st.lists(
    st.fixed_dictionaries(
        {
            "principal": st.sampled_from(PRINCIPALS),
            "rights": st.lists(st.sampled_from(RIGHTS), min_size=1, max_size=4, unique=True),
            "type": st.sampled_from(["allow", "deny"]),
            "inherit": st.sampled_from([None, "this", "children", "this_and_children", "this_and_immediate_children"]),
        }
    ),
    min_size=1,
    max_size=4,
)
requests = st.fixed_dictionaries(
    {
        "namespace": st.sampled_from(["root", "root\\cimv2", "root\\subscription", "root\\cimv2\\Security"]),
        "mode": st.sampled_from(["exact", "present", "absent"]),
        "aces": aces,
    }
)


def outcome(host: t.Any, params: dict[str, t.Any], *, check_mode: bool) -> tuple[str, dict[str, t.Any]]:
    try:
        result = run_module(simulated_host(host, check_mode=check_mode), NamespaceSd(params))
    except WmiActionError as failure:
        return f"refused:{failure.result.get('refusal') or failure.msg}", failure.result
    return ("changed" if result["changed"] else "unchanged"), result


def keeps_control(host: t.Any, namespace: str) -> bool:
    tree = host.namespaces
    for node in tree.walk(namespace):
        effective = tree.effective(node.path)
        if all(sim.access_mask(effective, token) & ENABLE_READ_WRITE_SECURITY != ENABLE_READ_WRITE_SECURITY
               for token in (ADMIN_TOKEN, SYSTEM_TOKEN)):  # fmt: skip
            return False
    return True


@pytest.mark.parametrize("host_name", ["ws2022", "ws2016"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=requests)
def test_check_mode_predicts_the_real_run(host_name, request):
    params = {"sddl": None, "owner": None, "group": None, "allow_lockout": False, **request}
    host = load_fleet("small").hosts[host_name]
    before = {node.path: host.namespaces.sddl(node.path) for node in host.namespaces.walk("root")}

    predicted_kind, predicted = outcome(host, params, check_mode=True)
    assert sum(host.counters.writes.values()) == 0 and not host.counters.refused_writes  # none sent, none written
    assert {n.path: host.namespaces.sddl(n.path) for n in host.namespaces.walk("root")} == before

    real_kind, real = outcome(host, params, check_mode=False)
    assert real_kind == predicted_kind, (predicted, real)
    if real_kind == "changed":
        assert real["sddl"] == predicted["sddl"]  # what check mode showed is what the host reads back
        assert host.namespaces.sddl(params["namespace"]) == real["sddl"]
        assert keeps_control(host, params["namespace"]), params
        assert outcome(host, params, check_mode=False)[0] == "unchanged"  # idempotent
    else:
        assert {n.path: host.namespaces.sddl(n.path) for n in host.namespaces.walk("root")} == before
