"""Pages: the public site, the representative console, the customer chat client."""
