"""The appliance itself: its settings, identity, the nodes running it, and change stamps."""
