"""client transfers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

import lifeline.db.base


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('client_transfers',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rep_gsnumber', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('path', sa.String(length=4096), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('received', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=1024), nullable=False),
    sa.Column('created_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.Column('updated_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['support_sessions.id'], name=op.f('fk_client_transfers_session_id_support_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_transfers'))
    )
    with op.batch_alter_table('client_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_transfers_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_client_transfers_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_transfers_updated_at'))
        batch_op.drop_index(batch_op.f('ix_client_transfers_session_id'))

    op.drop_table('client_transfers')
