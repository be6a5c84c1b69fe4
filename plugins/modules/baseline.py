# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/baseline.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: baseline
short_description: Audit or enforce the WMI hardening baseline on a host in one round trip
version_added: 0.1.0
description:
  - Evaluates every control of the WMI hardening baseline on a Windows host and returns one record per control and
    a verdict for the host. The reads of all controls (registry, every namespace's security descriptor, account
    names) travel in B(one) round trip to the host, whatever the number of controls and namespaces.
  - With O(mode=enforce), drift the baseline may fix is fixed in at most one more round trip; an idempotent re-run
    costs one. With O(mode=audit) nothing is ever written, whether or not the play runs in check mode.
  - "The controls: V(WMI-001) unsecapp.exe accepts only authenticated callbacks (C(UnsecAppAccessControlDefault=1));
    V(WMI-002) chosen namespaces carry the explicit descriptor of O(namespace_sds); V(WMI-003) no NULL, missing or
    empty DACL and canonical ACE order on any namespace; V(WMI-004) no write, RemoteAccess or WriteSecurity for
    broad principals (Everyone, Authenticated Users, Users, ...) or non-administrators; V(WMI-005) no orphaned SID;
    V(WMI-006) every namespace owned by an administrator; V(WMI-020) no permanent event consumer that is neither
    built-in nor allow-listed (MITRE ATT&CK T1546.003); V(WMI-021) DCOM activation hardening not disabled by a
    legacy exception (KB5004442); with O(scripts.paths), V(WMI-010) no script uses the removed ADSI-WMI extension and
    V(WMI-011) no asynchronous WMI script whose callbacks are unauthenticated; with O(namespace_audit.enabled),
    V(WMI-022) namespace SACLs audit changes to namespace security."
  - Drift the baseline does not fix by itself (a product account holding WriteSecurity, orphaned SIDs, a non-admin
    owner, a NULL DACL) is reported with C(remediation.automatic=false) and what to do, and named in a warning.
  - Hosts the inventory says Ansible cannot manage (O(inventory_os)) are reported V(not_applicable) with the
    mitigation, without connecting to them.
options:
  mode:
    description:
      - V(audit) reads and reports; it never writes, even without check mode.
      - V(enforce) also fixes the drift the baseline may fix. In check mode it reports what it would change.
    type: str
    choices: [audit, enforce]
    default: audit
  controls:
    description:
      - The control IDs to run (for example V(WMI-001)). Default, every control.
    type: list
    elements: str
  skip_controls:
    description: Control IDs not to run.
    type: list
    elements: str
    default: []
  namespaces:
    description:
      - The namespace trees the namespace controls judge; each is read with all its descendants.
    type: list
    elements: str
    default: [root]
  namespace_sds:
    description:
      - The explicit descriptors of control V(WMI-002), each with the options of M(winsec.wmi.namespace_sd)
        (C(namespace), C(sddl) or C(aces), C(mode), C(allow_lockout)). The default makes sure BUILTIN\Administrators
        keeps full control of V(root) and everything below it, which Windows' own default already grants.
      - Each item is validated against M(winsec.wmi.namespace_sd)'s options and rules before any host is contacted,
        exactly as that module validates them (C(allow_lockout="false") is V(false), an unknown C(mode) or ACE
        C(type) is refused, an ACE needs a C(principal)); an error names the item, for example
        C(namespace_sds[1].aces[0].principal).
    type: list
    elements: dict
    default:
      - namespace: root
        mode: present
        aces:
          - principal: BUILTIN\Administrators
            rights: [FullControl]
  unsecapp_value_type:
    description: The registry type written for C(UnsecAppAccessControlDefault) (see M(winsec.wmi.unsecapp_lockdown)).
    type: str
    choices: [auto, dword, string]
    default: auto
  scripts:
    description:
      - Script files to audit for controls V(WMI-010) and V(WMI-011) (see M(winsec.wmi.script_audit)). Without
        O(scripts.paths) these two controls do not run. The files travel in the same single round trip, bounded
        per file, per host and in number.
    type: dict
    default: {}
    suboptions:
      paths:
        description: Files or directories (searched recursively) on the host.
        type: list
        elements: str
      patterns:
        description: File name wildcards read inside directories (default the script extensions).
        type: list
        elements: str
      max_file_bytes:
        description: The largest file read.
        type: int
        default: 1048576
      max_total_bytes:
        description: The most bytes read per host.
        type: int
        default: 16777216
      max_files:
        description: The most files read per host.
        type: int
        default: 1000
  event_subscriptions:
    description:
      - Options of control V(WMI-020) (see M(winsec.wmi.event_subscription_info)), C(namespaces), C(recurse),
        C(allowed) (subscriptions you expect) and C(builtin) (replaces the built-in list).
      - By default the control reads every namespace (C(namespaces=[root]), C(recurse=true)), because a permanent
        subscription can be registered in any namespace; a namespace that cannot be read makes the control V(error),
        never V(compliant).
      - Validated against M(winsec.wmi.event_subscription_info)'s options before any host is contacted (each
        C(allowed) entry is a dictionary with C(consumer) and C(consumer_class)).
      - An C(allowed) entry matches a consumer by namespace, class and name; it does not vouch for what the consumer
        runs. A consumer whose command line, executable path or script shows a suspicious trait the entry does not
        pin stays V(suspicious) (reason C(allow_list_unpinned)). Pin the command line with C(command_line).
    type: dict
    default: {}
  namespace_audit:
    description:
      - Control V(WMI-022), changes to namespace security are audited (a SACL that audits WriteSecurity, Security
        event 4662). Off unless C(enabled=true), because reading a SACL needs SeSecurityPrivilege; C(namespaces)
        (default V(root)) are read with every namespace below them, and each is judged on the SACL Windows returns
        for it. Only an entry for Everyone or Authenticated Users counts; one for Administrators alone misses a change
        by an account that was granted WriteSecurity.
      - C(set_sacl=true) lets O(mode=enforce) add C(S:(AU;CISA;WD;;;WD)) (audit successful WriteSecurity by
        Everyone, inherited by the namespaces below), keeping the other entries - on the configured namespace, or,
        when its own entry is already meant for every namespace below, on the top-most namespace it does not reach.
        The write carries only the SACL, so it cannot change the DACL, owner or group. By default the control
        reports only.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Run control V(WMI-022).
        type: bool
        default: false
      namespaces:
        description: The namespaces whose SACLs are read, each with every namespace below it (default V(root)).
        type: list
        elements: str
      set_sacl:
        description: Let O(mode=enforce) add the audit entry where it is missing.
        type: bool
        default: false
  dcom:
    description:
      - Options of control V(WMI-021). C(remove_legacy_exception=true) lets O(mode=enforce) remove a
        C(RequireIntegrityActivationAuthenticationLevel=0) exception; by default it is reported only.
    type: dict
    default: {}
    suboptions:
      remove_legacy_exception:
        description: Let O(mode=enforce) remove the legacy exception.
        type: bool
        default: false
  exceptions:
    description:
      - Accepted findings. A finding that matches an active exception is reported with its reason and is never
        "fixed"; a control whose findings are all excepted has the status V(excepted). An expired exception does
        not apply, and the finding says so.
      - Every item is validated before any host is contacted; C(control) and C(reason) must be non-empty strings
        (V(null) is refused, not read as the text C(None)), C(control) must be a control this version knows, and an
        error names the item (C(exceptions[2].reason)).
      - An exception that matches no finding of its control on a host is listed in that host's RV(unmatched_exceptions)
        and named, quoted as written, in a warning that is the same on every such host, so Ansible prints it once per
        run (a typo such as a leading space would otherwise accept nothing, silently).
      - An excepted finding is never fixed. A control that fixes per namespace or grant (V(WMI-002), V(WMI-004),
        V(WMI-022)) leaves that one out; a control that writes one value (V(WMI-001), V(WMI-021)) writes nothing.
    type: list
    elements: dict
    default: []
    suboptions:
      control:
        description: The control ID, for example V(WMI-004).
        type: str
        required: true
      namespace:
        description:
          - Only findings on this namespace - where the finding is reported, where its ACE is explicit, or any
            namespace where the grant applies (or, for V(WMI-022), that the missing audit entry leaves uncovered).
        type: str
      principal:
        description: Only findings about this principal, by name as reported or by SID.
        type: str
      reason:
        description: Why the finding is accepted (shown in every report).
        type: str
        required: true
      expires:
        description:
          - The last day the exception applies (YYYY-MM-DD). An unquoted YAML date is read the same way. Leave it out
            for an exception that never expires; an empty text is refused, so a template default of V('') cannot make
            an exception permanent unnoticed.
        type: str
  fail_on_drift:
    description: Fail the host when drift remains that no exception accepts.
    type: bool
    default: false
  fail_on_error:
    description:
      - Fail the host when a control ends in V(error) (a read or write the host refused, a namespace it could not
        read). The result is returned either way, with V(status=error); an error is never reported as compliant.
      - The wmi_hardening role sets it from C(wmi_hardening_fail_on_unjudged) (default V(true)); a failing host
        writes the report from the role's rescue, then fails again there, so C(max_fail_percentage) counts it.
    type: bool
    default: true
  evidence:
    description: Return the full evidence of each control (for example every namespace's SDDL), not only findings.
    type: bool
    default: false
  inventory_os:
    description:
      - The host's Windows release as the inventory knows it (for example from the C(winsec_wmi_os) host variable or
        Active Directory's C(operatingSystem) attribute). V(nt4), V(2000), V(xp), V(2003), V(2003r2) and the
        matching C(operatingSystem) strings (C(Windows Server 2003), C(Windows 2000 Server), C(Windows XP
        Professional), ...) name releases Ansible cannot manage. The host is then reported V(not_applicable)
        with the mitigation and never contacted. Any other value is ignored, and the host is read.
    type: str
notes:
  - Reading needs an elevated administrator (ReadSecurity on every namespace and the HKLM value). The namespace
    controls share one recursive read; a namespace that cannot be read makes those controls V(error), never
    compliant.
  - Windows Server 2003 and older cannot run ansible-core's PowerShell bootstrap (PowerShell 3.0 for ansible-core
    2.18, 5.1 from 2.19). Declare them with O(inventory_os); otherwise they show as unreachable or failed.
  - Inside the R(winsec.wmi.wmi_hardening role,ansible_collections.winsec.wmi.wmi_hardening_role) (a role whose name
    ends in C(wmi_hardening)), an option the task does not give is read from the role's variable for it
    (C(wmi_hardening_mode), C(wmi_hardening_namespaces), ..., the host's C(winsec_wmi_os)), and tags named after
    control IDs (C(--tags WMI-004), C(--skip-tags WMI-005)) add to O(controls) and O(skip_controls).
seealso:
  - module: winsec.wmi.unsecapp_lockdown
  - module: winsec.wmi.namespace_sd
  - module: winsec.wmi.namespace_sd_info
  - name: Maintaining WMI Security
    description: Microsoft's overview of WMI namespace and DCOM security.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/maintaining-wmi-security
author:
  - winsec.wmi developers (@winsec)
extends_documentation_fragment:
  - winsec.wmi.wmi_action
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  check_mode:
    support: full
    details: Check mode reads everything and reports what O(mode=enforce) would change; it never writes.
  diff_mode:
    support: full
    details: With O(mode=enforce), one diff per write, its header led by the control ID - registry values
      (C(HKLM\...\Name = REG_DWORD 1)), namespace descriptors (SDDL and a table of the ACEs), SACLs (the SDDL
      C(S:) part and the audit entries) - in check mode what would change, for real what was written; the same
      text either way. O(mode=audit) never changes anything, so it returns no diff.
"""

EXAMPLES = r"""
- name: Audit the WMI hardening baseline (writes nothing)
  winsec.wmi.baseline:
    mode: audit
  register: wmi_baseline

- name: Show the verdict
  ansible.builtin.debug:
    msg: "{{ wmi_baseline.status }}: {{ wmi_baseline.counts }}"

- name: Enforce it, accepting the backup product's WriteSecurity on its own namespace until the end of 2027
  winsec.wmi.baseline:
    mode: enforce
    exceptions:
      - control: WMI-004
        namespace: root\ContosoBackup
        reason: Contoso Backup manages its namespace's security (vendor ticket 4711)
        expires: "2027-12-31"
  check_mode: true
"""

RETURN = r"""
status:
  description:
    - The host's verdict, the first of V(error), V(drift), V(remediated), V(excepted), V(compliant),
      V(not_applicable) that any control has. A host older than Windows Server 2003 is never V(compliant); its
      best verdict is V(not_applicable).
  returned: always
  type: str
  sample: drift
counts:
  description: How many controls have each status.
  returned: always
  type: dict
  sample: {compliant: 4, drift: 1, remediated: 0, not_applicable: 1, excepted: 0, error: 0}
controls:
  description: One record per control, in ID order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The stable control ID.
      type: str
      sample: WMI-004
    title:
      description: What the control requires.
      type: str
    severity:
      description: V(critical), V(high), V(medium), V(low) or V(info).
      type: str
    status:
      description: V(compliant), V(drift), V(remediated), V(not_applicable), V(excepted) or V(error).
      type: str
    expected:
      description: What the control expects.
      type: raw
    actual:
      description: What was found, in short.
      type: raw
    findings:
      description:
        - What is wrong, each with C(id), C(severity), C(message) and where it applies (C(namespace),
          C(principal), C(sid), C(rights), ...); C(excepted) and C(reason) when an exception matched.
      type: list
      elements: dict
    remediation:
      description: C(automatic) (whether O(mode=enforce) fixes it) and C(text) (what to do).
      type: dict
    references:
      description: Public sources, each with C(title) and C(url).
      type: list
      elements: dict
    changes:
      description: What O(mode=enforce) changes (or would change, in check mode or audit).
      type: list
      elements: str
    reason:
      description: Why the control is excepted, not applicable, or in error.
      type: str
    evidence:
      description: The full evidence, with O(evidence=true).
      type: raw
os:
  description: The host's OS facts, read in the same round trip; from the inventory when not contacted.
  returned: always
  type: dict
contacted:
  description: Whether the host was contacted (false for hosts classified from O(inventory_os)).
  returned: always
  type: bool
msg:
  description:
    - The verdict line, the host's status, its controls in drift or error, and how many controls are compliant.
      With O(mode=enforce) it ends with what a real run would change (check mode) or what this run changed.
    - A host whose verdict is V(drift) or V(error) also gets it as a warning naming the host, so it shows even
      when C(ANSIBLE_DISPLAY_OK_HOSTS=false) hides ok results.
  returned: always
  type: str
  sample: "drift (WMI-004 drift): 5 of 6 controls compliant; a real run would change WMI-004"
unmatched_exceptions:
  description: The O(exceptions) of selected controls that matched no finding on this host, as written.
  returned: when an exception matched nothing on this host
  type: list
  elements: str
  sample: ["exceptions[0] (WMI-004, namespace 'root\\ContosoBackup')"]
"""
