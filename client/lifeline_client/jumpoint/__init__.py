"""A Jumpoint's work: Shell Jumps (command shells that are SSH sessions to a host of its
network) and local pushes (the customer client copied to such a host and started there)."""
