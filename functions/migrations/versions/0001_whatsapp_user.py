"""Create whatsapp_user.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whatsapp_user",
        sa.Column("user_id", sa.String(128), primary_key=True),
        sa.Column("agent_id", sa.String(128), primary_key=True),
        sa.Column("agent_name", sa.String(256), nullable=False),
        sa.Column("api_key", sa.Text, nullable=True),
        sa.Column("endpoint_url_run", sa.Text, nullable=True),
        sa.Column("status", sa.String(32), nullable=False, server_default="awaiting_qr"),
        sa.Column("last_connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_disconnected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Every endpoint addresses a session by agentId alone, so it must be unique.
    op.create_index("ux_whatsapp_user_agent_id", "whatsapp_user", ["agent_id"], unique=True)


def downgrade() -> None:
    op.drop_table("whatsapp_user")
