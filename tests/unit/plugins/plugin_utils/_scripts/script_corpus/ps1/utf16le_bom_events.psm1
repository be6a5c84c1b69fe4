function Watch-Volume {
    # Queues volume events; the caller reads them with Wait-Event.
    Register-WmiEvent -Class Win32_VolumeChangeEvent -SourceIdentifier VolumeChange
}
Export-ModuleMember -Function Watch-Volume
