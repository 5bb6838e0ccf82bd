"""uploaded documents of a case: case_uploads (metadata) and case_upload_chunks (encrypted bytes)

Issue #19 item 5. A document is kept apart from its content so that listing a case's documents
reads no bytes; the content sits in AES-GCM encrypted chunks (personal data: ID-card images).
(case_id, sha256) is unique: the same file uploaded twice to one case is one document.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage", sa.String(length=20), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "sha256", name="uq_case_uploads_case_sha256"),
    )
    op.create_index(op.f("ix_case_uploads_case_id"), "case_uploads", ["case_id"], unique=False)
    op.create_table(
        "case_upload_chunks",
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["upload_id"], ["case_uploads.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("upload_id", "seq"),
    )
    # Ciphertext does not compress: store it out of line without trying (TOAST EXTERNAL).
    op.execute("ALTER TABLE case_upload_chunks ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("case_upload_chunks")
    op.drop_index(op.f("ix_case_uploads_case_id"), table_name="case_uploads")
    op.drop_table("case_uploads")
