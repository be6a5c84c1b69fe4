# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/namespace_sd.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: namespace_sd
short_description: Apply an explicit security descriptor to a WMI namespace, never a NULL one
version_added: 0.1.0
description:
  - Sets the explicit (non-inherited) DACL ACEs of one WMI namespace with C(__SystemSecurity.SetSD), which uses
    only those; owner and group are never changed. Inherited ACEs come from the parent namespace; SetSD ignores
    them, and so does the comparison.
  - Give the ACEs as O(sddl) or as a list of O(aces) with principals by name or SID and rights by name.
  - Refuses, with its own message and before contacting the host whenever the arguments alone decide it, a NULL
    security descriptor (an empty O(sddl)), a descriptor without a DACL, a NULL DACL (C(D:NO_ACCESS_CONTROL)), an
    empty DACL and a lock-out (both unless O(allow_lockout=true); see the notes), and everything SetSD would reject
    with C(WBEM_E_INVALID_PARAMETER) (FullWrite without PartialWrite and ProviderWrite, InheritOnly without
    ContainerInherit, unknown rights, ACE flags or ACE types, inherited ACEs). These refusals apply on every Windows
    version, including those before Server 2003 whose WMI would accept a NULL descriptor and silently give the
    namespace its parent's.
  - Idempotent by meaning, not by bytes. The ordered explicit ACEs (type, inheritance flags, rights, SID) and the
    DACL's protection are compared; owner, group, layout, revision and inherited ACEs are not. ACEs are written in
    canonical order (explicit deny before explicit allow).
  - One round trip when nothing changes; two when it does (the write carries the descriptor read before and fails,
    writing nothing, if the namespace changed in between; the descriptor is read back in the same call).
options:
  namespace:
    description:
      - The namespace. V(root/cimv2), V(root\\cimv2) and V(ROOT\\CIMV2) are the same namespace.
    type: str
    required: true
  sddl:
    description:
      - The ACEs (and optionally owner C(O:) and group C(G:)) in SDDL, e.g.
        V(O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA\)(A;CI;CCDCWP;;;S-1-5-21-1-2-3-1107\)).
      - With O(mode=exact), C(D:P) makes the DACL protected, so its ACEs stop reaching the child namespaces (the
        namespace itself keeps inheriting from its parent, MS-WMI 2.2.30.2). C(D:P) with another mode is refused
        (V(protected_needs_exact)), as is a SACL part C(S:) (V(sacl_given)); neither would be written.
      - An owner or group given must be the namespace's current one (see O(owner)).
      - Mutually exclusive with O(aces). One of O(sddl) and O(aces) is required; a null value counts as not given.
    type: str
  aces:
    description:
      - The ACEs as a list. Mutually exclusive with O(sddl).
      - An empty list with O(mode=exact) removes every explicit ACE (on V(root) that is an empty DACL, refused unless
        O(allow_lockout=true)). V(null) is not an empty list; it is refused (V(no_aces_given)), so an unset template
        variable never wipes a namespace's ACEs.
    type: list
    elements: dict
    suboptions:
      principal:
        description:
          - The account or group, by SID (V(S-1-5-21-...)), SDDL alias (V(BA), V(AU)), well-known name
            (V(Authenticated Users), V(BUILTIN\\Administrators)), or any name the host can translate
            (V(CORP\\wmi-readers), V(.\\monitoring), a UPN). Names are translated to SIDs and matched by SID only.
        type: str
        required: true
      rights:
        description:
          - Rights by name (V(Enable), V(MethodExecute), V(FullWrite), V(PartialWrite), V(ProviderWrite),
            V(RemoteAccess), V(ReadSecurity), V(WriteSecurity); also V(FullControl)), or a mask as ASCII decimal digits
            (V(131107)) or C(0x) and hex digits (V(0x20023)). Anything else (signs, spaces, underscores, C(0b)/C(0o),
            non-ASCII digits) is refused, and so is an empty list or a zero mask.
          - Required with O(mode=exact) and O(mode=present). With O(mode=absent), the rights to take away; left out,
            every ACE of the principal and type goes.
        type: list
        elements: str
      type:
        description: Whether the ACE allows or denies the rights.
        type: str
        choices: [allow, deny]
        default: allow
      inherit:
        description:
          - Where the ACE applies. V(this) is the namespace only; V(children) its descendants only;
            V(this_and_children) both; V(this_and_immediate_children) the namespace and its direct children.
          - Defaults to V(this_and_children) (how Windows' own namespace ACEs are set), except with O(mode=absent),
            where leaving it out matches any inheritance.
        type: str
        choices: [this, children, this_and_children, this_and_immediate_children]
  rollback_from:
    description:
      - Restore a namespace to a descriptor saved from an earlier run of this module (its RV(previous_sddl)),
        exactly its explicit ACEs and whether its DACL was protected, with O(mode=exact). Its inherited ACEs come
        back from the parent as Windows recomputes them.
      - Refused, writing nothing, when the namespace's owner or group changed since (SetSD cannot set them) or when
        the saved descriptor would lock administrators out (unless O(allow_lockout=true)).
      - Mutually exclusive with O(sddl) and O(aces).
    type: str
  mode:
    description:
      - V(exact) makes the explicit ACEs exactly the ones given.
      - V(present) adds the ACEs given, or widens the rights of an ACE of the same principal, type and inheritance;
        other ACEs stay.
      - V(absent) takes the rights given away from matching ACEs, and removes ACEs left without rights.
    type: str
    choices: [exact, present, absent]
    default: exact
  owner:
    description:
      - The namespace's owner, as a principal (see O(aces[].principal)). SetSD uses only the non-inherited DACL ACEs,
        so the owner cannot be changed through it; this option only asserts the current owner. A different owner is
        refused after the read (V(owner_change)), a non-administrative owner before any write (V(non_admin_owner)),
        and an owner that differs from the O(sddl)'s C(O:) is refused (V(owner_conflict)).
    type: str
  group:
    description: The namespace's primary group, as a principal; like O(owner), it must be the current one.
    type: str
  allow_lockout:
    description:
      - The only way to write an empty DACL or a lock-out (see the notes). It bypasses only those two checks, never
        the SetSD rules. Windows does not document an owner's implicit rights for WMI namespaces, so nobody may be
        able to repair the namespace afterwards.
    type: bool
    default: false
notes:
  - Writing a namespace's security descriptor needs WriteSecurity on it (Administrators, elevated, by default).
    Errors are returned with the WMI HRESULT and its name, for example C(WBEM_E_ACCESS_DENIED) (C(0x80041003)).
  - The lock-out check is an access check (MS-DTYP 2.5.3.2 - ordered DACL walk, deny before allow, group
    membership) on the effective DACL, after the write, of the namespace and of each descendant (inheritance as
    MS-WMI 2.2.30.2 defines it). A change locks out when neither an elevated member of BUILTIN\Administrators
    (network logon, as over WinRM, and interactive logon) nor LocalSystem keeps Enable, ReadSecurity and
    WriteSecurity there. Denies count through group membership (Everyone, Authenticated Users, Users, NETWORK,
    INTERACTIVE, This Organization, Local account, OWNER RIGHTS for the owner). Windows does not document whether the
    owner's implicit ReadSecurity/WriteSecurity applies to namespaces, so the change is refused when either reading
    locks out. A descendant that was already locked out before the change does not count.
  - The refusal comes before any write and in check mode too. On V(root) with O(mode=exact) the arguments alone
    decide and it comes before any contact; otherwise after the read. So O(sddl=O:BAG:BAD:) on V(root\\cimv2) is
    accepted. It removes the explicit ACEs and leaves the inherited ones.
  - A DACL over 64 KiB or 65535 ACEs (the ACL header's 16-bit size and count) is refused, before contacting the host
    when the request alone is that large.
  - Domain-relative SDDL aliases (C(DA), C(DU), ...) need the full SID in O(sddl).
seealso:
  - module: winsec.wmi.namespace_sd_info
  - module: winsec.wmi.wmi_state
  - name: __SystemSecurity.SetSD
    description: The WMI method this module calls, and its rules.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsd-method-in-class---systemsecurity
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
    details: Check mode reads the descriptor and returns exactly what a real run would write; it never writes.
  diff_mode:
    support: full
    details: The diff shows the SDDL and a readable ACE table (principal, type, rights, inheritance and flags, explicit
      or inherited) before and after, the same in check mode and in a real run.
"""

EXAMPLES = r"""
- name: Let a monitoring group read root\cimv2 remotely (and keep everything else)
  winsec.wmi.namespace_sd:
    namespace: root/cimv2
    mode: present
    aces:
      - principal: Performance Monitor Users
        rights: [Enable, MethodExecute, RemoteAccess, ReadSecurity]

- name: Take remote access away from Everyone
  winsec.wmi.namespace_sd:
    namespace: root\cimv2
    mode: absent
    aces:
      - principal: Everyone
        rights: [RemoteAccess]

- name: Make the explicit ACEs of root\subscription exactly these
  winsec.wmi.namespace_sd:
    namespace: root\subscription
    sddl: O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)
  check_mode: true
  diff: true
  register: subscription_sd

- name: Show what would change
  ansible.builtin.debug:
    var: subscription_sd.changes

- name: Change root\cimv2 and keep what it was
  winsec.wmi.namespace_sd:
    namespace: root\cimv2
    mode: present
    aces:
      - principal: Performance Monitor Users
        rights: [Enable, MethodExecute, RemoteAccess]
  register: cimv2_change

- name: Roll the change back exactly
  winsec.wmi.namespace_sd:
    namespace: root\cimv2
    rollback_from: "{{ cimv2_change.previous_sddl }}"
"""

RETURN = r"""
namespace:
  description: The namespace as WMI spells it.
  returned: success
  type: str
  sample: root\cimv2
previous_sddl:
  description: The descriptor before the task, in SDDL (explicit and inherited ACEs).
  returned: success
  type: str
  sample: O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)
sddl:
  description:
    - The descriptor after the task, as read back from the host. In check mode, the descriptor a real run would
      leave (explicit ACEs written, then the ones inherited from the parent).
  returned: success
  type: str
  sample: O:BAG:BAD:(A;CI;CCDCWPRC;;;MU)(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)
changes:
  description: The changes in words (ACEs added and removed, owner, group); empty when nothing changes.
  returned: success
  type: list
  elements: str
  sample:
    - "added: allow BUILTIN\\Performance Monitor Users (S-1-5-32-558) Enable, MethodExecute, RemoteAccess,
      ReadSecurity, inherit this_and_children"
refusal:
  description:
    - Why the descriptor was refused, when it was. One of V(null_sd), V(no_dacl), V(null_dacl), V(empty_dacl),
      V(lockout), V(no_owner_group), V(full_write_incomplete), V(inherit_only_without_container_inherit),
      V(unknown_access_bits), V(unknown_ace_flags), V(unknown_ace_type), V(inherited_ace), V(invalid_principal),
      V(unknown_principal), V(invalid_sddl), V(invalid_rights), V(no_rights), V(no_aces_given), V(sacl_given),
      V(protected_needs_exact), V(owner_conflict), V(owner_change), V(non_admin_owner) or V(dacl_too_large).
      Nothing was written.
  returned: when refused
  type: str
  sample: null_dacl
error:
  description: The named target error (code, HRESULT and its name, message) when the host failed the call.
  returned: failure
  type: dict
  sample: {code: WMI, hresult: 2147749891, hresult_hex: '0x80041003', name: WBEM_E_ACCESS_DENIED}
os:
  description: OS facts read in the same round trip (see M(winsec.wmi.unsecapp_lockdown)).
  returned: success
  type: dict
"""
