# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/script_audit.py, which
# reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host (or, with src, reads a
# script repository on the controller and contacts no host).

DOCUMENTATION = r"""
module: script_audit
short_description: Find scripts that use the removed ADSI extension for WMI or asynchronous WMI callbacks
version_added: 0.1.0
description:
  - Reads VBScript, JScript, Windows Script Files and PowerShell scripts and reports each use of
    the ADSI extension for WMI that Windows Server 2003 removed (C(WMIObjectPath), C(GetWMIObject()),
    C(GetWMIServices()) on ADSI computer objects) and each asynchronous WMI use (C(SWbemSink),
    C(ExecNotificationQueryAsync), C(ExecQueryAsync) and the other C(*Async) and C(*Async_) methods, sink wiring
    with C(WScript.ConnectObject), C(Register-WmiEvent) and C(Register-CimIndicationEvent)), and privileged work
    inside asynchronous callbacks (shutdown, C(Terminate), C(StopService), C(Win32_Process.Create), registry writes).
  - Comments and string literals are not code; the same words there are not findings. Reads ANSI,
    UTF-8 with or without a byte order mark, and UTF-16 LE/BE with or without one. Binary files, files encoded with
    the Script Encoder (C(.vbe), C(.jse)) and files over O(max_file_bytes) are listed as not scanned, with the
    reason; they never fail the task, and they are never evidence of compliance. A file not fully scanned (too
    large, binary, encoded, unreadable, left unread by a budget or the scan time, a directory the host or the
    controller could not list) makes the verdict C(error) (C(compliant=false)) and is a C(script_not_scanned)
    finding of the control, so the compliance report lists it with its reason.
  - ANSI scripts are decoded with the host's ANSI code page (C(ansi_code_page) of the C(script_files) read), or
    Windows-1252 when the host does not say (older targets, O(src)).
  - With O(src), only regular files are read. FIFOs, devices, symbolic links that dangle, loop, or lead out of
    O(src), and directories that cannot be listed are reported as not scanned, never opened or quoted.
  - With O(paths), the files are read on the Windows host in the same round trip as
    C(UnsecAppAccessControlDefault), which decides how severe an asynchronous script is there. The host stops
    reading at O(max_files) files or O(max_total_bytes) bytes. One round trip per host; the module never writes.
  - With O(src), a script repository on the controller is read instead and no host is contacted (no connection is
    opened). Asynchronous findings then have the severity they would have on a host whose lock-down is unknown.
  - Each finding has C(file), C(line), C(column), C(language), C(finding_id), C(severity), C(snippet),
    C(explanation) and C(suggested_fix), the rewrite in the script's own language. O(sarif_path) also writes them
    as a SARIF 2.1.0 log on the controller.
options:
  paths:
    description:
      - Files or directories (searched recursively) on the host. Mutually exclusive with O(src).
    type: list
    elements: str
  src:
    description:
      - A file or directory on the controller to scan instead of host paths. Findings name files relative to it.
      - Mutually exclusive with O(paths).
    type: path
  patterns:
    description: File name wildcards read inside directories (case-insensitive).
    type: list
    elements: str
    default: ['*.vbs', '*.vbe', '*.wsf', '*.js', '*.jse', '*.ps1', '*.psm1']
  rules:
    description:
      - Which findings to report. V(adsi) is the removed ADSI extension; V(async) is asynchronous WMI and
        privileged callbacks.
    type: list
    elements: str
    choices: [adsi, async]
    default: [adsi, async]
  max_file_bytes:
    description: The largest file read; larger files are listed as not scanned.
    type: int
    default: 1048576
  max_total_bytes:
    description:
      - The most bytes read per host (or from O(src)) in total. Reading stops at the first file that would pass it;
        the result says so, and the verdict is C(error) when no finding was made (the rest was not seen).
    type: int
    default: 16777216
  max_files:
    description: The most files listed per host (or in O(src)); listing stops there and the result says so.
    type: int
    default: 1000
  max_scan_seconds:
    description:
      - The most time the controller spends scanning the files of one host (or of O(src)). Files left when it runs
        out are listed as not scanned (C(TIME_BUDGET)) and the verdict is C(error), never C(compliant).
      - It is checked before each file. Every rule takes time linear in a file's size, so one file takes at most
        a few seconds per MiB of O(max_file_bytes) on a typical controller.
    type: float
    default: 300
  sarif_path:
    description:
      - Write the findings as a SARIF 2.1.0 log to this file on the controller. With several hosts, give each its own
        file, for example V(reports/{{ inventory_hostname }}.sarif).
    type: path
notes:
  - C(.vbe) and C(.jse) files made with the Script Encoder cannot be read; decode them or audit their source.
  - Code that a script builds at run time (C(Execute), C(Eval), C(Invoke-Expression) of a string) is not seen.
  - The module never changes a script. Enable the unsecapp check with M(winsec.wmi.unsecapp_lockdown); rewrite
    ADSI-extension scripts with the moniker that the P(winsec.wmi.wmi_moniker#filter) filter builds.
seealso:
  - module: winsec.wmi.unsecapp_lockdown
  - plugin: winsec.wmi.wmi_moniker
    plugin_type: filter
  - name: Constructing a Moniker String
    description: The moniker that replaces the ADSI extension for WMI.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/constructing-a-moniker-string
  - name: Setting Security on an Asynchronous Call
    description: Why asynchronous callbacks are a risk, and UnsecAppAccessControlDefault.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call
author:
  - winsec.wmi developers (@winsec)
extends_documentation_fragment:
  - winsec.wmi.wmi_action
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode changes nothing.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Audit the scripts of the management servers (one round trip per host)
  winsec.wmi.script_audit:
    paths:
      - C:\Scripts
      - C:\ProgramData\Contoso\Tasks
    sarif_path: "{{ playbook_dir }}/reports/{{ inventory_hostname }}.sarif"
  register: scripts

- name: Show each finding with its fix
  ansible.builtin.debug:
    msg: "{{ item.file }}:{{ item.line }} {{ item.finding_id }} ({{ item.severity }}): {{ item.suggested_fix }}"
  loop: "{{ scripts.findings }}"

- name: Scan the script repository on the controller (no host contacted)
  winsec.wmi.script_audit:
    src: "{{ playbook_dir }}/files/scripts"
    rules: [adsi]
    sarif_path: "{{ playbook_dir }}/reports/scripts.sarif"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
findings:
  description: One entry per finding, in file and line order.
  returned: success
  type: list
  elements: dict
  contains:
    file:
      description: The path on the host, or relative to O(src).
      type: str
    line:
      description: The line (1-based).
      type: int
    column:
      description: The column (1-based, in characters).
      type: int
    language:
      description: V(vbscript), V(jscript), V(wsf) or V(powershell).
      type: str
    finding_id:
      description:
        - V(adsi_wmi_extension), V(async_wmi_sink), V(async_wmi_call), V(async_wmi_sink_wiring),
          V(async_wmi_event_registration) or V(async_handler_privileged).
      type: str
    severity:
      description:
        - V(critical), V(high), V(medium), V(low) or V(info). Asynchronous findings are high (a privileged callback
          critical) on a host whose unsecapp lock-down is off, a low compatibility warning where it is on (callbacks
          from pre-Windows 2000 machines fail there), and medium (high) when unknown (O(src)).
      type: str
    snippet:
      description: The line of the script, trimmed (at most 200 characters).
      type: str
    explanation:
      description: What the finding means on this host.
      type: str
    suggested_fix:
      description: The rewrite, in the script's own language.
      type: str
  sample:
    - file: C:\Scripts\inventory.vbs
      line: 3
      column: 26
      language: vbscript
      finding_id: adsi_wmi_extension
      severity: medium
      snippet: WScript.Echo objComputer.WMIObjectPath
      explanation: >-
        WMIObjectPath belongs to the ADSI extension for WMI (IWMIExtension), which Windows Server 2003 and later no
        longer provide.
      suggested_fix: strDnsHostName = objComputer.Get("dNSHostName") ...
files:
  description:
    - Every file listed, with C(file), C(size), C(language), C(status) (V(scanned), V(unreadable), V(too_large),
      V(error), V(skipped)) and C(message) (the number of findings, or why it was not scanned). Every status but
      V(scanned) and V(skipped) (not a script type, or with O(src) a symbolic link back to a directory already walked)
      makes the verdict C(error), except a path that does not exist (C(NOT_FOUND)).
  returned: success
  type: list
  elements: dict
summary:
  description: Counts of C(files), C(findings) and files per status.
  returned: success
  type: dict
limits:
  description:
    - Why reading or scanning stopped early, as sentences (O(max_files), O(max_total_bytes) or
      O(max_scan_seconds) reached); empty when everything was read.
  returned: success
  type: list
  elements: str
compliant:
  description:
    - No finding, every file fully scanned, no budget reached. Asynchronous findings on a host that accepts only
      authenticated callbacks are compatibility warnings (severity low, and a warning) and do not count.
  returned: success
  type: bool
unsecapp_lockdown:
  description: Whether the host accepts only authenticated callbacks; null with O(src).
  returned: success
  type: bool
sarif_path:
  description: The SARIF file written, when O(sarif_path) was given.
  returned: when O(sarif_path) was given
  type: str
msg:
  description: A one-line summary.
  returned: always
  type: str
"""
