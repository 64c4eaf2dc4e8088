"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from lifeline.backup.schema import metadata
from lifeline.bootstrap import open_database
from lifeline.config import Config, normalize_database_url
from tests.support.appliance import ScratchDatabase


def test_the_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    scratch = ScratchDatabase(tmp_path)
    db = open_database(
        Config(data_dir=tmp_path / "data", database_url=normalize_database_url(scratch.url) if scratch.url else "")
    )
    try:
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert differences == []
    finally:
        db.close()
        scratch.drop()
