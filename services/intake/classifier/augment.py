"""Programmatic variants of the hand-written requests: `python -m services.intake.classifier.augment`
rewrites corpus/augmented.jsonl (deterministic, seeded).

Each variant keeps its source's labels and group id (so the held-out split keeps it on its
source's side) and is marked `augmented`. The transforms are the ways a 12348 call reaches
the operator's notes: Shanxi/Changzhi dialect words, typos and homophones from pinyin input
or speech recognition, fillers of a spoken call, no punctuation (a dictated transcript), and
a second, smaller matter appended to the call ("还有个事…") — taken only from a request on the
same side of the split, so no held-out text reaches training.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from services.intake.classifier import corpus
from services.intake.classifier.corpus import Request

# Standard → spoken (山西/长治 and northern colloquial) forms; one is picked per variant.
DIALECT: dict[str, tuple[str, ...]] = {
    "我们": ("俺们", "咱们"),
    "我家": ("俺家", "俺屋里"),
    "我": ("俺",),
    "什么": ("啥", "甚"),
    "怎么办": ("咋办", "咋弄", "咋个办"),
    "怎么": ("咋", "咋个"),
    "孩子": ("娃", "娃娃", "孩儿"),
    "儿子": ("小子", "儿"),
    "女儿": ("闺女",),
    "丈夫": ("男人", "老汉", "当家的"),
    "老公": ("男人", "老汉", "掌柜的"),
    "妻子": ("婆姨", "媳妇", "屋里人"),
    "老婆": ("婆姨", "媳妇"),
    "父亲": ("俺爹", "俺大"),
    "母亲": ("俺娘", "俺妈"),
    "昨天": ("夜来", "夜儿个"),
    "今天": ("今儿个", "今天个"),
    "去年": ("年时", "年时个"),
    "那个": ("兀个", "外个"),
    "这里": ("这搭", "这儿"),
    "不给": ("就是不给", "死活不给"),
    "没有": ("没", "没啦"),
    "不行": ("不中", "不顶事"),
    "很": ("可", "老"),
    "工资": ("工钱",),
    "钱": ("钱钱",),
    "可以": ("能行", "中"),
    "知道": ("晓得",),
    "现在": ("眼下", "这会儿"),
}
# Homophones and near-misses of pinyin input and speech recognition (found in real tickets).
TYPOS: dict[str, tuple[str, ...]] = {
    "工资": ("工姿", "工zi"),
    "离婚": ("离昏", "离hun"),
    "公证": ("公正", "公政"),
    "赔偿": ("赔尝", "陪偿", "赔长"),
    "律师": ("律帅", "律狮"),
    "仲裁": ("仲栽", "仲材"),
    "抚养费": ("抚养废", "扶养费"),
    "拆迁": ("拆签", "拆千"),
    "遗嘱": ("遗主", "遗瞩"),
    "赡养": ("善养", "膳养"),
    "押金": ("压金",),
    "鉴定": ("坚定", "鉴订"),
    "矫正": ("较正", "矫证"),
    "复议": ("复义", "覆议"),
    "援助": ("援主", "圆助"),
    "社保": ("社宝",),
    "缓刑": ("缓型",),
    "调解": ("调节", "条解"),
    "继承": ("既承", "继成"),
    "宅基地": ("宅鸡地", "择基地"),
    "合同": ("和同", "合通"),
    "借条": ("借调",),
    "保险": ("保显",),
    "交通事故": ("交通事顾",),
    "医院": ("医愿",),
    "彩礼": ("财礼",),
    "邻居": ("林居",),
    "投诉": ("头诉",),
    "工伤": ("工商",),
    "房东": ("房冬",),
}
OPENERS = (
    "喂，你好，",
    "喂喂，能听见不，",
    "同志你好，我想问个事，",
    "你好你好，",
    "那个，我想咨询一下，",
    "哎，你好，是12348吧，",
    "我说一下情况啊，",
    "麻烦问一下，",
    "是这样的，",
    "嗯，那个，就是，",
)
CLOSERS = (
    "，谢谢啊",
    "，你们能帮帮我吗",
    "，麻烦你们了",
    "，我该找谁啊",
    "，俺是真没办法了",
    "，你给我说说",
    "，我也不懂，你们给指个路",
    "，急死了",
    "，就这个事",
)
_PUNCT = re.compile(r"[，。？！、；：,.?!;:]")


def _sub_one(rng: random.Random, text: str, table: dict[str, tuple[str, ...]], k: int) -> str:
    present = [w for w in table if w in text]
    rng.shuffle(present)
    for w in present[:k]:
        text = text.replace(w, rng.choice(table[w]), 1 if rng.random() < 0.5 else -1)
    return text


def _first_clause(text: str) -> str:
    parts = [p for p in _PUNCT.split(text) if p]
    return "，".join(parts[:2]) if parts else text


def variant(rng: random.Random, r: Request, partners: list[Request]) -> str:
    text = r.text
    if rng.random() < 0.6:
        text = _sub_one(rng, text, DIALECT, rng.randint(1, 3))
    if rng.random() < 0.45:
        text = _sub_one(rng, text, TYPOS, 1)
    if rng.random() < 0.5:
        text = rng.choice(OPENERS) + text
    if rng.random() < 0.35:
        text = text.rstrip("。？！?!") + rng.choice(CLOSERS)
    if rng.random() < 0.25 and partners:
        other = rng.choice(partners)
        if other.domain != r.domain:
            text = text.rstrip("。？！?!") + "，还有个事，" + _first_clause(other.text)
    if rng.random() < 0.25:
        text = _PUNCT.sub(" ", text)  # a dictated transcript has no punctuation
    if text == r.text:
        text = rng.choice(OPENERS) + text
    return text


def build(hand: list[Request], per_item: int = 2, seed: int = 12348) -> list[Request]:
    rng = random.Random(seed)
    sides = {
        True: [r for r in hand if corpus.held_out(r.group)],
        False: [r for r in hand if not corpus.held_out(r.group)],
    }
    out: list[Request] = []
    for r in hand:
        seen = {r.text}
        for _ in range(per_item):
            t = variant(rng, r, sides[corpus.held_out(r.group)])
            if t not in seen:
                seen.add(t)
                out.append(
                    Request(t, r.service_type, r.domain, r.urgency, r.special_groups, "augmented", r.group)
                )
    return out


def main() -> None:
    hand = corpus.read(corpus.HAND)
    rows = build(hand)
    corpus.write(corpus.AUGMENTED, rows)
    print(f"{len(hand)} hand-written, {len(rows)} augmented → {corpus.AUGMENTED}")
    print("service types:", dict(Counter(r.service_type for r in hand + rows)))


if __name__ == "__main__":
    main()
