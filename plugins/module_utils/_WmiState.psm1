# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY: helpers of winsec.wmi.wmi_state (error records, SID translation and the inventory
# reads); the contract is plugins/modules/wmi_state.yml.

# MI_Result codes (mi.h; the same numbers as CimException.NativeErrorCode) -> the WBEM HRESULT (wbemcli.h) WMI uses.
# Literals with the top bit set carry L: a plain 0x80041003 is a negative [int] in PowerShell and [uint32] of it throws.
$script:miToHresult = @{ 1 = 0x80041001L; 2 = 0x80041003L; 3 = 0x8004100EL; 4 = 0x80041008L; 5 = 0x80041010L; 6 = 0x80041002L; 7 = 0x8004100CL; 16 = 0x80041055L }
$script:wbemFailed = 0x80041001L

function Format-OpError([string]$Code, [string]$Message, $Hresult = $null) {
    @{ code = $Code; hresult = $Hresult; message = $Message }
}

function ConvertTo-UInt32($Value) {
    # Lossless: an HRESULT may arrive as a negative Int32 (Exception.HResult) or as UInt32/Int64; keep its 32 bits.
    [BitConverter]::ToUInt32([BitConverter]::GetBytes([int64]$Value), 0)
}

function Get-InnerException($ErrorRecord) {
    # .NET method calls surface as MethodInvocationException (HRESULT 0x80131501) around the real exception.
    $exception = $ErrorRecord.Exception
    while ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) { $exception = $exception.InnerException }
    $exception
}

function Get-CimHresult($Exception) {
    # MSFT_WmiError.error_Code is an HRESULT only when error_Type says so (MI_RESULT_TYPE_HRESULT); MI and Win32 codes
    # are mapped explicitly (MI_Utilities_CimErrorFromErrorCode names the three types).
    $data = $Exception.ErrorData
    $code = if ($data) { $data.CimInstanceProperties['error_Code'] } else { $null }
    $type = if ($data) { $data.CimInstanceProperties['error_Type'] } else { $null }
    if ($code -and $null -ne $code.Value -and $type) {
        switch ("$($type.Value)") {
            'HRESULT' { return ConvertTo-UInt32 $code.Value }
            'Win32' { return ConvertTo-UInt32 (0x80070000L -bor ([int64]$code.Value -band 0xFFFF)) }
            'MI' { if ($script:miToHresult.ContainsKey([int]$code.Value)) { return ConvertTo-UInt32 $script:miToHresult[[int]$code.Value] } }
        }
    }
    $native = [int]$Exception.NativeErrorCode
    if ($script:miToHresult.ContainsKey($native)) { return ConvertTo-UInt32 $script:miToHresult[$native] }
    ConvertTo-UInt32 $script:wbemFailed
}

function ConvertTo-OpError($ErrorRecord, [string]$Code = 'UNEXPECTED') {
    # Typed errors are thrown as hashtables. Otherwise: CIM -> WMI with the WBEM HRESULT; access refused by Windows
    # (UnauthorizedAccessException, SecurityException) -> ACCESS_DENIED; anything else -> $Code (REGISTRY, FILE, ...).
    if ($ErrorRecord.TargetObject -is [hashtable] -and $ErrorRecord.TargetObject.code) { return $ErrorRecord.TargetObject }
    $exception = Get-InnerException $ErrorRecord
    # By name: the CIM assembly need not be loaded when an earlier, non-CIM failure is converted.
    if ($exception.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') { return Format-OpError 'WMI' $exception.Message (Get-CimHresult $exception) }
    if ($exception -is [System.UnauthorizedAccessException] -or $exception -is [System.Security.SecurityException]) { $Code = 'ACCESS_DENIED' }
    Format-OpError $Code $exception.Message (ConvertTo-UInt32 $exception.HResult)
}

function Resolve-Identity([string[]]$Value, [type]$From, [type]$To) {
    # One LSA call for the whole list (IdentityReferenceCollection.Translate): an unreachable domain controller costs
    # one timeout, not one per account. forceSuccess=$false returns untranslated identities unchanged, in order.
    # Returns one @{ value; error } per input, in input order.
    $answers = @(foreach ($v in $Value) { @{ value = $null; error = $null } })
    $collection = New-Object -TypeName System.Security.Principal.IdentityReferenceCollection
    $positions = [System.Collections.Generic.List[int]]@()
    for ($i = 0; $i -lt $Value.Count; $i++) {
        try { $collection.Add((New-Object -TypeName $From.FullName -ArgumentList $Value[$i])); $positions.Add($i) }
        catch { $answers[$i].error = ConvertTo-OpError $_ 'LOOKUP' }
    }
    if ($collection.Count -eq 0) { return , $answers }
    try {
        $translated = $collection.Translate($To, $false)
        for ($j = 0; $j -lt $collection.Count; $j++) {
            $answer = $answers[$positions[$j]]
            if ($translated[$j] -is $To) { $answer.value = $translated[$j].Value }
            else { $answer.error = Format-OpError 'LOOKUP' "'$($collection[$j].Value)' could not be translated (no such account, or an orphaned SID)" }
        }
    }
    catch {
        $failure = ConvertTo-OpError $_ 'LOOKUP'
        foreach ($position in $positions) { $answers[$position].error = $failure }
    }
    , $answers
}

function Get-Property($Instance, [string]$Name) {
    $property = $Instance.CimInstanceProperties[$Name]
    if ($property) { $property.Value } else { $null }
}

function ConvertTo-SidString($Bytes) {
    if ($Bytes) { (New-Object System.Security.Principal.SecurityIdentifier -ArgumentList @([byte[]]$Bytes, 0)).Value } else { $null }
}

# One entry per instance, the same for the inventory and for the definition a removal compares and returns.
function ConvertTo-FilterEntry($Instance, [string]$Namespace) {
    @{ namespace = $Namespace; name = $Instance.Name; query = $Instance.Query; query_language = $Instance.QueryLanguage
        event_namespace = (Get-Property $Instance 'EventNamespace'); creator_sid = (ConvertTo-SidString (Get-Property $Instance 'CreatorSID')) }
}

$script:consumerFields = 'CommandLineTemplate', 'ExecutablePath', 'ScriptText', 'ScriptFileName', 'ScriptingEngine'  # own keys, read and created

function ConvertTo-ConsumerEntry($Instance, [string]$Namespace) {
    $entry = @{ namespace = $Namespace; name = $Instance.Name; class = $Instance.CimSystemProperties.ClassName; properties = @{} }
    $named = $script:consumerFields
    foreach ($p in $named) { $entry[($p -creplace '(?<=[a-z])([A-Z])', '_$1').ToLowerInvariant()] = Get-Property $Instance $p }
    # Every other set property (LogFile's Filename, SMTP's ToLine, ...), so a removed consumer can be recreated.
    foreach ($p in $Instance.CimInstanceProperties) {
        if ($null -eq $p.Value -or $p.Name -eq 'Name' -or $named -contains $p.Name) { continue }
        $entry.properties[$p.Name] = if ($p.Name -eq 'CreatorSID') { ConvertTo-SidString $p.Value } elseif ($p.Value -is [byte[]]) { [Convert]::ToBase64String($p.Value) } else { $p.Value }
    }
    $entry
}

function ConvertTo-BindingEntry($Instance, [string]$Namespace) {
    # The Consumer reference carries the consumer's class: a consumer is keyed by class AND Name.
    @{ namespace = $Namespace; filter = "$($Instance.Filter.Name)"; consumer = "$($Instance.Consumer.Name)"; consumer_class = "$($Instance.Consumer.CimSystemProperties.ClassName)" }
}

function Read-SubscriptionNamespace([string]$Namespace, $Result) {
    foreach ($f in (Get-CimInstance -Namespace $Namespace -ClassName __EventFilter -ErrorAction Stop)) { $Result.filters.Add((ConvertTo-FilterEntry $f $Namespace)) }
    foreach ($c in (Get-CimInstance -Namespace $Namespace -ClassName __EventConsumer -ErrorAction Stop)) { $Result.consumers.Add((ConvertTo-ConsumerEntry $c $Namespace)) }
    foreach ($b in (Get-CimInstance -Namespace $Namespace -ClassName __FilterToConsumerBinding -ErrorAction Stop)) { $Result.bindings.Add((ConvertTo-BindingEntry $b $Namespace)) }
}

function Read-SubscriptionTree([string]$Namespace, $Result) {
    # Depth first, parents before children, siblings in ordinal order. A namespace that cannot be read (or listed) is
    # one entry in namespace_errors; the rest of the tree is still read.
    try {
        Read-SubscriptionNamespace $Namespace $Result
        $children = [string[]]@(Get-CimInstance -Namespace $Namespace -ClassName __NAMESPACE -ErrorAction Stop | ForEach-Object { $_.Name })
    }
    catch { $Result.namespace_errors.Add(@{ namespace = $Namespace; error = (ConvertTo-OpError $_) }); return }
    [Array]::Sort($children, [StringComparer]::Ordinal)
    foreach ($child in $children) { Read-SubscriptionTree "$Namespace\$child" $Result }
}

function Get-EventSubscription($Operation) {
    $result = @{ filters = [System.Collections.Generic.List[object]]@(); consumers = [System.Collections.Generic.List[object]]@(); bindings = [System.Collections.Generic.List[object]]@() }
    if ($Operation.recurse) {
        $result.namespace_errors = [System.Collections.Generic.List[object]]@()
        foreach ($ns in $Operation.namespaces) { Read-SubscriptionTree $ns $result }
    }
    else { foreach ($ns in $Operation.namespaces) { Read-SubscriptionNamespace $ns $result } }
    $result
}

$script:subscriptionParts = @{
    filter = @('__EventFilter', 'ConvertTo-FilterEntry', @('name'))
    consumer = @('__EventConsumer', 'ConvertTo-ConsumerEntry', @('class', 'name'))
    binding = @('__FilterToConsumerBinding', 'ConvertTo-BindingEntry', @('filter', 'consumer_class', 'consumer'))
}

function Remove-EventSubscriptionPart($Operation) {
    # Deletes one filter, consumer or binding, found by the key properties in expected_instance (compared as WMI does,
    # case-insensitively), and only if every other property given is still as read: no lost updates.
    $className, $converter, $keys = $script:subscriptionParts[$Operation.kind]
    $expected = $Operation.expected_instance
    $described = "$($Operation.kind) '$(@(foreach ($k in $keys) { $expected[$k] }) -join '/')' in '$($Operation.namespace)'"
    $found = @(Find-EventSubscriptionPart $Operation.kind $Operation.namespace $expected)
    if ($found.Count -ne 1) { throw (Format-OpError 'CHANGED_SINCE_READ' "the $described no longer exists; nothing was removed") }
    $entry = & $converter $found[0] $Operation.namespace
    foreach ($k in $expected.Keys) {
        if ("$($entry[$k])" -cne "$($expected[$k])") { throw (Format-OpError 'CHANGED_SINCE_READ' "the $described changed since it was read ($k); nothing was removed") }
    }
    Remove-CimInstance -InputObject $found[0] -ErrorAction Stop
    @{ removed = $entry }
}

function Find-EventSubscriptionPart([string]$Kind, [string]$Namespace, $Key) {
    $className, $converter, $keys = $script:subscriptionParts[$Kind]
    foreach ($instance in (Get-CimInstance -Namespace $Namespace -ClassName $className -ErrorAction Stop)) {
        $entry = & $converter $instance $Namespace
        if (@(foreach ($k in $keys) { if ("$($entry[$k])" -ne "$($Key[$k])") { $k } }).Count -eq 0) { $instance }
    }
}

function New-EventSubscriptionPart($Operation) {
    # One filter, consumer (standard classes only) or binding from the properties the read returns, never over an existing
    # one, read back. WMI sets CreatorSID to the creator (Microsoft Learn, __EventFilter); a binding's Filter and Consumer
    # are references (Microsoft Learn, __FilterToConsumerBinding), given as [ref] to the instances found by their keys.
    $kind, $ns, $new = $Operation.kind, $Operation.namespace, $Operation.instance
    $className, $converter, $keys = $script:subscriptionParts[$kind]
    $described = "$kind '$(@(foreach ($k in $keys) { $new[$k] }) -join '/')' in '$ns'"
    if (@(Find-EventSubscriptionPart $kind $ns $new).Count) { throw (Format-OpError 'CHANGED_SINCE_READ' "the $described exists; nothing was created") }
    if ($kind -eq 'binding') {
        $filter = @(Find-EventSubscriptionPart 'filter' $ns @{ name = $new.filter })
        $consumer = @(Find-EventSubscriptionPart 'consumer' $ns @{ class = $new.consumer_class; name = $new.consumer })
        if ($filter.Count -ne 1 -or $consumer.Count -ne 1) { throw (Format-OpError 'CHANGED_SINCE_READ' "the filter or consumer of the $described does not exist; nothing was created") }
        $properties = @{ Filter = [ref]$filter[0]; Consumer = [ref]$consumer[0] }
    }
    else {
        if ($kind -eq 'consumer' -and @('ActiveScriptEventConsumer', 'CommandLineEventConsumer', 'LogFileEventConsumer', 'NTEventLogEventConsumer', 'SMTPEventConsumer') -notcontains $new.class) { throw (Format-OpError 'UNEXPECTED' "'$($new.class)' is not a standard consumer class; nothing was created") }
        $fields = if ($kind -eq 'filter') { 'Name', 'Query', 'QueryLanguage', 'EventNamespace' } else { $className = $new.class; @('Name') + $script:consumerFields }
        $properties = @{}; foreach ($p in $fields) { $value = $new[($p -creplace '(?<=[a-z])([A-Z])', '_$1').ToLowerInvariant()]; if ($null -ne $value) { $properties[$p] = $value } }
        foreach ($p in $new.properties.Keys) { if ($p -ne 'CreatorSID') { $properties[$p] = $new.properties[$p] } }
    }
    @{ created = (& $converter (Get-CimInstance -InputObject (New-CimInstance -Namespace $ns -ClassName $className -Property $properties -ErrorAction Stop) -ErrorAction Stop) $ns) }
}

# SeSecurityPrivilege on the process token, compiled only when a SACL is asked for (sd_get sacl=true).
$script:privilegeSource = @'
using System;
using System.Runtime.InteropServices;
namespace WinsecWmi {
    public static class SecurityPrivilege {
        [StructLayout(LayoutKind.Sequential, Pack = 4)]
        struct TokenPrivilege { public int Count; public long Luid; public int Attributes; }
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool AdjustTokenPrivileges(IntPtr token, bool disableAll, ref TokenPrivilege state, int length, IntPtr previous, IntPtr returned);
        [DllImport("advapi32.dll", SetLastError = true)]
        static extern bool OpenProcessToken(IntPtr process, int access, out IntPtr token);
        [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Unicode)]
        static extern bool LookupPrivilegeValue(string system, string name, out long luid);
        [DllImport("kernel32.dll")]
        static extern IntPtr GetCurrentProcess();
        [DllImport("kernel32.dll")]
        static extern bool CloseHandle(IntPtr handle);

        // True when the token holds SeSecurityPrivilege and it is now enabled (or disabled, as asked).
        public static bool Set(bool enable) {
            IntPtr token;
            if (!OpenProcessToken(GetCurrentProcess(), 0x0028, out token)) return false;  // TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY
            try {
                TokenPrivilege state = new TokenPrivilege();
                state.Count = 1;
                state.Attributes = enable ? 2 : 0;  // SE_PRIVILEGE_ENABLED
                if (!LookupPrivilegeValue(null, "SeSecurityPrivilege", out state.Luid)) return false;
                if (!AdjustTokenPrivileges(token, false, ref state, 0, IntPtr.Zero, IntPtr.Zero)) return false;
                return Marshal.GetLastWin32Error() == 0;  // ERROR_NOT_ALL_ASSIGNED (1300): the token does not hold it
            }
            finally { CloseHandle(token); }
        }
    }
}
'@

function Set-SecurityPrivilege([bool]$Enable) {
    if (-not ('WinsecWmi.SecurityPrivilege' -as [type])) { Add-Type -TypeDefinition $script:privilegeSource }
    [WinsecWmi.SecurityPrivilege]::Set($Enable)
}

function Invoke-WithSecurityPrivilege([bool]$Sacl, [scriptblock]$Read) {
    # WMI puts the SACL in GetSD's descriptor only while the caller's token has SeSecurityPrivilege enabled (Microsoft
    # Learn, __SystemSecurity GetSecurityDescriptor). Enabled for this read only, so later reads and sd_set's
    # expected_sd comparison see the same SACL-less descriptors as before; sacl_read says whether the token held it.
    if (-not $Sacl) { return & $Read }
    $privileged = Set-SecurityPrivilege $true
    try { $result = & $Read } finally { if ($privileged) { $null = Set-SecurityPrivilege $false } }
    $result.sacl_read = $privileged
    $result
}

function Get-ScriptFile($Operation) {
    $files = [System.Collections.Generic.List[object]]@()
    $total = [long]0; $stopped = $null
    foreach ($path in $Operation.paths) {
        if ($stopped) { break }
        if ($files.Count -ge $Operation.max_files) { $stopped = 'max_files'; break }
        if (-not (Test-Path -LiteralPath $path)) { $files.Add(@{ path = $path; size = $null; content = $null; truncated = $false; error = (Format-OpError 'NOT_FOUND' "'$path' does not exist") }); continue }
        $items = if (Test-Path -LiteralPath $path -PathType Container) {
            Get-ChildItem -LiteralPath $path -Recurse -File -Force -ErrorAction SilentlyContinue | Where-Object { $n = $_.Name; @($Operation.patterns | Where-Object { $n -like $_ }).Count -gt 0 } | Select-Object -First ($Operation.max_files - $files.Count + 1)
        } else { Get-Item -LiteralPath $path -Force }
        foreach ($item in $items) {
            if ($files.Count -ge $Operation.max_files) { $stopped = 'max_files'; break }
            $entry = @{ path = $item.FullName; size = $item.Length; content = $null; truncated = ($item.Length -gt $Operation.max_bytes); error = $null }
            if (-not $entry.truncated -and ($total + $item.Length) -gt $Operation.max_total_bytes) { $entry.error = (Format-OpError 'BUDGET' "not read: it would pass max_total_bytes ($($Operation.max_total_bytes))"); $files.Add($entry); $stopped = 'max_total_bytes'; break }
            if (-not $entry.truncated) { try { $entry.content = [Convert]::ToBase64String([System.IO.File]::ReadAllBytes($item.FullName)); $total += $item.Length } catch { $entry.error = ConvertTo-OpError $_ 'FILE' } }
            $files.Add($entry)
        }
    }
    @{ files = $files; stopped = $stopped }
}

Export-ModuleMember -Function @('Format-OpError', 'ConvertTo-OpError', 'ConvertTo-UInt32', 'Resolve-Identity', 'Get-EventSubscription', 'Remove-EventSubscriptionPart', 'New-EventSubscriptionPart', 'Get-ScriptFile', 'Set-SecurityPrivilege', 'Invoke-WithSecurityPrivilege')
