"""recording: transcribed spoken answers; user.keep_recordings (off by default)

Revision ID: a3c5e7f9b1d2
Revises: a4c6e8f0b2d3
Create Date: 2026-12-08 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c5e7f9b1d2'
down_revision = 'a4c6e8f0b2d3'
branch_labels = None
depends_on = None


def upgrade():
    # Not batch mode: rebuilding "user" would break the review table's triggers, which name it.
    op.add_column('user', sa.Column('keep_recordings', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.create_table(
        'recording',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=False),
        sa.Column('mock_id', sa.Integer(), nullable=True),
        sa.Column('job_id', sa.String(length=80), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('transcript', sa.Text(), nullable=False),
        sa.Column('words', sa.JSON(), nullable=False),
        sa.Column('duration', sa.Float(), nullable=False),
        sa.Column('audio_file', sa.String(length=120), nullable=True),
        sa.ForeignKeyConstraint(['mock_id'], ['mock_interview.id'], name=op.f('fk_recording_mock_id_mock_interview'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['question_id'], ['question.id'], name=op.f('fk_recording_question_id_question')),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_recording_user_id_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recording')),
        sa.UniqueConstraint('job_id', name=op.f('uq_recording_job_id')),
    )
    op.create_index(op.f('ix_recording_user_id'), 'recording', ['user_id'], unique=False)
    op.create_index(op.f('ix_recording_mock_id'), 'recording', ['mock_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_recording_mock_id'), table_name='recording')
    op.drop_index(op.f('ix_recording_user_id'), table_name='recording')
    op.drop_table('recording')
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: rebuilding "user" would break the review table's triggers, which name it.
        # SQLite has dropped columns in place since 3.35.
        op.execute('ALTER TABLE "user" DROP COLUMN keep_recordings')
    else:
        op.drop_column('user', 'keep_recordings')
