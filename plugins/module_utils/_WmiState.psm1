# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY: helpers of winsec.wmi.wmi_state (error records, SID translation and the inventory
# reads); the contract is plugins/modules/wmi_state.yml.

# MI_Result codes (mi.h; the same numbers as CimException.NativeErrorCode) -> the WBEM HRESULT (wbemcli.h) WMI uses.
# Literals with the top bit set carry L: a plain 0x80041003 is a negative [int] in PowerShell and [uint32] of it throws.
$script:miToHresult = @{
    1 = 0x80041001L; 2 = 0x80041003L; 3 = 0x8004100EL; 4 = 0x80041008L; 5 = 0x80041010L; 6 = 0x80041002L
    7 = 0x8004100CL; 16 = 0x80041055L
}
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
    while ($exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $exception.InnerException) {
        $exception = $exception.InnerException
    }
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
    if ($exception.GetType().FullName -eq 'Microsoft.Management.Infrastructure.CimException') {
        return Format-OpError 'WMI' $exception.Message (Get-CimHresult $exception)
    }
    if ($exception -is [System.UnauthorizedAccessException] -or $exception -is [System.Security.SecurityException]) { $Code = 'ACCESS_DENIED' }
    # Exception.HResult is public from .NET 4.5 on; on .NET 4.0 (PowerShell 3.0, ansible-core 2.18's floor) it is
    # protected and reads as $null, so Marshal.GetHRForException (public since .NET 1.1) gives it there.
    $hresult = $exception.HResult
    if ($null -eq $hresult) { $hresult = [System.Runtime.InteropServices.Marshal]::GetHRForException($exception) }
    Format-OpError $Code $exception.Message (ConvertTo-UInt32 $hresult)
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
        $entry.properties[$p.Name] = if ($p.Name -eq 'CreatorSID') { ConvertTo-SidString $p.Value } else { ConvertTo-JsonSafeValue $p.Value }
    }
    $entry
}

function ConvertTo-JsonSafeValue($Value) {
    # Only text, booleans, numbers and lists of them reach ExitJson: a consumer of another class may hold an embedded
    # instance, a reference or a datetime, and one value ExitJson cannot serialise would lose every op of the batch.
    if ($Value -is [byte[]]) { return [Convert]::ToBase64String($Value) }
    if ($Value -is [System.Collections.IList]) { return , @(foreach ($v in $Value) { ConvertTo-JsonSafeValue $v }) }
    if ($Value -is [datetime]) { return $Value.ToString('o', [Globalization.CultureInfo]::InvariantCulture) }
    if ($Value -is [string] -or $Value -is [System.ValueType]) { return $Value }
    "$Value"
}

# CimType (Microsoft.Management.Infrastructure) -> the .NET type New-CimInstance maps back to it.
$script:cimScalarTypes = @{ Boolean = [bool]; String = [string]; Char16 = [char]; Real32 = [single]; Real64 = [double]
    UInt8 = [byte]; SInt8 = [sbyte]; UInt16 = [uint16]; SInt16 = [int16]; UInt32 = [uint32]; SInt32 = [int]; UInt64 = [uint64]; SInt64 = [long] }

function ConvertTo-CimValue($Value, [string]$CimType, [string]$Name) {
    # A value as the class declares it, or a refusal: a bool only from a bool ([bool]'false' is $true), an integer
    # neither from a fraction nor out of range ([uint32]-1 throws), a list only for an array and the reverse.
    $element = $CimType -replace 'Array$', ''
    $type = $script:cimScalarTypes[$element]
    $refused = "$Name is $CimType; '$Value' does not convert; nothing was created"
    if (-not $type -or ($CimType -ne $element) -ne ($Value -is [System.Collections.IList])) { throw (Format-OpError 'INVALID_PROPERTY' $refused) }
    $items = @(foreach ($v in @($Value)) {
        $fraction = ($v -is [double] -or $v -is [single] -or $v -is [decimal]) -and $v -ne [Math]::Truncate($v)
        $wrongKind = ($element -eq 'Boolean' -and $v -isnot [bool]) -or ($element -match 'Int' -and ($fraction -or $v -is [bool]))
        if ($wrongKind -or $v -is [System.Collections.IDictionary]) { throw (Format-OpError 'INVALID_PROPERTY' $refused) }
        try { [System.Management.Automation.LanguagePrimitives]::ConvertTo($v, $type, [Globalization.CultureInfo]::InvariantCulture) }
        catch { throw (Format-OpError 'INVALID_PROPERTY' $refused) }
    })
    if ($CimType -eq $element) { return $items[0] }
    # An empty list stays an empty typed array ([string[]]@()), never a one-element array holding $null.
    , [System.Management.Automation.LanguagePrimitives]::ConvertTo($items, $type.MakeArrayType())
}

function ConvertTo-ClassTyped([string]$Namespace, [string]$ClassName, $Properties) {
    # New-CimInstance -ClassName -Property types each value from its .NET type alone (PowerShell
    # CimNewCimInstance.cs: CimProperty.Create(name, value, flags)): a JSON integer goes out as SInt32, which WMI
    # refuses for a uint32 property (KillTimeout, EventType), as it refuses an empty list or a Decimal. Each value is
    # typed from the class schema (Get-CimClass CimClassProperties) first; anything that does not fit is refused here.
    $schema = (Get-CimClass -Namespace $Namespace -ClassName $ClassName -ErrorAction Stop).CimClassProperties
    $typed = @{}
    foreach ($name in @($Properties.Keys)) {
        if ($null -eq $Properties[$name]) { continue }
        $declared = $schema[$name]
        if (-not $declared) { throw (Format-OpError 'INVALID_PROPERTY' "$ClassName declares no property $name; nothing was created") }
        $typed[$declared.Name] = ConvertTo-CimValue $Properties[$name] "$($declared.CimType)" $declared.Name
    }
    $typed
}

function ConvertTo-BindingEntry($Instance, [string]$Namespace) {
    # The Consumer reference carries the consumer's class: a consumer is keyed by class AND Name.
    @{ namespace = $Namespace; filter = "$($Instance.Filter.Name)"; consumer = "$($Instance.Consumer.Name)"
        consumer_class = "$($Instance.Consumer.CimSystemProperties.ClassName)" }
}

function Read-SubscriptionNamespace([string]$Namespace, $Result) {
    # All three parts or none: a namespace whose bindings cannot be read must not show its filters and consumers as
    # if nothing bound them (they would look orphaned); the caller reports the namespace's error instead.
    $parts = @(@('__EventFilter', $Result.filters, 'ConvertTo-FilterEntry'), @('__EventConsumer', $Result.consumers, 'ConvertTo-ConsumerEntry'),
        @('__FilterToConsumerBinding', $Result.bindings, 'ConvertTo-BindingEntry'))
    $read = @(foreach ($part in $parts) {
            $className, $list, $converter = $part
            , @($list, @(foreach ($i in (Get-CimInstance -Namespace $Namespace -ClassName $className -ErrorAction Stop)) { & $converter $i $Namespace }))
        })
    foreach ($pair in $read) { foreach ($entry in $pair[1]) { $pair[0].Add($entry) } }
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
    $result = @{ filters = [System.Collections.Generic.List[object]]@(); consumers = [System.Collections.Generic.List[object]]@()
        bindings = [System.Collections.Generic.List[object]]@() }
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
        if ("$($entry[$k])" -cne "$($expected[$k])") {
            throw (Format-OpError 'CHANGED_SINCE_READ' "the $described changed since it was read ($k); nothing was removed")
        }
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
        if ($filter.Count -ne 1 -or $consumer.Count -ne 1) {
            throw (Format-OpError 'CHANGED_SINCE_READ' "the filter or consumer of the $described does not exist; nothing was created")
        }
        $properties = @{ Filter = [ref]$filter[0]; Consumer = [ref]$consumer[0] }
    }
    else {
        $standard = 'ActiveScriptEventConsumer', 'CommandLineEventConsumer', 'LogFileEventConsumer', 'NTEventLogEventConsumer', 'SMTPEventConsumer'
        if ($kind -eq 'consumer' -and $standard -notcontains $new.class) {
            throw (Format-OpError 'UNEXPECTED' "'$($new.class)' is not a standard consumer class; nothing was created")
        }
        if ($kind -eq 'consumer') { $className = $new.class }
        $fields = if ($kind -eq 'filter') { 'Name', 'Query', 'QueryLanguage', 'EventNamespace' } else { @('Name') + $script:consumerFields }
        $properties = @{}
        foreach ($p in $fields) {
            $value = $new[($p -creplace '(?<=[a-z])([A-Z])', '_$1').ToLowerInvariant()]
            if ($null -ne $value) { $properties[$p] = $value }
        }
        foreach ($p in $new.properties.Keys) { if ($p -ne 'CreatorSID') { $properties[$p] = $new.properties[$p] } }
        if ($kind -eq 'consumer') { $properties = ConvertTo-ClassTyped $ns $className $properties }
    }
    $instance = New-CimInstance -Namespace $ns -ClassName $className -Property $properties -ErrorAction Stop
    # Created: a read-back that fails does not make it look unwritten (the op would fail and changed stay false); the
    # instance New-CimInstance returned (what was sent, without WMI's defaults) is reported instead.
    try { $instance = Get-CimInstance -InputObject $instance -ErrorAction Stop } catch { $null = $_ }
    @{ created = (& $converter $instance $ns) }
}

function Enable-SecurityPrivilege {
    # SeSecurityPrivilege through ansible-core's Ansible.Privilege (#AnsibleRequires -CSharpUtil Ansible.Privilege in
    # wmi_state.ps1), as ansible.windows win_owner uses it: $null when the process token does not hold it, else a
    # PrivilegeEnabler whose Dispose() puts the privilege back as it was (it may have been enabled before us).
    $held = [Ansible.Privilege.PrivilegeUtil]::GetAllPrivilegeInfo([Ansible.Privilege.PrivilegeUtil]::GetCurrentProcess())
    if (-not $held.ContainsKey('SeSecurityPrivilege')) { return $null }
    New-Object -TypeName Ansible.Privilege.PrivilegeEnabler -ArgumentList @($true, 'SeSecurityPrivilege')
}

Export-ModuleMember -Function @('Format-OpError', 'ConvertTo-OpError', 'ConvertTo-UInt32', 'Resolve-Identity', 'Get-EventSubscription'
    'Remove-EventSubscriptionPart', 'New-EventSubscriptionPart', 'Enable-SecurityPrivilege')
