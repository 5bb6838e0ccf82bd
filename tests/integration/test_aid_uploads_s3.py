"""The S3-compatible document store (services/aid/uploads/store_s3.py) behind the same upload and
download routes: a real S3 HTTP endpoint started by the test (moto's server, standing in for
MinIO / OSS — outside the system), the objects ciphertext, nothing in the PostgreSQL chunks."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer
from sqlalchemy import func, select

from libs.common.clock import FrozenClock
from libs.common.embedded import free_port
from libs.common.testing.auth import auth
from libs.common.testing.infra import services
from services.aid.models import CaseUpload, CaseUploadChunk
from tests.integration.test_aid_case_flow import application
from tests.unit.test_aid_upload_rules import PDF, png

COUNTY = "140430"


async def test_documents_in_an_s3_compatible_store_are_encrypted_and_served(infra, monkeypatch):
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint, bucket = f"http://127.0.0.1:{port}", f"aid-{uuid.uuid4().hex[:8]}"
    env = {
        "AID_DOCUMENT_STORE": "s3",
        "AID_S3_ENDPOINT": endpoint,
        "AID_S3_BUCKET": bucket,
        "AID_S3_ACCESS_KEY": "test",
        "AID_S3_SECRET_KEY": "test",
        "AID_S3_PREFIX": "docs/",
        "AID_UPLOAD_CHUNK_BYTES": "1024",  # several objects for one document
        "AID_SWEEP_SECONDS": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s3 = get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    try:
        async with s3 as client:
            await client.create_bucket(Bucket=bucket)
            clock = FrozenClock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
            async with services(infra, "aid", clock=clock) as svc:
                async with svc["aid"].client(headers=auth("aid_officer", region=COUNTY)) as aid:
                    cid = (await aid.post("/v1/applications", json=application(attachments=[]))).json()["id"]
                    photo = png() + os.urandom(3500)  # ~3.5 KB that does not compress: four chunks of 1 KiB
                    up = await aid.post(
                        f"/v1/cases/{cid}/uploads",
                        data={"kind": "identity"},
                        files={"file": ("身份证.png", photo, "image/png")},
                    )
                    assert up.status_code == 201, up.text
                    doc = up.json()
                    dup = await aid.post(
                        f"/v1/cases/{cid}/uploads",
                        data={"kind": "identity"},
                        files={"file": ("x.png", photo, "image/png")},
                    )
                    assert dup.status_code == 200 and dup.json()["duplicate"]
                    pdf = await aid.post(
                        f"/v1/cases/{cid}/uploads",
                        data={"kind": "matter_materials"},
                        files={"file": ("仲裁申请书.pdf", PDF, "application/pdf")},
                    )
                    assert pdf.status_code == 201
                    got = await aid.get(f"/v1/cases/{cid}/uploads/{doc['id']}/content")
                    assert got.status_code == 200 and got.content == photo
                    case = (await aid.get(f"/v1/cases/{cid}")).json()
                    assert {i["kind"]: i["supplied"] for i in case["checklist"]}["identity"]

                async with svc["aid"].rt.sessionmaker() as s:
                    stored = await s.scalar(select(CaseUpload).where(CaseUpload.id == uuid.UUID(doc["id"])))
                    assert stored is not None and stored.storage == "s3" and stored.chunks == 4
                    assert await s.scalar(select(func.count()).select_from(CaseUploadChunk)) == 0

            listed = await client.list_objects_v2(Bucket=bucket, Prefix="docs/")
            keys = sorted(o["Key"] for o in listed.get("Contents", []))
            assert (
                len(keys) == 5
                and keys[0].startswith(f"docs/{doc['id']}/")
                or keys[-1].startswith(f"docs/{doc['id']}/")
            )
            for key in keys:
                obj = await client.get_object(Bucket=bucket, Key=key)
                async with obj["Body"] as body:
                    blob = await body.read()
                assert obj["Metadata"]["key-id"] and b"\x89PNG" not in blob and b"%PDF" not in blob
    finally:
        server.stop()
