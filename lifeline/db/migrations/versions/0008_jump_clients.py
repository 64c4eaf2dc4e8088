"""jump clients

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 18:35:42.946170
"""

import sqlalchemy as sa
from alembic import op

import lifeline.db.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jump_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('comments', sa.String(length=1024), nullable=False),
    sa.Column('created_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jump_groups')),
    sa.UniqueConstraint('name', name=op.f('uq_jump_groups_name'))
    )
    op.create_table('jump_group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('jump_group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['jump_group_id'], ['jump_groups.id'], name=op.f('fk_jump_group_members_jump_group_id_jump_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_jump_group_members_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jump_group_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jump_group_members')),
    sa.UniqueConstraint('jump_group_id', 'user_id', 'team_id', name=op.f('uq_jump_group_members_jump_group_id'))
    )
    with op.batch_alter_table('jump_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jump_group_members_jump_group_id'), ['jump_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_group_members_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_group_members_user_id'), ['user_id'], unique=False)

    op.create_table('jump_installers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_sha256', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('jump_group_id', sa.Integer(), nullable=True),
    sa.Column('personal_user_id', sa.Integer(), nullable=True),
    sa.Column('public_site_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('comments', sa.String(length=1024), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=False),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('expires_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.Column('installs', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_jump_installers_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['jump_group_id'], ['jump_groups.id'], name=op.f('fk_jump_installers_jump_group_id_jump_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['personal_user_id'], ['users.id'], name=op.f('fk_jump_installers_personal_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['public_site_id'], ['public_sites.id'], name=op.f('fk_jump_installers_public_site_id_public_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jump_installers')),
    sa.UniqueConstraint('key_sha256', name=op.f('uq_jump_installers_key_sha256'))
    )
    with op.batch_alter_table('jump_installers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jump_installers_jump_group_id'), ['jump_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_installers_personal_user_id'), ['personal_user_id'], unique=False)

    op.create_table('jump_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('installer_id', sa.Integer(), nullable=True),
    sa.Column('jump_group_id', sa.Integer(), nullable=True),
    sa.Column('personal_user_id', sa.Integer(), nullable=True),
    sa.Column('public_site_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('comments', sa.String(length=1024), nullable=False),
    sa.Column('tag', sa.String(length=255), nullable=False),
    sa.Column('consent_required', sa.Boolean(), nullable=False),
    sa.Column('hostname', sa.String(length=255), nullable=False),
    sa.Column('os', sa.String(length=1024), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('private_ip', sa.String(length=64), nullable=False),
    sa.Column('public_ip', sa.String(length=64), nullable=False),
    sa.Column('timezone_offset', sa.Integer(), nullable=False),
    sa.Column('client_version', sa.String(length=64), nullable=False),
    sa.Column('console_user', sa.String(length=255), nullable=False),
    sa.Column('cpu', sa.Float(), nullable=True),
    sa.Column('disk', sa.Float(), nullable=True),
    sa.Column('uptime', sa.Integer(), nullable=True),
    sa.Column('thumbnail', sa.Text(), nullable=False),
    sa.Column('installed_at', lifeline.db.base.UtcDateTime(), nullable=False),
    sa.Column('connected_at', lifeline.db.base.UtcDateTime(), nullable=True),
    sa.Column('last_seen_at', lifeline.db.base.UtcDateTime(), nullable=True),
    sa.Column('connected_node', sa.String(length=64), nullable=True),
    sa.Column('revoked_at', lifeline.db.base.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['installer_id'], ['jump_installers.id'], name=op.f('fk_jump_clients_installer_id_jump_installers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['jump_group_id'], ['jump_groups.id'], name=op.f('fk_jump_clients_jump_group_id_jump_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['personal_user_id'], ['users.id'], name=op.f('fk_jump_clients_personal_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['public_site_id'], ['public_sites.id'], name=op.f('fk_jump_clients_public_site_id_public_sites'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jump_clients')),
    sa.UniqueConstraint('public_key', name=op.f('uq_jump_clients_public_key'))
    )
    with op.batch_alter_table('jump_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jump_clients_connected_node'), ['connected_node'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_clients_hostname'), ['hostname'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_clients_jump_group_id'), ['jump_group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_clients_last_seen_at'), ['last_seen_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_clients_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_jump_clients_personal_user_id'), ['personal_user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('perm_jump_deploy', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('perm_jump_deploy')

    with op.batch_alter_table('jump_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jump_clients_personal_user_id'))
        batch_op.drop_index(batch_op.f('ix_jump_clients_name'))
        batch_op.drop_index(batch_op.f('ix_jump_clients_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_jump_clients_jump_group_id'))
        batch_op.drop_index(batch_op.f('ix_jump_clients_hostname'))
        batch_op.drop_index(batch_op.f('ix_jump_clients_connected_node'))

    op.drop_table('jump_clients')
    with op.batch_alter_table('jump_installers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jump_installers_personal_user_id'))
        batch_op.drop_index(batch_op.f('ix_jump_installers_jump_group_id'))

    op.drop_table('jump_installers')
    with op.batch_alter_table('jump_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jump_group_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_jump_group_members_team_id'))
        batch_op.drop_index(batch_op.f('ix_jump_group_members_jump_group_id'))

    op.drop_table('jump_group_members')
    op.drop_table('jump_groups')
