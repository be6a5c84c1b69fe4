# Reads the computer's WMI object through the ADSI extension (Windows 2000 era).
$computer = [ADSI]"LDAP://CN=HV01,OU=Hosts,DC=corp,DC=example,DC=com"
$system = $computer.GetWMIObject()
Write-Output $system.Model

$local = New-Object System.DirectoryServices.DirectoryEntry("WinNT://HV01,computer")
Write-Output $local.WMIObjectPath
