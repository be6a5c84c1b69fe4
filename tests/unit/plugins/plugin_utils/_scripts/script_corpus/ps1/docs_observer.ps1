$observer = New-Object System.Management.ManagementOperationObserver
$searcher = [System.Management.ManagementObjectSearcher]::new("SELECT * FROM Win32_Service")
$searcher.Get($observer)
