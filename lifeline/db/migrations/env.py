"""Alembic environment: runs migrations on the connection `lifeline.db.migrate` hands over.

Upgrading needs no models. An autogenerate run hands over the appliance's metadata
(`lifeline.backup.schema.metadata`) as the `target_metadata` attribute: db/ sits below the
domains and does not import their tables."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=context.config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite can only ALTER through table copies
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
