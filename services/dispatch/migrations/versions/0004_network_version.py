"""network_version: a counter every change to the routing network's static part bumps

Routing caches the network per process (services/dispatch/network_cache.py) and reads
this counter with every order's loads: a different value means reload. Triggers bump it,
in the changing transaction, for every write that is not routing's own bookkeeping —
admin endpoints, seeds, a migration or a hand-made UPDATE alike, on any instance. Staff
rows change on every offer (active_load, last_assigned_at): those two columns do not bump.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Every staff column except routing's bookkeeping (active_load, last_assigned_at).
STAFF_COLUMNS = (
    "id, code, name, role, skills, service_point_id, county_code, capacity, active, demo, "
    "levels, languages, signed_in_at, signed_out_at"
)
WHOLE_TABLES = ("service_points", "duty_slots", "roster_exceptions", "leaves", "calendar_years")


def upgrade() -> None:
    op.create_table(
        "network_version",
        sa.Column("id", sa.SmallInteger(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_network_version_one_row"),
    )
    op.execute("INSERT INTO network_version (id, version) VALUES (1, 1)")
    # Statement-level: a bulk seed of a thousand people is one bump, not a thousand.
    op.execute(
        """
        CREATE FUNCTION bump_network_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE network_version SET version = version + 1 WHERE id = 1;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER staff_bumps_network_version AFTER INSERT OR DELETE OR TRUNCATE ON staff "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_network_version()"
    )
    op.execute(
        f"CREATE TRIGGER staff_update_bumps_network_version AFTER UPDATE OF {STAFF_COLUMNS} ON staff "
        "FOR EACH STATEMENT EXECUTE FUNCTION bump_network_version()"
    )
    for table in WHOLE_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_bumps_network_version "
            f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_network_version()"
        )


def downgrade() -> None:
    for table in WHOLE_TABLES:
        op.execute(f"DROP TRIGGER {table}_bumps_network_version ON {table}")
    op.execute("DROP TRIGGER staff_update_bumps_network_version ON staff")
    op.execute("DROP TRIGGER staff_bumps_network_version ON staff")
    op.execute("DROP FUNCTION bump_network_version()")
    op.drop_table("network_version")
