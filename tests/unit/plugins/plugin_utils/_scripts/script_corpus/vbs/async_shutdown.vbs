Option Explicit
Dim svc, sink, sh
Set svc = GetObject("winmgmts:{impersonationLevel=impersonate,(Shutdown)}!\\.\root\cimv2")
Set sink = CreateObject("WbemScripting.SWbemSink")
WScript.ConnectObject sink, "EVT_"
svc.ExecQueryAsync sink, "SELECT * FROM Win32_OperatingSystem"
WScript.Sleep 60000

Sub EVT_OnObjectReady(objOS, objContext)
    Set sh = CreateObject("WScript.Shell")
    sh.RegWrite "HKLM\SOFTWARE\Contoso\LastShutdown", Now, "REG_SZ"
    objOS.Win32Shutdown 5
End Sub
