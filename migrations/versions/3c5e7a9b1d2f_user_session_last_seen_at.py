"""user_session.last_seen_at: when each sign-in was last used, for idle expiry and the account page

Revision ID: 3c5e7a9b1d2f
Revises: f1a7c3d9e2b4
Create Date: 2026-12-07 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c5e7a9b1d2f'
down_revision = 'f1a7c3d9e2b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True))
    # Existing sign-ins were last seen, as far as we know, when they began.
    op.execute('UPDATE user_session SET last_seen_at = created_at')


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')
