"""The laws an article may cite, each with its number of articles (the current text), so a
citation is checked when it is written: an unknown law name or an article past the end is a
field error, not a wrong answer read to a caller. Short names as used on the hotline; the full
title is shown beside them. Pure data."""

from __future__ import annotations

from libs.common.bilingual import Text

# short name → (full title, number of articles of the text in force)
LAWS: dict[str, tuple[str, int]] = {
    "民法典": ("中华人民共和国民法典", 1260),
    "劳动法": ("中华人民共和国劳动法", 107),
    "劳动合同法": ("中华人民共和国劳动合同法", 98),
    "劳动争议调解仲裁法": ("中华人民共和国劳动争议调解仲裁法", 54),
    "社会保险法": ("中华人民共和国社会保险法", 98),
    "工伤保险条例": ("工伤保险条例", 67),
    "保障农民工工资支付条例": ("保障农民工工资支付条例", 64),
    "法律援助法": ("中华人民共和国法律援助法", 71),
    "人民调解法": ("中华人民共和国人民调解法", 35),
    "反家庭暴力法": ("中华人民共和国反家庭暴力法", 38),
    "道路交通安全法": ("中华人民共和国道路交通安全法", 124),
    "消费者权益保护法": ("中华人民共和国消费者权益保护法", 63),
    "食品安全法": ("中华人民共和国食品安全法", 154),
    "老年人权益保障法": ("中华人民共和国老年人权益保障法", 85),
    "农村土地承包法": ("中华人民共和国农村土地承包法", 70),
    "土地管理法": ("中华人民共和国土地管理法", 87),
    "公证法": ("中华人民共和国公证法", 47),
    "律师法": ("中华人民共和国律师法", 60),
    "社区矫正法": ("中华人民共和国社区矫正法", 63),
    "监狱法": ("中华人民共和国监狱法", 78),
    "刑法": ("中华人民共和国刑法", 452),
    "刑事诉讼法": ("中华人民共和国刑事诉讼法", 308),
    "行政复议法": ("中华人民共和国行政复议法", 90),
    "行政诉讼法": ("中华人民共和国行政诉讼法", 103),
    "行政处罚法": ("中华人民共和国行政处罚法", 86),
    "国家赔偿法": ("中华人民共和国国家赔偿法", 42),
    "政府信息公开条例": ("中华人民共和国政府信息公开条例", 56),
    "公司法": ("中华人民共和国公司法", 266),
    "宪法": ("中华人民共和国宪法", 143),
    "医疗纠纷预防和处理条例": ("医疗纠纷预防和处理条例", 56),
    "司法鉴定管理决定": ("全国人民代表大会常务委员会关于司法鉴定管理问题的决定", 18),
    "司法鉴定程序通则": ("司法鉴定程序通则", 50),
    "民法典婚姻家庭编解释（一）": ("最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）", 91),
    "民间借贷规定": ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", 31),
}


def check(law: str, article: int) -> Text | None:
    """Why this citation cannot be right, or None."""
    if law not in LAWS:
        return Text(
            f"未收录的法律名称“{law}”，可选：{'、'.join(LAWS)}",
            f"unknown law '{law}'; expected one of: {', '.join(LAWS)}",
        )
    title, last = LAWS[law]
    if not 1 <= article <= last:
        return Text(
            f"《{title}》共 {last} 条，没有第 {article} 条", f"{law} has articles 1–{last}, not {article}"
        )
    return None


def cite(law: str, article: int) -> str:
    """How a citation is read out: 《劳动合同法》第82条."""
    return f"《{law}》第{article}条"
