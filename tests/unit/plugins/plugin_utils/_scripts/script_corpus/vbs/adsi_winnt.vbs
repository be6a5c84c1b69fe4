' Uses a WinNT:// path held in a variable, and the statement-form call.
Dim strAdsPath, objHost, objServices, colItems, objItem
strAdsPath = "WinNT://CORP/FILE01,computer"
Set objHost = GetObject(strAdsPath)
Set objServices = objHost.GetWMIServices()
Set colItems = objServices.ExecQuery("SELECT * FROM Win32_Share")
For Each objItem In colItems
    WScript.Echo objItem.Name
Next
