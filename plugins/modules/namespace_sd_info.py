# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/namespace_sd_info.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: namespace_sd_info
short_description: Read the security descriptors of WMI namespaces, in words, with findings
version_added: 0.1.0
description:
  - Reads the security descriptor of each namespace in O(namespaces), and with O(recurse=true) of every namespace
    below them, in one round trip per host whatever their number (no fact gathering needed).
  - Returns per namespace the SDDL, the owner and group, every DACL ACE in words (allow or deny, principal name and
    SID, rights by name, inheritance, whether it is inherited) and findings.
  - Findings are V(broad_write) (a broad principal - Everyone, Authenticated Users, Users, Guests, ANONYMOUS LOGON,
    NETWORK, INTERACTIVE, This Organization, Domain Users, Domain Computers, ... - with FullWrite or PartialWrite),
    V(broad_remote_access) (a broad principal with RemoteAccess), V(non_admin_write_security) (WriteSecurity granted
    to anyone but Administrators, SYSTEM, TrustedInstaller or the domain's administrator groups),
    V(non_admin_other_rights) (a non-administrator holding bits outside the namespace rights - generic rights,
    WRITE_OWNER, DELETE - whose effect WMI does not document, judged as write access), V(non_admin_owner),
    V(admin_control_lost) (Administrators, over WinRM or at the console, or SYSTEM lack Enable, ReadSecurity or
    WriteSecurity, by the same access check as M(winsec.wmi.namespace_sd)'s lock-out guard),
    V(orphaned_sid) (a SID that no longer resolves), V(non_canonical_order), V(null_dacl), V(no_dacl),
    V(empty_dacl) and V(unexpected_ace_type) (an ACE of a type C(__SystemSecurity.SetSD) cannot write - object or
    callback ACEs - written by another tool; an allow-like one is judged as an allow by the other findings).
  - Each namespace is judged on its effective DACL (its explicit ACEs and what it inherits, inherit-only grants of
    its parents included). A grant is reported once, on the namespace where its ACE is explicit, with the namespaces
    it reaches.
  - Orphaned SIDs never break the read; they are shown as SID strings and reported.
options:
  namespaces:
    description:
      - The namespaces to read. V(root/cimv2), V(root\\cimv2) and V(ROOT\\CIMV2) name the same namespace.
    type: list
    elements: str
    default: [root]
  recurse:
    description:
      - Also read every namespace below each one in O(namespaces), depth first, parents before children.
    type: bool
    default: false
  output:
    description:
      - V(acls) returns, per namespace, the SDDL, owner, group and every ACE in words (each with C(inherited)), and
        the findings.
      - V(findings) returns, per namespace, only the findings (and the error of a namespace that could not be read);
        a fraction of the size, for large fleets and job event logs.
    type: str
    choices: [acls, findings]
    default: acls
  resolve_names:
    description:
      - Translate every SID to an account name on the host. Needed to find orphaned SIDs; without it only well-known
        principals are shown by name.
    type: bool
    default: true
notes:
  - Reading a namespace's security descriptor needs ReadSecurity on it (Administrators have it by default). A
    namespace that cannot be read fails the task with the WMI error named (for example C(WBEM_E_ACCESS_DENIED));
    the other namespaces are still returned.
  - ProviderWrite granted to Authenticated Users is not a finding; the Windows default grants it.
seealso:
  - module: winsec.wmi.namespace_sd
  - module: winsec.wmi.wmi_state
  - name: Access to WMI Namespaces
    description: Microsoft's description of namespace rights.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/access-to-wmi-namespaces
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
    details: The module only reads; it runs the same in check mode.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Read every namespace security descriptor with findings
  winsec.wmi.namespace_sd_info:
    namespaces:
      - root
    recurse: true
  register: wmi_sd

- name: Fail when a namespace is open to everyone
  ansible.builtin.assert:
    that:
      - wmi_sd.findings | selectattr('severity', 'equalto', 'high') | list | length == 0
    fail_msg: "{{ wmi_sd.findings | selectattr('severity', 'equalto', 'high') | map(attribute='message') | list }}"

- name: Read two namespaces, any spelling
  winsec.wmi.namespace_sd_info:
    namespaces:
      - root/cimv2
      - ROOT\subscription
"""

RETURN = r"""
namespaces:
  description: One entry per namespace read, in the order read (each namespace once).
  returned: always
  type: list
  elements: dict
  contains:
    namespace:
      description: The namespace as WMI spells it.
      type: str
      returned: always
      sample: root\cimv2
    sddl:
      description: The security descriptor in SDDL.
      type: str
      returned: when the namespace could be read and O(output=acls)
      sample: O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)
    owner:
      description: The owner, C({sid, name}).
      type: dict
      returned: when the namespace could be read
      sample: {sid: S-1-5-32-544, name: BUILTIN\Administrators}
    group:
      description: The primary group, C({sid, name}).
      type: dict
      returned: when the namespace could be read
    dacl:
      description: V(present), V(null) (no access control) or V(absent).
      type: str
      returned: when the namespace could be read
    aces:
      description:
        - Every DACL ACE, explicit and inherited, in order, with C(type) (allow or deny), C(principal) (account name,
          or the SID string when it does not resolve), C(sid), C(rights) (names), C(mask), C(inherit) (V(this),
          V(children), V(this_and_children) or V(this_and_immediate_children)), C(inherited) and C(flags).
      type: list
      elements: dict
      returned: when the namespace could be read
      sample:
        - type: allow
          principal: BUILTIN\Administrators
          sid: S-1-5-32-544
          rights: [Enable, MethodExecute, FullWrite, PartialWrite, ProviderWrite, RemoteAccess, ReadSecurity,
                   WriteSecurity]
          mask: 393279
          inherit: this_and_children
          inherited: true
          flags: [container_inherit, inherited]
    findings:
      description: The findings of this namespace, same shape as RV(findings).
      type: list
      elements: dict
      returned: always
    error:
      description: The named error (C(code), C(hresult), C(hresult_hex), C(name), C(message)) when it could not be read.
      type: dict
      returned: when the namespace could not be read
findings:
  description:
    - Every finding of every namespace, with C(namespace), C(id), C(severity) (V(high), V(medium) or V(low)),
      C(message) and, for ACE findings, C(principal), C(sid), C(rights) and C(inherited).
  returned: always
  type: list
  elements: dict
  sample:
    - namespace: root\cimv2
      id: broad_remote_access
      severity: medium
      message: "Everyone has RemoteAccess (explicit ACE): any account can use this namespace over the network."
      principal: Everyone
      sid: S-1-1-0
      rights: [Enable, RemoteAccess]
      inherited: false
error:
  description:
    - The named target error (code, HRESULT and its name, message) of the first namespace that could not be read; each
      namespace's own error is in RV(namespaces[].error).
  returned: when a namespace could not be read
  type: dict
  sample: {code: WMI, hresult: 2147749891, hresult_hex: '0x80041003', name: WBEM_E_ACCESS_DENIED}
finding_count:
  description: The number of findings.
  returned: always
  type: int
  sample: 1
os:
  description: OS facts read in the same round trip (see M(winsec.wmi.unsecapp_lockdown)).
  returned: success
  type: dict
"""
