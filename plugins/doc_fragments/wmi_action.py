# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every user-facing winsec.wmi module shares: an action plugin on the controller that calls
    # winsec.wmi.wmi_state on a Windows host. Each module still states its own check_mode and diff_mode support.
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details: The module runs as an action plugin on the controller and calls M(winsec.wmi.wmi_state) on the host.
  async:
    support: none
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: windows
"""
