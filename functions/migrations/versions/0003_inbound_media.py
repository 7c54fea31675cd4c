"""Per-agent opt-in for sending inbound media to the AI (null: the deployment's INBOUND_MEDIA).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("whatsapp_user") as batch:
        batch.add_column(sa.Column("inbound_media", sa.Boolean, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("whatsapp_user") as batch:
        batch.drop_column("inbound_media")
