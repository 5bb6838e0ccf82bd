"""Network admin API: service points, staff, rosters, sign-in/out, leave, holiday calendar —
and the availability / calendar events other services keep copies from."""

from __future__ import annotations

from datetime import date, datetime

from libs.common import demo_network
from libs.common.clock import CHINA_TZ, FrozenClock
from libs.common.events import dispatch as ev
from libs.common.testing.auth import auth
from tests.integration.test_dispatch_offers import broker, dispatch, events, new_order

__all__ = ["broker"]  # the private-broker fixture, shared with the offers tests

NOW = datetime(2026, 12, 31, 10, 0, tzinfo=CHINA_TZ)


async def test_admin_builds_a_point_and_a_person_and_every_change_is_announced(infra, broker):
    clock = FrozenClock(NOW)
    async with dispatch(infra, broker, clock) as d:
        # Seeding announced every demo person once.
        seeded = await events(d, ev.STAFF_AVAILABILITY)
        assert len(seeded) == len(demo_network.build()[1])
        async with d.client(headers=auth("admin", region="140430")) as admin:
            centre = (await admin.get("/v1/service-points", params={"tier": "county"})).json()[0]
            bad = await admin.post(
                "/v1/service-points",
                json={"code": "SPX1", "name": "新站", "tier": "township", "region_code": "140430999"},
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "region_code"
            r = await admin.post(
                "/v1/service-points",
                json={
                    "code": "SPX1",
                    "name": "沁县流动服务站",
                    "tier": "township",
                    "region_code": "140430003",
                    "parent_id": centre["id"],
                    "windows": ["法律咨询"],
                    "opening_hours": [{"weekday": 0, "start": "09:00", "end": "12:00"}],
                },
            )
            assert r.status_code == 201, r.text
            point = r.json()
            person = {
                "code": "SX0001",
                "name": "新律师",
                "role": "lawyer",
                "skills": ["consultation"],
                "levels": {"consultation": 6},
                "service_point_id": point["id"],
            }
            bad = await admin.post("/v1/staff", json=person)
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "levels.consultation"
            person["levels"] = {"consultation": 4, "labor": 5}
            r = await admin.post("/v1/staff", json=person)
            assert r.status_code == 201, r.text
            sid = r.json()["id"]
            assert r.json()["county_code"] == "140430"

            # A weekly slot and a 7×24 rota slot to midnight (holidays included: duty.py).
            roster = {
                "slots": [
                    {"weekday": 3, "start": "09:00", "end": "13:00"},
                    {"weekday": 6, "start": "20:00", "end": "24:00", "kind": "on_call"},
                ]
            }
            assert (await admin.put(f"/v1/staff/{sid}/roster", json=roster)).status_code == 204
            bad = await admin.put(
                f"/v1/staff/{sid}/roster", json={"slots": [{"weekday": 3, "start": "13:00", "end": "09:00"}]}
            )
            assert bad.status_code == 422
            me = auth("lawyer", region="140430", staff_id=sid)
            assert (await admin.post(f"/v1/staff/{sid}/sign-in", headers=me)).status_code == 200
            someone = auth("lawyer", region="140430", staff_id="00000000-0000-4000-8000-000000000000")
            assert (await admin.post(f"/v1/staff/{sid}/sign-out", headers=someone)).status_code == 403
            leave = {"start_date": "2027-01-10", "end_date": "2027-01-12", "reason": "年假"}
            bad = await admin.post(f"/v1/staff/{sid}/leave", json={**leave, "end_date": "2027-01-01"})
            assert bad.status_code == 422
            r = await admin.post(f"/v1/staff/{sid}/leave", json=leave)
            assert r.status_code == 201
            extra = {"day": "2027-01-02", "kind": "extra", "start": "09:00", "end": "12:00"}
            assert (await admin.post(f"/v1/staff/{sid}/roster-exceptions", json=extra)).status_code == 201
            detail = (await admin.get(f"/v1/staff/{sid}")).json()
            assert detail["roster"] == [
                {"weekday": 3, "start": "09:00:00", "end": "13:00:00", "kind": "weekly"},
                {"weekday": 6, "start": "20:00:00", "end": "23:59:59.999999", "kind": "on_call"},
            ]
            assert (
                detail["leave"][0]["start_date"] == "2027-01-10"
                and detail["exceptions"][0]["kind"] == "extra"
            )
            assert detail["signed_in_at"] is not None

            mine = [e for e in await events(d, ev.STAFF_AVAILABILITY) if e["staff_id"] == sid]
            # created, roster, sign-in, leave, roster exception
            assert len(mine) == 5 and mine[2]["signed_in"] is True and mine[1]["slots"][0]["weekday"] == 3

            # Another county's admin cannot see or change this person.
            async with d.client(headers=auth("admin", region="140403")) as luzhou:
                assert (await luzhou.patch(f"/v1/staff/{sid}", json={"capacity": 3})).status_code == 404
                assert (await luzhou.get(f"/v1/staff/{sid}")).status_code == 404
            r = await admin.patch(f"/v1/staff/{sid}", json={"capacity": 3})
            assert r.status_code == 200 and r.json()["capacity"] == 3

            # null only where it clears something: a point's parent; elsewhere a 422 naming the
            # field, never a NOT NULL violation (#17: {"active": null} … were 500s).
            for field in ("active", "levels", "name", "capacity"):
                r = await admin.patch(f"/v1/staff/{sid}", json={field: None})
                assert r.status_code == 422, (field, r.text)
                assert [e["field"] for e in r.json()["errors"]] == [field] and r.json()["errors"][0][
                    "message_en"
                ]
            for field in ("windows", "active", "opening_hours"):
                r = await admin.patch(f"/v1/service-points/{point['id']}", json={field: None})
                assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
            r = await admin.patch(f"/v1/service-points/{point['id']}", json={"parent_id": None})
            assert r.status_code == 200 and r.json()["parent_id"] is None, r.text


async def test_holiday_schedule_entered_by_admin_moves_deadlines_and_clears_the_warning(infra, broker):
    clock = FrozenClock(NOW)  # Thursday 2026-12-31: one working day later is in 2027
    async with dispatch(infra, broker, clock) as d:
        async with d.client(headers=auth("admin")) as admin:
            before = (await admin.get("/v1/calendar/2027")).json()
            assert before["source"] == "fallback" and "2027" in before["warnings"][0]
            assert (await admin.get("/v1/calendar/2026")).json()["source"] == "library"

            oid = await new_order(d, clock, service_type="consultation", description="咨询")
            groups_before = await _order_row(d, oid)
            assert groups_before["transfer_due"].date() == date(2027, 1, 4)  # fallback: 1 Jan + weekend
            assert groups_before["clock_warnings"]

            bad = await admin.put("/v1/calendar/2027", json={"holidays": ["2026-12-25"]})
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "holidays"
            sched = {"holidays": ["2027-01-01", "2027-01-04"], "workdays": []}
            r = await admin.put("/v1/calendar/2027", json=sched)
            assert r.status_code == 200 and r.json()["source"] == "table"
            published = await events(d, ev.CALENDAR_YEAR_UPDATED)
            assert published[-1]["year"] == 2027 and published[-1]["holidays"] == sched["holidays"]
            async with d.client(headers=auth("operator")) as op:
                assert (await op.put("/v1/calendar/2027", json=sched)).status_code == 403

            later = await new_order(d, clock, service_type="consultation", description="咨询")
            row = await _order_row(d, later)
            assert row["transfer_due"].date() == date(2027, 1, 5) and row["clock_warnings"] == []


async def _order_row(d, oid: str) -> dict:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    async with d.rt.sessionmaker() as session:
        row = await session.execute(
            text("SELECT transfer_due, clock_warnings FROM orders WHERE work_order_id = :id"), {"id": oid}
        )
        r = row.one()
        return {"transfer_due": r[0].astimezone(CHINA_TZ), "clock_warnings": r[1]}
