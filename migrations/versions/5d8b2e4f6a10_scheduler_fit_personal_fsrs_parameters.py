"""scheduler_fit: fitted FSRS parameters per user and per role; Easy Days, load balancing and the
opt-out from role defaults on user

Revision ID: 5d8b2e4f6a10
Revises: 5d1e2f3a4b6c
Create Date: 2026-12-12 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d8b2e4f6a10'
down_revision = '5d1e2f3a4b6c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scheduler_fit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('role_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fsrs_version', sa.String(length=40), nullable=False),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('reviews', sa.Integer(), nullable=False),
        sa.Column('held_out', sa.Integer(), nullable=False),
        sa.Column('log_loss_old', sa.Float(), nullable=False),
        sa.Column('log_loss_new', sa.Float(), nullable=False),
        sa.Column('rmse_old', sa.Float(), nullable=False),
        sa.Column('rmse_new', sa.Float(), nullable=False),
        sa.Column('accepted', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['role_id'], ['role.id'], name='fk_scheduler_fit_role_id_role', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name='fk_scheduler_fit_user_id_user', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_scheduler_fit'),
    )
    op.create_index('ix_scheduler_fit_user_id_created_at', 'scheduler_fit', ['user_id', 'created_at'])
    op.create_index('ix_scheduler_fit_role_id_created_at', 'scheduler_fit', ['role_id', 'created_at'])
    # Plain ADD/DROP COLUMN, not batch mode: rebuilding "user" on SQLite would break the review
    # triggers that name it.
    op.add_column('user', sa.Column('fsrs_params', sa.JSON(), nullable=True))
    op.add_column('user', sa.Column('easy_days', sa.JSON(), nullable=True))
    op.add_column('user', sa.Column('load_balance', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('user', sa.Column('share_reviews', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('role', sa.Column('fsrs_params', sa.JSON(), nullable=True))


def downgrade():
    op.drop_column('role', 'fsrs_params')
    for column in ('share_reviews', 'load_balance', 'easy_days', 'fsrs_params'):
        op.drop_column('user', column)
    op.drop_index('ix_scheduler_fit_role_id_created_at', table_name='scheduler_fit')
    op.drop_index('ix_scheduler_fit_user_id_created_at', table_name='scheduler_fit')
    op.drop_table('scheduler_fit')
