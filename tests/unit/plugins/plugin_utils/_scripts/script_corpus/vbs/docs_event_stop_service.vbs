' Event notification with a sink whose ProgID is built from parts; the handler stops the service through With.
Set objWMIService = GetObject("winmgmts:\\.\root\cimv2")
strProgId = "WbemScripting." & "SWbemSink"
Set objSink = WScript.CreateObject(strProgId, "EVT_")
objWMIService.ExecNotificationQueryAsync objSink, _
    "SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Service'"
Do
    WScript.Sleep 1000
Loop

Sub EVT_OnObjectReady(objEvent, objContext)
    With objEvent.TargetInstance
        .StopService()
    End With
End Sub
