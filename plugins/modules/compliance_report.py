# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds the documentation only: the module is the action plugin plugins/action/compliance_report.py,
# which reads the options below as its argument spec and runs entirely on the controller.

DOCUMENTATION = r"""
module: compliance_report
short_description: Write the fleet's WMI compliance report (JSON, JUnit XML, HTML, CSV, Markdown) on the controller
version_added: 0.1.0
description:
  - Collects the per-host results of M(winsec.wmi.baseline) for every host of the play and writes one report in up
    to five formats to O(report_dir) on the controller, with stable file names C(wmi-compliance.json),
    C(wmi-compliance.junit.xml), C(wmi-compliance.html), C(wmi-compliance.csv) and C(wmi-compliance.md).
  - Every host of the play is in the report. A host that was unreachable is reported V(unreachable), a host whose
    baseline task failed without a verdict, was skipped, or never ran is reported V(error), each with the cause;
    none of them is ever counted as compliant.
  - A host whose baseline task failed (C(failed_when), a results dict built by hand) while its result still says
    V(compliant), V(remediated), V(excepted) or V(not_applicable) is reported V(error) with the task's message as
    the reason; its controls stay in the report as the evidence of what the task said, and every format shows the
    host's error beside them (a JUnit C(baseline) testcase in error, a CSV and Markdown row, an HTML row). A failed
    task whose verdict is V(drift) or V(error) (C(fail_on_drift), C(fail_on_error)) keeps that verdict.
  - The JSON follows a versioned schema (C(schema_version)); the JSON Schema (draft 2020-12) ships with the
    collection as C(docs/schemas/wmi-compliance.schema.json).
  - Values that come from hosts (host, principal, namespace and file names, messages) are escaped for each format;
    CSV cells that a spreadsheet would read as a formula (starting with C(=), C(+), C(-), C(@), tab or carriage
    return) are prefixed with an apostrophe.
  - The HTML file opens on the host counts and a host x control matrix (hosts worst first, one coloured cell per
    result that opens its findings, evidence and remediation), then the change since O(previous), the exceptions
    (expired ones marked), the not-applicable hosts with their mitigation, the changes made or predicted, and every
    host's details. It is self-contained (no network, no external scripts or fonts; a Content Security Policy allows
    only its own inline script, no form submission and no base URL), reads fully without JavaScript and prints.
  - Every format says whether the run was in check mode (changes listed are then predictions). The CSV starts with
    a UTF-8 byte order mark (for Excel); the Markdown, made for a change ticket, never turns host text into links or
    mentions.
  - Needs no connection to any host. Run it once per play on the controller, for example with
    C(run_once=true) and C(delegate_to=localhost) after the baseline task.
options:
  report_dir:
    description:
      - The directory on the controller the report files are written to. Created if missing.
      - In AWX or Automation Controller the controller is the job's execution environment container, which is
        discarded after the job; point this at a volume that outlives it, or publish the files from the job.
    type: path
    required: true
  formats:
    description:
      - The formats to write.
    type: list
    elements: str
    choices: [json, junit, html, csv, markdown]
    default: [json, junit, html, csv, markdown]
  results:
    description:
      - The per-host results, a mapping of inventory host name to what the host registered from
        M(winsec.wmi.baseline) (or Ansible's own unreachable or failed result).
      - Left out, the results are read from the host variable O(result_var) of every host in O(hosts).
    type: dict
  hosts:
    description:
      - The hosts the report covers. Left out, every host of the play (C(ansible_play_hosts_all)), so that hosts
        that failed or were unreachable earlier are reported too.
      - A host listed here without a result is reported V(error) with the cause C(no_result).
    type: list
    elements: str
  result_var:
    description:
      - The host variable that holds each host's registered baseline result when O(results) is left out.
    type: str
    default: wmi_hardening_result
  merge:
    description:
      - Merge with the C(wmi-compliance.json) already in O(report_dir) instead of replacing it. For a play with
        C(serial) batches or AWX job slices that write to the same directory one after the other.
      - Per host this run's entry replaces the existing one, whatever the existing entry's C(run_at) says,
        because the file is read, merged and written under a lock, and this run is the newer one. A C(run_at) from
        a wrong clock or an edited file (dated after this run) cannot keep an old verdict in place; the task warns
        when it sees one. Hosts that are not in this run (another job slice, a C(--limit)) keep their earlier
        entries for O(max_age_days); a host of this run without a result is reported as such, never with an
        earlier run's verdict.
      - The JSON file is always written when merging, because the next merge reads it.
      - Refused when the existing file has another major schema version.
      - Every host entry of the existing file is validated against the report schema
        (C(docs/schemas/wmi-compliance.schema.json)), with known statuses, causes and severities, timestamps, counts
        that match the controls, no host better than its worst control. One invalid entry fails the task, naming
        the file and the entry (C(hosts[N]) and its host), and nothing is written; an entry is never dropped
        silently, because a report that loses a host hides it. Fix or remove the entry, move the file away, or
        set O(merge=false).
    type: bool
    default: false
  max_age_days:
    description:
      - With O(merge=true), how many days an entry of a host that is not in this run is kept. Older entries are
        dropped from the merged report (the task's C(carried_over.dropped) and the report's header say how many),
        so a host that was decommissioned or left the inventory stops being reported after this time instead of
        for ever.
      - The hosts of this run are always replaced by this run's entries, whatever their age.
      - V(0) keeps every earlier entry, as before this option existed.
      - The report says which hosts are from this run and which are carried over from earlier runs (the JSON's
        C(carried_over), the header of the HTML and Markdown, each host's C(run_at)).
    type: int
    default: 30
  previous:
    description:
      - An earlier C(wmi-compliance.json) to compare with. The report then shows, per host and control, what is
        V(new) (drift, error or unreachable now, not before), V(fixed) (the reverse), V(changed) (another status),
        V(unchanged) and V(gone) (only in the earlier report), in the JSON (C(changes_since)), the HTML (marks in
        the matrix and a list) and the Markdown.
      - May be the report this task is about to replace (C(<report_dir>/wmi-compliance.json)), which is read before
        anything is written. Copy it elsewhere first to keep a fixed baseline to compare with.
      - A file that does not exist yet gives a warning and no comparison; a file that is not a valid report of the
        same major schema version fails the task before anything is written.
    type: path
  exceptions:
    description:
      - The exceptions the baseline ran with (the same list as
        M(winsec.wmi.baseline)'s O(winsec.wmi.baseline#module:exceptions), for example C(wmi_hardening_exceptions)).
        Optional; the baseline marks excepted findings itself.
      - Given, the HTML and Markdown reports list each exception with its reason and expiry, marked when it has
        expired on the day of the report, and an excepted finding shows its exception's expiry. Left out,
        the reports list the excepted findings with their reason, and an expired exception with the date the
        baseline gives, but cannot show when an active one expires.
      - Only read, never validated against the hosts; a misspelt exception is reported by the baseline itself.
    type: list
    elements: dict
    default: []
    suboptions:
      control:
        description: The control ID.
        type: str
        required: true
      namespace:
        description: The namespace the exception is limited to.
        type: str
      principal:
        description: The principal the exception is limited to.
        type: str
      reason:
        description: Why the finding is accepted.
        type: str
        required: true
      expires:
        description: The last day the exception applies (YYYY-MM-DD); left out, it never expires.
        type: str
  fail_on_drift:
    description:
      - Fail the task when any host has drift (after exceptions). The report is written first.
      - Unreachable hosts and hosts in error never fail the task by themselves; they are in the report and in the
        summary (C(hosts_with_errors)).
      - Ansible publishes custom statistics only from tasks that succeed, so with V(true) a drifting run publishes
        no O(set_stats); to publish and fail, leave this V(false) and follow the task with a failing assertion.
    type: bool
    default: false
  console_hosts:
    description:
      - After writing, the task prints the fleet's counts and one line per host that is not compliant (worst first,
        with its failing controls) directly on the console, so that C(ANSIBLE_DISPLAY_OK_HOSTS=false), which hides
        ok results and their warnings, never hides drift or errors. This caps how many hosts are listed; the report
        lists them all. V(0) prints the counts only.
    type: int
    default: 50
  set_stats:
    description:
      - Publish the compact summary as the custom statistic C(wmi_compliance_summary), as M(ansible.builtin.set_stats)
        would (AWX stores it in the job's artifacts and passes it to the next workflow nodes).
    type: bool
    default: true
  title:
    description:
      - The report's title.
    type: str
    default: WMI compliance report
  max_hosts_listed:
    description:
      - How many host names the summary lists in C(hosts_with_drift) and C(hosts_with_errors) (the totals are always
        exact). Keeps the statistics small for large fleets.
    type: int
    default: 50
notes:
  - The report describes managed hosts and changes none of them, so the task reports C(changed=false) in both
    modes; the files it wrote are in RV(files).
seealso:
  - module: winsec.wmi.baseline
  - module: ansible.builtin.set_stats
author:
  - winsec.wmi developers (@winsec)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
    details: The module is an action plugin that runs on the controller only; it opens no connection to any host.
  async:
    support: none
  bypass_host_loop:
    support: none
    details: Use C(run_once=true) so that the report is written once per play (or per C(serial) batch).
  check_mode:
    support: full
    details: >-
      The report is written in check mode too: writing it is the purpose of a check-mode audit, and it changes no
      managed host (the files are on the controller).
  diff_mode:
    support: none
  platform:
    support: full
    platforms: all
"""

EXAMPLES = r"""
- name: Audit the baseline (never writes to a host)
  winsec.wmi.baseline:
  check_mode: true
  register: wmi_hardening_result
  ignore_unreachable: true

- name: Write the fleet report on the controller
  winsec.wmi.compliance_report:
    report_dir: "{{ playbook_dir }}/reports"
  run_once: true
  delegate_to: localhost

- name: Only JUnit and Markdown, for a CI job, from explicit results
  winsec.wmi.compliance_report:
    report_dir: /tmp/wmi-report
    formats: [junit, markdown]
    results: "{{ dict(report_hosts | zip(report_hosts | map('extract', hostvars, 'baseline_out'))) }}"
  vars:
    report_hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
  delegate_to: localhost

- name: One report for a play that runs in serial batches
  winsec.wmi.compliance_report:
    report_dir: /srv/reports/wmi
    merge: true
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: The path of each file written, by format.
  returned: always
  type: dict
  sample:
    json: /srv/reports/wmi/wmi-compliance.json
    html: /srv/reports/wmi/wmi-compliance.html
summary:
  description: The report's summary, as in the JSON file.
  returned: always
  type: dict
  contains:
    hosts:
      description: The number of hosts in the report.
      type: int
      returned: always
    host_status_counts:
      description: Hosts per status (compliant, drift, remediated, not_applicable, excepted, error, unreachable).
      type: dict
      returned: always
    control_status_counts:
      description: Host x control results per status.
      type: dict
      returned: always
    controls:
      description: Per control, its C(id), C(title), C(severity) and C(counts) per status.
      type: list
      elements: dict
      returned: always
    hosts_with_drift:
      description: C(names) (at most O(max_hosts_listed)), C(total) and C(truncated).
      type: dict
      returned: always
    hosts_with_errors:
      description: The same for hosts in error or unreachable.
      type: dict
      returned: always
stats:
  description:
    - The compact summary published as the custom statistic C(wmi_compliance_summary) (when O(set_stats=true)).
    - C(schema_version), C(generated_at), C(hosts), C(status_counts), C(hosts_with_drift) and
      C(hosts_with_errors) (capped lists) with C(hosts_with_drift_total) and C(hosts_with_errors_total).
  returned: always
  type: dict
  sample:
    schema_version: "1.0"
    hosts: 24
    status_counts: {compliant: 18, drift: 3, remediated: 0, not_applicable: 2, excepted: 0, error: 0, unreachable: 1}
    hosts_with_drift: [app02, backup01, sql02]
    hosts_with_drift_total: 3
carried_over:
  description:
    - With O(merge=true), how many hosts of the report are carried over from earlier runs (C(hosts)), the oldest
      carried entry's C(oldest_run_at), how many entries older than O(max_age_days) were C(dropped).
  returned: when O(merge=true)
  type: dict
  sample: {hosts: 120, oldest_run_at: "2026-11-30T10:00:00.000000Z", dropped: 3, max_age_days: 30}
changes_since:
  description:
    - With O(previous), the number of host x control results per change since that report (C(new), C(fixed),
      C(changed), C(unchanged), C(gone)) and the earlier report's C(previous_generated_at).
  returned: when O(previous) names an existing report
  type: dict
  sample:
    previous_generated_at: "2026-11-30T10:00:00.000000Z"
    counts: {new: 2, fixed: 5, changed: 0, unchanged: 233, gone: 0}
drift:
  description: Whether any host has drift.
  returned: always
  type: bool
"""
