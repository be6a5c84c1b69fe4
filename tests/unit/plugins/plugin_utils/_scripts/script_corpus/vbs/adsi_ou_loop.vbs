Set objOU = GetObject("LDAP://OU=Workstations,DC=corp,DC=example,DC=com")
objOU.Filter = Array("Computer")
For Each objComputer In objOU
    Set objSystem = objComputer.GetWMIObject()
    WScript.Echo objComputer.CN & ": " & objSystem.UserName
Next
