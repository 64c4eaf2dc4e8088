"""Lifeline: a self-hosted remote support appliance that speaks the Bomgar remote-support API."""

__version__ = "0.1.0"
