"""The tablet without the server: the installable app (its manifest and icons) and, as #37 grows, what a device
keeps to open, start, fill, sign and submit an inspection offline. Blueprint `offline`."""
