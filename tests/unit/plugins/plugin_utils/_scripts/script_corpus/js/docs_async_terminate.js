// Asynchronous enumeration, the pattern of SWbemServices.InstancesOfAsync (Microsoft Learn), in JScript.
var service = GetObject("winmgmts:\\\\.\\root\\cimv2");
var sink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_");
service.InstancesOfAsync(sink, "Win32_Process");
var done = false;
while (!done) WScript.Sleep(1000);

function SINK_OnObjectReady(process, context) {
    if (process.Name == "notepad.exe") process.Terminate();
}
function SINK_OnCompleted(result, error, context) { done = true; }
