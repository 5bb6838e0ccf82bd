"""A service point's queue (GET /v1/service-points/{id}/queue) on the real database: its members
with duty and load, its open work; visible to its members and to supervisors of its jurisdiction,
and to nobody else (another point's clerk, a supervisor of another county: 404, as not found)."""

from __future__ import annotations

from sqlalchemy import text

from libs.common.testing.auth import auth
from libs.common.testing.infra import services


async def test_members_and_jurisdiction_supervisors_see_a_points_queue(infra):
    async with services(infra, "dispatch") as svc:
        d = svc["dispatch"]
        async with d.rt.sessionmaker() as s:
            rows = (
                await s.execute(
                    text(
                        "SELECT p.id AS point, p.county_code, p.region_code, s.id AS staff, s.role FROM staff s "
                        "JOIN service_points p ON p.id = s.service_point_id "
                        "WHERE s.active AND p.county_code = '140430' ORDER BY p.tier, p.code, s.code"
                    )
                )
            ).all()
        point, member = rows[0].point, rows[0]
        outsider = next(r for r in rows if r.point != point)
        async with d.client() as c:
            mine = await c.get(
                f"/v1/service-points/{point}/queue", headers=auth(member.role, "140430", str(member.staff))
            )
            assert mine.status_code == 200, mine.text
            body = mine.json()
            ids = {m["staff_id"] for m in body["members"]}
            assert str(member.staff) in ids and str(outsider.staff) not in ids
            assert all({"on_duty", "load", "capacity", "next_duty_at"} <= set(m) for m in body["members"])
            on = [m["on_duty"] for m in body["members"]]
            assert on == sorted(on, reverse=True)  # on duty first
            assert body["open"] == []

            other = await c.get(
                f"/v1/service-points/{point}/queue",
                headers=auth(outsider.role, "140430", str(outsider.staff)),
            )
            assert other.status_code == 404
            assert (
                await c.get(f"/v1/service-points/{point}/queue", headers=auth("supervisor", "140430"))
            ).status_code == 200
            assert (
                await c.get(f"/v1/service-points/{point}/queue", headers=auth("supervisor", "140403"))
            ).status_code == 404
