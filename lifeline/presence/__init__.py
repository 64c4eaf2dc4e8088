"""Who is connected right now: representatives, customers and other clients, and their gsnumbers."""
