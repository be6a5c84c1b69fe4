# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The script audit follows each language's grammar where it decides what is code, sees member access in every
form the language has, and takes time linear in the file's size whatever the file holds."""

from __future__ import annotations

import time

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_lexers import (
    tokenize_jscript,
    tokenize_powershell,
    tokenize_vbscript,
    wsf_elements,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import scan_script

LDAP_VBS = 'Set c = GetObject("LDAP://CN=APP03,DC=corp")\n'
LDAP_JS = 'var c = GetObject("LDAP://CN=APP03,DC=corp");\n'
LDAP_PS1 = '$c = [ADSI]"LDAP://CN=APP03,DC=corp"\n'


def ids(path, source):
    return [(finding["line"], finding["finding_id"]) for finding in scan_script(path, source.encode())]


# --- grammar: what is code ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "var half = total\n/ 2; var q = 1 / 3;\n",  # a division continued on the next line
        "var r = (a)\n/ b / c;\n",
        "var r = list[0]\n/ 4 / d;\n",
    ],
)
def test_jscript_a_slash_after_a_line_break_divides_when_an_expression_precedes(source):
    # ECMA-262 clause 7: InputElementDiv after an expression, whatever line terminators stand between.
    tokens = tokenize_jscript(source + "var s = c.GetWMIServices();\n")
    assert not [token for token in tokens if token.kind == "string" and token.text.startswith("/")]
    assert ("word", "GetWMIServices") in [(token.kind, token.text) for token in tokens]
    assert ids("d.js", LDAP_JS + source + "var s = c.GetWMIServices();\n")


def test_jscript_a_slash_after_a_statement_end_still_starts_a_regular_expression():
    tokens = tokenize_jscript("x = 1;\n/GetWMIServices()/.test(s)\n")
    assert ("string", "/GetWMIServices()/") in [(token.kind, token.text) for token in tokens]


@pytest.mark.parametrize("bareword", ["step#1", "build#12#x", "a#"])
def test_powershell_hash_inside_a_bareword_is_not_a_comment(bareword):
    # PowerShell Language Specification 2.2.3: a comment starts with # only at the start of a token.
    source = f"{LDAP_PS1}Write-Output {bareword}; $c.GetWMIObject()\n"
    assert ids("s.ps1", source) == [(2, "adsi_wmi_extension")]


@pytest.mark.parametrize("source", ["Write-Output x #$c.GetWMIObject()\n", "$a = 1 # $c.GetWMIObject()\n"])
def test_powershell_hash_at_a_token_start_is_a_comment(source):
    assert ids("s.ps1", LDAP_PS1 + source) == []


def test_powershell_backtick_escapes_inside_a_member_name():
    tokens = tokenize_powershell("$c.Get`WMIObject()")
    assert ("word", "GetWMIObject") in [(token.kind, token.text) for token in tokens]
    assert ("word", "Get\nObject") in [(t.kind, t.text) for t in tokenize_powershell("$c.Get`nObject()")]


def test_vbscript_bracketed_identifiers():
    tokens = tokenize_vbscript("WScript.Echo c.[WMIObjectPath], [my var]\n")
    assert [(token.kind, token.text) for token in tokens if token.text in ("WMIObjectPath", "my var")] == [
        ("word", "WMIObjectPath"),
        ("word", "my var"),
    ]
    assert ids("b.vbs", LDAP_VBS + "Set s = c.[GetWMIServices]()\n") == [(2, "adsi_wmi_extension")]


# --- member access in every form ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("a.js", LDAP_JS + 'var s = c["GetWMIServices"]();\n', [(2, "adsi_wmi_extension")]),
        ("b.js", LDAP_JS + "with (c) {\n  var s = GetWMIServices();\n}\n", [(3, "adsi_wmi_extension")]),
        ("c.js", LDAP_JS + "with (c) s = GetWMIObject();\n", [(2, "adsi_wmi_extension")]),
        ("a.ps1", LDAP_PS1 + '$c."GetWMIObject"()\n', [(2, "adsi_wmi_extension")]),
        ("b.ps1", LDAP_PS1 + "$c.Get`WMIObject()\n", [(2, "adsi_wmi_extension")]),
        ("c.ps1", LDAP_PS1 + '$c.psbase.Invoke("GetWMIObject")\n', [(2, "adsi_wmi_extension")]),
        ("d.ps1", LDAP_PS1 + "$c.psbase.InvokeMember('WMIObjectPath', 'GetProperty')\n", [(2, "adsi_wmi_extension")]),
        ("e.ps1", LDAP_PS1 + '$path = $c.InvokeGet("WMIObjectPath")\n', [(2, "adsi_wmi_extension")]),
        ("a.vbs", LDAP_VBS + 'Set s = CallByName(c, "GetWMIObject", VbMethod)\n', [(2, "adsi_wmi_extension")]),
        ("b.vbs", LDAP_VBS + "With c\n  WScript.Echo .WMIObjectPath\nEnd With\n", [(3, "adsi_wmi_extension")]),
    ],
)
def test_adsi_extension_members_in_every_access_form(path, source, expected):
    findings = scan_script(path, source.encode())
    assert [(finding["line"], finding["finding_id"]) for finding in findings] == expected
    assert findings[0]["severity"] == "medium"


def test_with_and_indexing_on_other_names_are_not_findings():
    assert ids("n.js", 'var o = {};\nwith (o) { x = GetWMIServicesCount(); }\nvar v = m["GetWMI"];\n') == []
    assert ids("n.vbs", 'x = CallByName(o, "Refresh", VbMethod)\n') == []


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        (
            "w.ps1",
            "$w = New-Object System.Management.ManagementEventWatcher($query)\n"
            "Register-ObjectEvent -InputObject $w -EventName EventArrived -Action { Stop-Computer -Force }\n"
            "$w.Start()\n",
            [(2, "async_wmi_event_registration"), (2, "async_handler_privileged"), (3, "async_wmi_call")],
        ),
        (
            "h.ps1",
            "$w = [System.Management.ManagementEventWatcher]::new($q)\n$w.add_EventArrived({ Stop-Service Spooler })\n",
            [(2, "async_wmi_event_registration"), (2, "async_handler_privileged")],
        ),
        (
            "o.ps1",
            "$observer = New-Object System.Management.ManagementOperationObserver\n",
            [(1, "async_wmi_sink")],
        ),
        ("i.ps1", '$svc.psbase.InvokeMember("ExecQueryAsync_", $flags)\n', [(1, "async_wmi_call")]),
        ("b.js", 'svc["ExecNotificationQueryAsync"](sink, q);\n', [(1, "async_wmi_call")]),
        (
            "c.vbs",
            'Set s = WScript.CreateObject("WbemScripting." & "SWbemSink", "EV_")\n'
            "Sub EV_OnObjectReady(o, c)\n  o.Terminate\nEnd Sub\n",
            [(1, "async_wmi_sink"), (3, "async_handler_privileged")],
        ),
        (
            "d.js",
            'var p = "WbemScripting" + ".SWbemSink";\nvar s = WScript.CreateObject(p, "EV_");\n'
            "function EV_OnObjectReady(o, c) { o.Terminate(); }\n",
            [(2, "async_wmi_sink"), (3, "async_handler_privileged")],
        ),
        ("e.vbs", 'CallByName svc, "ExecQueryAsync", VbMethod, sink, q\n', [(1, "async_wmi_call")]),
        ("p.ps1", '$s = New-Object -ComObject ("WbemScripting." + "SWbemSink")\n', [(1, "async_wmi_sink")]),
    ],
)
def test_asynchronous_forms(path, source, expected):
    assert ids(path, source) == expected


def test_semisynchronous_dotnet_watching_is_not_a_finding():
    source = (
        "$w = New-Object System.Management.ManagementEventWatcher($q)\n"
        "$e = $w.WaitForNextEvent()\n$p = Start-Process notepad -PassThru\n$t = New-Object Timers.Timer; $t.Start()\n"
    )
    assert ids("s.ps1", source) == []


# --- linear time ----------------------------------------------------------------------------------------------------

SIZE = 1_000_000


def _fill(unit: str, prefix: str = "", suffix: str = "") -> str:
    body = (unit * (SIZE // len(unit) + 1))[: SIZE - len(prefix) - len(suffix)]
    return prefix + body + suffix


# Clean files of ordinary code (a statement per line, calls, member access, short strings): the yardstick.
CLEAN = {
    "x.vbs": _fill('Set item = fso.GetFile(path & "\\" & name): WScript.Echo item.Size + (count * 2), item.Name\n'),
    "x.js": _fill('var item = fso.GetFile(path + "\\" + name); WScript.Echo(item.Size + (count * 2), item.Name);\n'),
    "x.ps1": _fill("$item = Get-Item -Path $path; Write-Output ($item.Length + ($count * 2)), $item.Name\n"),
    "x.wsf": _fill(
        'Set item = fso.GetFile(path & "\\" & name): WScript.Echo item.Size + (count * 2), item.Name\n',
        '<job><script language="VBScript">\n',
        "</script></job>",
    ),
}
# Unterminated sink handlers with privileged work, unclosed brackets and calls, nested assignments; and for the
# lexers, unclosed [type, ${name, <!--, <script, <object and bracketed identifiers. Each used to make a rule or a
# lexer search to the end of the file once per occurrence.
ADVERSARIAL = {
    "x.vbs": _fill(
        "Sub SINK_OnObjectReady(o, c)\n x.Run(1)\n c = ( d = ( [ x.ConnectObject( s.ExecQueryAsync_( ",
        'Set s = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")\n',
    ),
    "x.js": _fill(
        "function SINK_OnObjectReady(o, c) { x.Run(( [ x.ConnectObject( c = ( d = ( with (c) { GetWMIObject(\n",
        'var s = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_");\n',
    ),
    "x.ps1": _fill(
        "Register-WmiEvent -Action { Stop-Process [a [b ( $x = ( Invoke-CimMethod $c.psbase.Invoke( \n",
        "Register-WmiEvent -Query q -Action {\n",
    ),
    "x.wsf": _fill('<script language="JScript"> <object <!-- <script x.Run( [ { '),
    "y.wsf": _fill("<object a=\" <script language='VBScript'> x.[y <!-- -->"),
}


@pytest.mark.parametrize("path", sorted(ADVERSARIAL))
def test_an_adversarial_megabyte_scans_in_a_small_multiple_of_a_clean_one(path):
    clean = CLEAN.get(path, CLEAN["x.wsf"]).encode()
    adversarial = ADVERSARIAL[path].encode()
    assert len(clean) == len(adversarial) == SIZE
    started = time.process_time()
    scan_script(path, clean)
    clean_seconds = time.process_time() - started
    started = time.process_time()
    scan_script(path, adversarial)
    adversarial_seconds = time.process_time() - started
    ratio = adversarial_seconds / max(clean_seconds, 0.05)
    print(f"\n{path}: clean {clean_seconds:.2f} s, adversarial {adversarial_seconds:.2f} s, ratio {ratio:.2f}")
    assert ratio <= 5  # quadratic rules took minutes (a projected 50 minutes for 1 MB) against about a second


def test_wsf_elements_are_found_in_one_pass_with_their_positions():
    text = (
        '<job>\n<!-- <script language="VBScript">x</script> -->\n<object progid="a" id="b"/>\n'
        '<script language="JScript">\nf();\n</script></job>'
    )
    elements = wsf_elements(text)
    assert [(element.tag, element.line, element.column) for element in elements] == [
        ("object", 3, 1),
        ("script", 4, 1),
    ]
    assert elements[1].body.strip() == "f();" and elements[1].body_line == 4


def test_dotnet_observer_overloads_are_asynchronous_calls():
    source = (
        "$observer = New-Object System.Management.ManagementOperationObserver\n"
        "$searcher.Get($observer)\n$searcher.Get()\n$item.Delete($options)\n"
    )
    assert ids("o.ps1", source) == [(1, "async_wmi_sink"), (2, "async_wmi_call")]
