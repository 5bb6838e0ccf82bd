"""Documents of a legal-aid application on the real database (services/aid/uploads): multipart
upload with the type sniffed from the bytes, the size limit, the checksum and the duplicate;
the 一次性告知 checklist ticking off until the last item accepts the file (a case-log step); the
printable 告知书 listing only what is still missing; metadata-only lists; downloads audited and
the bytes encrypted at rest; access refused outside the case's jurisdiction or role."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from libs.common.audit import AUDIT
from libs.common.clock import FrozenClock
from libs.common.crypto import PiiCipher, PiiSettings, new_key_spec
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.aid.models import CaseUpload, CaseUploadChunk
from services.aid.uploads.store import PgDocumentStore, rotate_chunks
from tests.integration.test_aid_case_flow import application
from tests.unit.test_aid_upload_rules import JPEG, PDF, png

COUNTY = "140430"
REQUIRED = ["identity", "matter_materials", "hardship_statement", "honesty_commitment"]


@pytest.fixture
def aid_env(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AID_SWEEP_SECONDS", "0")
    monkeypatch.setenv("AID_CONSUMER_GROUP", f"lawline-aid-test-{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("AID_UPLOAD_MAX_BYTES", str(200_000))  # small, so the limit is cheap to cross


def _file(name: str, data: bytes, ctype: str) -> dict:
    return {"file": (name, data, ctype)}


async def _checklist(aid, case_id: str) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    case = (await aid.get(f"/v1/cases/{case_id}")).json()
    return {i["kind"]: i["supplied"] for i in case["checklist"]}


async def test_documents_tick_off_the_notice_until_the_file_is_complete(infra, aid_env):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # Mon 10:00 in China
    async with services(infra, "aid", clock=clock) as svc:
        officer = auth("aid_officer", region=COUNTY)
        async with svc["aid"].client(headers=officer) as aid:
            case = (await aid.post("/v1/applications", json=application(attachments=[]))).json()
            cid = case["id"]
            assert case["status"] == "incomplete" and case["missing_items"] == REQUIRED
            assert await _checklist(aid, cid) == dict.fromkeys(REQUIRED, False)

            identity = png(b"id-card front and back")
            up = await aid.post(
                f"/v1/cases/{cid}/uploads",
                data={"kind": "identity"},
                files=_file("身份证.png", identity, "image/png"),
            )
            assert up.status_code == 201, up.text
            doc = up.json()
            assert (
                doc["content_type"] == "image/png" and doc["size"] == len(identity) and not doc["duplicate"]
            )
            assert (
                doc["kind_name"] == "申请人身份证明"
                and doc["filename"] == "身份证.png"
                and len(doc["sha256"]) == 64
            )
            ticked = await _checklist(aid, cid)
            assert ticked["identity"] and not ticked["matter_materials"]
            detail = (await aid.get(f"/v1/cases/{cid}")).json()
            assert detail["status"] == "incomplete" and detail["missing_items"] == REQUIRED[1:]
            notice = (await aid.get(f"/v1/cases/{cid}/documents/materials.html")).text
            assert "经济困难状况说明表" in notice and "申请人身份证明" not in notice  # only what is missing

            # The same bytes again (even named and typed otherwise): that document, not a second one.
            again = await aid.post(
                f"/v1/cases/{cid}/uploads",
                data={"kind": "identity"},
                files=_file("copy.png", identity, "application/octet-stream"),
            )
            assert again.status_code == 200 and again.json()["duplicate"] and again.json()["id"] == doc["id"]

            for kind, name, data, ctype in [
                ("matter_materials", "劳动仲裁申请书.pdf", PDF, "application/pdf"),
                ("hardship_statement", "经济困难状况说明表.jpg", JPEG, "image/jpeg"),
            ]:
                r = await aid.post(
                    f"/v1/cases/{cid}/uploads", data={"kind": kind}, files=_file(name, data, ctype)
                )
                assert r.status_code == 201, r.text
            assert (await aid.get(f"/v1/cases/{cid}")).json()["status"] == "incomplete"
            last = PDF.replace(b"trailer", b"% signed honesty commitment\ntrailer")
            r = await aid.post(
                f"/v1/cases/{cid}/uploads",
                data={"kind": "honesty_commitment"},
                files=_file("承诺书.pdf", last, "application/pdf"),
            )
            assert r.status_code == 201, r.text

            # The last item accepted the application: a step of the case's timeline, review clock started.
            done = (await aid.get(f"/v1/cases/{cid}")).json()
            assert done["status"] == "under_review" and done["missing_items"] == []
            assert all(i["supplied"] for i in done["checklist"]) and len(done["checklist"]) == 4
            actions = [e["action"] for e in (await aid.get(f"/v1/cases/{cid}/log")).json()]
            assert actions[-1] == "accept_application" and actions.count("supplement_partial") == 3
            assert any(c["name"] == "decision" and not c["met_at"] for c in done["clocks"])
            assert (await aid.get(f"/v1/cases/{cid}/documents/materials.html")).status_code == 409

            listed = (await aid.get(f"/v1/cases/{cid}/uploads")).json()
            assert sorted(d["kind"] for d in listed) == sorted(REQUIRED)
            assert all(
                set(d) >= {"id", "sha256", "size", "content_type"} and "content" not in d for d in listed
            )

            got = await aid.get(f"/v1/cases/{cid}/uploads/{doc['id']}/content")
            assert got.status_code == 200 and got.content == identity
            assert (
                got.headers["content-type"] == "image/png"
                and got.headers["x-checksum-sha256"] == doc["sha256"]
            )
            assert "filename*=UTF-8''%E8%BA%AB" in got.headers["content-disposition"]

        async with svc["aid"].rt.sessionmaker() as s:
            # Encrypted at rest: no chunk holds the plaintext, nor its recognisable header.
            blobs = (await s.scalars(select(CaseUploadChunk.content))).all()
            assert len(blobs) == 4 and len((await s.scalars(select(CaseUpload))).all()) == 4
            assert all(identity not in b and b"\x89PNG" not in b and b"%PDF" not in b for b in blobs)
            storage = await s.scalar(
                text(
                    "SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'case_upload_chunks'::regclass AND attname = 'content'"
                )
            )
            assert storage == "e"  # EXTERNAL: ciphertext is not compressed in vain
            # Key rotation: a new key first, the old one after it; every chunk moves to the new key.
            old = PiiSettings().pii_keys
            rotated = PiiCipher(f"{new_key_spec('k9')},{old}", PiiSettings().pii_index_key)
            await s.commit()
            async with svc["aid"].rt.sessionmaker() as r, r.begin():
                assert await rotate_chunks(r, cipher=rotated, batch=3) == 3
            async with svc["aid"].rt.sessionmaker() as r, r.begin():
                assert (
                    await rotate_chunks(r, cipher=rotated) == 1
                    and await rotate_chunks(r, cipher=rotated) == 0
                )
            assert set((await s.scalars(select(CaseUploadChunk.key_id))).all()) == {"k9"}
            store = PgDocumentStore(svc["aid"].rt.sessionmaker, cipher=rotated)
            assert b"".join([c async for c in store.read(uuid.UUID(doc["id"]), 1)]) == identity
            trail = (
                await s.execute(
                    select(AUDIT.c.action, AUDIT.c.detail, AUDIT.c.actor).where(AUDIT.c.subject == cid)
                )
            ).all()
        downloads = [t for t in trail if t.action == "aid.document_downloaded"]
        assert len(downloads) == 1 and downloads[0].detail["upload_id"] == doc["id"]
        assert downloads[0].actor and sum(t.action == "aid.document_uploaded" for t in trail) == 4
        assert all("身份证" not in str(t.detail) for t in trail)  # file names stay out of the trail


async def test_bad_files_and_strangers_are_refused_in_both_languages(infra, aid_env):
    clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    async with services(infra, "aid", clock=clock) as svc:
        officer = auth("aid_officer", region=COUNTY)
        async with svc["aid"].client(headers=officer) as aid:
            cid = (await aid.post("/v1/applications", json=application(attachments=[]))).json()["id"]
            url = f"/v1/cases/{cid}/uploads"

            async def refused(status: int, field: str, code: str | None, **kw) -> None:  # type: ignore[no-untyped-def]
                r = await aid.post(url, **kw)
                assert r.status_code == status, r.text
                err = r.json()["errors"][0]
                assert err["field"] == field and err["message"] and err["message_en"], err
                assert code is None or err["code"] == code, err

            renamed = _file("身份证.pdf", png(), "application/pdf")  # a photo renamed to .pdf
            await refused(415, "file", "type_mismatch", data={"kind": "identity"}, files=renamed)
            word = _file("a.txt", b"just some text, not a scan", "text/plain")
            await refused(415, "file", "unsupported_type", data={"kind": "identity"}, files=word)
            await refused(
                422, "file", "empty", data={"kind": "identity"}, files=_file("e.pdf", b"", "application/pdf")
            )
            big = png() + b"\x00" * 210_000
            await refused(
                413, "file", "too_large", data={"kind": "identity"}, files=_file("big.png", big, "image/png")
            )
            await refused(
                422, "kind", None, data={"kind": "selfie"}, files=_file("a.pdf", PDF, "application/pdf")
            )
            await refused(422, "kind", None, files=_file("a.pdf", PDF, "application/pdf"))
            await refused(422, "file", None, data={"kind": "identity"})
            # Past the request limit (the larger of the route's and 1 MiB) the middleware answers first.
            huge = await aid.post(
                url,
                data={"kind": "identity"},
                files=_file("h.pdf", PDF + b"0" * 1_200_000, "application/pdf"),
            )
            assert huge.status_code == 413 and huge.json()["detail_en"]
            mine = await aid.post(
                url, data={"kind": "identity"}, files=_file("id.png", png(b"x"), "image/png")
            )
            assert mine.status_code == 201
            doc = mine.json()["id"]

        async with svc["aid"].rt.sessionmaker() as s:
            assert (
                await s.scalar(select(text("count(*)")).select_from(CaseUpload))
            ) == 1  # refusals stored nothing
            assert (await s.scalar(select(text("count(*)")).select_from(CaseUploadChunk))) == 1

        # Another county's staff, a lawyer not on the case: not their case (404, as for the case).
        for stranger in (
            auth("aid_officer", region="140403"),
            auth("lawyer", region=COUNTY, staff_id="5b6c7d8e-9f01-4a2b-8c3d-4e5f6a7b8c9d"),
        ):
            async with svc["aid"].client(headers=stranger) as other:
                for r in (
                    await other.get(f"/v1/cases/{cid}/uploads"),
                    await other.get(f"/v1/cases/{cid}/uploads/{doc}/content"),
                    await other.post(
                        f"/v1/cases/{cid}/uploads",
                        data={"kind": "identity"},
                        files=_file("x.pdf", PDF, "application/pdf"),
                    ),
                ):
                    assert (
                        r.status_code == 404
                        and r.json()["detail"] == "未找到该案件"
                        and r.json()["detail_en"]
                    ), r.text
        # A role that has no business with aid cases at all: 403 before anything is read.
        async with svc["aid"].client(headers=auth("mediator", region=COUNTY)) as mediator:
            r = await mediator.get(f"/v1/cases/{cid}/uploads/{doc}/content")
            assert r.status_code == 403 and r.json()["detail"] and r.json()["detail_en"]
        async with svc["aid"].rt.sessionmaker() as s:
            downloads = (
                await s.scalars(select(AUDIT.c.id).where(AUDIT.c.action == "aid.document_downloaded"))
            ).all()
        assert downloads == []  # no refused read was served, none audited as a download

        async with svc["aid"].client(headers=officer) as aid:
            await aid.post(f"/v1/cases/{cid}/withdraw", json={"reason": "申请人撤回申请"})
            late = await aid.post(
                f"/v1/cases/{cid}/uploads",
                data={"kind": "identity"},
                files=_file("y.pdf", PDF, "application/pdf"),
            )
            assert (
                late.status_code == 409 and late.json()["code"] == "case_closed" and late.json()["detail_en"]
            )


async def test_console_case_screen_uploads_with_a_kind_picker_and_ticks_the_checklist(infra, aid_env):
    from tests.integration.console_helpers import console_for
    from tests.unit.test_console_app import csrf_of, dev_login

    async with services(infra, "aid") as svc:
        async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid:
            cid = (await aid.post("/v1/applications", json=application(attachments=[]))).json()["id"]
        async with console_for(aid=svc["aid"].url) as web:
            assert (await dev_login(web, "aid_officer", region=COUNTY)).status_code in (302, 303)
            page = (await web.get(f"/cases/aid/{cid}")).text
            assert 'data-testid="checklist"' in page and 'data-testid="upload-form"' in page
            assert 'data-testid="check-identity" data-supplied="no"' in page and "尚缺" in page
            # The picker speaks Chinese and puts what the notice still asks for first.
            assert '<option value="identity">申请人身份证明（仍缺）</option>' in page
            # The limits the aid service enforces (AID_UPLOAD_MAX_BYTES=200000 here), not a fixed text.
            assert "PDF、JPEG、PNG、HEIC" in page and "不超过 195 KB" in page
            csrf = {"csrf_token": csrf_of(page)}

            bad = await web.post(
                f"/cases/aid/{cid}/uploads",
                data={**csrf, "kind": "identity"},
                files={"file": ("身份证.pdf", png(), "application/pdf")},
            )
            assert bad.status_code == 200 and 'data-testid="error-file"' in bad.text and "不符" in bad.text
            assert 'value="identity" selected' in bad.text  # the choice survives the error
            none = await web.post(f"/cases/aid/{cid}/uploads", data=csrf)
            assert 'data-testid="error-kind"' in none.text and 'data-testid="error-file"' in none.text

            ok = await web.post(
                f"/cases/aid/{cid}/uploads",
                data={**csrf, "kind": "identity"},
                files={"file": ("身份证.png", png(b"front"), "image/png")},
            )
            assert ok.status_code == 200 and ok.headers.get("hx-refresh") == "true" and "已上传" in ok.text
            page = (await web.get(f"/cases/aid/{cid}")).text
            assert 'data-testid="check-identity" data-supplied="yes"' in page and "身份证.png" in page
            link = re.search(r'href="(/cases/aid/[^"]+/uploads/[^"]+)"', page).group(1)
            got = await web.get(link)
            assert (
                got.status_code == 200
                and got.content == png(b"front")
                and got.headers["cache-control"] == "no-store"
            )
