# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/unsecapp_lockdown.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: unsecapp_lockdown
short_description: Make unsecapp.exe accept only authenticated WMI callbacks (UnsecAppAccessControlDefault)
version_added: 0.1.0
description:
  - Sets or verifies C(HKLM\SOFTWARE\Microsoft\WBEM\CIMOM\UnsecAppAccessControlDefault). With V(1), unsecapp.exe
    accepts a callback of an asynchronous WMI call (SWbemSink, C(ExecNotificationQueryAsync), C(*Async_) methods)
    only from the account the client authenticated as; with V(0), the default, it accepts callbacks from anyone.
  - Reads both C(REG_DWORD) and C(REG_SZ) (Microsoft's own sample writes C(REG_SZ)); an absent value counts as V(0).
    The type found is returned in RV(observed_type) and kept unless O(value_type) asks for another one.
  - Hosts older than Windows Server 2003 (NT 4.0, 2000, XP) have no such check. There the module changes nothing,
    returns RV(applicable=false) and RV(compliant=false), and says what mitigates instead.
  - One round trip to the host when nothing changes (facts and the value are read together, no fact gathering
    needed); two when the value is written. The write carries the value read before and fails, writing nothing, if
    the host changed in between.
options:
  state:
    description:
      - V(enabled) sets the value to V(1) (authenticated callbacks only).
      - V(disabled) sets it to V(0), the Windows default. An absent value already counts as V(0) and is not created.
    type: str
    choices: [enabled, disabled]
    default: enabled
  value_type:
    description:
      - The registry type written when the value has to be written.
      - V(auto) keeps the type found (C(REG_SZ) stays C(REG_SZ)) and writes C(REG_DWORD) when the value is absent. A
        value of the right number but another type is never rewritten for its type alone.
      - V(dword) or V(string) write C(REG_DWORD) or C(REG_SZ), and also convert a value of the other type.
    type: str
    choices: [auto, dword, string]
    default: auto
notes:
  - The value is read and written in the 64-bit registry view.
  - V(1) is a default, not an absolute guarantee. A C++ client can still ask unsecapp for no access check
    (C(WBEM_FLAG_UNSECAPP_DONT_CHECK_ACCESS)); scripts cannot.
  - Enabling the check on a server that manages pre-Windows 2000 machines with asynchronous scripts breaks their
    callbacks (LocalSystem there has no network identity); the module warns when it enables the check.
  - Prefer synchronous or semisynchronous WMI scripts everywhere (SWbemServices methods without the C(Async) suffix,
    no C(SWbemSink)); review scripts that use asynchronous calls.
seealso:
  - module: winsec.wmi.namespace_sd_info
  - module: winsec.wmi.wmi_state
  - name: Setting Security on an Asynchronous Call
    description: Microsoft's description of UnsecAppAccessControlDefault.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call
author:
  - winsec.wmi developers (@winsec)
extends_documentation_fragment:
  # Ours first: for an attribute that several fragments set, the first one listed wins.
  - winsec.wmi.wmi_action
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Check mode reads the value and reports what would change; it never writes.
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Accept only authenticated WMI callbacks
  winsec.wmi.unsecapp_lockdown:
    state: enabled

- name: Audit the value without changing it (check mode)
  winsec.wmi.unsecapp_lockdown:
    state: enabled
  check_mode: true
  register: unsecapp

- name: Show hosts that are not compliant
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: value {{ unsecapp.before.value }}, type {{ unsecapp.observed_type }}"
  when: unsecapp.applicable and not unsecapp.compliant

- name: Write the value as REG_SZ, as Microsoft's sample does
  winsec.wmi.unsecapp_lockdown:
    state: enabled
    value_type: string
"""

RETURN = r"""
applicable:
  description:
    - Whether the control exists on this host. V(false) on NT 4.0, 2000 and XP, which have no unsecapp access check.
  returned: success
  type: bool
  sample: true
compliant:
  description:
    - Whether the host has the requested value after this task. In check mode, whether it has it now.
    - Always V(false) when RV(applicable=false).
  returned: success
  type: bool
  sample: true
before:
  description: The value before the task.
  returned: success
  type: dict
  contains:
    exists:
      description: Whether the value existed.
      type: bool
      returned: success
    type:
      description: The registry type, V(REG_DWORD) or V(REG_SZ) usually; null when absent.
      type: str
      returned: success
    data:
      description: The raw data (int for C(REG_DWORD), string for C(REG_SZ)); null when absent.
      type: raw
      returned: success
    value:
      description: The data as a number (absent is V(0)); null when the data is not a number.
      type: int
      returned: success
  sample: {exists: true, type: REG_SZ, data: "0", value: 0}
after:
  description: The value after the task; in check mode, the value a real run would leave.
  returned: success
  type: dict
  sample: {exists: true, type: REG_SZ, data: "1", value: 1}
observed_type:
  description: The registry type found before the task, null when the value was absent.
  returned: success
  type: str
  sample: REG_SZ
written_type:
  description: The registry type written (or that would be written in check mode); null when nothing is written.
  returned: success
  type: str
  sample: REG_DWORD
os:
  description: OS facts read in the same round trip (no fact gathering needed).
  returned: success
  type: dict
  sample:
    os_caption: Microsoft Windows Server 2022 Datacenter
    os_version: 10.0.20348
    os_build: 20348
    product_type: 3
    computer_name: WEB01
    dns_host_name: web01.corp.example.com
    domain: corp.example.com
    part_of_domain: true
    ps_version: '5.1'
    family: Windows Server 2003 or later
    pre_2003: false
msg:
  description: What the module found or did, or what mitigates instead on hosts where the control does not apply.
  returned: always
  type: str
  sample: UnsecAppAccessControlDefault set to 1 (REG_DWORD)
error:
  description: The named target error (code, HRESULT and its name, message) when the task failed on the host.
  returned: failure
  type: dict
  sample: {code: WMI, hresult: 2147749891, hresult_hex: '0x80041003', name: WBEM_E_ACCESS_DENIED}
"""
