// Negative cases: the words appear in comments, strings and regular expressions only.
/* var sink = WScript.CreateObject("WbemScripting.SWbemSink", "SINK_");
   svc.ExecNotificationQueryAsync(sink, q); computer.GetWMIObject(); */
var pattern = /\.GetWMIObject\(|ExecQueryAsync/i;
var message = "Replace computer.WMIObjectPath and \"ExecQueryAsync\" calls";
var quoted = 'It\'s not svc.InstancesOfAsync(sink) either';
var ratio = 10 / 2 / 5;
var helper = {};
helper.GetWMIObject = function (name) { return GetObject("winmgmts:Win32_ComputerSystem.Name='" + name + "'"); };
var cs = helper.GetWMIObject("APP01");
WScript.Echo(pattern.test(message) + " " + quoted + " " + ratio + " " + cs.Name);
