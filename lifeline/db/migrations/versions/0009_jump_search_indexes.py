"""jump sessions know their Jump Client

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 18:50:00.000000
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('support_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('jump_client_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_support_sessions_jump_client_id'), ['jump_client_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('support_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_sessions_jump_client_id'))
        batch_op.drop_column('jump_client_id')
