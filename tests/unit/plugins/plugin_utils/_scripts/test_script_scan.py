# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The legacy WMI script scanner: decoding, tokenising (comments and strings are not code), rules, severities."""

from __future__ import annotations

import codecs

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_lexers import (
    UnreadableScript,
    decode_script,
    tokenize_jscript,
    tokenize_powershell,
    tokenize_vbscript,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import (
    ADSI_RULES,
    ASYNC_RULES,
    ScriptFile,
    scan_files,
    scan_script,
)
from hypothesis import given, settings
from hypothesis import strategies as st

ASYNC_VBS = (
    'Set svc = GetObject("winmgmts:\\\\.\\root\\cimv2")\n'
    'Set sink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")\n'
    'svc.ExecNotificationQueryAsync sink, "SELECT * FROM __InstanceCreationEvent WITHIN 2"\n'
    "Sub SINK_OnObjectReady(objEvent, ctx)\n"
    "    objEvent.TargetInstance.Terminate()\n"
    "End Sub\n"
)


def ids(findings):
    return [(finding["line"], finding["finding_id"]) for finding in findings]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"WScript.Echo 1\r\n", "utf-8"),
        (codecs.BOM_UTF8 + "WScript.Echo \u00e9\r\n".encode(), "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "WScript.Echo \u00e9\r\n".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + "WScript.Echo \u00e9\r\n".encode("utf-16-be"), "utf-16-be"),
        ("WScript.Echo \u00e9\r\n".encode("utf-16-le"), "utf-16-le"),
        ("WScript.Echo \u00e9\r\n".encode("utf-16-be"), "utf-16-be"),
        ("WScript.Echo \u20ac \u00e9\r\n".encode("cp1252"), "cp1252"),
    ],
)
def test_decode_recognises_every_windows_encoding(data, encoding):
    text, found = decode_script(data)
    assert found == encoding
    assert text.startswith("WScript.Echo ")


def test_decode_ansi_keeps_the_bytes_cp1252_leaves_undefined():
    text, encoding = decode_script(b"x = \x81\x8d \x80")
    assert encoding == "cp1252"
    assert text == "x = \x81\x8d \u20ac"


def test_decode_odd_length_utf16_keeps_the_text():
    text, _encoding = decode_script(codecs.BOM_UTF16_LE + "abc".encode("utf-16-le") + b"\x00")
    assert text == "abc"


@pytest.mark.parametrize("data", [b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff", bytes(range(1, 32)) * 4])
def test_binary_data_is_unreadable_not_a_crash(data):
    with pytest.raises(UnreadableScript, match="binary"):
        decode_script(data)


def test_vbscript_comments_and_strings_are_not_code():
    tokens = tokenize_vbscript('x = "a ""quoted"" \'word\'" \' comment GetWMIObject\nRem GetWMIObject\nRemove = 1')
    assert [(token.kind, token.text) for token in tokens] == [
        ("word", "x"),
        ("op", "="),
        ("string", "a \"quoted\" 'word'"),
        ("eol", "\n"),
        ("eol", "\n"),
        ("word", "Remove"),
        ("op", "="),
        ("op", "1"),
    ]


def test_jscript_regex_division_and_escapes():
    tokens = tokenize_jscript("var r = /a\\/b[/]/g; var d = x / 2 / y; var s = 'it\\'s'; /* c */ // d")
    strings = [token.text for token in tokens if token.kind == "string"]
    assert strings == ["/a\\/b[/]/g", "it's"]
    assert [token.text for token in tokens if token.kind == "op"].count("/") == 2


def test_powershell_here_strings_comments_params_and_types():
    source = (
        '<# $c.GetWMIObject() #>\n$h = @"\n$c.WMIObjectPath\n"@\n'
        "$c = [ADSI]'LDAP://x' # c\nRegister-WmiEvent -Action { }"
    )
    tokens = tokenize_powershell(source)
    kinds = [(token.kind, token.text) for token in tokens if token.kind != "eol"]
    assert ("string", "$c.WMIObjectPath") in kinds
    assert ("type", "adsi") in kinds
    assert ("param", "action") in kinds
    assert all(token.text != "GetWMIObject" for token in tokens)


@pytest.mark.parametrize(
    ("lockdown", "severities"),
    [(False, ["high", "high", "critical"]), (True, ["low", "low", "low"]), (None, ["medium", "medium", "high"])],
)
def test_async_severity_depends_on_the_hosts_lockdown(lockdown, severities):
    findings = scan_script("watch.vbs", ASYNC_VBS.encode(), lockdown=lockdown)
    assert ids(findings) == [(2, "async_wmi_sink"), (3, "async_wmi_call"), (5, "async_handler_privileged")]
    assert [finding["severity"] for finding in findings] == severities
    if lockdown:
        assert "pre-Windows 2000" in findings[0]["explanation"]


def test_rule_sets_split_adsi_from_async():
    source = (ASYNC_VBS + 'Set c = GetObject("LDAP://CN=X,DC=corp")\nWScript.Echo c.WMIObjectPath\n').encode()
    assert ids(scan_script("mixed.vbs", source, rules=ADSI_RULES)) == [(8, "adsi_wmi_extension")]
    assert [finding_id for _line, finding_id in ids(scan_script("mixed.vbs", source, rules=ASYNC_RULES))] == [
        "async_wmi_sink",
        "async_wmi_call",
        "async_handler_privileged",
    ]


@pytest.mark.parametrize(
    ("path", "source", "expected_lines"),
    [
        (
            "a.vbs",
            'Set objComputer = GetObject("LDAP://CN=APP03,DC=corp")\nWScript.Echo objComputer.WMIObjectPath\n',
            [
                'strDnsHostName = objComputer.Get("dNSHostName")',
                'strMoniker = "winmgmts:{impersonationLevel=impersonate}!//" & strDnsHostName & '
                '"/root/cimv2:Win32_ComputerSystem.Name=""" & strName & """"',
                "Set objWmi = GetObject(strMoniker)",
            ],
        ),
        (
            "a.js",
            'var c = GetObject("WinNT://CORP/APP03,computer");\nvar s = c.GetWMIServices();\n',
            ['var moniker = "winmgmts:{impersonationLevel=impersonate}!//" + dnsHostName + "/root/cimv2";'],
        ),
        (
            "a.ps1",
            '$computer = [ADSI]"LDAP://CN=APP03,DC=corp"\n$computer.GetWMIObject()\n',
            ["$dnsHostName = [string]$computer.Properties['dNSHostName'].Value"],
        ),
    ],
)
def test_adsi_fix_is_the_moniker_rewrite_in_the_scripts_language(path, source, expected_lines):
    (finding,) = scan_script(path, source.encode())
    assert finding["finding_id"] == "adsi_wmi_extension"
    assert finding["severity"] == "medium"
    for line in expected_lines:
        assert line in finding["suggested_fix"].splitlines()


def test_adsi_member_without_visible_adsi_origin_is_low():
    (finding,) = scan_script("x.vbs", b"WScript.Echo objThing.WMIObjectPath\n")
    assert finding["severity"] == "low"
    assert "does not show where the object comes from" in finding["explanation"]


def test_jscript_wsf_double_colon_handlers_and_pwsh_invoke_cimmethod():
    wsf = (
        '<job><object progid="WbemScripting.SWbemSink" id="SINK" events="true"/>\n'
        '<script language="JScript"><![CDATA[\nsvc.ExecQueryAsync(SINK, "SELECT * FROM Win32_Service");\n'
        "function SINK::OnObjectReady(o, c) { o.StopService(); }\n]]></script></job>\n"
    )
    assert ids(scan_script("j.wsf", wsf.encode())) == [
        (1, "async_wmi_sink"),
        (3, "async_wmi_call"),
        (4, "async_handler_privileged"),
    ]
    ps1 = (
        "Register-WmiEvent -Query $q -SourceIdentifier w -Act {\n"
        "    Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{CommandLine='x'}\n}\n"
    )
    assert ids(scan_script("r.ps1", ps1.encode())) == [
        (1, "async_wmi_event_registration"),
        (2, "async_handler_privileged"),
    ]


def test_scan_files_lists_what_it_could_not_read():
    result = scan_files(
        [
            ScriptFile("a.vbs", 3, b"x=1"),
            ScriptFile("b.vbe", 10, b"#@~^AAAA==abc^#~@"),
            ScriptFile("c.vbs", 99, None, truncated=True),
            ScriptFile("d.vbs", None, None, error="NOT_FOUND: 'd.vbs' does not exist"),
            ScriptFile("e.txt", 3, b"abc"),
            ScriptFile("f.js", 4, b"\x00\x01\x02\x00" * 8),
            ScriptFile("C:\\Tasks", None, None, error="NOT_FOUND: 'C:\\Tasks' does not exist"),
        ],
        max_file_bytes=64,
    )
    assert [(record["file"], record["status"]) for record in result.files] == [
        ("a.vbs", "scanned"),
        ("b.vbe", "unreadable"),
        ("c.vbs", "too_large"),
        ("d.vbs", "error"),
        ("e.txt", "skipped"),
        ("f.js", "unreadable"),
        ("C:\\Tasks", "error"),  # a missing directory is an error, not a file of an unknown type
    ]
    assert "Script Encoder" in result.files[1]["message"]
    assert "64 bytes" in result.files[2]["message"]
    assert result.findings == []


_SCRIPT_ALPHABET = st.sampled_from(
    [
        *list("'\"`/*#<>@{}()[]$-_:;,.=\\\n\r\t "),
        "Rem ",
        "Sub ",
        "End Sub",
        "function ",
        "SINK_OnObjectReady",
        "GetObject",
        "LDAP://",
        "[ADSI]",
        "-Action",
        "ExecQueryAsync",
        ".WMIObjectPath",
        '<script language="VBScript">',
        "</script>",
        "<![CDATA[",
        "]]>",
        "x",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    extension=st.sampled_from([".vbs", ".vbe", ".js", ".jse", ".wsf", ".ps1", ".psm1"]),
    text=st.lists(_SCRIPT_ALPHABET, max_size=80).map("".join),
    raw=st.binary(max_size=200),
)
def test_any_input_is_findings_or_unreadable_never_a_crash(extension, text, raw):
    for data in (text.encode(), text.encode("utf-16-le"), raw):
        try:
            findings = scan_script(f"x{extension}", data)
        except UnreadableScript:
            continue
        for finding in findings:
            assert finding["line"] >= 1 and finding["column"] >= 1
