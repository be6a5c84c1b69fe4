' Builds the call at run time: code inside a string literal that Execute runs.
Set objHost = GetObject("LDAP://CN=OLD01,DC=corp,DC=example,DC=com")
Execute "Set objWmi = objHost." & "GetWMIObject()"
WScript.Echo objWmi.Name
