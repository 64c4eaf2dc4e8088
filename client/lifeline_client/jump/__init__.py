"""The Jump Client: the Lifeline client installed to stay on a computer (`lifeline-client
jump install|run|uninstall`), holding one light `/ws/jump` socket to its appliance."""
