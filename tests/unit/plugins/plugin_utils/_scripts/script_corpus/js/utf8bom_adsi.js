// UTF-8 with a BOM; the text is in German: Überwachung der Dienste
var rechner = GetObject("WinNT://CORP/DRUCK01,computer");
var system = rechner.GetWMIObject();
WScript.Echo("Hersteller: " + system.Manufacturer);
