#!powershell

# Stand-in for ansible.windows.win_reg_stat, shipped with the winsec.wmi simulator (never with the collection).
# It only lets the controller resolve the module name when the real ansible.windows is not installed; the
# simulator never runs this text: it identifies the module from the payload and emulates it from its arguments.
# The real collection, when installed, comes first on ANSIBLE_COLLECTIONS_PATH and wins.

#AnsibleRequires -CSharpUtil Ansible.Basic

$module = [Ansible.Basic.AnsibleModule]::Create($args, @{ options = @{} })
$module.FailJson("ansible.windows.win_reg_stat stand-in: install ansible.windows to run this module on a real host")
