# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY: helpers of winsec.wmi.wmi_state (error records and the inventory reads); the
# contract is plugins/modules/wmi_state.yml.

# CIM reports WMI failures as NativeErrorCode; map the common ones back to the WBEM HRESULT (wbemcli.h).
$script:nativeToHresult = @{ AccessDenied = 0x80041003; InvalidParameter = 0x80041008; InvalidNamespace = 0x8004100E; NotFound = 0x80041002; InvalidClass = 0x80041010; MethodNotAvailable = 0x80041055; NotSupported = 0x8004100C }

function Format-OpError([string]$Code, [string]$Message, $Hresult = $null) {
    @{ code = $Code; hresult = $Hresult; message = $Message }
}

function ConvertTo-OpError($ErrorRecord) {
    # Typed errors are thrown as hashtables; anything else is a WMI/.NET failure that keeps its HRESULT (a registry
    # UnauthorizedAccessException carries E_ACCESSDENIED, 0x80070005).
    if ($ErrorRecord.TargetObject -is [hashtable] -and $ErrorRecord.TargetObject.code) { return $ErrorRecord.TargetObject }
    $exception = $ErrorRecord.Exception
    $hresult = $null
    if ($exception -is [Microsoft.Management.Infrastructure.CimException]) {
        $data = $exception.ErrorData
        if ($data -and $data.CimInstanceProperties['error_Code'] -and $null -ne $data.CimInstanceProperties['error_Code'].Value) {
            $hresult = [uint32]$data.CimInstanceProperties['error_Code'].Value
        }
        elseif ($nativeToHresult.ContainsKey("$($exception.NativeErrorCode)")) { $hresult = [uint32]$nativeToHresult["$($exception.NativeErrorCode)"] }
        else { $hresult = [uint32]0x80041001 }
    }
    if ($null -eq $hresult) { $hresult = [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$exception.HResult), 0) }
    Format-OpError 'WMI' $exception.Message $hresult
}

function Get-Property($Instance, [string]$Name) {
    $property = $Instance.CimInstanceProperties[$Name]
    if ($property) { $property.Value } else { $null }
}

function Get-EventSubscription($Operation) {
    $result = @{ filters = [System.Collections.Generic.List[object]]@(); consumers = [System.Collections.Generic.List[object]]@(); bindings = [System.Collections.Generic.List[object]]@() }
    foreach ($ns in $Operation.namespaces) {
        foreach ($f in (Get-CimInstance -Namespace $ns -ClassName __EventFilter -ErrorAction Stop)) {
            $creator = Get-Property $f 'CreatorSID'
            $result.filters.Add(@{ namespace = $ns; name = $f.Name; query = $f.Query; query_language = $f.QueryLanguage; event_namespace = (Get-Property $f 'EventNamespace')
                    creator_sid = $(if ($creator) { (New-Object System.Security.Principal.SecurityIdentifier -ArgumentList @([byte[]]$creator, 0)).Value } else { $null }) })
        }
        foreach ($c in (Get-CimInstance -Namespace $ns -ClassName __EventConsumer -ErrorAction Stop)) {
            $entry = @{ namespace = $ns; name = $c.Name; class = $c.CimClass.CimClassName }
            foreach ($p in 'CommandLineTemplate', 'ExecutablePath', 'ScriptText', 'ScriptFileName', 'ScriptingEngine') {
                $entry[($p -creplace '(?<=[a-z])([A-Z])', '_$1').ToLowerInvariant()] = Get-Property $c $p
            }
            $result.consumers.Add($entry)
        }
        foreach ($b in (Get-CimInstance -Namespace $ns -ClassName __FilterToConsumerBinding -ErrorAction Stop)) {
            $result.bindings.Add(@{ namespace = $ns; filter = "$($b.Filter.Name)"; consumer = "$($b.Consumer.Name)" })
        }
    }
    $result
}

function Get-ScriptFile($Operation) {
    $files = [System.Collections.Generic.List[object]]@()
    foreach ($path in $Operation.paths) {
        if (-not (Test-Path -LiteralPath $path)) { $files.Add(@{ path = $path; size = $null; content = $null; truncated = $false; error = (Format-OpError 'NOT_FOUND' "'$path' does not exist") }); continue }
        $items = if (Test-Path -LiteralPath $path -PathType Container) {
            Get-ChildItem -LiteralPath $path -Recurse -File -Force -ErrorAction SilentlyContinue | Where-Object { $n = $_.Name; @($Operation.patterns | Where-Object { $n -like $_ }).Count -gt 0 }
        } else { Get-Item -LiteralPath $path -Force }
        foreach ($item in $items) {
            $entry = @{ path = $item.FullName; size = $item.Length; content = $null; truncated = ($item.Length -gt $Operation.max_bytes); error = $null }
            if (-not $entry.truncated) { try { $entry.content = [Convert]::ToBase64String([System.IO.File]::ReadAllBytes($item.FullName)) } catch { $entry.error = ConvertTo-OpError $_ } }
            $files.Add($entry)
        }
    }
    @{ files = $files }
}

Export-ModuleMember -Function @('Format-OpError', 'ConvertTo-OpError', 'Get-EventSubscription', 'Get-ScriptFile')
