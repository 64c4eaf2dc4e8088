"""Storage: the engine, the declarative base, migrations and the unit of work."""
