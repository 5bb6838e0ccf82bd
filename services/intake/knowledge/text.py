"""How an article and a caller's words become the same search terms. Pure, no I/O.

jieba cuts the text (search mode, so 劳动合同 also yields 劳动 and 合同); stop words and
punctuation go; every synonym is folded to the first word of its group (data/synonyms.yaml), in
articles and in searches alike, so "老板不给工钱" and an article on 用人单位拖欠工资 meet on
用人单位 and 工资. A private jieba Tokenizer: the synonyms' phrases (撞了, 分开过) join its
dictionary without changing how the classifier (services/intake/classify.py) cuts text.

The index is a PostgreSQL tsvector written here as its literal ('工资':1A,7C …) rather than by
to_tsvector: PostgreSQL's parser would cut Chinese by its own rules, which depend on the
server's locale; jieba's tokens go in as they are, with positions and weights (A the question,
B the callers' words, C the answer, D the laws' names) that ts_rank uses to rank."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba
import yaml

DATA = Path(__file__).resolve().parent / "data"
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None

# Function words that carry no matter: a search for "我想问一下" finds nothing rather than everything.
STOP = frozenset(
    "的 了 我 你 他 她 它 们 是 在 有 和 与 及 或 就 都 也 还 又 被 把 给 让 向 对 从 到 这 那 个 么 吗 呢 吧 啊 呀 嘛"
    " 想 问 问问 一下 请问 咨询 怎么 怎么办 怎样 如何 什么 可以 能 能不能 要 会 去 说 一个 现在 已经 没有 不 没 些"
    " 我们 你们 他们 自己 因为 所以 但是 如果 这个 那个 这样 哪里 哪儿 多少 应该 需要 一直 还是 就是 以后 之后"
    # Words every second call says, which match thousands of articles and decide none: searching
    # on them cost time and ranked noise (bench/knowledge_search.py).
    " 申请 找 谁 哪 算 写 才 刚 出来 回来 能要 请 人来 讲 东西 跑 多少钱 对方 情况 问题 事情 事 办 弄 搞 咋 咋办".split()
)
_WORD = re.compile(r"^\w+$")
_MAX_POS = 16383  # PostgreSQL keeps positions up to this
MAX_TERM = 40  # characters: no legal term is longer


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """Every word of data/synonyms.yaml → the first word of its group."""
    doc = yaml.safe_load((DATA / "synonyms.yaml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for group in doc["groups"]:
        head = str(group[0])
        for word in group:
            out.setdefault(str(word), head)
    return out


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            jieba.setLogLevel(logging.WARNING)
            # The process's default dictionary is loaded once (the classifier needs it too) and
            # copied: a second load from disk costs seconds on a busy machine.
            jieba.dt.check_initialized()
            t = jieba.Tokenizer()
            t.FREQ, t.total, t.initialized = dict(jieba.dt.FREQ), jieba.dt.total, True
            for word in synonyms():
                if len(word) > 1:
                    t.add_word(word, freq=50_000)
            _tokenizer = t
        return _tokenizer


def warm_up() -> None:
    """Load the dictionary now (start-up, off the event loop), not on the first search."""
    tokenizer()


def tokens(text: str) -> list[str]:
    """The text's search terms in order, synonyms folded, stop words and punctuation dropped."""
    fold = synonyms()
    out: list[str] = []
    for tok in tokenizer().lcut_for_search(text or ""):
        tok = tok.strip().lower()
        if not tok or tok in STOP or len(tok) > MAX_TERM or not _WORD.match(tok):
            continue  # a 5,000-digit "word" is no term (and past PostgreSQL's 2,046-byte lexeme)
        if len(tok) == 1 and not ("\u4e00" <= tok <= "\u9fff") and not tok.isdigit():
            continue  # a lone Latin letter says nothing
        tok = fold.get(tok, tok)
        if out and out[-1] == tok:
            continue  # 包工头 and its part 工头 are one mention of 用人单位, not two
        out.append(tok)
    return out


def query_terms(text: str, limit: int = 24) -> list[str]:
    """A search's distinct terms, first seen first (a long description keeps its first words)."""
    seen: dict[str, None] = {}
    for tok in tokens(text):
        seen.setdefault(tok, None)
    return list(seen)[:limit]


def tsquery(terms: list[str]) -> str:
    """Any term matches (OR): ts_rank then prefers the article that matches more of them."""
    return " | ".join(f"'{t}'" for t in terms)


def tsvector(weighted: list[tuple[str, str]]) -> str:
    """The tsvector literal of (text, weight) parts: every term with its positions and weight."""
    return tsvector_of([(tokens(text), weight) for text, weight in weighted])


def tsvector_of(weighted: list[tuple[list[str], str]]) -> str:
    """The same from terms already cut (the benchmark builds 10,000 articles from cut seeds)."""
    positions: dict[str, list[str]] = {}
    pos = 0
    for terms, weight in weighted:
        for tok in terms:
            pos = min(pos + 1, _MAX_POS)
            positions.setdefault(tok, []).append(f"{pos}{weight}")
    # PostgreSQL keeps at most 256 positions of one lexeme.
    return " ".join(f"'{t}':{','.join(p[:256])}" for t, p in positions.items())
