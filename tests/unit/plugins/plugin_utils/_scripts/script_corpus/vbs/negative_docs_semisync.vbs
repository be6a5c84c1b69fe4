' Semisynchronous, the pattern of "Making a Semisynchronous Call with VBScript" (Microsoft Learn): flags 48.
Set objWMIService = GetObject("winmgmts:\\.\root\cimv2")
Set colItems = objWMIService.ExecQuery("SELECT * FROM Win32_Service", , 48)
For Each objItem In colItems
    WScript.Echo objItem.Name & " [GetWMIObject]"   ' not ExecQueryAsync, not WMIObjectPath
Next
Rem Set s = CreateObject("WbemScripting.SWbemSink")
x = [Async_Count] + 1
strName = CallByName(objItem, "Name", VbGet)
