' Saved by Notepad as "Unicode": UTF-16 LE with a byte order mark.
Set objWMIService = GetObject("winmgmts:\\.\root\cimv2")
Set objSink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_")
objWMIService.ExecQueryAsync objSink, "SELECT * FROM Win32_NTLogEvent WHERE Logfile = 'System'"
Sub SINK_OnObjectReady(objEvent, objContext)
    WScript.Echo objEvent.Message
End Sub
