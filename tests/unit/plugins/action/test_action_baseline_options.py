# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.baseline validates every nested option before contacting a host: string booleans are booleans,
choices and required sub-options are enforced, a null or a list is never read as text, and every error names the
item's path. namespace_sds items and event_subscriptions are checked with the spec of the module they belong to."""

from __future__ import annotations

import typing as t

import pytest
import yaml
from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.action import namespace_sd as namespace_sd_action
from ansible_collections.winsec.wmi.plugins.modules import event_subscription_info, namespace_sd
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_baseline import (
    COMPLIANT_HOST,
    INHERITED,
    ROOT,
    by_id,
    read_reply,
    run,
    tree,
    unsecapp,
    written,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import WS2022_FACTS

# A deny of Enable, ReadSecurity and WriteSecurity to Administrators before their allow: a lock-out of root.
LOCKOUT_SDDL = "O:BAG:BAD:(D;CI;CCRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)"
ACE = {"principal": "BUILTIN\\Administrators", "rights": ["Enable"]}
STRING_FALSES = ["false", "False", "no", "off", "0", "n"]


def validated(args: dict[str, t.Any]) -> dict[str, t.Any]:
    action = make_action(baseline, args, action_name="winsec.wmi.baseline")
    params, _no_log, error = action._validate(dict(args))
    assert error is None, error
    return params


def refused(args: dict[str, t.Any]) -> str:
    """The message of a baseline refused before any host contact (zero wmi_state calls)."""
    result, target = run({"mode": "enforce", **args}, [])
    assert target.calls == [], "a host was contacted"
    assert result["failed"] is True and result["changed"] is False
    return str(result["msg"])


# --- string booleans -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", STRING_FALSES)
def test_allow_lockout_string_false_keeps_the_lockout_guard_on(value):
    msg = refused({"namespace_sds": [{"namespace": "root", "sddl": LOCKOUT_SDDL, "allow_lockout": value}]})
    assert msg.startswith("namespace_sds[0]: Refused") and "lockout" in msg


def test_allow_lockout_true_string_is_true():
    # The guard can be turned off only on purpose; "true" as a string means it (the host is then read).
    params = validated({"namespace_sds": [{"namespace": "root", "sddl": LOCKOUT_SDDL, "allow_lockout": "true"}]})
    assert params["namespace_sds"][0]["allow_lockout"] is True


@pytest.mark.parametrize("value", STRING_FALSES)
def test_string_false_switches_are_false(value):
    params = validated(
        {
            "dcom": {"remove_legacy_exception": value},
            "namespace_audit": {"enabled": value, "set_sacl": value},
            "event_subscriptions": {"recurse": value},
        }
    )
    assert params["dcom"] == {"remove_legacy_exception": False}
    assert params["namespace_audit"] == {"enabled": False, "set_sacl": False, "namespaces": None}
    assert params["event_subscriptions"]["recurse"] is False


def dcom_exception_host(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """A compliant host but for the KB5004442 legacy exception RequireIntegrityActivationAuthenticationLevel=0."""
    replies = read_reply(WS2022_FACTS, 1, tree(root=ROOT, root__cimv2=INHERITED))(operations)
    for operation, reply in zip(operations, replies, strict=True):
        if operation.get("value") == "dcom_require_integrity_activation_authentication_level":
            reply.update(unsecapp(0))
    return replies


@pytest.mark.parametrize(("value", "writes"), [("false", False), ("no", False), ("true", True), ("yes", True)])
def test_dcom_remove_legacy_exception_string_decides_the_write(value, writes):
    replies = [dcom_exception_host, written] if writes else [dcom_exception_host]
    result, target = run(
        {"mode": "enforce", "controls": ["WMI-021"], "dcom": {"remove_legacy_exception": value}}, replies
    )
    sent = [operation["op"] for call in target.calls for operation in call]
    assert ("registry_write" in sent) is writes, sent
    assert by_id(result)["WMI-021"]["status"] == ("remediated" if writes else "drift")


@pytest.mark.parametrize("value", ["no", "false", "off"])
def test_namespace_audit_enabled_string_no_does_not_run_wmi_022(value):
    result, target = run({"mode": "audit", "namespace_audit": {"enabled": value}}, [COMPLIANT_HOST])
    assert "WMI-022" not in by_id(result)
    assert all(not operation.get("sacl") for call in target.calls for operation in call)


# --- choices, required, null, wrong types, paths -----------------------------------------------------------------


def sds(*items: t.Any) -> dict[str, t.Any]:  # Any: some cases pass the wrong type on purpose
    return {"namespace_sds": list(items)}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # choices (namespace_sd's): a typo is refused, never read as another mode
        (sds({"namespace": "root", "mode": "Present", "aces": [ACE]}), "namespace_sds[0].mode: value of mode must"),
        (sds({"namespace": "root", "mode": "replace", "aces": []}), "namespace_sds[0].mode:"),
        (sds({"namespace": "root", "aces": [{**ACE, "type": "Allow"}]}), "namespace_sds[0].aces[0].type: value of"),
        (sds({"namespace": "root", "aces": [{**ACE, "inherit": "everything"}]}), "namespace_sds[0].aces[0].inherit:"),
        # required and null
        (sds({"namespace": "root", "aces": [{"rights": ["Enable"]}]}), "namespace_sds[0].aces[0].principal: give a"),
        (sds({"namespace": None, "aces": [ACE]}), "namespace_sds[0].namespace: give a namespace; it is required and"),
        (sds({"namespace": " ", "aces": [ACE]}), "namespace_sds[0].namespace: give a namespace"),
        (sds({"namespace": "root", "aces": [{**ACE, "principal": None}]}), "namespace_sds[0].aces[0].principal:"),
        # the path names the item
        (
            sds({"namespace": "root", "aces": [ACE]}, {"namespace": "root\\cimv2", "aces": [ACE, {"rights": []}]}),
            "namespace_sds[1].aces[1].principal: give a principal",
        ),
        # wrong types: an item or an ACE that is not a dictionary, a string that is a list, an unknown option
        (sds("root"), "namespace_sds[0]: expected a dictionary of options, got a str"),
        (sds({"namespace": "root", "aces": ["BA"]}), "namespace_sds[0].aces[0]: expected a dictionary"),
        (sds({"namespace": "root", "aces": ["principal=BA"]}), "namespace_sds[0].aces[0]: expected a dictionary"),
        (sds({"namespace": ["root"], "aces": [ACE]}), "namespace_sds[0].namespace: expected a string, got a list"),
        (sds({"namespace": "root", "acez": [ACE], "aces": [ACE]}), "namespace_sds[0].acez: unsupported option"),
        (sds({"namespace": "root", "aces": [ACE], "allow_lockout": "maybe"}), "namespace_sds[0].allow_lockout:"),
        (sds({"namespace": "root", "aces": [{**ACE, "rights": "Enable", "x": 1}]}), "namespace_sds[0].aces[0].x:"),
        # namespace_sd's rules between options
        (sds({"namespace": "root", "sddl": "O:BAG:BAD:", "aces": []}), "namespace_sds[0]: parameters are mutually"),
        (sds({"namespace": "root"}), "namespace_sds[0]: one of the following is required: sddl, aces"),
        ({"namespace_sds": None}, "namespace_sds: expected a list, got null"),
        # exceptions: control and reason required, never null or empty; strings are strings
        ({"exceptions": [{"reason": "r"}]}, "exceptions[0].control: give a control; it is required and was missing"),
        ({"exceptions": [{"control": None, "reason": "r"}]}, "exceptions[0].control: give a control"),
        ({"exceptions": [{"control": "", "reason": "r"}]}, "exceptions[0].control: give a control"),
        ({"exceptions": [{"control": "WMI-004", "reason": None}]}, "exceptions[0].reason: give a reason"),
        ({"exceptions": ["WMI-004"]}, "exceptions[0]: expected a dictionary of options, got a str"),
        (
            {
                "exceptions": [
                    {"control": "WMI-004", "reason": "r"},
                    {"control": "WMI-4", "reason": "r", "namespace": ["root"]},
                ]
            },
            "exceptions[1].namespace: expected a string, got a list",
        ),
        ({"exceptions": [{"control": "WMI-004", "reason": "r", "principal": {"a": 1}}]}, "exceptions[0].principal:"),
        ({"exceptions": [{"control": "WMI-004", "reason": "r", "why": "x"}]}, "exceptions[0].why: unsupported"),
        # event_subscriptions: event_subscription_info's options
        ({"event_subscriptions": {"allowed": ["SCM"]}}, "event_subscriptions.allowed[0]: expected a dictionary"),
        (
            {"event_subscriptions": {"allowed": [{"consumer": "SCM Event Log Consumer"}]}},
            "event_subscriptions.allowed[0].consumer_class: give a consumer_class",
        ),
        ({"event_subscriptions": {"recurse": "deep"}}, "event_subscriptions.recurse: argument 'recurse' is of type"),
        ({"event_subscriptions": {"namespace": "root"}}, "event_subscriptions.namespace: unsupported option"),
        ({"event_subscriptions": "root"}, "event_subscriptions: expected a dictionary"),
        # the baseline's own dictionaries
        ({"dcom": {"remove_legacy_exception": "sometimes"}}, "dcom.remove_legacy_exception: argument"),
        ({"dcom": {"remove_exception": True}}, "dcom.remove_exception: unsupported option"),
        ({"namespace_audit": {"enabled": True, "set_sacl": "later"}}, "namespace_audit.set_sacl: argument"),
        ({"namespace_audit": {"enabled": True, "namespaces": [["root"]]}}, "namespace_audit.namespaces[0]: expected"),
        ({"scripts": {"paths": ["C:\\s"], "max_files": "many"}}, "scripts.max_files: argument"),
        ({"scripts": {"path": ["C:\\s"]}}, "scripts.path: unsupported option"),
    ],
)
def test_bad_nested_option_is_refused_by_path_before_contact(args, expected):
    msg = refused(args)
    assert msg.startswith(expected), msg
    for python_text in ("Traceback", "KeyError", "NoneType", "object has no attribute", "string indices"):
        assert python_text not in msg


def test_every_error_is_reported_at_once():
    msg = refused(sds({"namespace": None, "mode": "Present", "aces": [{"type": "Allow"}]}))
    for path in ("namespace_sds[0].namespace:", "namespace_sds[0].mode:", "namespace_sds[0].aces[0].principal:"):
        assert path in msg, msg


# --- the same spec as the modules they belong to ---------------------------------------------------------------


def module_options(documentation: str) -> set[str]:
    return set(yaml.safe_load(documentation)["options"])


def test_namespace_sds_items_take_exactly_namespace_sds_options():
    item = {"namespace": "root\\cimv2", "aces": [ACE]}
    params = validated(sds(item))
    # namespace_sd's defaults and its ACE sub-options' defaults filled in, as namespace_sd itself would.
    assert set(params["namespace_sds"][0]) == module_options(namespace_sd.DOCUMENTATION)
    assert params["namespace_sds"][0]["mode"] == "exact" and params["namespace_sds"][0]["allow_lockout"] is False
    assert params["namespace_sds"][0]["aces"][0]["type"] == "allow"
    # An option namespace_sd has is accepted; the supported list named in an error is namespace_sd's.
    msg = refused(sds({**item, "bogus": 1}))
    supported = msg.split("supported: ", 1)[1].split(".", 1)[0].split(", ")
    assert set(supported) == module_options(namespace_sd.DOCUMENTATION)


def test_namespace_sds_rules_are_namespace_sds_rules():
    # The baseline reads namespace_sd's rules from its action plugin: a new rule there applies here too.
    for group in namespace_sd_action.ActionModule.MUTUALLY_EXCLUSIVE:
        item = {"namespace": "root", **{name: "O:BAG:BAD:" if name != "aces" else [] for name in group[:2]}}
        assert "mutually exclusive" in refused(sds(item))


def test_event_subscriptions_take_exactly_event_subscription_info_options():
    params = validated({"event_subscriptions": {}})
    assert set(params["event_subscriptions"]) == module_options(event_subscription_info.DOCUMENTATION)
    assert params["event_subscriptions"]["namespaces"] == ["root"] and params["event_subscriptions"]["recurse"]


def test_defaults_of_the_documentation_still_validate():
    params = validated({})
    assert params["namespace_sds"][0]["aces"][0]["principal"] == "BUILTIN\\Administrators"
    assert params["exceptions"] == [] and params["dcom"] == {"remove_legacy_exception": False}


def test_unquoted_yaml_date_is_an_expiry():
    import datetime

    params = validated({"exceptions": [{"control": "WMI-004", "reason": "r", "expires": datetime.date(2027, 12, 31)}]})
    assert params["exceptions"][0]["expires"] == "2027-12-31"
