' Kills any copy of notepad.exe the moment it starts.
Set objWMIService = GetObject("winmgmts:{impersonationLevel=impersonate}!\\.\root\cimv2")
Set objSink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")
objWMIService.ExecNotificationQueryAsync objSink, _
    "SELECT * FROM __InstanceCreationEvent WITHIN 2 WHERE TargetInstance ISA 'Win32_Process'"
WScript.Echo "Waiting for processes..."
Do
    WScript.Sleep 1000
Loop

Sub SINK_OnObjectReady(objEvent, objAsyncContext)
    If LCase(objEvent.TargetInstance.Name) = "notepad.exe" Then
        objEvent.TargetInstance.Terminate()
    End If
End Sub

Sub SINK_OnCompleted(iHResult, objErrorObject, objAsyncContext)
    WScript.Echo "Done: " & iHResult
End Sub
