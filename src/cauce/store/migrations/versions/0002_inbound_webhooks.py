"""inbound_webhooks: raw provider webhooks stored before they are answered

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import cauce.store.base
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_webhooks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('received_at', cauce.store.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('processed_at', cauce.store.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_webhooks'))
    )
    with op.batch_alter_table('inbound_webhooks', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_webhooks_pending', ['id'], unique=False, postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
        batch_op.create_index('ix_inbound_webhooks_processed', ['processed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbound_webhooks', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_webhooks_processed')
        batch_op.drop_index('ix_inbound_webhooks_pending', postgresql_where=sa.text("status = 'pending'"), sqlite_where=sa.text("status = 'pending'"))
    op.drop_table('inbound_webhooks')
