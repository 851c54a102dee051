"""review.detected (the key points the detector found in the draft) and question.key_point_terms (the
bank author's alternatives and required terms per key point)

Revision ID: a4c6e8f0b2d3
Revises: a4c2e8f01b37
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c6e8f0b2d3'
down_revision = 'a4c2e8f01b37'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (nullable, no default): no table rebuild, so the review table's triggers stay.
    op.add_column('review', sa.Column('detected', sa.JSON(), nullable=True))
    op.add_column('question', sa.Column('key_point_terms', sa.JSON(), nullable=True))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: rebuilding review would drop its triggers. SQLite drops columns in place since 3.35.
        op.execute('ALTER TABLE question DROP COLUMN key_point_terms')
        op.execute('ALTER TABLE review DROP COLUMN detected')
    else:
        op.drop_column('question', 'key_point_terms')
        op.drop_column('review', 'detected')
