"""user.study_version: moved by triggers on card_state and card_flag, so the dashboard reuses its card summary

Revision ID: 7d2e4f6a8b1c
Revises: 5d8b2e4f6a10
Create Date: 2026-12-08 00:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2e4f6a8b1c'
down_revision = '5d8b2e4f6a10'
branch_labels = None
depends_on = None

# The triggers as careerprep.models.study.STUDY_VERSION_TRIGGERS had them at this revision (a migration
# keeps its own copy: later changes to the model must not change what this revision did).
TABLES = ("card_state", "card_flag")
STUDY_VERSION_TRIGGERS = {
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS {table}_study_version_{event} AFTER {event.upper()} ON {table}
        BEGIN UPDATE "user" SET study_version = study_version + 1 WHERE id IN ({rows}); END"""
        for table in TABLES
        for event, rows in (
            ("insert", "NEW.user_id"),
            ("update", "OLD.user_id, NEW.user_id"),
            ("delete", "OLD.user_id"),
        )
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION study_version() RETURNS trigger AS $$
        BEGIN
          IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE "user" SET study_version = study_version + 1 WHERE id = NEW.user_id;
          END IF;
          IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id) THEN
            UPDATE "user" SET study_version = study_version + 1 WHERE id = OLD.user_id;
          END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql""",
        *(
            f"""CREATE TRIGGER {table}_study_version AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION study_version()"""
            for table in TABLES
        ),
    ],
}
DROP_STUDY_VERSION_TRIGGERS = {
    "sqlite": [
        f"DROP TRIGGER IF EXISTS {table}_study_version_{event}"
        for table in TABLES
        for event in ("insert", "update", "delete")
    ],
    "postgresql": [
        "DROP TRIGGER IF EXISTS card_state_study_version ON card_state",
        "DROP TRIGGER IF EXISTS card_flag_study_version ON card_flag",
        "DROP FUNCTION IF EXISTS study_version()",
    ],
}


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('study_version', sa.Integer(), server_default='0', nullable=False))
    for statement in STUDY_VERSION_TRIGGERS.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in DROP_STUDY_VERSION_TRIGGERS.get(dialect, []):
        op.execute(statement)
    if dialect == 'sqlite':
        # Not batch mode: rebuilding "user" would break the review table's triggers, which name it.
        # SQLite has dropped columns in place since 3.35.
        op.execute('ALTER TABLE "user" DROP COLUMN study_version')
    else:
        op.drop_column('user', 'study_version')
