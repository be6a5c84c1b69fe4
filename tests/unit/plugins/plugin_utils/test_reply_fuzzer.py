# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compromised host controls every byte of its wmi_state reply. The reply fuzzer takes the simulator's own answer to
the baseline's read (every op the baseline sends, every control selected) and changes ONE value per case - its type
(str, int, float, bool, list, dict, null), its length (300,000 characters) or its characters (ESC, colour codes, bidi
overrides, NUL, a lone surrogate, quotes and backslashes in a namespace) - then runs the real baseline on it, in audit
mode and in enforce mode under check mode. Properties, per case:

* no unhandled exception (a WmiActionError is a handled failure, and only the facts op may cause one);
* every control that reads the changed op and did not judge it as in the clean run is ``error`` with a named cause
  (MALFORMED_REPLY, or the control's own named reading of the value);
* every control that does not read the changed op keeps its clean status, findings and actual state;
* check mode sends no write.

The cases are every (op, path, substitute) of the reply, sampled with a fixed seed (deterministic): 1,600 cases, or
with ``--sample-share K/N`` (tests/conftest.py: make test gives each of its N ansible-cores a share) every N-th of them
from the K-th, so the matrix runs each case once; a share of a quarter, 400 cases, still covers every op.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO_ROOT = Path(__file__).resolve().parents[4]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._run import run_baseline  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import _key  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._exceptions import NO_EXCEPTIONS  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._registry import build_controls  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, op_value  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_state_contract import WRITE_OPS  # noqa: E402

from simulator import wmi_state as sim_wmi_state  # noqa: E402
from simulator.fleet import build_host  # noqa: E402

TODAY = datetime.date(2026, 12, 7)
CASES = 1600
# A host with something for every control to find: a product namespace granting WriteSecurity, Everyone writing
# root\cimv2, a namespace audit entry, DCOM drift, three subscriptions (one malicious), legacy and async scripts.
HOST = yaml.safe_load(r"""
name: fuzz01
profile: "2022"
domain: corp.example.com
domain_users: [svc_backup]
unsecapp: 1
dcom: {require_integrity: 0}
sacl: {root: "S:(AU;CISA;WD;;;WD)"}
extra_namespaces: ['root\ContosoBackup']
namespaces:
  root\ContosoBackup: "O:BAG:BAD:(A;CI;CCDCRPWPRCWD;;;{domain}-1100)"
  root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)"
subscriptions: [scm, malicious, active_script]
scripts: [legacy_adsi, async_sink, clean]
""")
HUGE = 300_000
HOSTILE_TEXT = "\x1b[2J\x1b[31mred\x1b]8;;http://x\x07link\u202e\n fake: [OK] all hosts compliant"
SUBSTITUTES: tuple[t.Any, ...] = (
    None, True, False, 0, -1, 2**64, 1.5, "", "x", [], ["x"], [1], {}, {"k": "v"}, "A" * HUGE, HOSTILE_TEXT,
    "\ud800", "a\x00b", 'root\\sub"scription', "root\\\\", "'\"\\", "\u200f\u2066root\u2069",
)  # fmt: skip


def baseline_params(mode: str) -> dict[str, t.Any]:
    args = {"mode": mode, "namespace_audit": {"enabled": True}, "scripts": {"paths": ["C:\\Scripts"]}}
    outcome = ArgumentSpecValidator(argspec_from_doc(DOCUMENTATION)).validate(args)
    assert not outcome.error_messages
    return outcome.validated_parameters


class FuzzedHost:
    """The WmiCaller an action plugin would be, answering from a simulated host; the first reply can be changed."""

    def __init__(self, mutate: t.Callable[[list[dict[str, t.Any]]], t.Any] | None = None) -> None:
        self.host = build_host(copy.deepcopy(HOST))
        self.admin = next(caller for caller in self.host.callers.values() if caller.admin)
        self.check_mode, self.diff_mode = True, True
        self.mutate = mutate
        self.calls: list[list[dict[str, t.Any]]] = []
        self.first_reply: list[dict[str, t.Any]] = []

    def wmi_call(self, operations: list[dict[str, t.Any]]) -> t.Any:
        self.calls.append(operations)
        reply, _wrote = sim_wmi_state.run(self.host, self.admin, {"operations": operations}, self.check_mode)
        results = reply["results"]
        if len(self.calls) == 1:
            self.first_reply = copy.deepcopy(results)
            if self.mutate is not None:
                return self.mutate(results)
        return results

    op_value = staticmethod(op_value)

    @property
    def writes_sent(self) -> int:
        return sum(1 for call in self.calls for operation in call if operation["op"] in WRITE_OPS)


def paths(node: t.Any, prefix: tuple[t.Any, ...] = ()) -> t.Iterator[tuple[t.Any, ...]]:
    """Every value's path in a result (lists: their first three entries)."""
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            if prefix or key != "op":
                yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:3]):
            yield from paths(value, (*prefix, index))


def get_at(node: t.Any, path: tuple[t.Any, ...]) -> t.Any:
    for step in path:
        node = node[step]
    return node


def replaced(node: t.Any, path: tuple[t.Any, ...], new: t.Any) -> t.Any:
    if not path:
        return new
    copied = copy.copy(node)
    copied[path[0]] = replaced(node[path[0]], path[1:], new)
    return copied


def statuses(result: t.Mapping[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {record["id"]: record for record in result["controls"]}


def comparable(record: t.Mapping[str, t.Any]) -> str:
    return json.dumps({key: record.get(key) for key in ("status", "findings", "actual")}, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def clean() -> dict[str, t.Any]:
    """The unchanged run: its reply, the results per mode, and which ops each control reads."""
    host = FuzzedHost()
    audit = run_baseline(host, baseline_params("audit"), TODAY)
    enforce = run_baseline(FuzzedHost(), baseline_params("enforce"), TODAY)
    operations = host.calls[0]
    # The runner reads the facts for every control (HostContext).
    reads_of = {
        control.id: {_key({"op": "facts"}), *(_key(operation) for operation in control.reads())}
        for control in build_controls(baseline_params("audit"), NO_EXCEPTIONS)
    }
    return {
        "operations": operations,
        "reply": host.first_reply,
        "results": {"audit": audit, "enforce": enforce},
        "reads_of": reads_of,
    }


def all_cases(clean: dict[str, t.Any]) -> list[tuple[int, tuple[t.Any, ...], t.Any]]:
    found: list[tuple[int, tuple[t.Any, ...], t.Any]] = []
    for index, result in enumerate(clean["reply"]):
        for path in paths(result):
            current = get_at(result, path)
            found.extend(
                (index, path, new) for new in SUBSTITUTES if not (type(new) is type(current) and new == current)
            )
    return found


def sampled_cases(clean: dict[str, t.Any], share: t.Any) -> list[tuple[int, tuple[t.Any, ...], t.Any]]:
    """This run's ``share`` (the ``sample_share`` fixture) of the fixed-seed sample of CASES cases."""
    return share.of(random.Random(19).sample(all_cases(clean), CASES))


def test_the_fuzzer_covers_every_op_with_enough_cases(clean, sample_share):
    assert len(all_cases(clean)) >= CASES
    sampled = sampled_cases(clean, sample_share)
    assert len(sampled) == len(range(sample_share.index, CASES, sample_share.count))
    ops = {clean["operations"][index]["op"] for index, _path, _new in sampled}
    assert ops == {operation["op"] for operation in clean["operations"]}
    # Every op the baseline reads: facts, registry_read, sd_get (twice), event_subscriptions, script_files.
    assert {"facts", "registry_read", "sd_get", "event_subscriptions", "script_files"} <= ops


def run_case(clean: dict[str, t.Any], index: int, path: tuple[t.Any, ...], new: t.Any, mode: str) -> None:
    host = FuzzedHost(lambda results: [*results[:index], replaced(results[index], path, new), *results[index + 1 :]])
    where = f"results[{index}] ({clean['operations'][index]['op']}) at {path!r} := {new!r:.60}"
    try:
        result = run_baseline(host, baseline_params(mode), TODAY)
    except WmiActionError as failure:
        # Only the facts every control needs may fail the whole host, and with the named code.
        assert clean["operations"][index]["op"] == "facts", where
        assert "MALFORMED_REPLY" in failure.msg or "OS facts" in failure.msg, where
        assert host.writes_sent == 0, where
        return
    assert host.writes_sent == 0, where
    changed_op = _key(clean["operations"][index])
    before = statuses(clean["results"][mode])
    for control_id, record in statuses(result).items():
        if changed_op not in clean["reads_of"][control_id]:
            assert comparable(record) == comparable(before[control_id]), f"{control_id} changed: {where}"
        elif record["status"] == "error":
            # A named cause: the error dict of the failed op, or the control's own sentence.
            assert record.get("reason"), where
            if record.get("error"):
                assert record["error"]["code"], where

        else:
            # The control judged the value: a status it may reach on a real host.
            assert record["status"] in ("compliant", "drift", "not_applicable", "excepted"), where


@pytest.mark.parametrize("part", range(8))
def test_one_changed_value_never_escapes_the_boundary(clean, sample_share, part):
    for number, (index, path, new) in enumerate(sampled_cases(clean, sample_share)[part::8]):
        run_case(clean, index, path, new, "audit" if number % 2 else "enforce")


@pytest.mark.parametrize(
    "reply",
    [None, "results", {}, 42, [], [None], ["x"] * 3, "LONG", "SHORT", "NOT_DICTS", "WRONG_OP"],
)
def test_a_reply_of_the_wrong_shape_fails_the_host_by_name(clean, reply):
    def mutate(results: list[dict[str, t.Any]]) -> t.Any:
        return (
            {
                "LONG": [*results, results[0]],
                "SHORT": results[:-1],
                "NOT_DICTS": [results[0], *([["x"]] * (len(results) - 1))],
                "WRONG_OP": [results[0], *({**result, "op": "sd_set"} for result in results[1:])],
            }.get(reply, reply)
            if isinstance(reply, str)
            else reply
        )

    host = FuzzedHost(mutate)
    try:
        result = run_baseline(host, baseline_params("audit"), TODAY)
    except WmiActionError as failure:
        assert "MALFORMED_REPLY" in failure.msg
    else:
        # Only per-op damage reaches here: every control that reads a damaged op is in error, by name.
        assert reply in ("NOT_DICTS", "WRONG_OP")
        for record in result["controls"]:
            assert record["status"] == "error" and record["error"]["code"] == "MALFORMED_REPLY", record["id"]
    assert host.writes_sent == 0


# --- size: one host's 50 MB strings never become a fleet's 400 MB of reports ------------------------------------

FIFTY_MB = 50 * 1024 * 1024


def grown(results: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """The reply with a 50 MB name and command line on the malicious consumer, and a 50 MB host error message."""
    results = copy.deepcopy(results)
    for result in results:
        if result["op"] == "event_subscriptions":
            consumer = next(c for c in result["consumers"] if c["class"] == "CommandLineEventConsumer")
            consumer["name"] = "N" * FIFTY_MB
            consumer["command_line_template"] = "powershell.exe -enc " + "A" * FIFTY_MB
            result["bindings"] = [
                {**b, "consumer": consumer["name"]} if b["consumer_class"] == "CommandLineEventConsumer" else b
                for b in result["bindings"]
            ]
        if result["op"] == "registry_read":
            result.clear()
            result.update(
                {"op": "registry_read", "failed": True, "error": {"code": "REGISTRY", "message": "E" * FIFTY_MB}}
            )
    return results


def test_a_50_mb_host_string_gives_reports_under_5_mb():
    from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html
    from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import build_report, normalise_host
    from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (
        render_csv,
        render_json,
        render_junit,
        render_markdown,
    )

    result = run_baseline(FuzzedHost(grown), baseline_params("audit"), TODAY)
    wmi020 = statuses(result)["WMI-020"]
    assert wmi020["status"] == "drift"
    # The name is cut at the boundary and says how long it was.
    assert any(f"{FIFTY_MB} characters in all" in json.dumps(finding) for finding in wmi020["findings"])
    assert len(json.dumps(result)) < 1024 * 1024
    host = normalise_host("fuzz01", result, run_at="2026-12-07T20:00:00Z", check_mode=True)
    report = build_report([host], title="size", generated_at="2026-12-07T20:00:00Z")
    total = sum(
        len(render(report).encode("utf-8"))
        for render in (render_json, render_junit, render_html, render_csv, render_markdown)
    )
    assert total < 5 * 1024 * 1024


# --- the modules: each is one control through the same runner and boundary ---------------------------------------


TIGHT_SDDL = "O:BAG:BAD:(A;CI;CCDCRPWPRCWD;;;BA)"
MODULES = ["event_subscription_info", "namespace_sd_info", "namespace_sd", "event_subscription"]


def module_controls() -> dict[str, t.Callable[[], t.Any]]:
    """Each module's control, built from its documented options as its action plugin builds it."""
    from ansible_collections.winsec.wmi.plugins.modules import event_subscription as event_subscription_doc
    from ansible_collections.winsec.wmi.plugins.modules import event_subscription_info as info_doc
    from ansible_collections.winsec.wmi.plugins.modules import namespace_sd as namespace_sd_doc
    from ansible_collections.winsec.wmi.plugins.modules import namespace_sd_info as sd_info_doc
    from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd import NamespaceSd
    from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd_info import NamespaceSdInfo
    from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription import (
        EventSubscriptionRemoval,
    )
    from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import (
        EventSubscriptions,
    )

    def options(documentation: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
        outcome = ArgumentSpecValidator(argspec_from_doc(documentation)).validate(args)
        assert not outcome.error_messages, outcome.error_messages
        return outcome.validated_parameters

    return {
        "event_subscription_info": lambda: EventSubscriptions.from_options(options(info_doc.DOCUMENTATION, {})),
        "namespace_sd_info": lambda: NamespaceSdInfo(options(sd_info_doc.DOCUMENTATION, {"namespaces": ["root"]})),
        "namespace_sd": lambda: NamespaceSd(
            options(
                namespace_sd_doc.DOCUMENTATION,
                {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:(A;CI;CCDCRPWPRCWD;;;BA)"},
            )
        ),
        "event_subscription": lambda: EventSubscriptionRemoval.from_params(
            options(
                event_subscription_doc.DOCUMENTATION,
                {"state": "absent", "consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer"},
            )
        ),
    }


@pytest.mark.parametrize(
    "module", ["event_subscription_info", "namespace_sd_info", "namespace_sd", "event_subscription"]
)
def test_the_modules_fail_by_name_and_never_write_in_check_mode(module):
    from ansible_collections.winsec.wmi.plugins.plugin_utils._control import run_module

    build = module_controls()[module]
    clean_host = FuzzedHost()
    run_module(clean_host, build())
    reply = clean_host.first_reply
    found = [
        (index, path, new)
        for index, result in enumerate(reply)
        for path in paths(result)
        for new in SUBSTITUTES
        if not (type(new) is type(get_at(result, path)) and new == get_at(result, path))
    ]
    for index, path, new in random.Random(19).sample(found, min(100, len(found))):
        host = FuzzedHost(
            lambda results, i=index, p=path, n=new: [*results[:i], replaced(results[i], p, n), *results[i + 1 :]]
        )
        try:
            run_module(host, build())
        except WmiActionError as failure:
            assert failure.msg, (module, path)
        assert host.writes_sent == 0, (module, path)
