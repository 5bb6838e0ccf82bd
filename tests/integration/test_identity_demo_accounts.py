"""The demo gives every staff member a login on the real stack: username = staff code, the
documented demo password, linked to the staff id dispatch routes to, with the roles their
dispatch role grants; the README's role accounts keep working; seeding all of it stays fast."""

from __future__ import annotations

import time

import jwt
from sqlalchemy import func, select

from libs.common import demo_network
from libs.common.auth import get_auth_settings
from libs.common.seed import seed_service
from libs.common.testing.infra import services
from services.identity.domain import DEMO_PASSWORD
from services.identity.models import Account, StaffMember


def claims(token: str) -> dict:
    s = get_auth_settings()
    return jwt.decode(token, s.jwt_secret, algorithms=s.jwt_algorithms, audience=s.jwt_audience)


async def test_every_staff_member_has_an_account_and_logs_in_as_their_staff_code(infra):
    _, staff = demo_network.build()
    codes_of_staff = {s.code for s in staff}
    async with services(infra, "identity") as svc:
        identity = svc["identity"]
        async with identity.rt.sessionmaker() as session:
            codes = set(
                (
                    await session.scalars(
                        select(Account.staff_code).where(Account.username == Account.staff_code)
                    )
                ).all()
            )
            directory = await session.scalar(select(func.count()).select_from(StaffMember))
            hashes = (await session.scalars(select(func.count(func.distinct(Account.password_hash))))).one()
        assert (
            codes == codes_of_staff and len(codes) == 1093 and directory == 1093
        )  # with the city centre's 7 on-call staff
        assert hashes == 1  # one shared argon2 hash: that is what keeps the seed fast

        async with identity.client() as c:
            # A township mediator, a village legal worker, a city operator, a county aid officer.
            picks = [
                (next(s for s in staff if s.role == "mediator" and s.point.tier == "township"), "mediator"),
                (
                    next(s for s in staff if s.role == "legal_worker" and s.point.tier == "village"),
                    "counter_staff",
                ),
                (next(s for s in staff if s.role == "operator"), "operator"),
                (
                    next(s for s in staff if s.role == "aid_officer" and s.point.tier == "county"),
                    "aid_officer",
                ),
            ]
            for member, role in picks:
                r = await c.post("/v1/auth/login", json={"username": member.code, "password": DEMO_PASSWORD})
                assert r.status_code == 200, r.text
                body = r.json()
                token = claims(body["access_token"])
                assert token["sub"] == member.code and token["staff_id"] == str(member.id)
                assert token["roles"] == [role]
                assert token["region"] == (member.point.county_code or "1404")
                assert body["user"]["staff_code"] == member.code and body["user"]["name"] == member.name
            # The README's role accounts are still there, linked to the same people.
            r = await c.post("/v1/auth/login", json={"username": "op_140430", "password": DEMO_PASSWORD})
            assert r.status_code == 200 and claims(r.json()["access_token"])["roles"] == ["operator"]
            r = await c.post("/v1/auth/login", json={"username": "aid_140403", "password": DEMO_PASSWORD})
            officer = claims(r.json()["access_token"])["staff_id"]
            assert next(s for s in staff if str(s.id) == officer).role == "aid_officer"


async def test_seeding_1161_accounts_stays_fast_and_runs_again_harmlessly(infra):
    url = await infra.fresh_database("identity", seed=False)
    started = time.monotonic()
    await seed_service("identity", url)
    first = time.monotonic() - started
    started = time.monotonic()
    await seed_service("identity", url)  # `make run` seeds at every start
    again = time.monotonic() - started
    assert first < 3.0 and again < 3.0, (first, again)
