"""activity_day: the dashboard's roll-up of closed days, kept honest by triggers on review;
the visible-question index gains the id (index-only scans on PostgreSQL)

Revision ID: f1a7c3d9e2b4
Revises: d433e6623d3f
Create Date: 2026-11-21 10:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# The triggers as they were when this revision was written (frozen here: a migration must not change
# when the models do).
REVIEW_TRIGGERS = {
    'sqlite': [
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_insert AFTER INSERT ON review
        WHEN NEW.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = NEW.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id = NEW.user_id; END""",
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_delete AFTER DELETE ON review
        WHEN OLD.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = OLD.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id = OLD.user_id; END""",
        """CREATE TRIGGER IF NOT EXISTS review_closed_day_update
        AFTER UPDATE OF user_id, reviewed_at, rating, prev_state, duration_ms ON review
        WHEN OLD.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = OLD.user_id)
          OR NEW.reviewed_at < (SELECT activity_boundary FROM "user" WHERE id = NEW.user_id)
        BEGIN UPDATE "user" SET activity_boundary = NULL WHERE id IN (OLD.user_id, NEW.user_id); END""",
    ],
    'postgresql': [
        """CREATE OR REPLACE FUNCTION review_closed_day() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE "user" SET activity_boundary = NULL
            WHERE id = NEW.user_id AND activity_boundary > NEW.reviewed_at;
          END IF;
          IF TG_OP IN ('DELETE', 'UPDATE') THEN
            UPDATE "user" SET activity_boundary = NULL
            WHERE id = OLD.user_id AND activity_boundary > OLD.reviewed_at;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
        """CREATE TRIGGER review_closed_day
        AFTER INSERT OR DELETE OR UPDATE OF user_id, reviewed_at, rating, prev_state, duration_ms ON review
        FOR EACH ROW EXECUTE FUNCTION review_closed_day()""",
    ],
}
DROP_REVIEW_TRIGGERS = {
    'sqlite': [
        """DROP TRIGGER IF EXISTS review_closed_day_insert""",
        """DROP TRIGGER IF EXISTS review_closed_day_delete""",
        """DROP TRIGGER IF EXISTS review_closed_day_update""",
    ],
    'postgresql': [
        """DROP TRIGGER IF EXISTS review_closed_day ON review""",
        """DROP FUNCTION IF EXISTS review_closed_day()""",
    ],
}


# revision identifiers, used by Alembic.
revision = 'f1a7c3d9e2b4'
down_revision = 'd433e6623d3f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'activity_day',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.Column('review_state', sa.Integer(), nullable=False),
        sa.Column('ms', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_activity_day_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('user_id', 'day', 'rating', name=op.f('pk_activity_day')),
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activity_zone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('activity_boundary', sa.DateTime(timezone=True), nullable=True))
    for statement in REVIEW_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    # The visible-question index carries the id, so PostgreSQL can answer from the index alone.
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_set_visible')
        batch_op.create_index(
            'ix_question_set_visible', ['set_id', 'archived', 'difficulty', 'position', 'id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_index('ix_question_set_visible')
        batch_op.create_index(
            'ix_question_set_visible', ['set_id', 'archived', 'difficulty', 'position'], unique=False
        )
    for statement in DROP_REVIEW_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('activity_boundary')
        batch_op.drop_column('activity_zone')
    op.drop_table('activity_day')
