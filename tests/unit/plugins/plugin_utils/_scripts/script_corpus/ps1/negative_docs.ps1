# Semisynchronous WMI in PowerShell: Get-CimInstance, and a watcher polled with WaitForNextEvent.
$services = Get-CimInstance -ClassName Win32_Service  # not $c.GetWMIObject()
$watcher = New-Object System.Management.ManagementEventWatcher "SELECT * FROM __InstanceCreationEvent WITHIN 2"
$next = $watcher.WaitForNextEvent()
Write-Output build#2 "ExecQueryAsync is not called here"
$timer = New-Object System.Timers.Timer
Register-ObjectEvent -InputObject $timer -EventName Elapsed -Action { Write-Host tick }
$timer.Start()
