"""WebSocket endpoints of the consoles and customer clients, and the hub that feeds them."""
