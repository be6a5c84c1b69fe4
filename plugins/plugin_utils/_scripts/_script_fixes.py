# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a legacy-script finding means, how severe it is on a given host, and the rewrite in the script's language.

Facts behind the texts (Microsoft Learn):
- IWMIExtension (``WMIObjectPath``, ``GetWMIObject``, ``GetWMIServices``) was the ADSI extension for WMI; its
  reference pages list it as unavailable after Windows XP / Windows Server 2003, so a script that calls it fails
  there. The replacement builds the moniker from the computer's ``dNSHostName`` and name ("Constructing a Moniker
  String", "Describing the Location of a WMI Object").
- "Making an Asynchronous Call with VBScript" and the SWbemSink page: an asynchronous callback lets a
  non-authenticated caller hand data to the sink; use semisynchronous calls instead, or set
  ``UnsecAppAccessControlDefault`` = 1 ("Setting Security on an Asynchronous Call").
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t

from .._wmi_moniker import IMPERSONATE_PREFIX

_LOCKDOWN_ON_NOTE = (
    "This host accepts only authenticated callbacks (UnsecAppAccessControlDefault = 1), so this is a compatibility "
    "warning: callbacks from pre-Windows 2000 machines (NT 4.0 and earlier, whose LocalSystem has no network "
    "identity) now fail. Make the script semisynchronous if it watches such machines."
)
_LOCKDOWN_OFF_NOTE = (
    "This host's unsecapp.exe accepts callbacks from anyone (UnsecAppAccessControlDefault is not 1): any caller who "
    "reaches the sink can feed it forged objects."
)
_LOCKDOWN_UNKNOWN_NOTE = (
    "How dangerous this is depends on the host that runs the script: on a host without UnsecAppAccessControlDefault "
    "= 1, unsecapp.exe accepts the callbacks from anyone."
)

# Severity of each finding by the host's lockdown: (off, on, unknown). The ADSI finding does not depend on it.
_SEVERITIES = {
    "async_wmi_sink": ("high", "low", "medium"),
    "async_wmi_call": ("high", "low", "medium"),
    "async_wmi_sink_wiring": ("high", "low", "medium"),
    "async_wmi_event_registration": ("high", "low", "medium"),
    "async_handler_privileged": ("critical", "low", "high"),
}

# Synchronous/semisynchronous replacements of SWbemServices' asynchronous methods.
_SEMISYNC = {
    "execnotificationqueryasync": "ExecNotificationQuery",
    "execqueryasync": "ExecQuery",
    "instancesofasync": "InstancesOf",
    "getasync": "Get",
    "execmethodasync": "ExecMethod",
    "deleteasync": "Delete",
    "associatorsofasync": "AssociatorsOf",
    "referencestoasync": "ReferencesTo",
    "subclassesofasync": "SubclassesOf",
    # System.Management: Start() delivers EventArrived asynchronously; WaitForNextEvent() is the semisynchronous form.
    "managementeventwatcher.start": "ManagementEventWatcher.WaitForNextEvent() in a loop",
    # System.Management: the overloads without a ManagementOperationObserver are synchronous.
    "get(observer)": "Get() without the observer",
    "put(observer)": "Put() without the observer",
    "delete(observer)": "Delete() without the observer",
    "invokemethod(observer)": "InvokeMethod() without the observer",
}


def severity_of(finding_id: str, context: t.Mapping[str, t.Any]) -> str:
    if finding_id == "adsi_wmi_extension":
        return "medium" if context.get("confirmed") or context.get("adsi_in_file") else "low"
    off, on, unknown = _SEVERITIES[finding_id]
    lockdown = context.get("lockdown")
    return unknown if lockdown is None else on if lockdown else off


def _lockdown_note(context: t.Mapping[str, t.Any]) -> str:
    lockdown = context.get("lockdown")
    return _LOCKDOWN_UNKNOWN_NOTE if lockdown is None else _LOCKDOWN_ON_NOTE if lockdown else _LOCKDOWN_OFF_NOTE


def explanation(finding_id: str, context: t.Mapping[str, t.Any]) -> str:
    if finding_id == "adsi_wmi_extension":
        origin = (
            f"'{context['receiver']}' is an ADSI object in this script"
            if context.get("confirmed")
            else "the object comes from ADSI elsewhere in this script"
            if context.get("adsi_in_file")
            else "this script does not show where the object comes from; check that it is an ADSI computer object"
        )
        return (
            f"{context['member']} belongs to the ADSI extension for WMI (IWMIExtension), which Windows Server 2003 and "
            f"later no longer provide: the call fails there. ({origin}.)"
        )
    base = {
        "async_wmi_sink": "Creates an SWbemSink: WMI delivers results as asynchronous callbacks through unsecapp.exe.",
        "async_wmi_call": f"{context.get('method')} is an asynchronous WMI call: results come back as callbacks "
        "through unsecapp.exe.",
        "async_wmi_sink_wiring": f"Connects sink event handlers (prefix '{context.get('prefix')}') to an asynchronous "
        "WMI sink.",
        "async_wmi_event_registration": f"{context.get('cmdlet')} receives WMI events asynchronously"
        + (" and runs its -Action block for each one." if context.get("action") else "."),
        "async_handler_privileged": f"The asynchronous callback {context.get('handler')} does privileged work "
        f"({context.get('action')}): whoever can deliver a callback decides when it runs, and with what data.",
    }[finding_id]
    return f"{base} {_lockdown_note(context)}"


def suggested_fix(finding_id: str, context: t.Mapping[str, t.Any]) -> str:
    language = context.get("language", "vbscript")
    if finding_id == "adsi_wmi_extension":
        return _adsi_fix(language, context.get("receiver") or "objComputer", str(context.get("member", "")).lower())
    if finding_id == "async_wmi_call":
        method = str(context.get("method", ""))
        sync = _SEMISYNC.get(
            method.lower(), method[: -len("Async_")] + "_" if method.lower().endswith("async_") else method
        )
        if method.lower() == "execnotificationqueryasync":
            return _semisync_events(language)
        return (
            f"Call {sync} instead of {method} (semisynchronous: pass wbemFlagReturnImmediately + "
            "wbemFlagForwardOnly = 48 where the method takes flags) and process the returned objects in a loop; "
            "remove the sink. Until then, set UnsecAppAccessControlDefault = 1 (winsec.wmi.unsecapp_lockdown)."
        )
    if finding_id == "async_handler_privileged":
        return (
            "Do not act inside the callback. Make the query semisynchronous and act in the script's own loop after "
            "checking what arrived, or run the callback code with an account that may not do this; and set "
            "UnsecAppAccessControlDefault = 1 (winsec.wmi.unsecapp_lockdown)."
        )
    if finding_id == "async_wmi_event_registration":
        return (
            "Use a semisynchronous loop instead of the event registration, e.g. "
            "$watcher = [System.Management.ManagementEventWatcher]::new($query); "
            "while ($true) { $event = $watcher.WaitForNextEvent(); ... } - and set UnsecAppAccessControlDefault = 1 "
            "(winsec.wmi.unsecapp_lockdown)."
        )
    return (
        "Remove the SWbemSink and call the synchronous method (ExecQuery, InstancesOf, ExecNotificationQuery + "
        "NextEvent) semisynchronously; until then set UnsecAppAccessControlDefault = 1 "
        "(winsec.wmi.unsecapp_lockdown)."
    )


def _semisync_events(language: str) -> str:
    if language == "jscript":
        return (
            "var events = svc.ExecNotificationQuery(query);\nwhile (true) {\n    var event = events.NextEvent();\n"
            "    // handle event.TargetInstance here\n}"
        )
    if language == "powershell":
        return (
            "$watcher = [System.Management.ManagementEventWatcher]::new($query)\n"
            "while ($true) { $event = $watcher.WaitForNextEvent(); <# handle $event.TargetInstance #> }"
        )
    return (
        "Set colEvents = objWMIService.ExecNotificationQuery(strQuery)\nDo\n    Set objEvent = colEvents.NextEvent()\n"
        "    ' handle objEvent.TargetInstance here\nLoop"
    )


def _adsi_fix(language: str, receiver: str, member: str) -> str:
    """The moniker rewrite: dNSHostName and cn from the ADSI object, then GetObject(moniker) (or [wmi] path)."""
    namespace_only = member == "getwmiservices"
    if language == "powershell":
        variable = receiver.lstrip("$") or "computer"
        path = "\\\\$dnsHostName\\root\\cimv2" + ("" if namespace_only else ':Win32_ComputerSystem.Name="$name"')
        return (
            f"$dnsHostName = [string]${variable}.Properties['dNSHostName'].Value\n"
            f"$name = [string]${variable}.Properties['cn'].Value\n"
            + (
                f'$wmi = [wmiclass]"{path}:__SystemClass"  # or: New-CimSession -ComputerName $dnsHostName'
                if namespace_only
                else f'$wmi = [wmi]"{path}"  # or: Get-CimInstance Win32_ComputerSystem -ComputerName $dnsHostName'
            )
        )
    if language == "jscript":
        key = "" if namespace_only else ':Win32_ComputerSystem.Name=\\"" + name + "\\"'
        return (
            f'var dnsHostName = {receiver}.Get("dNSHostName");\nvar name = {receiver}.Get("cn");\n'
            f'var moniker = "{IMPERSONATE_PREFIX}//" + dnsHostName + "/root/cimv2{key}";\n'
            "var wmi = GetObject(moniker);"
        )
    key = "" if namespace_only else ':Win32_ComputerSystem.Name=""" & strName & """'
    return (
        f'strDnsHostName = {receiver}.Get("dNSHostName")\nstrName = {receiver}.Get("cn")\n'
        f'strMoniker = "{IMPERSONATE_PREFIX}//" & strDnsHostName & "/root/cimv2{key}"\n'
        + ("Set objWMIService = GetObject(strMoniker)" if namespace_only else "Set objWmi = GetObject(strMoniker)")
        + ("" if member != "wmiobjectpath" else "\n' strMoniker is what WMIObjectPath returned")
    )
