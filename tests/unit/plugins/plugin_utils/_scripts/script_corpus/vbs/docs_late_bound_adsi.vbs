' Inventory through the ADSI extension, late-bound (CallByName) and with a bracketed identifier.
Set objComputer = GetObject("LDAP://CN=WEB01,OU=Servers,DC=corp,DC=example,DC=com")
strPath = CallByName(objComputer, "WMIObjectPath", VbGet)
Set objWmi = objComputer.[GetWMIObject]()
WScript.Echo strPath, objWmi.Name
