#!powershell

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The target-side primitive of winsec.wmi: typed reads and writes, no decisions. The contract (options and results)
# is documented once, in wmi_state.yml; tests/unit compares the spec below with it.

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -PowerShell ..module_utils._WmiState

$spec = @{
    options = @{
        operations = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                op = @{
                    type = 'str'
                    required = $true
                    choices = @('facts', 'registry_read', 'registry_write', 'sd_get', 'sd_set', 'caller_rights',
                        'sid_lookup', 'name_lookup', 'event_subscriptions', 'script_files')
                }
                value = @{
                    type = 'str'
                    choices = @('unsecapp_access_control_default', 'dcom_require_integrity_activation_authentication_level',
                        'dcom_raise_activation_authentication_level')
                }
                data = @{ type = 'str' }
                value_type = @{ type = 'str'; choices = @('dword', 'string') }
                expected = @{
                    type = 'dict'
                    options = @{
                        exists = @{ type = 'bool'; required = $true }
                        type = @{ type = 'str' }
                        data = @{ type = 'str' }
                    }
                }
                namespace = @{ type = 'str' }
                recurse = @{ type = 'bool'; default = $false }
                resolve_names = @{ type = 'bool'; default = $false }
                sd = @{ type = 'str' }
                expected_sd = @{ type = 'str' }
                names = @{ type = 'list'; elements = 'str' }
                sids = @{ type = 'list'; elements = 'str' }
                namespaces = @{ type = 'list'; elements = 'str'; default = @('root\subscription', 'root\default') }
                paths = @{ type = 'list'; elements = 'str' }
                patterns = @{
                    type = 'list'
                    elements = 'str'
                    default = @('*.vbs', '*.vbe', '*.wsf', '*.js', '*.jse', '*.ps1', '*.psm1')
                }
                max_bytes = @{ type = 'int'; default = 1048576 }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)

# Registry values by name: the only registry locations this module reads or writes.
$registryValues = @{
    unsecapp_access_control_default = @('SOFTWARE\Microsoft\WBEM\CIMOM', 'UnsecAppAccessControlDefault')
    dcom_require_integrity_activation_authentication_level = @('SOFTWARE\Microsoft\Ole\AppCompat', 'RequireIntegrityActivationAuthenticationLevel')
    dcom_raise_activation_authentication_level = @('SOFTWARE\Microsoft\Ole\AppCompat', 'RaiseActivationAuthenticationLevel')
}
$registryTypes = @{ DWord = 'REG_DWORD'; String = 'REG_SZ'; ExpandString = 'REG_EXPAND_SZ'; MultiString = 'REG_MULTI_SZ'; QWord = 'REG_QWORD'; Binary = 'REG_BINARY' }

function Read-RegistryValue([string]$Name) {
    $keyPath, $valueName = $registryValues[$Name]
    $state = [ordered]@{ key_exists = $false; exists = $false; type = $null; data = $null }
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
    try {
        $key = $hklm.OpenSubKey($keyPath, $false)
        if ($null -eq $key) { return $state }
        try {
            $state.key_exists = $true
            if ($key.GetValueNames() -notcontains $valueName) { return $state }
            $kind = $key.GetValueKind($valueName)
            $data = $key.GetValue($valueName, $null, 'DoNotExpandEnvironmentNames')
            $state.exists = $true
            $state.type = if ($registryTypes.ContainsKey("$kind")) { $registryTypes["$kind"] } else { "$kind" }
            $state.data = switch ("$kind") {
                'DWord' { [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$data), 0) }
                'QWord' { [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$data), 0) }
                'Binary' { [Convert]::ToBase64String([byte[]]$data) }
                'MultiString' { , [string[]]$data }
                default { [string]$data }
            }
            return $state
        }
        finally { $key.Dispose() }
    }
    finally { $hklm.Dispose() }
}

function Write-RegistryValue($Operation) {
    $before = Read-RegistryValue $Operation.value
    $expected = $Operation.expected
    # Expected state as read before; data compared as strings, the contract's wire form.
    $same = ($before.exists -eq $expected.exists) -and (-not $before.exists -or (($before.type -eq $expected.type) -and ("$($before.data)" -ceq "$($expected.data)")))
    if (-not $same) { throw (Format-OpError 'CHANGED_SINCE_READ' "registry value '$($Operation.value)' changed since it was read; nothing was written") }
    $keyPath, $valueName = $registryValues[$Operation.value]
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
    try {
        $key = $hklm.CreateSubKey($keyPath)
        try {
            if ($Operation.value_type -eq 'dword') {
                $key.SetValue($valueName, [BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$Operation.data), 0), [Microsoft.Win32.RegistryValueKind]::DWord)
            }
            else { $key.SetValue($valueName, [string]$Operation.data, [Microsoft.Win32.RegistryValueKind]::String) }
        }
        finally { $key.Dispose() }
    }
    finally { $hklm.Dispose() }
    @{ before = $before; after = (Read-RegistryValue $Operation.value) }
}

function Invoke-SystemSecurity([string]$Namespace, [string]$Method, [hashtable]$Arguments = @{}) {
    # __SystemSecurity methods are instance methods of its singleton: get the instance first, as Microsoft's
    # WmiNamespaceSecurityDsc does; this form works in Windows PowerShell 5.1 and PowerShell 7.
    $instance = Get-CimInstance -Namespace $Namespace -ClassName __SystemSecurity -ErrorAction Stop
    $reply = Invoke-CimMethod -InputObject $instance -MethodName $Method -Arguments $Arguments -ErrorAction Stop
    if ($reply.ReturnValue -ne 0) { throw (Format-OpError 'WMI' "$Method on '$Namespace' returned $($reply.ReturnValue)" ([uint32]$reply.ReturnValue)) }
    $reply
}

function Get-NamespaceSd([string]$Namespace) {
    [Convert]::ToBase64String([byte[]](Invoke-SystemSecurity $Namespace 'GetSD').SD)
}

function Get-ChildNamespace([string]$Namespace) {
    # Depth first, parents before children.
    foreach ($child in (Get-CimInstance -Namespace $Namespace -ClassName __NAMESPACE -ErrorAction Stop | Sort-Object -Property Name)) {
        $path = "$Namespace\$($child.Name)"
        $path
        Get-ChildNamespace $path
    }
}

function Resolve-Sid([string]$Sid) {
    try { ([System.Security.Principal.SecurityIdentifier]$Sid).Translate([System.Security.Principal.NTAccount]).Value } catch { $null }
}

function Get-SdSid([string]$Base64) {
    # Only to list the SIDs to translate; the controller parses the descriptor itself.
    $raw = New-Object -TypeName System.Security.AccessControl.RawSecurityDescriptor -ArgumentList @([Convert]::FromBase64String($Base64), 0)
    if ($raw.Owner) { $raw.Owner.Value }
    if ($raw.Group) { $raw.Group.Value }
    if ($raw.DiscretionaryAcl) { foreach ($ace in $raw.DiscretionaryAcl) { if ($ace.SecurityIdentifier) { $ace.SecurityIdentifier.Value } } }
}

function Read-NamespaceSd($Operation) {
    $names = [System.Collections.Generic.List[string]]@($Operation.namespace)
    $result = @{ namespaces = [System.Collections.Generic.List[object]]@() }
    if ($Operation.recurse) {
        try { foreach ($child in (Get-ChildNamespace $Operation.namespace)) { $names.Add($child) } }
        catch { $result.namespaces.Add(@{ namespace = $Operation.namespace; sd = $null; error = (ConvertTo-OpError $_) }) }
    }
    $sids = [System.Collections.Generic.HashSet[string]]@()
    foreach ($name in $names) {
        if ($result.namespaces | Where-Object { $_.namespace -eq $name }) { continue }
        try {
            $sd = Get-NamespaceSd $name
            $result.namespaces.Add(@{ namespace = $name; sd = $sd; error = $null })
            if ($Operation.resolve_names) { try { foreach ($s in (Get-SdSid $sd)) { $null = $sids.Add($s) } } catch { $null = $_ } }
        }
        catch { $result.namespaces.Add(@{ namespace = $name; sd = $null; error = (ConvertTo-OpError $_) }) }
    }
    if ($Operation.resolve_names) {
        $result.principals = @{}
        foreach ($s in $sids) { $result.principals[$s] = Resolve-Sid $s }
    }
    $result
}

function Write-NamespaceSd($Operation) {
    if ((Get-NamespaceSd $Operation.namespace) -cne $Operation.expected_sd) {
        throw (Format-OpError 'CHANGED_SINCE_READ' "the security descriptor of '$($Operation.namespace)' changed since it was read; nothing was written")
    }
    $null = Invoke-SystemSecurity $Operation.namespace 'SetSD' @{ SD = [byte[]][Convert]::FromBase64String($Operation.sd) }
    @{ sd = (Get-NamespaceSd $Operation.namespace) }
}

function Get-Sid([string]$Name) {
    if ($Name -match '^S-1-\d') { return ([System.Security.Principal.SecurityIdentifier]$Name).Value }
    if ($Name.StartsWith('.\')) { $Name = "$env:COMPUTERNAME\$($Name.Substring(2))" }
    (New-Object -TypeName System.Security.Principal.NTAccount -ArgumentList $Name).Translate([System.Security.Principal.SecurityIdentifier]).Value
}

# The parameters each op needs (the option spec cannot say "required when op=..."). Checked for the whole batch before
# anything runs, outside any try/catch, so a malformed call fails as a whole and never half-runs.
$requiredByOp = @{
    registry_read = @('value'); registry_write = @('value', 'data', 'value_type', 'expected'); sd_get = @('namespace')
    sd_set = @('namespace', 'sd', 'expected_sd'); caller_rights = @('namespace'); sid_lookup = @('names'); name_lookup = @('sids')
    script_files = @('paths')
}
foreach ($operation in $module.Params.operations) {
    foreach ($name in $requiredByOp[$operation.op]) {
        if ($null -eq $operation.$name) { $module.FailJson("operation '$($operation.op)' requires '$name'") }
    }
    $number = [uint32]0
    if ($operation.op -eq 'registry_write' -and $operation.value_type -eq 'dword' -and -not [uint32]::TryParse($operation.data, [ref]$number)) {
        $module.FailJson("registry_write data '$($operation.data)' is not a DWORD (0 to 4294967295)")
    }
}

$writeFailed = $false
$results = [System.Collections.Generic.List[object]]@()
foreach ($operation in $module.Params.operations) {
    $result = [ordered]@{ op = $operation.op; failed = $false }
    $isWrite = $operation.op -in @('registry_write', 'sd_set')
    try {
        if ($isWrite -and $module.CheckMode) { throw (Format-OpError 'CHECK_MODE' "$($operation.op) is a write and the task runs in check mode") }
        if ($isWrite -and $writeFailed) { throw (Format-OpError 'SKIPPED' "$($operation.op) skipped because a previous write failed") }
        $values = switch ($operation.op) {
            'facts' {
                $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
                $cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
                @{ os_caption = "$($os.Caption)".Trim(); os_version = "$($os.Version)"; os_build = [int]$os.BuildNumber; product_type = [int]$os.ProductType
                    computer_name = $env:COMPUTERNAME; dns_host_name = $(if ($cs.PartOfDomain) { "$($cs.DNSHostName).$($cs.Domain)" } else { "$($cs.DNSHostName)" })
                    domain = "$($cs.Domain)"; part_of_domain = [bool]$cs.PartOfDomain; ps_version = "$($PSVersionTable.PSVersion.Major).$($PSVersionTable.PSVersion.Minor)" }
            }
            'registry_read' { Read-RegistryValue $operation.value }
            'registry_write' { Write-RegistryValue $operation }
            'sd_get' { Read-NamespaceSd $operation }
            'sd_set' { Write-NamespaceSd $operation }
            'caller_rights' {
                @{ mask = [int64](Invoke-SystemSecurity $operation.namespace 'GetCallerAccessRights').Rights }
            }
            'sid_lookup' { @{ accounts = @(foreach ($n in $operation.names) { @{ name = $n; sid = $(try { Get-Sid $n } catch { $null }) } }) } }
            'name_lookup' { @{ accounts = @(foreach ($s in $operation.sids) { @{ sid = $s; name = (Resolve-Sid $s) } }) } }
            'event_subscriptions' { Get-EventSubscription $operation }
            'script_files' { Get-ScriptFile $operation }
        }
        foreach ($key in $values.Keys) { $result[$key] = $values[$key] }
        if ($isWrite) { $module.Result.changed = $true }
    }
    catch {
        $result.failed = $true
        $result.error = ConvertTo-OpError $_
        if ($isWrite) { $writeFailed = $true }
    }
    $results.Add($result)
}
$module.Result.results = $results
$module.ExitJson()
