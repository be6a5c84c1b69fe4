// ExecQuery with wbemFlagForwardOnly | wbemFlagReturnImmediately (0x30): semisynchronous.
var service = GetObject("winmgmts:\\\\.\\root\\cimv2");
var items = new Enumerator(service.ExecQuery("SELECT * FROM Win32_Service", "WQL", 0x30));
var total = items.count
/ 2; // GetWMIServices() would be the removed extension
var re = /ExecQueryAsync\(sink\)/g;
var o = { GetWMIObject: 1 };
var label = o["GetWMIObjectCount"];
for (; !items.atEnd(); items.moveNext()) WScript.Echo(items.item().Name);
