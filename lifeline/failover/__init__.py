"""Failover: a primary and a backup appliance, the backup's copy of the primary's data, and
the role each plays. See docs/failover.md."""
