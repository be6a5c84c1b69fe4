$query = New-Object System.Management.WqlEventQuery "__InstanceCreationEvent", (New-TimeSpan -Seconds 2), "TargetInstance ISA 'Win32_Process'"
$watcher = New-Object System.Management.ManagementEventWatcher $query
Register-ObjectEvent -InputObject $watcher -EventName EventArrived -SourceIdentifier ProcStart -Action {
    $process = $Event.SourceEventArgs.NewEvent.TargetInstance
    Stop-Process -Id $process.ProcessId -Force
}
$watcher.Start()
