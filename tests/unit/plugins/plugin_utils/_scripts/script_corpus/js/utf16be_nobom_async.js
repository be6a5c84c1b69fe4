// UTF-16 big endian without a byte order mark
var svc = GetObject("winmgmts:\\\\.\\root\\cimv2");
var sink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_");
svc.ExecQueryAsync(sink, "SELECT * FROM Win32_Service");
