' The semisynchronous rewrite of an event watcher: no sink, no callbacks through unsecapp.exe.
Set objWMIService = GetObject("winmgmts:{impersonationLevel=impersonate}!//file02.corp.example.com/root/cimv2")
Set colEvents = objWMIService.ExecNotificationQuery( _
    "SELECT * FROM __InstanceModificationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_Service'")
Do
    Set objEvent = colEvents.NextEvent()
    WScript.Echo objEvent.TargetInstance.Name & " is now " & objEvent.TargetInstance.State
Loop
