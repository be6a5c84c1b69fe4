# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/event_subscription.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: event_subscription
short_description: Remove a permanent WMI event subscription, returning its definition, or restore it from that
version_added: 0.1.0
description:
  - Removes a permanent WMI event subscription (MITRE ATT&CK T1546.003) named by its filter, its consumer (class
    and name), or both - first the C(__FilterToConsumerBinding) instances between them, then the consumer and the
    filter unless another binding still uses them. Naming only the consumer also removes the filters that were bound
    to it alone, and naming only the filter the consumers bound to it alone.
  - Returns the full definition of everything removed in RV(removed) (and in the diff), so it can be recreated.
  - One round trip when nothing is to be removed; two when something is. Each removal carries the definition read
    and fails, removing nothing more, if the host changed in between (C(CHANGED_SINCE_READ)).
  - With O(state=present), puts back exactly what an earlier removal returned, given as O(definition).
    Every entry is checked before the host is contacted. One round trip reads the namespaces involved; an entry
    already there with the same definition is left alone, one there with another definition fails the task and
    nothing is written (it is never overwritten), and the missing ones are created in a second round trip - the
    filters and consumers first, the bindings last, so a binding never points at nothing.
  - Find subscriptions with M(winsec.wmi.event_subscription_info).
options:
  namespace:
    description:
      - The namespace the subscription lives in, for O(state=absent). Defaults to C(root\subscription).
      - Not with O(state=present), where every entry of O(definition) names its own namespace.
    type: str
  filter:
    description:
      - The C(Name) of the C(__EventFilter), for O(state=absent).
    type: str
  consumer:
    description:
      - The C(Name) of the consumer, for O(state=absent). Give O(consumer_class) with it.
    type: str
  consumer_class:
    description:
      - The consumer's class, for example V(CommandLineEventConsumer). A consumer is keyed by its class and its
        name. A C(CommandLineEventConsumer) and the built-in C(NTEventLogEventConsumer) may both be called
        "SCM Event Log Consumer", and only the one of this class is removed.
    type: str
  state:
    description:
      - V(absent) removes the subscription named by O(filter) and/or O(consumer).
      - V(present) restores the subscription O(definition) describes. There is no way to create a subscription from
        loose options, only from a definition handed back whole, as a removal returned it.
    type: str
    choices: [absent, present]
    default: absent
  definition:
    description:
      - For O(state=present) (and required by it), the RV(removed) value of an earlier O(state=absent) run,
        C({filters, consumers, bindings}), each entry in the shape M(winsec.wmi.event_subscription_info) returns it
        and with its own C(namespace).
      - A filter needs C(name), C(query) and C(query_language); a consumer C(name) and C(class), one of the five
        standard consumer classes (C(ActiveScriptEventConsumer), C(CommandLineEventConsumer),
        C(LogFileEventConsumer), C(NTEventLogEventConsumer), C(SMTPEventConsumer)), with only the properties that
        class declares; a binding C(filter), C(consumer) and C(consumer_class), and its filter and consumer must be
        in the definition or already on the host. Any other entry fails the task, naming it, before the host is
        contacted.
      - C(creator_sid) and a consumer's C(CreatorSID) are accepted and ignored. WMI records the account that creates
        an instance itself, so the restored parts carry the SID of the account this task connects as.
    type: dict
notes:
  - Removing and restoring need write access to the namespace (Administrators have it).
  - A restored C(CommandLineEventConsumer) or C(ActiveScriptEventConsumer) runs code as LocalSystem when its filter
    fires, exactly as it did before it was removed. M(winsec.wmi.event_subscription_info) keeps classifying it as
    suspicious (or unrecognised) until it is added to its O(winsec.wmi.event_subscription_info#module:allowed) list.
  - A filter's C(EventAccess) and a binding's delivery settings (C(DeliveryQoS), C(MaintainSecurityContext)) are not
    part of the definition a removal returns, so a restore leaves them at the class defaults.
seealso:
  - module: winsec.wmi.event_subscription_info
  - name: MITRE ATT&CK T1546.003
    description: Event Triggered Execution - Windows Management Instrumentation Event Subscription.
    link: https://attack.mitre.org/techniques/T1546/003/
  - name: Receiving Events at All Times
    description: Microsoft's description of permanent event consumers, filters and bindings.
    link: https://learn.microsoft.com/en-us/windows/win32/wmisdk/receiving-events-at-all-times
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
    details: Reports what would be removed (RV(removed)) or created (RV(created)), and the diff; writes nothing.
  diff_mode:
    support: full
    details: Each filter, consumer and binding removed (the diff's before) or created (its after), with its
      properties one per line. The full definition, to recreate what was removed, is in RV(removed).
"""

EXAMPLES = r"""
- name: Remove a malicious command-line consumer and everything that exists only for it
  winsec.wmi.event_subscription:
    consumer: WindowsUpdateHealth
    consumer_class: CommandLineEventConsumer
    state: absent
  register: removed_subscription

- name: Keep what was removed, to restore it if it turns out to be wanted
  ansible.builtin.copy:
    content: "{{ removed_subscription.removed | to_nice_json }}"
    dest: "{{ playbook_dir }}/{{ inventory_hostname }}-removed-subscription.json"
    mode: "0600"
  delegate_to: localhost

- name: Remove one binding between a filter and a consumer
  winsec.wmi.event_subscription:
    namespace: root\default
    filter: LogonAudit
    consumer: LogonAudit
    consumer_class: ActiveScriptEventConsumer

# Later: the consumer removed first belonged to a product after all. Put back exactly what was removed (filters and
# consumers first, then the bindings); fails, writing nothing, if a part exists now with another definition.
- name: Restore the subscription removed by the first task, from the file the second task wrote
  winsec.wmi.event_subscription:
    state: present
    definition: "{{ lookup('ansible.builtin.file', saved_definition) | from_json }}"
  vars:
    saved_definition: "{{ playbook_dir }}/{{ inventory_hostname }}-removed-subscription.json"
"""

RETURN = r"""
removed:
  description:
    - What was removed (or, in check mode, would be), each in the shape M(winsec.wmi.event_subscription_info)
      returns it - C(bindings) C({namespace, filter, consumer, consumer_class}), C(consumers) (with class, command
      line, script and every other property) and C(filters) (with query, query language, event namespace and creator
      SID). Empty lists when the subscription is absent.
    - When a removal fails half-way, the parts removed before the failure.
  returned: state=absent
  type: dict
  sample:
    bindings:
      - {namespace: root\subscription, filter: WindowsUpdateHealth, consumer: WindowsUpdateHealth,
         consumer_class: CommandLineEventConsumer}
    consumers:
      - namespace: root\subscription
        name: WindowsUpdateHealth
        class: CommandLineEventConsumer
        command_line_template: powershell.exe -NoP -NonI -W Hidden -Enc SQBFAFgA...
        properties: {}
    filters:
      - namespace: root\subscription
        name: WindowsUpdateHealth
        query: SELECT * FROM __InstanceModificationEvent WITHIN 60 WHERE ...
        query_language: WQL
        event_namespace: root\cimv2
        creator_sid: S-1-5-21-1004336348-1177238915-682003330-500
created:
  description:
    - What was created (or, in check mode, would be), in the shape of RV(removed); each part as the host reads it
      back after creating it. Empty lists when everything in O(definition) was already present as defined.
    - When a creation fails half-way, the parts created before the failure.
  returned: state=present
  type: dict
  sample:
    bindings:
      - {namespace: root\subscription, filter: AgentHeartbeat, consumer: AgentHeartbeat,
         consumer_class: CommandLineEventConsumer}
    consumers:
      - namespace: root\subscription
        name: AgentHeartbeat
        class: CommandLineEventConsumer
        command_line_template: C:\Program Files\Agent\agent.exe --heartbeat
        properties: {}
    filters:
      - namespace: root\subscription
        name: AgentHeartbeat
        query: SELECT * FROM __InstanceModificationEvent WITHIN 300 WHERE TargetInstance ISA 'Win32_LocalTime'
        query_language: WQL
        event_namespace: root\cimv2
        creator_sid: S-1-5-21-1004336348-1177238915-682003330-500
subscription:
  description:
    - "The subscription as named, C(namespace: filter -> ConsumerClass.ConsumerName) (V(*) for a part not named)."
    - With O(state=present), its bindings, C(filter -> ConsumerClass.ConsumerName in namespace), separated by C(; ).
  returned: success
  type: str
msg:
  description: What was (or would be) removed or created.
  returned: always
  type: str
os:
  description: OS facts read in the same round trip (see M(winsec.wmi.unsecapp_lockdown)).
  returned: success
  type: dict
error:
  description:
    - The named target error of the removal or creation that failed (C(CHANGED_SINCE_READ) when the host changed
      since the read - a part to remove changed or vanished, or a part to create appeared).
  returned: failure
  type: dict
conflicts:
  description:
    - With O(state=present), why nothing was restored - an entry that exists with another definition (each
      differing property, on the host and in the definition) or a binding whose filter or consumer exists nowhere.
  returned: failure
  type: list
  elements: str
"""
