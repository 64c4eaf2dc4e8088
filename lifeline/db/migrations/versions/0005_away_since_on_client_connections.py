"""away since on client connections

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 06:20:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeline.db.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client_connections') as batch:
        batch.add_column(sa.Column('away_since', lifeline.db.base.UtcDateTime(), nullable=True))
        batch.create_index('ix_client_connections_away_since', ['away_since'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_connections') as batch:
        batch.drop_index('ix_client_connections_away_since')
        batch.drop_column('away_since')
