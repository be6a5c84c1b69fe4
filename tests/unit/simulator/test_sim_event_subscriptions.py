"""event_subscriptions (recurse, consumer class in bindings, consumer properties) and event_subscription_remove on the
host model, as plugins/modules/wmi_state.yml documents them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from test_sim_wmi_state import run, user  # the wmi_state call helper, one copy

from simulator.host import Host


def impostor_host(host_factory: Callable[..., Host]) -> Host:
    return host_factory(profile="2022", subscriptions=["scm", "impostor", "disk_log"], extra_namespaces=["root\\x"])


def test_bindings_carry_the_consumer_class(host_factory: Callable[..., Host]) -> None:
    host = impostor_host(host_factory)
    op = run(host, [{"op": "event_subscriptions"}])["results"][0]
    assert sorted((b["consumer_class"], b["consumer"]) for b in op["bindings"]) == [
        ("CommandLineEventConsumer", "SCM Event Log Consumer"),
        ("LogFileEventConsumer", "DiskSpaceLog"),
        ("NTEventLogEventConsumer", "SCM Event Log Consumer"),
    ]
    disk = next(c for c in op["consumers"] if c["name"] == "DiskSpaceLog")
    assert disk["properties"]["Filename"] == "C:\\Logs\\disk.log"


def test_recurse_lists_every_namespace_below(host_factory: Callable[..., Host]) -> None:
    host = impostor_host(host_factory)
    host.consumers[0].namespace = "root\\x"  # a consumer outside the two usual namespaces
    flat = run(host, [{"op": "event_subscriptions"}])["results"][0]
    deep = run(host, [{"op": "event_subscriptions", "namespaces": ["root"], "recurse": True}])["results"][0]
    assert len(deep["consumers"]) == len(flat["consumers"]) + 1
    assert "root\\x" in {c["namespace"] for c in deep["consumers"]}


def remove(kind: str, expected: dict[str, Any]) -> dict[str, Any]:
    return {
        "op": "event_subscription_remove",
        "namespace": "root\\subscription",
        "kind": kind,
        "expected_instance": expected,
    }


IMPOSTOR_BINDING = {
    "filter": "SCM Event Log Filter",
    "consumer": "SCM Event Log Consumer",
    "consumer_class": "CommandLineEventConsumer",
}


def test_remove_binding_then_consumer(host_factory: Callable[..., Host]) -> None:
    host = impostor_host(host_factory)
    consumer = next(
        c
        for c in run(host, [{"op": "event_subscriptions"}])["results"][0]["consumers"]
        if c["class"] == "CommandLineEventConsumer"
    )
    expected_consumer = {k: v for k, v in consumer.items() if k not in ("namespace", "properties")}
    results = run(host, [remove("binding", IMPOSTOR_BINDING), remove("consumer", expected_consumer)])
    assert results["changed"] is True
    assert [r["failed"] for r in results["results"]] == [False, False]
    assert results["results"][1]["removed"]["command_line_template"].startswith("C:\\Windows\\System32\\rundll32")
    assert host.counters.as_dict()["writes_by_kind"] == {"event_subscription": 2}
    # The built-in NTEventLog consumer of the same name and its binding are untouched.
    assert [(c.cls, c.name) for c in host.consumers if c.name == "SCM Event Log Consumer"] == [
        ("NTEventLogEventConsumer", "SCM Event Log Consumer")
    ]
    again = run(host, [remove("binding", IMPOSTOR_BINDING)])["results"][0]
    assert again["error"]["code"] == "CHANGED_SINCE_READ"


def test_remove_refuses_a_changed_definition_and_check_mode(host_factory: Callable[..., Host]) -> None:
    host = impostor_host(host_factory)
    stale = {"class": "CommandLineEventConsumer", "name": "SCM Event Log Consumer", "command_line_template": "old"}
    first, skipped = run(host, [remove("consumer", stale), remove("binding", IMPOSTOR_BINDING)])["results"]
    assert first["error"]["code"] == "CHANGED_SINCE_READ"
    assert skipped["error"]["code"] == "SKIPPED"
    checked = run(host, [remove("binding", IMPOSTOR_BINDING)], check=True)["results"][0]
    assert checked["error"]["code"] == "CHECK_MODE"
    denied = run(host, [remove("binding", IMPOSTOR_BINDING)], caller=user(host))["results"][0]
    assert denied["error"]["hresult"] == 0x80041003
    assert host.counters.as_dict()["writes"] == 0
    assert len(host.bindings) == 3


def test_sd_get_sacl_needs_the_privilege(host_factory: Callable[..., Host]) -> None:
    # Namespace SACLs (sd_get sacl=true) share this file with the other additions of issue 14 to the primitive.
    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_bytes, sd_to_sddl

    host = host_factory(
        profile="2022", namespaces={"root": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)S:(AU;CISA;WD;;;WD)"}
    )

    def sddl(result: dict[str, Any], index: int) -> str:
        return sd_to_sddl(sd_from_bytes(base64.b64decode(result["namespaces"][index]["sd"])))

    admin_read = run(host, [{"op": "sd_get", "namespace": "root", "recurse": True, "sacl": True}])["results"][0]
    assert admin_read["sacl_read"] is True
    assert sddl(admin_read, 0).endswith("S:(AU;CISA;WD;;;WD)")
    assert sddl(admin_read, 1).endswith("S:(AU;CIIDSA;WD;;;WD)")  # inherited by the child
    plain = run(host, [{"op": "sd_get", "namespace": "root"}])["results"][0]
    assert "sacl_read" not in plain and "S:" not in sddl(plain, 0)
    denied = run(host, [{"op": "sd_get", "namespace": "root", "sacl": True}], caller=user(host))["results"][0]
    assert denied["sacl_read"] is False
