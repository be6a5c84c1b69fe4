# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/event_subscription.py,
# which reads the options below as its argument spec and runs winsec.wmi.wmi_state on the host.

DOCUMENTATION = r"""
module: event_subscription
short_description: Remove a permanent WMI event subscription, returning its definition
version_added: 0.1.0
description:
  - Removes a permanent WMI event subscription (MITRE ATT&CK T1546.003) named by its filter, its consumer (class
    and name), or both - first the C(__FilterToConsumerBinding) instances between them, then the consumer and the
    filter unless another binding still uses them. Naming only the consumer also removes the filters that were bound
    to it alone, and naming only the filter the consumers bound to it alone.
  - Returns the full definition of everything removed in RV(removed) (and in the diff), so it can be recreated.
  - One round trip when nothing is to be removed; two when something is. Each removal carries the definition read
    and fails, removing nothing more, if the host changed in between (C(CHANGED_SINCE_READ)).
  - Find subscriptions with M(winsec.wmi.event_subscription_info).
options:
  namespace:
    description:
      - The namespace the subscription lives in.
    type: str
    default: root\subscription
  filter:
    description:
      - The C(Name) of the C(__EventFilter).
    type: str
  consumer:
    description:
      - The C(Name) of the consumer. Give O(consumer_class) with it.
    type: str
  consumer_class:
    description:
      - The consumer's class, for example V(CommandLineEventConsumer). A consumer is keyed by its class and its
        name. A C(CommandLineEventConsumer) and the built-in C(NTEventLogEventConsumer) may both be called
        "SCM Event Log Consumer", and only the one of this class is removed.
    type: str
  state:
    description:
      - V(absent) removes the subscription. Creating subscriptions is not supported.
    type: str
    choices: [absent]
    default: absent
notes:
  - Removing needs write access to the namespace (Administrators have it).
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
    details: Reports what would be removed (RV(removed), the diff) and removes nothing.
  diff_mode:
    support: full
    details: The diff's before is one line per binding, consumer and filter removed, with its definition as JSON.
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
"""

RETURN = r"""
removed:
  description:
    - What was removed (or, in check mode, would be), each in the shape M(winsec.wmi.event_subscription_info)
      returns it - C(bindings) C({namespace, filter, consumer, consumer_class}), C(consumers) (with class, command
      line, script and every other property) and C(filters) (with query, query language, event namespace and creator
      SID). Empty lists when the subscription is absent.
    - When a removal fails half-way, the parts removed before the failure.
  returned: always
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
subscription:
  description:
    - "The subscription as named, C(namespace: filter -> ConsumerClass.ConsumerName) (V(*) for a part not named)."
  returned: success
  type: str
msg:
  description: What was (or would be) removed.
  returned: always
  type: str
os:
  description: OS facts read in the same round trip (see M(winsec.wmi.unsecapp_lockdown)).
  returned: success
  type: dict
error:
  description: The named target error of the removal that failed (C(CHANGED_SINCE_READ) when the host changed).
  returned: failure
  type: dict
"""
