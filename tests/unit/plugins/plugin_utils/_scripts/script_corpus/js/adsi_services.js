// services.js - lists the services of a computer found in Active Directory.
var computer = GetObject("LDAP://CN=SQL01,OU=Servers,DC=corp,DC=example,DC=com");
WScript.Echo("Path: " + computer.WMIObjectPath);
var services = computer.GetWMIServices();
var e = new Enumerator(services.InstancesOf("Win32_Service"));
for (; !e.atEnd(); e.moveNext()) {
    WScript.Echo(e.item().Name);
}
