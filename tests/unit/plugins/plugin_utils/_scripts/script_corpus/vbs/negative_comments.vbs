' Nothing here is a finding: every risky word is in a comment or a string literal.
' Set objComputer = GetObject("LDAP://CN=X,DC=corp,DC=com") : objComputer.GetWMIObject()
Rem objWMIService.ExecNotificationQueryAsync objSink, strQuery
REM Set objSink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")
Dim Remove, strHelp, svc, colProcs, objProc
Remove = 1 : Rem the variable above is not a comment, this remark is
strHelp = "Old scripts called objComputer.WMIObjectPath or .GetWMIServices() - see the guide."
strHelp = strHelp & " Do not use ""SINK_OnObjectReady"" handlers or ExecQueryAsync."
WScript.Echo strHelp ' objComputer.GetWMIObject() would fail on Windows Server 2003
Set svc = GetObject("winmgmts:{impersonationLevel=impersonate}!//mgmt01.corp.example.com/root/cimv2")
Set colProcs = svc.ExecQuery("SELECT * FROM Win32_Process", "WQL", 48)
For Each objProc In colProcs
    WScript.Echo objProc.Name
Next
