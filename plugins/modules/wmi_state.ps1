#!powershell

# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# The target-side primitive of winsec.wmi: typed reads and writes, no decisions. The contract (options and results)
# is documented once, in wmi_state.yml; tests/unit compares the spec below with it.

#AnsibleRequires -CSharpUtil Ansible.Basic
#AnsibleRequires -CSharpUtil Ansible.Privilege
#AnsibleRequires -PowerShell ..module_utils._WmiState
#AnsibleRequires -PowerShell ..module_utils._WmiScriptFile

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
                    choices = @('facts', 'registry_read', 'registry_write', 'sd_get', 'sd_set', 'sacl_set', 'caller_rights',
                        'sid_lookup', 'name_lookup', 'event_subscriptions', 'event_subscription_remove', 'script_files',
                        'event_subscription_create')
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
                resolve_names = @{ type = 'bool'; default = $false }; sacl = @{ type = 'bool'; default = $false }
                sd = @{ type = 'str' }
                expected_sd = @{ type = 'str' }
                kind = @{ type = 'str'; choices = @('binding', 'filter', 'consumer') }; expected_instance = @{ type = 'dict' }; instance = @{ type = 'dict' }
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
                max_files = @{ type = 'int'; default = 1000 }
                max_total_bytes = @{ type = 'int'; default = 16777216 }
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
$registryTypes = @{ DWord = 'REG_DWORD'; String = 'REG_SZ'; ExpandString = 'REG_EXPAND_SZ'; MultiString = 'REG_MULTI_SZ'
    QWord = 'REG_QWORD'; Binary = 'REG_BINARY'; None = 'REG_NONE'; Unknown = 'REG_UNKNOWN' }

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
            $kind = "$($key.GetValueKind($valueName))"
            $data = $key.GetValue($valueName, $null, 'DoNotExpandEnvironmentNames')
            $state.exists = $true
            $state.type = $registryTypes[$kind]
            $state.data = switch ($kind) {
                'DWord' { [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$data), 0) }
                'QWord' { [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$data), 0) }
                'MultiString' { , [string[]]$data }
                { $data -is [byte[]] } { [Convert]::ToBase64String([byte[]]$data) }
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
    $sameValue = ($before.type -eq $expected.type) -and ("$($before.data)" -ceq "$($expected.data)")
    $same = ($before.exists -eq $expected.exists) -and (-not $before.exists -or $sameValue)
    if (-not $same) { throw (Format-OpError 'CHANGED_SINCE_READ' "registry value '$($Operation.value)' changed since it was read; nothing was written") }
    $keyPath, $valueName = $registryValues[$Operation.value]
    $hklm = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
    try {
        $key = $hklm.CreateSubKey($keyPath)
        try {
            if ($Operation.value_type -eq 'dword') {
                $dword = [BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$Operation.data), 0)
                $key.SetValue($valueName, $dword, [Microsoft.Win32.RegistryValueKind]::DWord)
            }
            else { $key.SetValue($valueName, [string]$Operation.data, [Microsoft.Win32.RegistryValueKind]::String) }
        }
        finally { $key.Dispose() }
    }
    finally { $hklm.Dispose() }
    @{ before = $before; after = (Read-RegistryValue $Operation.value) }
}

# GetSecurityDescriptor and SetSecurityDescriptor return WMI status numbers, not HRESULTs (Microsoft Learn, __SystemSecurity
# SetSecurityDescriptor: 2 access denied, 8 unknown failure, 9 privilege missing, 21 invalid parameter); GetSD, SetSD
# and GetCallerAccessRights return HRESULTs. Each status becomes our code and the WBEM HRESULT it means (wbemcli.h),
# in decimal: WBEM_E_ACCESS_DENIED 0x80041003, WBEM_E_FAILED 0x80041001, WBEM_E_INVALID_PARAMETER 0x80041008.
$script:securityStatus = @{ 2 = 'WMI', 2147749891; 8 = 'WMI', 2147749889; 9 = 'PRIVILEGE', $null; 21 = 'WMI', 2147749896 }

function Invoke-SystemSecurity([string]$Namespace, [string]$Method, [hashtable]$Arguments = @{}) {
    # One call per method, on the class: __SystemSecurity is a singleton, so WMI runs the method on its instance.
    $reply = Invoke-CimMethod -Namespace $Namespace -ClassName __SystemSecurity -MethodName $Method -Arguments $Arguments -ErrorAction Stop
    $status = [int64]$reply.ReturnValue
    if ($status -eq 0) { return $reply }
    $message = "$Method on '$Namespace' returned $status"
    if ($Method -notlike '*SecurityDescriptor' -or $status -ge 2147483648) { throw (Format-OpError 'WMI' $message (ConvertTo-UInt32 $status)) }
    $code, $hresult = if ($script:securityStatus.ContainsKey([int]$status)) { $script:securityStatus[[int]$status] } else { 'WMI', 2147749889 }
    throw (Format-OpError $code $message $(if ($null -ne $hresult) { ConvertTo-UInt32 $hresult }))
}

function Get-NamespaceSd([string]$Namespace) {
    [Convert]::ToBase64String([byte[]](Invoke-SystemSecurity $Namespace 'GetSD').SD)
}

function Get-NamespaceSaclSd([string]$Namespace) {
    # The documented way to a namespace's SACL: GetSecurityDescriptor returns it while SeSecurityPrivilege is enabled
    # (Microsoft Learn, __SystemSecurity GetSecurityDescriptor); GetSD is not documented to. Win32SDToBinarySD
    # (Win32_SecurityDescriptorHelper, Vista / Server 2008 on) turns the __SecurityDescriptor into self-relative bytes.
    $descriptor = (Invoke-SystemSecurity $Namespace 'GetSecurityDescriptor').Descriptor
    $binary = Invoke-SdHelper 'Win32SDToBinarySD' @{ Descriptor = $descriptor }
    [Convert]::ToBase64String([byte[]]$binary.BinarySD)
}

function Invoke-SdHelper([string]$Method, [hashtable]$Arguments) {
    $reply = Invoke-CimMethod -Namespace 'root\cimv2' -ClassName Win32_SecurityDescriptorHelper -MethodName $Method -Arguments $Arguments -ErrorAction Stop
    if ($reply.ReturnValue -ne 0) { throw (Format-OpError 'WMI' "$Method returned $($reply.ReturnValue)" (ConvertTo-UInt32 $reply.ReturnValue)) }
    $reply
}

function Read-NamespaceEntry([string]$Namespace, [bool]$Sacl, [bool]$Privileged) {
    # With sacl, sacl_returned says whether sd is the documented path's descriptor (the SACL as it is, absent = none);
    # false means GetSD's bytes, whose missing SACL is "not returned", never "empty".
    $entry = @{ namespace = $Namespace; sd = $null; error = $null }
    if ($Sacl) { $entry.sacl_returned = $false }
    if ($Privileged) {
        try {
            $entry.sd = Get-NamespaceSaclSd $Namespace
            $entry.sacl_returned = $true
            return $entry
        }
        catch { $null = $_ }  # the documented path failed (no helper class, a refusal): GetSD's bytes, sacl_returned false
    }
    try { $entry.sd = Get-NamespaceSd $Namespace } catch { $entry.error = ConvertTo-OpError $_ }
    $entry
}

function Read-NamespaceTree([string]$Namespace, [bool]$Recurse, $Entries, [bool]$Sacl, [bool]$Privileged) {
    # Depth first, parents before children, siblings in ordinal order (Sort-Object would compare culture-aware). A
    # namespace whose SD or children cannot be read is one entry with its error; its siblings are still read.
    $entry = Read-NamespaceEntry $Namespace $Sacl $Privileged
    $Entries.Add($entry)
    if (-not $Recurse) { return }
    try { $children = [string[]]@(Get-CimInstance -Namespace $Namespace -ClassName __NAMESPACE -ErrorAction Stop | ForEach-Object { $_.Name }) }
    catch { if ($null -eq $entry.error) { $entry.error = ConvertTo-OpError $_ }; return }
    [Array]::Sort($children, [StringComparer]::Ordinal)
    foreach ($child in $children) { Read-NamespaceTree "$Namespace\$child" $true $Entries $Sacl $Privileged }
}

function ConvertTo-RawSd([string]$Base64) {
    New-Object -TypeName System.Security.AccessControl.RawSecurityDescriptor -ArgumentList @([Convert]::FromBase64String($Base64), 0)
}

function Get-SdSid([string]$Base64) {
    # A descriptor .NET cannot parse yields no SIDs (the controller reports it); it must not fail the whole read.
    try { $raw = ConvertTo-RawSd $Base64 } catch { return }
    if ($raw.Owner) { $raw.Owner.Value }
    if ($raw.Group) { $raw.Group.Value }
    # The SACL's trustees too (sd_get sacl=true): resolve_names names every SID the descriptor shows.
    foreach ($acl in @($raw.DiscretionaryAcl, $raw.SystemAcl)) {
        if ($acl) { foreach ($ace in $acl) { if ($ace.SecurityIdentifier) { $ace.SecurityIdentifier.Value } } }
    }
}

function Read-NamespaceSd($Operation) {
    $entries = [System.Collections.Generic.List[object]]@()
    $enabler = if ($Operation.sacl) { Enable-SecurityPrivilege } else { $null }
    try { Read-NamespaceTree $Operation.namespace ([bool]$Operation.recurse) $entries ([bool]$Operation.sacl) ($null -ne $enabler) }
    finally { if ($null -ne $enabler) { $enabler.Dispose() } }
    $result = @{ namespaces = $entries }
    if ($Operation.sacl) { $result.sacl_read = $null -ne $enabler }
    if ($Operation.resolve_names) {
        $sids = [System.Collections.Generic.List[string]]@()
        foreach ($entry in $entries) { if ($entry.sd) { foreach ($s in (Get-SdSid $entry.sd)) { if (-not $sids.Contains($s)) { $sids.Add($s) } } } }
        $answers = Resolve-Identity $sids.ToArray() ([System.Security.Principal.SecurityIdentifier]) ([System.Security.Principal.NTAccount])
        $result.principals = @{}
        $result.principal_errors = @{}
        for ($i = 0; $i -lt $sids.Count; $i++) {
            $result.principals[$sids[$i]] = $answers[$i].value
            if ($answers[$i].error) { $result.principal_errors[$sids[$i]] = $answers[$i].error }
        }
    }
    $result
}

function Assert-DaclPresent([string]$Base64) {
    # Self-relative SD (MS-DTYP 2.4.6): Control at offset 2, OffsetDacl at 16. SE_DACL_PRESENT (0x0004) clear means
    # no DACL; present with offset 0 is a NULL DACL, which grants everyone full control. Refused on every release.
    $bytes = $null
    try { $bytes = [Convert]::FromBase64String($Base64) } catch { $bytes = $null }
    if ($null -eq $bytes -or $bytes.Length -lt 20 -or $bytes[0] -ne 1) {
        throw (Format-OpError 'INVALID_SD' 'sd is not a base64 self-relative security descriptor; nothing was written')
    }
    if (-not ($bytes[2] -band 0x04) -or [BitConverter]::ToUInt32($bytes, 16) -eq 0) {
        throw (Format-OpError 'INVALID_SD' 'sd has no DACL or a NULL DACL; nothing was written')
    }
    , $bytes
}

function Get-AccessView([string]$Base64) {
    # What sd_set's expected_sd guards: owner, group and DACL, never the SACL. Whether a read carried the SACL depends
    # on the privilege and on COM caching the token (Microsoft Learn, "Executing Privileged Operations").
    $sections = [System.Security.AccessControl.AccessControlSections]'Owner, Group, Access'
    try { (ConvertTo-RawSd $Base64).GetSddlForm($sections) } catch { "unreadable:$Base64" }
}

function Write-NamespaceSd($Operation) {
    $bytes = Assert-DaclPresent $Operation.sd
    if ((Get-AccessView (Get-NamespaceSd $Operation.namespace)) -cne (Get-AccessView $Operation.expected_sd)) {
        throw (Format-OpError 'CHANGED_SINCE_READ' "the security descriptor of '$($Operation.namespace)' changed since it was read; nothing was written")
    }
    $null = Invoke-SystemSecurity $Operation.namespace 'SetSD' @{ SD = [byte[]]$bytes }
    Read-WrittenSd $Operation.namespace
}

function Read-WrittenSd([string]$Namespace) {
    # The write happened: a read-back that fails (the write took this account's access) is reported with it, so the
    # op does not look as if nothing had been written.
    try { @{ sd = (Get-NamespaceSd $Namespace); read_back_error = $null } } catch { @{ sd = $null; read_back_error = (ConvertTo-OpError $_) } }
}

function Write-NamespaceSacl($Operation) {
    # SetSD uses only the DACL (Microsoft Learn, __SystemSecurity SetSD). SetSecurityDescriptor updates the SACL when
    # SE_SACL_PRESENT is set, with SeSecurityPrivilege enabled, and keeps the DACL when SE_DACL_PRESENT is clear and the
    # owner and group when they are absent (Microsoft Learn, __SystemSecurity SetSecurityDescriptor). So sd must hold a
    # SACL and nothing else (Control at 2, OffsetOwner 4, OffsetGroup 8, OffsetSacl 12): this op cannot change access.
    $bytes = $null
    try { $bytes = [Convert]::FromBase64String($Operation.sd) } catch { $bytes = $null }
    $saclOnly = $null -ne $bytes -and $bytes.Length -ge 20 -and $bytes[0] -eq 1 -and ($bytes[2] -band 0x14) -eq 0x10 -and
        [BitConverter]::ToUInt32($bytes, 12) -ne 0 -and [BitConverter]::ToUInt32($bytes, 4) -eq 0 -and [BitConverter]::ToUInt32($bytes, 8) -eq 0
    if (-not $saclOnly) {
        $why = 'sd is not a self-relative security descriptor holding a SACL and no owner, group or DACL; nothing was written'
        throw (Format-OpError 'INVALID_SD' $why)
    }
    $enabler = Enable-SecurityPrivilege
    if ($null -eq $enabler) {
        $why = 'setting a SACL needs SeSecurityPrivilege, which the connecting account does not hold; nothing was written'
        throw (Format-OpError 'PRIVILEGE' $why)
    }
    try {
        $before = Get-NamespaceSaclSd $Operation.namespace
        if ($before -cne $Operation.expected_sd) {
            throw (Format-OpError 'CHANGED_SINCE_READ' "the security descriptor of '$($Operation.namespace)' changed since it was read; nothing was written")
        }
        # BinarySDToWin32SD (Vista / Server 2008 on) gives the __SecurityDescriptor SetSecurityDescriptor takes.
        $converted = (Invoke-SdHelper 'BinarySDToWin32SD' @{ BinarySD = [byte[]]$bytes }).Descriptor
        Assert-SaclAlone $converted $bytes $Operation.namespace
        $null = Invoke-SystemSecurity $Operation.namespace 'SetSecurityDescriptor' @{ Descriptor = $converted }
        try { $after = @{ sd = (Get-NamespaceSaclSd $Operation.namespace); read_back_error = $null } }
        catch { return @{ sd = $null; read_back_error = (ConvertTo-OpError $_) } }
        $was, $now = (Get-AccessView $before), (Get-AccessView $after.sd)
        if ($now -cne $was) {
            $message = "SetSecurityDescriptor changed the owner, group or DACL of '$($Operation.namespace)': before $was, after $now"
            $after.read_back_error = Format-OpError 'UNEXPECTED' $message
        }
        $after
    }
    finally { $enabler.Dispose() }
}

function Get-AceText($Type, $Flags, $Mask, $Sid) { "$([int]$Type)/$([int]$Flags)/$(ConvertTo-UInt32 $Mask)/$Sid" }

function Assert-SaclAlone($Descriptor, [byte[]]$Bytes, [string]$Namespace) {
    # What SetSecurityDescriptor is given must be the SACL sent and nothing else: a DACL (SE_DACL_PRESENT), owner or
    # group in it would be written too. An ACE Win32_ACE cannot carry (object, callback, label ACEs) does not survive
    # the round trip through BinarySDToWin32SD, and is refused here, before anything is written.
    $sent = (New-Object System.Security.AccessControl.RawSecurityDescriptor -ArgumentList @($Bytes, 0)).SystemAcl
    $want = @(foreach ($ace in $sent) {
            $sid = if ($ace.SecurityIdentifier) { $ace.SecurityIdentifier.Value }
            Get-AceText $ace.AceType $ace.AceFlags $ace.AccessMask $sid
        }) -join ';'
    $converted = if ($Descriptor.SACL) { @($Descriptor.SACL) } else { @() }
    $got = @(foreach ($ace in $converted) { Get-AceText $ace.AceType $ace.AceFlags $ace.AccessMask $ace.Trustee.SIDString }) -join ';'
    $extra = ($Descriptor.DACL -and @($Descriptor.DACL).Count) -or $Descriptor.Owner -or $Descriptor.Group -or ([int64]$Descriptor.ControlFlags -band 0x4)
    if ($extra -or $got -cne $want) {
        $why = "the converted descriptor for '$Namespace' is not the SACL sent alone (sent $want, converted $got); nothing was written"
        throw (Format-OpError 'INVALID_SD' $why)
    }
}

function Get-DenyOnlySid($Identity) {
    # WindowsIdentity.Groups omits deny-only groups (SE_GROUP_USE_FOR_DENY_ONLY); its claims name them as DenyOnlySid
    # (.NET 4.5 on; on .NET 4.0, PowerShell 3.0's floor, there are no claims and none are returned).
    $claims = $Identity.PSObject.Properties['Claims']
    if ($claims) { foreach ($c in $Identity.Claims) { if ($c.Type -eq 'http://schemas.microsoft.com/ws/2008/06/identity/claims/denyonlysid') { $c.Value } } }
}

function Get-Account([string[]]$Name) {
    # sid_lookup: a SID string is returned as is once parsed; the names are translated in one batch.
    $names = @(foreach ($n in $Name) { if ($n.StartsWith('.\')) { "$env:COMPUTERNAME\$($n.Substring(2))" } else { $n } })
    $accounts = @($names | Where-Object { $_ -notmatch '^S-1-\d' })
    $answers = Resolve-Identity $accounts ([System.Security.Principal.NTAccount]) ([System.Security.Principal.SecurityIdentifier])
    $next = 0
    for ($i = 0; $i -lt $names.Count; $i++) {
        $answer = @{ value = $null; error = $null }
        if ($names[$i] -notmatch '^S-1-\d') { $answer = $answers[$next]; $next++ }
        else {
            try { $answer.value = ([System.Security.Principal.SecurityIdentifier]$names[$i]).Value }
            catch { $answer.error = ConvertTo-OpError $_ 'LOOKUP' }
        }
        @{ name = $Name[$i]; sid = $answer.value; error = $answer.error }
    }
}

# The parameters each op needs (the option spec cannot say "required when op=..."). Checked for the whole batch before
# anything runs, outside any try/catch, so a malformed call fails as a whole and never half-runs.
$requiredByOp = @{
    registry_read = @('value'); registry_write = @('value', 'data', 'value_type', 'expected'); sd_get = @('namespace')
    sd_set = @('namespace', 'sd', 'expected_sd'); sacl_set = @('namespace', 'sd', 'expected_sd'); caller_rights = @('namespace')
    sid_lookup = @('names'); name_lookup = @('sids')
    script_files = @('paths'); event_subscription_remove = @('namespace', 'kind', 'expected_instance')
    event_subscription_create = @('namespace', 'kind', 'instance')
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
    $isWrite = $operation.op -in @('registry_write', 'sd_set', 'sacl_set', 'event_subscription_remove', 'event_subscription_create')
    try {
        if ($isWrite -and $module.CheckMode) { throw (Format-OpError 'CHECK_MODE' "$($operation.op) is a write and the task runs in check mode") }
        if ($isWrite -and $writeFailed) { throw (Format-OpError 'SKIPPED' "$($operation.op) skipped because a previous write failed") }
        $values = switch ($operation.op) {
            'facts' {
                $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
                $cs = Get-CimInstance -ClassName Win32_ComputerSystem -ErrorAction Stop
                $me = [System.Security.Principal.WindowsIdentity]::GetCurrent()  # the token this module runs with
                @{ os_caption = "$($os.Caption)".Trim(); os_version = "$($os.Version)"; os_build = [int]$os.BuildNumber; product_type = [int]$os.ProductType
                    computer_name = $env:COMPUTERNAME
                    dns_host_name = $(if ($cs.PartOfDomain) { "$($cs.DNSHostName).$($cs.Domain)" } else { "$($cs.DNSHostName)" })
                    domain = "$($cs.Domain)"; part_of_domain = [bool]$cs.PartOfDomain
                    ps_version = "$($PSVersionTable.PSVersion.Major).$($PSVersionTable.PSVersion.Minor)"
                    caller_sid = $me.User.Value; caller_name = $me.Name; caller_groups = @($me.Groups | ForEach-Object { $_.Value })
                    caller_deny_only_groups = @(Get-DenyOnlySid $me) }
            }
            'registry_read' { try { Read-RegistryValue $operation.value } catch { throw (ConvertTo-OpError $_ 'REGISTRY') } }
            'registry_write' { try { Write-RegistryValue $operation } catch { throw (ConvertTo-OpError $_ 'REGISTRY') } }
            'sd_get' { Read-NamespaceSd $operation }
            'sd_set' { Write-NamespaceSd $operation }; 'sacl_set' { Write-NamespaceSacl $operation }
            'caller_rights' {
                @{ mask = [int64](Invoke-SystemSecurity $operation.namespace 'GetCallerAccessRights').Rights }
            }
            'sid_lookup' { @{ accounts = @(Get-Account $operation.names) } }
            'name_lookup' {
                $answers = Resolve-Identity $operation.sids ([System.Security.Principal.SecurityIdentifier]) ([System.Security.Principal.NTAccount])
                @{ accounts = @(for ($i = 0; $i -lt $operation.sids.Count; $i++) {
                            @{ sid = $operation.sids[$i]; name = $answers[$i].value; error = $answers[$i].error }
                        }) }
            }
            'event_subscriptions' { Get-EventSubscription $operation }; 'event_subscription_remove' { Remove-EventSubscriptionPart $operation }
            'script_files' { Get-ScriptFile $operation }
            'event_subscription_create' { New-EventSubscriptionPart $operation }
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
