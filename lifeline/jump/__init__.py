"""Jump Clients and Jumpoints: the Lifeline client installed to stay, for unattended access.

`models` holds the tables, `live` the events that cross appliance processes; the socket is
`lifeline/realtime/jump.py`, the console's Jump requests `lifeline/realtime/jump_console.py`.
"""
