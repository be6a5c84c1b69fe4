$locator = New-Object -ComObject WbemScripting.SWbemLocator
$services = $locator.ConnectServer('.', 'root\cimv2')
$sink = New-Object -ComObject WbemScripting.SWbemSink
$services.ExecQueryAsync($sink, 'SELECT * FROM Win32_Service')
Start-Sleep -Seconds 10
