# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription import (
    EventSubscriptionRemoval,
    plan_removal,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import parse_inventory
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, WmiOperationError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts

SUB = "root\\subscription"
FACTS = facts()


def binding(filter_name, consumer, consumer_class="CommandLineEventConsumer"):
    return {"namespace": SUB, "filter": filter_name, "consumer": consumer, "consumer_class": consumer_class}


# One filter shared by two consumers (built-in + impostor of the same name), and a second, private pair.
READ = {
    "filters": [
        {"namespace": SUB, "name": "SCM Event Log Filter", "query": "select * from MSFT_SCMEventLogEvent"},
        {"namespace": SUB, "name": "Uptime", "query": "SELECT * FROM __InstanceModificationEvent"},
    ],
    "consumers": [
        {"namespace": SUB, "name": "SCM Event Log Consumer", "class": "NTEventLogEventConsumer"},
        {
            "namespace": SUB,
            "name": "SCM Event Log Consumer",
            "class": "CommandLineEventConsumer",
            "command_line_template": "rundll32 x.dll,Start",
        },
        {"namespace": SUB, "name": "Payload", "class": "CommandLineEventConsumer", "command_line_template": "evil"},
    ],
    "bindings": [
        binding("SCM Event Log Filter", "SCM Event Log Consumer", "NTEventLogEventConsumer"),
        binding("SCM Event Log Filter", "SCM Event Log Consumer"),
        binding("Uptime", "Payload"),
    ],
}


def host(check_mode=False):
    return HostContext(FACTS, os_profile(FACTS), check_mode=check_mode, diff_mode=True, enforce=True)


def test_impostor_removal_keeps_the_shared_filter_and_the_builtin():
    plan = plan_removal(
        parse_inventory([READ]),
        filter_name=None,
        consumer_name="scm event log consumer",
        consumer_class="CommandLineEventConsumer",
    )
    assert [(b.consumer_class, b.consumer) for b in plan.bindings] == [
        ("CommandLineEventConsumer", "SCM Event Log Consumer")
    ]
    assert [c.cls for c in plan.consumers] == ["CommandLineEventConsumer"]
    assert plan.filters == ()


def test_private_pair_goes_whole_in_order():
    control = EventSubscriptionRemoval(consumer_name="Payload", consumer_class="CommandLineEventConsumer")
    decision = control.decide(host(), [{"op": "event_subscriptions", "failed": False, **READ}])
    assert [(w["kind"], w["namespace"]) for w in decision.writes] == [
        ("binding", SUB),
        ("consumer", SUB),
        ("filter", SUB),
    ]
    assert decision.writes[1]["expected_instance"]["command_line_template"] == "evil"
    assert "namespace" not in decision.writes[1]["expected_instance"]
    assert decision.diff is not None and "  command_line_template: evil\n" in decision.diff["before"]
    assert decision.diff["after"] == ""
    assert decision.result["removed"]["filters"][0]["name"] == "Uptime"


def test_absent_is_compliant_and_unchanged():
    control = EventSubscriptionRemoval(filter_name="Nothing")
    decision = control.decide(host(), [{"op": "event_subscriptions", "failed": False, **READ}])
    assert decision.status == "compliant" and decision.writes == []


def test_partial_failure_returns_what_was_removed():
    control = EventSubscriptionRemoval(consumer_name="Payload", consumer_class="CommandLineEventConsumer")
    decision = control.decide(host(), [{"op": "event_subscriptions", "failed": False, **READ}])
    results = [
        {"op": "event_subscription_remove", "failed": False, "removed": {"filter": "Uptime"}},
        {"op": "event_subscription_remove", "failed": True, "error": {"code": "CHANGED_SINCE_READ", "message": "x"}},
        {"op": "event_subscription_remove", "failed": True, "error": {"code": "SKIPPED", "message": "y"}},
    ]
    with pytest.raises(WmiOperationError) as raised:
        control.verify(host(), decision, results)
    # What the controller read and planned, not the host's (partial) echo.
    assert raised.value.result["removed"]["bindings"] == decision.result["removed"]["bindings"][:1]
    assert raised.value.result["changed"] is True


def test_naming_is_required():
    with pytest.raises(WmiActionError):
        EventSubscriptionRemoval()
    with pytest.raises(WmiActionError, match="consumer_class"):
        EventSubscriptionRemoval(consumer_name="Payload")
