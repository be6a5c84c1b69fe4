# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""winsec.wmi.baseline, split by job: the hosts judged from inventory (_inventory_os), the run and the host's result
(_run), the verdict line and console warnings (_verdict), and the role's variables and tags (_role). The controls
themselves, and the exceptions every control receives, are in _controls (_registry, _exceptions)."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.
