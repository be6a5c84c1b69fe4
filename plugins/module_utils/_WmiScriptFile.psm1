# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# FOR INTERNAL COLLECTION USE ONLY: wmi_state's script_files read. Like ansible.windows win_find, it walks one
# directory at a time and follows no junction or symbolic link (a loop, or a share at the far end, would otherwise
# never end); every directory or file it cannot read is listed in unread with its error, so nothing vanishes.

#AnsibleRequires -PowerShell ..module_utils._WmiState

function New-FileEntry([string]$Path) { @{ path = $Path; size = $null; content = $null; truncated = $false; error = $null } }

function Get-AnsiCodePage {
    # The system ANSI code page (GetACP), which ANSI scripts are written in: the NLS key's ACP value; Windows
    # PowerShell's [Text.Encoding]::Default is the same page where the key cannot be read.
    try { [int](Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Nls\CodePage' -Name ACP -ErrorAction Stop).ACP }
    catch { [Text.Encoding]::Default.CodePage }
}

function Read-ScriptBytes([string]$Path) {
    # FileShare.ReadWrite: a script another process has open for writing (a log-like .ps1, an editor) is still read.
    $stream = New-Object System.IO.FileStream -ArgumentList @($Path, 'Open', 'Read', 'ReadWrite')
    try {
        $bytes = New-Object byte[] $stream.Length
        $read = 0
        while ($read -lt $bytes.Length) {
            $n = $stream.Read($bytes, $read, $bytes.Length - $read)
            if ($n -le 0) { break }
            $read += $n
        }
        [Convert]::ToBase64String($bytes, 0, $read)
    }
    finally { $stream.Dispose() }
}

function Add-ScriptFile($Item, $State) {
    # One file in the budgets; false when listing stops.
    $op = $State.operation
    if ($State.files.Count -ge $op.max_files) { $State.stopped = 'max_files'; return $false }
    $entry = New-FileEntry $Item.FullName
    $entry.size = $Item.Length
    $entry.truncated = $Item.Length -gt $op.max_bytes
    if (-not $entry.truncated -and ($State.total + $Item.Length) -gt $op.max_total_bytes) {
        $entry.error = Format-OpError 'BUDGET' "not read: it would pass max_total_bytes ($($op.max_total_bytes))"
        $State.files.Add($entry)
        $State.stopped = 'max_total_bytes'
        return $false
    }
    if (-not $entry.truncated) {
        try { $entry.content = Read-ScriptBytes $Item.FullName; $State.total += $Item.Length }
        catch { $entry.error = ConvertTo-OpError $_ 'FILE' }
    }
    $State.files.Add($entry)
    $true
}

function Add-Unread([string]$Path, [string]$Kind, $Failure, $State) {
    # kind: directory, file, or path (a path given that could not even be looked at)
    $State.unread.Add(@{ path = $Path; kind = $Kind; error = $Failure })
}

function Read-ScriptDirectory($Directory, $State) {
    # Children in ordinal order, depth first; false when listing stops. A reparse point is listed, not followed.
    $key = $Directory.FullName.ToUpperInvariant()
    if ($State.visited.Contains($key)) { return $true }
    $null = $State.visited.Add($key)
    try { $children = @($Directory.EnumerateFileSystemInfos()) }
    catch { Add-Unread $Directory.FullName 'directory' (ConvertTo-OpError $_ 'FILE') $State; return $true }
    $names = [string[]]@(foreach ($c in $children) { $c.Name })
    $sorted = [object[]]$children
    [Array]::Sort($names, $sorted, [StringComparer]::Ordinal)
    foreach ($child in $sorted) {
        $kind = if ($child -is [System.IO.DirectoryInfo]) { 'directory' } else { 'file' }
        if ($child.Attributes -band [System.IO.FileAttributes]::ReparsePoint) {
            $why = "'$($child.FullName)' is a junction or symbolic link; not followed (it may loop or lead off the host)"
            Add-Unread $child.FullName $kind (Format-OpError 'REPARSE_POINT' $why) $State
            continue
        }
        if ($kind -eq 'directory') {
            if (-not (Read-ScriptDirectory $child $State)) { return $false }
            continue
        }
        $name = $child.Name
        if (@($State.operation.patterns | Where-Object { $name -like $_ }).Count -eq 0) { continue }
        if (-not (Add-ScriptFile $child $State)) { return $false }
    }
    $true
}

function Get-ScriptFile($Operation) {
    # No error ends the op: under Ansible's $ErrorActionPreference = 'Stop' one Test-Path or Get-ChildItem failure
    # (a long path, a ':' in a name, access denied) would otherwise fail it whole.
    $state = @{ operation = $Operation; files = [System.Collections.Generic.List[object]]@(); total = [long]0
        unread = [System.Collections.Generic.List[object]]@(); stopped = $null
        visited = New-Object System.Collections.Generic.HashSet[string] -ArgumentList @([StringComparer]::Ordinal) }
    foreach ($path in $Operation.paths) {
        if ($state.stopped) { break }
        $item = $null
        try { $item = Get-Item -LiteralPath $path -Force -ErrorAction Stop }
        catch [System.Management.Automation.ItemNotFoundException] {
            $entry = New-FileEntry $path
            $entry.error = Format-OpError 'NOT_FOUND' "'$path' does not exist"
            $state.files.Add($entry)
            continue
        }
        catch { Add-Unread $path 'path' (ConvertTo-OpError $_ 'FILE') $state; continue }
        if ($item -is [System.IO.DirectoryInfo]) { $null = Read-ScriptDirectory $item $state }
        else { $null = Add-ScriptFile $item $state }
    }
    @{ files = $state.files; stopped = $state.stopped; unread = $state.unread; ansi_code_page = (Get-AnsiCodePage) }
}

Export-ModuleMember -Function @('Get-ScriptFile')
