"""question.uid (a permanent id for Anki GUIDs, bank files and data imports) and question.updated_at

Revision ID: a4c2e8f01b37
Revises: 7d2e4f6a8b1c
Create Date: 2026-12-08 01:00:00.000000

"""
import uuid
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c2e8f01b37'
down_revision = '7d2e4f6a8b1c'
branch_labels = None
depends_on = None

# A copy of careerprep.models.catalogue.UID_NAMESPACE as it was at this revision: an existing question
# gets the id a fresh server seeded from the same banks would give it (uuid5 of role/set/key).
UID_NAMESPACE = uuid.UUID("6f1c1a52-8a4e-5b7e-9d3c-2f0d8e6b4a11")


def upgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uid', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT question.id, role.slug, question_set.slug, question.key FROM question "
            "JOIN question_set ON question_set.id = question.set_id JOIN role ON role.id = question_set.role_id"
        )
    ).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    update = sa.text("UPDATE question SET uid = :uid, updated_at = :now WHERE id = :id")
    for qid, role_slug, set_slug, key in rows:
        uid = uuid.uuid5(UID_NAMESPACE, f"{role_slug}/{set_slug}/{key}").hex
        bind.execute(update, {"uid": uid, "now": now, "id": qid})
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.alter_column('uid', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_question_uid'), ['uid'])


def downgrade():
    with op.batch_alter_table('question', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_question_uid'), type_='unique')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('uid')
