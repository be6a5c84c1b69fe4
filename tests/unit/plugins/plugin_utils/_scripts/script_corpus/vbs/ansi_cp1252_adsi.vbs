' ANSI (Windows-1252): Détails de l'ordinateur - évaluation
Set objOrdinateur = GetObject("LDAP://CN=IMPR01,OU=Serveurs,DC=corp,DC=exemple,DC=fr")
Set objSysteme = objOrdinateur.GetWMIObject()
WScript.Echo "Modèle : " & objSysteme.Model & " € " & Chr(128)
