' inventory.vbs - collects the OS caption of every server in the Servers OU.
' Written for Windows 2000; uses the ADSI extension for WMI (GetWMIServices is not used here).
Option Explicit
Dim objComputer, objWmi, strPath

Set objComputer = GetObject("LDAP://CN=APP03,OU=Servers,DC=corp,DC=example,DC=com")
strPath = objComputer.WMIObjectPath
WScript.Echo "Object path: " & strPath
Set objWmi = objComputer.GetWMIObject()
WScript.Echo objWmi.Caption & " " & objWmi.Manufacturer
