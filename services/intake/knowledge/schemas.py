"""The knowledge base's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, WithJsonSchema, field_validator

from libs.common import regions
from libs.common.bilingual import Text
from libs.common.openapi_examples import examples
from services.intake import validation as v
from services.intake.knowledge import statutes

LawName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(statutes.LAWS)})]
ServiceType = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.SERVICE_TYPES)})]
LegalDomain = Annotated[str, WithJsonSchema({"type": "string", "enum": list(v.DOMAINS)})]


ARTICLE_IN = {
    "question": "老板拖欠工资不给怎么办？",
    "answer": "用人单位应当按约定和国家规定及时足额支付劳动报酬。可以向劳动保障监察投诉，或者向劳动争议仲裁委员会申请仲裁，仲裁不收费。",
    "statutes": [{"law": "劳动合同法", "article": 30}, {"law": "劳动争议调解仲裁法", "article": 27}],
    "keywords": ["拖欠工资", "讨薪"],
    "domain": "labor",
    "service_type": "consultation",
    "review_date": "2026-11-30",
    "published": True,
}
ARTICLE_OUT = {
    "id": "3f2b8c1e-5d4a-5b6c-9e8f-0a1b2c3d4e5f",
    "version": 2,
    **{k: v for k, v in ARTICLE_IN.items() if k != "published"},
    "citations": ["《劳动合同法》第30条", "《劳动争议调解仲裁法》第27条"],
    "domain_label": "劳动争议",
    "service_type_label": "法律咨询",
    "region_code": "140430",
    "region_name": "沁县",
    "author": "长治市12348热线知识库编辑组",
    "published": True,
    "updated_at": "2026-12-01T02:00:00Z",
    "updated_by": "督导王",
}
HIT = ARTICLE_OUT | {"score": 0.4068}
SEARCH_OUT = {"query": "老板不给工钱", "terms": ["用人单位", "工资"], "items": [HIT]}
VERSION_OUT = {
    "version": 2,
    "change": "published",
    "change_label": "发布",
    "content": {k: v for k, v in ARTICLE_IN.items()} | {"author": "长治市12348热线知识库编辑组"},
    "edited_by": "督导王",
    "edited_at": "2026-12-01T02:00:00Z",
}
USAGE = {
    "since": "2026-11-01T02:00:00Z",
    "region": "140430",
    "total_uses": 41,
    "articles": [
        {
            "id": "3f2b8c1e-5d4a-5b6c-9e8f-0a1b2c3d4e5f",
            "question": "老板拖欠工资不给怎么办？",
            "domain": "labor",
            "domain_label": "劳动争议",
            "uses": 17,
        }
    ],
    "missed": [{"query": "无人机航拍许可证", "times": 3, "last_at": "2026-11-30T07:12:00Z"}],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Citation(_Strict):
    """One article of one law: 《劳动合同法》第82条."""

    law: LawName = Field(min_length=1, max_length=60, examples=["劳动合同法"])
    article: int = Field(ge=1, le=2000, examples=[82])

    @field_validator("law")
    @classmethod
    def _known(cls, value: str) -> str:
        problem = statutes.check(value, 1)
        if problem:
            raise problem.error()
        return value

    @field_validator("article")
    @classmethod
    def _exists(cls, value: int, info: ValidationInfo) -> int:
        law = info.data.get("law")  # absent when the law name was refused: said once, there
        problem = statutes.check(law, value) if law else None
        if problem:
            raise problem.error()
        return value


class ArticleIn(_Strict):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=examples(ARTICLE_IN)
    )

    question: str = Field(min_length=4, max_length=300, examples=["老板拖欠工资不给怎么办？"])
    answer: str = Field(min_length=10, max_length=5000)
    statutes: list[Citation] = Field(min_length=1, max_length=12, description="所引法条，至少一条")
    keywords: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=30, description="群众的说法（检索用）"
    )
    domain: LegalDomain
    service_type: ServiceType
    region_code: str | None = Field(
        None, description="地方性规定适用的区划（长治市或其县区）；空表示全国适用", examples=["140430"]
    )
    review_date: date = Field(description="复核日期：答复内容最近一次按现行法律核对的日期")
    published: bool = False

    _type = field_validator("service_type")(lambda cls, x: v.service_type(x))
    _domain = field_validator("domain")(lambda cls, x: v.domain(x))

    @field_validator("region_code")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        if not value:
            return None
        r = regions.lookup(value)
        if r is None or r.level not in ("city", "county"):
            raise Text(
                "地方性规定的区划须为长治市或其县（区）代码",
                "a local rule's region must be 长治市 or one of its counties",
            ).error()
        return value


class ArticleUpdate(ArticleIn):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=examples(ARTICLE_IN | {"version": 2})
    )

    version: int = Field(ge=1, description="所修改的版本号：他人已先改过时返回 409")


class ArticleOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(ARTICLE_OUT))

    id: uuid.UUID
    version: int
    question: str
    answer: str
    statutes: list[dict]
    citations: list[str] = Field(description="法条的读法：《劳动合同法》第82条")
    keywords: list[str]
    domain: str
    domain_label: str
    service_type: str
    service_type_label: str
    region_code: str | None
    region_name: str | None
    review_date: date
    author: str
    published: bool
    updated_at: datetime
    updated_by: str


class Hit(ArticleOut):
    model_config = ConfigDict(json_schema_extra=examples(HIT))

    score: float


class SearchOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(SEARCH_OUT))

    query: str
    terms: list[str] = Field(description="检索用词（分词并归并同义词之后）")
    items: list[Hit]


class VersionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=examples(VERSION_OUT))

    version: int
    change: str
    change_label: str
    content: dict
    edited_by: str
    edited_at: datetime


class PublishIn(_Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=examples({"version": 2}))

    version: int = Field(ge=1)
