' Asynchronous enumeration, the pattern of "Making an Asynchronous Call with VBScript" (Microsoft Learn).
Set objWMIService = GetObject("winmgmts:{impersonationLevel=impersonate}!\\.\root\cimv2")
Set objSink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")
objWMIService.InstancesOfAsync objSink, "Win32_Service"
WScript.Echo "Waiting for instances."
Do While Not bDone
    WScript.Sleep 1000
Loop

Sub SINK_OnObjectReady(objObject, objAsyncContext)
    WScript.Echo objObject.DisplayName
End Sub

Sub SINK_OnCompleted(iHResult, objErrorObject, objAsyncContext)
    bDone = True
End Sub
