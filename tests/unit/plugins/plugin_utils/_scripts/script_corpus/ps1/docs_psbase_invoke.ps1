# ADSI from PowerShell: an ADSI object's methods are called through psbase.Invoke.
$computer = [ADSI]"LDAP://CN=APP05,OU=Servers,DC=corp,DC=example,DC=com"
Write-Verbose step#1; $path = $computer.psbase.Invoke("WMIObjectPath")
$wmi = $computer."GetWMIObject"()
$services = $computer.Get`WMIServices()
