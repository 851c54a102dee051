"""Exercise kinds: question.kind, code, language and exercise; the attempt on review and mock_item

Revision ID: 5d1e2f3a4b6c
Revises: 3c5e7a9b1d2f
Create Date: 2026-12-07 23:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1e2f3a4b6c'
down_revision = '3c5e7a9b1d2f'
branch_labels = None
depends_on = None


def upgrade():
    # Existing questions become recall cards: nothing about their progress changes.
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='recall', nullable=False))
        batch_op.add_column(sa.Column('code', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('exercise', sa.JSON(), nullable=True))
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('correct', sa.Boolean(), nullable=True))
    with op.batch_alter_table('mock_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('mock_item', schema=None) as batch_op:
        batch_op.drop_column('attempt')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_column('correct')
        batch_op.drop_column('attempt')
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_column('exercise')
        batch_op.drop_column('language')
        batch_op.drop_column('code')
        batch_op.drop_column('kind')
