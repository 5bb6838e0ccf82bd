"""The printable 调解协议书 (Art 29) rendered from a Jinja2 template, personal data masked."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.bilingual import zh_of
from libs.common.clock import CHINA_TZ
from libs.common.crypto import get_cipher
from libs.common.pii import id_particulars
from libs.common.problems import Problem
from services.mediation import domain
from services.mediation.models import Agreement, Case, Committee
from services.mediation.schemas import PartyOut
from services.mediation.service import parties_of


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),  # party-supplied text must never become markup
    )
    env.filters["local"] = lambda d: f"{d.astimezone(CHINA_TZ):%Y年%m月%d日 %H:%M}" if d else ""
    env.filters["local_date"] = lambda d: f"{d.astimezone(CHINA_TZ):%Y年%m月%d日}" if d else ""
    return env


async def agreement_html(session: AsyncSession, case: Case) -> str:
    agreement = await session.scalar(select(Agreement).where(Agreement.case_id == case.id))
    if agreement is None or agreement.form != "written":
        raise Problem(
            404,
            "本案没有书面调解协议书（口头协议仅作记录）",
            "this case has no written agreement",
        )
    rows = await parties_of(session, case.id)
    parties = [PartyOut.of(p) for p in rows]
    # 人民调解法 Art 29: the agreement states each party's particulars — 性别 and 年龄 come from the
    # ID number (decrypted here only, never printed in full).
    on = (agreement.effective_at or datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).date()
    cipher = get_cipher()
    particulars = {
        str(p.id): id_particulars(cipher.decrypt(p.id_number_enc), on)
        for p in rows
        if p.kind != "organisation" and p.id_number_enc
    }
    committee = await session.get(Committee, case.committee_id) if case.committee_id else None
    _, missing = domain.agreement_effective(
        party_signatures=[p.sign_method for p in parties],
        mediator_signed=agreement.mediator_signed_at is not None,
        committee_sealed=agreement.committee_sealed_at is not None,
    )
    return (
        _env()
        .get_template("agreement.html")
        .render(
            case=case,
            agreement=agreement,
            parties=parties,
            particulars=particulars,
            missing=[zh_of(m) for m in missing],
            committee_name=committee.name if committee else "人民调解委员会",
            confirmation=case.confirmation,
            sign_methods=domain.SIGN_METHODS,
            source_name=domain.SOURCES.get(case.source, case.source),
            dispute_name=domain.DISPUTE_TYPES.get(case.dispute_type, case.dispute_type),
            generated_at=datetime.now(CHINA_TZ),
        )
    )
