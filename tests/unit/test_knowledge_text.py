"""The knowledge base's pure parts: how callers' words become search terms, the tsvector literal,
the citation check, and the seed data's coverage and citations (issue #19 item 1)."""

from __future__ import annotations

import pytest

from services.intake import validation as v
from services.intake.knowledge import statutes
from services.intake.knowledge import text as kt
from services.intake.knowledge.seed import seed_articles


@pytest.mark.parametrize(
    ("said", "terms"),
    [
        ("老板不给工钱", ["用人单位", "工资"]),
        ("薪水拖了三个月", ["工资"]),
        ("我老公打我", ["丈夫", "家庭暴力"]),
        ("被车撞了", ["交通事故"]),
        ("雇主欠我薪资", ["用人单位", "工资"]),
    ],
)
def test_synonyms_fold_to_one_word(said, terms):
    got = kt.query_terms(said)
    assert all(t in got for t in terms), got
    assert "我" not in got and "了" not in got  # stop words


def test_function_words_alone_search_nothing():
    assert kt.query_terms("我想问一下怎么办") == []
    assert kt.tsquery(["工资", "用人单位"]) == "'工资' | '用人单位'"


def test_tsvector_literal_keeps_positions_and_weights_and_folds_parts_of_one_word():
    doc = kt.tsvector_of([(["工资", "拖欠"], "A"), (["工资"], "C")])
    assert doc == "'工资':1A,3C '拖欠':2A"
    assert kt.tokens("包工头").count("用人单位") == 1  # 包工头 and its part 工头: one mention


def test_citations_are_checked_against_the_law_and_its_length():
    assert statutes.check("劳动合同法", 82) is None
    assert statutes.cite("劳动合同法", 82) == "《劳动合同法》第82条"
    past = statutes.check("劳动合同法", 99)
    assert past and "共 98 条" in past.zh and "1–98" in past.en
    unknown = statutes.check("劳动基准法", 1)
    assert unknown and "未收录" in unknown.zh


def test_the_seed_covers_every_type_and_domain_and_cites_real_articles():
    _, rows = seed_articles()
    assert len(rows) >= 80
    assert {r["service_type"] for r in rows} == set(v.SERVICE_TYPES)
    assert {r["domain"] for r in rows} == set(v.DOMAINS)
    assert len({r["question"] for r in rows}) == len(rows)
    cited = {(c["law"], c["article"]) for r in rows for c in r["statutes"]}
    # The articles the brief names, each cited by the seed with its real number.
    for known in [
        ("劳动合同法", 82),
        ("劳动争议调解仲裁法", 27),
        ("民法典", 1079),
        ("民法典", 1084),
        ("反家庭暴力法", 23),
        ("法律援助法", 31),
        ("人民调解法", 33),
        ("道路交通安全法", 76),
    ]:
        assert known in cited, known
    assert all(statutes.check(law, n) is None for law, n in cited)


def test_a_giant_token_is_no_term():
    # Seen (schemathesis): an answer of 5,000 zeros was one lexeme past PostgreSQL's 2,046 bytes, a 500.
    assert kt.tokens("0" * 5000 + " 工资") == ["工资"]
