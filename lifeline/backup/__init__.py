"""Backups of an appliance (`.nsb` archives) and restoring them into a new one."""
