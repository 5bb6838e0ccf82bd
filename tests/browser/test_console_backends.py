"""The console's one HTTP client (services/console/service.py) against the real services, for the
calls the browser walk does not make: reject with a coded reason, return, transfer, duty sign-out,
the supervision lists, keyset paging of cases, and the problem a missing callback task gives."""

from __future__ import annotations

import pytest

from libs.common.testing.infra import consumers_ready, services, wait_for
from services.console.service import BackendError, Backends
from services.identity import domain as identity

pytestmark = pytest.mark.browser

COUNTY = "140403"  # aid_140403 is the first legal-aid officer offered a 潞州区 legal-aid order
PASSWORD = "Lawline@12348"


def staff_of(username: str) -> str:
    return next(a.staff_id for a in identity.demo_accounts() if a.username == username)


async def test_console_client_speaks_each_services_real_api(infra):
    async with services(infra, "identity", "intake", "dispatch", "aid") as svc:
        await consumers_ready(*svc.values())
        b = Backends({name: s.url for name, s in svc.items()})
        try:
            tok = {
                u: (await b.login(u, PASSWORD))["access_token"]
                for u in ("op_1404", f"aid_{COUNTY}", "supervisor_1404")
            }
            officer, op, boss = tok[f"aid_{COUNTY}"], tok["op_1404"], tok["supervisor_1404"]
            me = staff_of(f"aid_{COUNTY}")

            async def file(name: str, phone: str, text: str) -> dict:
                body = {
                    "channel": "hotline",
                    "requester": {"name": name, "phone": phone},
                    "region_code": COUNTY,
                    "service_type": "legal_aid",
                    "description": text,
                }
                order, dropped = await b.create_order(op, body, f"k-{phone}")
                assert dropped == [] and order["status"] == "received"
                return order

            async def my_offer(order_id: str) -> dict:
                async def found():  # type: ignore[no-untyped-def]
                    rows = await b.inbox(officer, me)
                    return next((a for a in rows if a["work_order_id"] == order_id), None)

                return await wait_for(found, what="the offer in the officer's inbox")

            first = await file("周红梅", "13600000001", "老板拖欠工资三个月，想申请法律援助。")
            second = await file("吴建军", "13600000002", "工地受伤老板不管，申请法律援助打官司。")

            # Reject with a coded reason: the offer leaves this inbox and goes to the next candidate.
            offer = await my_offer(first["id"])
            rejected = await b.respond(officer, offer["id"], "reject", reason="overload", note="今日已满")
            assert rejected["status"] == "rejected" and rejected["reason_code"] == "overload"

            async def reoffered():  # type: ignore[no-untyped-def]
                rows = await b.assignments(boss, first["id"])
                return [a for a in rows if a["status"] == "offered" and a["staff_id"] != me]

            assert await wait_for(reoffered, what="the re-offer to another officer")

            # A supervisor transfers it back by name (转办); the officer accepts, then returns it (退单).
            moved = await b.transfer(boss, first["id"], to_staff_id=me, reason="督办：指定原窗口承办")
            assert moved["staff_id"] == me
            accepted = await b.respond(officer, moved["id"], "accept")
            assert accepted["status"] == "accepted"
            returned = await b.respond(officer, moved["id"], "return", note="申请人要求改由法院指定")
            assert returned["status"] == "returned"

            # The second order may have gone to the less loaded colleague: transfer it here, accept it,
            # and its legal-aid case opens.
            async def offered_second():  # type: ignore[no-untyped-def]
                return [a for a in await b.assignments(boss, second["id"]) if a["status"] == "offered"]

            if (await wait_for(offered_second, what="the second offer"))[0]["staff_id"] != me:
                await b.transfer(boss, second["id"], to_staff_id=me, reason="督办：集中由一人承办")
            await b.respond(officer, (await my_offer(second["id"]))["id"], "accept")
            assert (await b.duty(officer, me, "sign-out"))["id"] == me

            # The supervision lists are the real ones (flattened rows / queue items).
            assert isinstance(await b.overdue(boss), list) and isinstance(await b.queue(boss), list)

            # Case lists page by their keyset: one case per page still yields every case. Both
            # acceptances open a case, each from its own event: wait for both, or the paging would be
            # compared with a list that grew between the two reads.
            async def cases_open():  # type: ignore[no-untyped-def]
                opened = {c["work_order_id"] for c in await b.cases(officer, "aid")}
                return {first["id"], second["id"]} <= opened

            await wait_for(cases_open, what="both aid cases")
            pages = [p async for p in b.case_pages(boss, "aid", page_size=1)]
            assert sum(len(p) for p in pages) == len(await b.cases(boss, "aid"))

            # Callback tasks: an attempt on the open one, a clear problem when there is none of that kind.
            task = await b.record_callback(
                op, second["id"], kind="callback", outcome="reached", note="已回拨"
            )
            assert task["attempts"] and task["attempts"][-1]["outcome"] == "reached"
            with pytest.raises(BackendError) as err:
                await b.record_callback(op, second["id"], kind="return_visit", outcome="reached", note="")
            assert err.value.status == 409 and "回访" in err.value.message("zh")

            lookup = await b.caller_orders(op, "13600000002")
            assert [o["number"] for o in lookup] == [second["number"]]
            sug = await b.classify(op, "离婚后前夫不给孩子抚养费")
            assert sug["domain"] == "marriage_family" and sug["confidence"] is not None
        finally:
            await b.aclose()
