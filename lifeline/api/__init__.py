"""The XML APIs (command, reporting, backup), OAuth, and the scripts integrators embed."""
