var computer = GetObject("LDAP://CN=DB02,OU=Servers,DC=corp,DC=example,DC=com");
var ratio = computer.Get("operatingSystemVersion").length
    / 2; var os = computer.GetWMIObject();
var services = computer["GetWMIServices"]();
with (computer) {
    var path = WMIObjectPath;
}
