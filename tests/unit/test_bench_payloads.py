"""The benchmark's generated data is valid and varied (so a run never measures 422s)."""

from bench.decisions import synthetic_staff
from bench.payloads import CHANNELS, OrderFactory
from bench.scale import ORDER_COLS, TIMELINE_COLS, generate
from libs.common import regions
from services.intake.schemas import WorkOrderCreate


def test_orders_pass_intake_validation_and_cover_every_channel():
    f = OrderFactory(5)
    orders = [f.order() for _ in range(300)]
    for o in orders:
        WorkOrderCreate.model_validate(o)
    assert {o["channel"] for o in orders} == set(CHANNELS)
    assert len({o["service_type"] for o in orders}) >= 5
    assert len({o["region_code"][:6] for o in orders}) == 12
    assert any("\u4e00" <= ch <= "\u9fff" for ch in orders[0]["description"])


def test_bulk_rows_are_consistent():
    rows = list(generate(2000, seed=9))
    numbers = [r[1] for r, _ in rows]
    assert len(set(numbers)) == len(numbers)
    for order, timeline in rows:
        assert len(order) == len(ORDER_COLS)
        assert regions.county_of(order[6]) == order[7]
        assert timeline[0][2] == "received" and all(len(t) == len(TIMELINE_COLS) for t in timeline)
        assert all(t[0] == order[0] for t in timeline)
        assert [t[1] for t in timeline] == sorted(t[1] for t in timeline)


def test_synthetic_network_has_ten_thousand_people():
    staff = synthetic_staff(10_000)
    assert len(staff) == 10_000 and len({s.id for s in staff}) == 10_000
    assert {s.tier for s in staff} == {"county", "township", "village"}
    assert all(s.slots for s in staff)


def test_phones_never_repeat_within_a_process_even_with_the_same_seed():
    # Two rounds with the same seed against one database must not turn into urges (并单).
    phones = [
        f.order()["requester"]["phone"] for f in (OrderFactory(1), OrderFactory(1)) for _ in range(3000)
    ]
    assert len(set(phones)) == len(phones)
    assert all(p.startswith("0355-") or (len(p) == 11 and p[0] == "1") for p in phones)
