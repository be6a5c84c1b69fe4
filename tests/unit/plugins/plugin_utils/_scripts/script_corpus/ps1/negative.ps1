# Register-WmiEvent -Query $q -Action { Restart-Computer }  (the old way; do not)
<#
   $computer = [ADSI]"LDAP://CN=X,DC=corp,DC=com"
   $computer.GetWMIObject()
#>
$help = @"
Old scripts used `$computer.WMIObjectPath and Register-CimIndicationEvent -Action { Stop-Process }.
"@
$note = 'Replace $svc.ExecQueryAsync($sink, $q) with a semisynchronous query'
$also = "Use ""ExecNotificationQuery"" and NextEvent, not `"SWbemSink`""
Get-WmiObject -Class Win32_OperatingSystem | Select-Object Caption
$watcher = [System.Management.ManagementEventWatcher]::new("SELECT * FROM Win32_ProcessStartTrace")
$event = $watcher.WaitForNextEvent()
Write-Output $help $note $also $event.ProcessName
