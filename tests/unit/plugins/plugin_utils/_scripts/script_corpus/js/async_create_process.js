/* Starts a logger whenever a USB disk arrives. */
var svc = GetObject("winmgmts:{impersonationLevel=impersonate}!\\\\.\\root\\cimv2");
var sink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_");
svc.ExecNotificationQueryAsync(sink,
    "SELECT * FROM __InstanceCreationEvent WITHIN 5 WHERE TargetInstance ISA 'Win32_LogicalDisk'");
while (true) { WScript.Sleep(1000); }

function SINK_OnObjectReady(event, context) {
    var process = GetObject("winmgmts:Win32_Process");
    process.Create("C:\\Tools\\usblog.exe " + event.TargetInstance.DeviceID, null, null, 0);
}
