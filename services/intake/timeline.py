"""How every downstream step of an order reads on its timeline (pure, no I/O).

Citizen-visible (`public`) text is Chinese, with an English line (`text_en`) beside it for a reader
who chose English: the same facts and variables, never more. Neither carries anyone's personal
data: no staff or lawyer names, no phone or ID numbers, no free-text reasons written by staff.
Proper names of places and bodies (a service point, a court, a county) stay as written. Supervision
(督办: overdue, deadline breaches) and risk reports are for staff only — the citizen sees the outcome
of supervision, not the internal warning. An event type we do not know yet is kept for staff
(non-public) until someone decides how it should read for the citizen."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from libs.common.events import aid, dispatch, mediation
from libs.common.pii import mask_text


@dataclass(frozen=True)
class Step:
    kind: str
    text: str
    public: bool = True
    text_en: str = ""


def _name(event_type: str) -> str:
    """cn.lawline.aid.granted.v1 → granted."""
    parts = event_type.split(".")
    return parts[-2] if len(parts) >= 3 else event_type


# ---- dispatch (派单) -------------------------------------------------------------------------
# dispatch.rejected by its reason_code: every way an offer or assignment ends before the matter
# is done. (kind, citizen text, public). Codes not listed (the offeree's own conflict / overload /
# out_of_scope, and any new one) read "工单正在重新分派".
_REJECTED_ZH = {
    "returned": ("returned", "工单已退回，正在重新分派", True),  # 退单
    "transferred": ("transferred", "工单已转交其他工作人员，正在重新分派", True),  # 转办
    "timeout": ("offer_expired", "原分派人员未及时接单，正在重新分派", True),
    "reclassified": ("reclassified", "工单服务类型已调整，正在重新分派", True),
    # Intake already told the citizen (已并单 / 已转至某县办理): dispatch's withdrawal is staff-only.
    "merged": ("withdrawn_merged", "已并单：撤回原派单，释放承办人负荷", False),
    "county_transfer": ("withdrawn_county", "跨县转办：撤回原县（区）的派单", False),
    "holder_changed": ("holder_changed", "原承办人岗位变动，工单正在重新分派", True),
}
_REJECTED_EN = {
    "returned": "The order was returned and is being reassigned",
    "transferred": "The order was handed to another staff member and is being reassigned",
    "timeout": "The staff member it was offered to did not accept in time; it is being reassigned",
    "reclassified": "The order's service type was changed; it is being reassigned",
    "merged": "Merged: the original assignment was withdrawn and the handler's workload released",
    "county_transfer": "County transfer: the assignment in the original county was withdrawn",
    "holder_changed": "The staff member handling it changed post; the order is being reassigned",
}
_CLOCK_ZH = {"transfer": "转办", "reply": "答复", "max": "办结", "decision": "审查决定", "assignment": "指派"}
_CLOCK_EN = {
    "transfer": "transfer",
    "reply": "reply",
    "max": "completion",
    "decision": "review decision",
    "assignment": "lawyer assignment",
    "objection": "objection decision",
}


# dispatch.routing_confirmed: dispatch's own state of an order intake asked about again.
_DISPATCH_STATE_ZH = {
    "new": "待分派",
    "offered": "已分派，等待接单",
    "assigned": "已接单",
    "escalated": "已提交上级督办",
    "closed": "已办结",
}
_DISPATCH_STATE_EN = {
    "new": "awaiting assignment",
    "offered": "assigned, waiting to be accepted",
    "assigned": "accepted",
    "escalated": "referred to a higher level for supervision",
    "closed": "completed",
}


def _dispatch(event_type: str, data: dict) -> Step | None:
    point = data.get("service_point_name") or "服务点"
    point_en = data.get("service_point_name") or "the service point"
    if event_type == dispatch.OFFERED:
        return Step(
            "offered",
            f"已分派至{point}，等待工作人员接单",
            text_en=f"Assigned to {point_en}, waiting for a staff member to accept",
        )
    if event_type == dispatch.ASSIGNED:
        return Step(
            "assigned",
            f"{point}工作人员已接单，将尽快与您联系",
            text_en=f"A staff member at {point_en} has accepted the order and will contact you soon",
        )
    if event_type == dispatch.REJECTED:
        code = data.get("reason_code") or ""
        kind, text, public = _REJECTED_ZH.get(code, ("rerouting", "工单正在重新分派", True))
        return Step(kind, text, public, _REJECTED_EN.get(code, "The order is being reassigned"))
    if event_type == dispatch.ESCALATED:
        return Step("escalated", "已提交上级督办", text_en="Referred to a higher level for supervision")
    if event_type == dispatch.ROUTING_CONFIRMED:
        # Bookkeeping of the reconciliation (intake asked again, dispatch had it): nothing new
        # happened to the order, so the citizen sees nothing.
        status = data.get("status") or ""
        state = _DISPATCH_STATE_ZH.get(status, status)
        where = f"（{data['service_point_name']}）" if data.get("service_point_name") else ""
        where_en = f" ({data['service_point_name']})" if data.get("service_point_name") else ""
        return Step(
            "routing_confirmed",
            f"派单系统确认已收到本工单：{state}{where}",
            public=False,
            text_en=f"The dispatch system confirmed it has this order: {_DISPATCH_STATE_EN.get(status, status)}"
            f"{where_en}",
        )
    if event_type == dispatch.OVERDUE:
        level = int(data.get("level") or 0)
        clock = _CLOCK_ZH.get(data.get("clock", ""), "办理")
        clock_en = _CLOCK_EN.get(data.get("clock", ""), "handling")
        state = "即将超时（预警）" if level == 0 else f"已超时（第 {level} 级督办）"
        state_en = (
            "is about to run out (warning)" if level == 0 else f"has run out (level {level} supervision)"
        )
        return Step(
            "overdue",
            f"督办：{clock}时限{state}",
            public=False,
            text_en=f"Supervision: the {clock_en} time limit {state_en}",
        )
    return None


# ---- legal aid (法律援助法) -------------------------------------------------------------------
_AID_ZH = {
    aid.APPLICATION_RECEIVED: ("aid_application_received", "法律援助申请已收到，案件编号 {case_number}"),
    aid.MATERIALS_REQUESTED: ("aid_materials_requested", "法律援助机构已一次性告知需补充的材料"),
    aid.APPLICATION_ACCEPTED: ("aid_application_accepted", "法律援助申请已受理，正在审查"),
    aid.WITHDRAWN: ("aid_withdrawn", "法律援助申请已撤回"),
    aid.GRANTED: ("aid_granted", "法律援助申请已批准，将为您指派律师"),  # 法律援助法 Art 43
    aid.REFUSED: ("aid_refused", "法律援助申请未获批准，对决定有异议的可依法提出"),  # Art 43, 49
    aid.LAWYER_ASSIGNED: ("lawyer_assigned", "已指派承办律师"),
    aid.LAWYER_ACCEPTED: ("aid_lawyer_accepted", "承办律师已接受指派，将与您联系"),
    aid.LAWYER_DECLINED: ("aid_lawyer_reassigning", "正在为您重新指派承办律师"),
    aid.PROGRESS_REPORTED: ("aid_progress", "承办律师已报告办理进展"),
    aid.CLOSED: ("aid_closed", "法律援助案件已办结"),
    aid.RETURN_VISITED: ("aid_return_visited", "已完成回访"),
    aid.ARCHIVED: ("aid_archived", "案件已归档"),
    aid.TERMINATED: ("aid_terminated", "法律援助已终止，对决定有异议的可依法提出"),  # Art 48, 49
    aid.OBJECTION_FILED: ("aid_objection_filed", "您的异议已提交"),
    aid.OBJECTION_DECIDED: ("aid_objection_decided", "异议已作出处理决定"),
    aid.NOTIFICATION_RECEIVED: ("aid_notification_received", "已收到办案机关的法律援助通知"),
    aid.NOTIFICATION_CONFIRMED: ("aid_notification_confirmed", "已将指派律师情况函告办案机关"),  # Art 36
}
_AID_EN = {
    aid.APPLICATION_RECEIVED: "Legal aid application received, case number {case_number}",
    aid.MATERIALS_REQUESTED: "The legal aid office has told you, in a single notice, which materials to add",
    aid.APPLICATION_ACCEPTED: "Legal aid application accepted and under review",
    aid.WITHDRAWN: "Legal aid application withdrawn",
    aid.GRANTED: "Legal aid granted: a lawyer will be assigned to you",
    aid.REFUSED: "Legal aid was not granted; if you disagree with the decision you may object as the law allows",
    aid.LAWYER_ASSIGNED: "A lawyer has been assigned",
    aid.LAWYER_ACCEPTED: "The assigned lawyer has accepted the case and will contact you",
    aid.LAWYER_DECLINED: "Another lawyer is being assigned to you",
    aid.PROGRESS_REPORTED: "The lawyer has reported progress on the case",
    aid.CLOSED: "The legal aid case is concluded",
    aid.RETURN_VISITED: "Follow-up visit completed",
    aid.ARCHIVED: "The case has been archived",
    aid.TERMINATED: "Legal aid has ended; if you disagree with the decision you may object as the law allows",
    aid.OBJECTION_FILED: "Your objection has been filed",
    aid.OBJECTION_DECIDED: "A decision has been made on the objection",
    aid.NOTIFICATION_RECEIVED: "The legal aid notice from the case-handling authority has been received",
    aid.NOTIFICATION_CONFIRMED: "The case-handling authority has been told in writing which lawyer was assigned",
}
# Internal bookkeeping the citizen does not need to see.
_AID_STAFF_ONLY = {
    aid.SUBSIDY_RECORDED: ("aid_subsidy_recorded", "办案补贴已记录（第五十二条）"),
    aid.RECEIPT_CORRECTED: ("aid_receipt_corrected", "申请（通知）收到时间已更正，期限已按其重新计算"),
}
_AID_STAFF_ONLY_EN = {
    aid.SUBSIDY_RECORDED: "Case subsidy recorded (Art 52)",
    aid.RECEIPT_CORRECTED: "The date the application (notice) was received was corrected; time limits recounted from it",
}


# An aid step reads the same whichever version of its event came (v1 records may still be
# relayed from an outbox or re-read from the topic after the producer moved to v2).
def _with_v1(table: dict[str, Any]) -> None:
    for v2, v1 in aid.V1_OF.items():
        if v2 in table:
            table[v1] = table[v2]


for _table in (_AID_ZH, _AID_EN, _AID_STAFF_ONLY, _AID_STAFF_ONLY_EN):
    _with_v1(_table)

_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LAWS_EN = {"法律援助法": "Legal Aid Law ", "人民调解法": "People's Mediation Law ", "民法典": "Civil Code "}


def _cn_number(s: str) -> int:
    """三十九 → 39, 一百零五 → 105 (the article numbers of a statute)."""
    total, digit = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in "十百":
            total += (digit or 1) * (10 if ch == "十" else 100)
            digit = 0
    return total + digit


def _article_en(article: str) -> str:
    """法律援助法第四十三条、第三十六条 → Legal Aid Law Art 43, Art 36; "" when it does not read."""
    text = re.sub(r"（[^）]*）", "", article)
    for zh, en in _LAWS_EN.items():
        text = text.replace(zh, en)
    text = re.sub(r"第([零一二两三四五六七八九十百]+)条", lambda m: f"Art {_cn_number(m.group(1))}", text)
    text = text.replace("、", ", ").strip()
    return "" if _CJK.search(text) else text


def _aid(event_type: str, data: dict) -> Step | None:
    number = data.get("case_number") or ""
    if event_type == aid.CASE_OPENED:
        return Step(
            "aid_case_opened",
            f"法律援助申请已登记，案件编号 {number}".strip(),
            text_en=f"Legal aid application registered, case number {number}".strip(),
        )
    if event_type in _AID_ZH:
        kind, text = _AID_ZH[event_type]
        return Step(
            kind,
            text.format(case_number=number).strip(),
            text_en=_AID_EN[event_type].format(case_number=number).strip(),
        )
    if event_type in _AID_STAFF_ONLY:
        kind, text = _AID_STAFF_ONLY[event_type]
        return Step(kind, text, public=False, text_en=_AID_STAFF_ONLY_EN[event_type])
    if event_type == aid.DEADLINE_BREACHED:
        clock = _CLOCK_ZH.get(data.get("clock", ""), data.get("clock") or "")
        clock_en = _CLOCK_EN.get(data.get("clock", ""), data.get("clock") or "")
        article = data.get("article") or ""
        article_en = _article_en(article)
        basis = f"{article_en}, " if article_en else ""
        return Step(
            "aid_deadline_breached",
            f"督办：{clock}期限已届满（{article}，应于 {data.get('due')} 前）",
            False,
            f"Supervision: the {clock_en} time limit has run out ({basis}due by {data.get('due')})",
        )
    return None


# ---- people's mediation (人民调解法) ----------------------------------------------------------
_RISK_ZH = {
    "violence": "可能激化为暴力",
    "criminal": "可能引发刑事案件",
    "self_harm": "有自伤风险",
    "mass_incident": "可能引发群体性事件",
}
_RISK_EN = {
    "violence": "may turn violent",
    "criminal": "may lead to a crime",
    "self_harm": "risk of self-harm",
    "mass_incident": "may lead to a mass incident",
}

# mediation.case_transitioned by its action, for a producer that sent no citizen_text_en. The
# Chinese comes from the event's citizen_text; the English says the same from the event's facts.
_OTHER_ROUTES_EN = (
    "You can still protect your rights through arbitration, administrative channels or the courts"
)
_MEDIATION_ACTION_EN = {
    "add_party": "The parties to the dispute have been registered",
    "update_registration": "The case registration details have been updated",
    "consent": "A party's consent to mediation has been recorded",
    "accept": "All parties agreed to mediation; the mediation committee has accepted the case",
    "refuse": f"Mediation has ended because a party did not agree to it. {_OTHER_ROUTES_EN}",
    "schedule_session": "A mediation session has been scheduled",
    "record_session": "The mediation session has been held",
    "report_risk": "The mediation organisation has taken steps to keep the dispute from escalating",
    "extend": "With the consent of all parties, the mediation period has been extended",
    "draft_agreement": "The mediation agreement has been drafted and is waiting to be signed by all parties",
    "sign_agreement": "The mediation agreement is being signed",
    "fail": f"Mediation has ended without an agreement. {_OTHER_ROUTES_EN}",
    "follow_up": "The mediation organisation has checked how the agreement is being carried out",
    "return_visit": "The mediation organisation has made a follow-up visit; the case is closed",
    "confirmation_applied": "The parties have jointly applied to the court for judicial confirmation",
    "deadline_breached": "The case has passed its mediation deadline and has been referred for supervision",
    "correct_receipt": "The date the mediation application was received has been corrected",
    "recompute_deadline": "The deadline has been adjusted to the public holiday schedule",
}


def _mediation_en(data: dict) -> str:
    """The English line of a case_transitioned event: the producer's own, else one built by action."""
    own = str(data.get("citizen_text_en") or "").strip()
    if own:
        return own
    action = str(data.get("action") or "")
    inner = data.get("data")
    facts: dict = inner if isinstance(inner, dict) else {}
    if action in ("agreement_effective", "oral_agreement"):
        text = "Mediation succeeded and the mediation agreement is in effect."
        confirmation = facts.get("confirmation") or {}
        if confirmation.get("offered"):
            by = f" (by {confirmation['deadline']})" if confirmation.get("deadline") else ""
            text += (
                " Both parties may jointly apply to a people's court for judicial confirmation within 30 days"
                f" of the agreement taking effect{by}; once it is confirmed, if one party refuses to perform,"
                " the other may apply to the court for enforcement (People's Mediation Law Art 33)"
            )
        return text
    if action == "assign_mediator":
        by = (
            "chosen by the parties"
            if facts.get("chosen_by") == "parties"
            else "appointed by the mediation committee"
        )
        return f"A people's mediator has been {by}"
    if action == "recuse":
        if facts.get("was_assigned"):
            return "The mediator has stepped aside over a conflict of interest; another mediator will be appointed"
        return "A mediator's withdrawal has been recorded"
    if action == "schedule_session":
        when = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", str(data.get("citizen_text") or ""))
        if when:
            return f"A mediation session has been scheduled for {when.group(0)}"
    if action == "extend" and facts.get("due_date"):
        return (
            f"With the consent of all parties, the mediation period has been extended to {facts['due_date']}"
        )
    if action == "correct_receipt" and facts.get("due_date"):
        return (
            "The date the mediation application was received has been corrected; the mediation deadline"
            f" is now {facts['due_date']}"
        )
    if action == "recompute_deadline" and facts.get("year") and facts.get("to"):
        return f"Under the {facts['year']} public holiday schedule, the deadline has moved to {facts['to']}"
    if action == "confirmation_applied" and facts.get("court"):
        return f"The parties have jointly applied to {facts['court']} for judicial confirmation"
    if action in _MEDIATION_ACTION_EN:
        return _MEDIATION_ACTION_EN[action]
    return f"Mediation progress: {action.replace('_', ' ')}" if action else "Mediation progress updated"


def _mediation(event_type: str, data: dict) -> Step | None:
    number = data.get("case_number") or ""
    if event_type == mediation.CASE_OPENED:
        return Step(
            "mediation_case_opened",
            f"人民调解案件已登记，案件编号 {number}".strip(),
            text_en=f"People's mediation case registered, case number {number}".strip(),
        )
    if event_type == mediation.CASE_TRANSITIONED:
        # Mediation writes citizen_text for the citizen; masked once more as a safety net.
        text = mask_text(str(data.get("citizen_text") or "").strip()) or "人民调解办理进展更新"
        return Step(
            f"mediation_{str(data.get('action') or 'step')[:37]}",
            text,
            text_en=mask_text(_mediation_en(data)),
        )
    if event_type == mediation.RISK_REPORTED:
        kind = data.get("risk_kind", "")
        risk = _RISK_ZH.get(kind, kind or "")
        return Step(
            "mediation_risk",
            f"风险预警：{risk}，已通报（人民调解法第二十五条）",
            public=False,
            text_en=f"Risk warning: {_RISK_EN.get(kind, kind or '')}, reported (People's Mediation Law Art 25)",
        )
    if event_type == mediation.DEADLINE_BREACHED:
        days = data.get("days_over")
        return Step(
            "mediation_overdue",
            f"督办：调解期限已超 {days} 天",
            public=False,
            text_en=f"Supervision: the mediation period is {days} day(s) overdue",
        )
    return None


# Earlier generic names some producers used; their texts carry no personal data.
_LEGACY = {
    "case_closed": ("case_closed", "案件已办结", True, "The case is concluded"),
    "agreement_signed": ("agreement", "已达成调解协议", True, "A mediation agreement has been reached"),
    "decision_made": (
        "decision",
        "法律援助申请已作出决定",
        True,
        "A decision has been made on the legal aid application",
    ),
    "lawyer_assigned": ("lawyer_assigned", "已指派承办律师", True, "A lawyer has been assigned"),
}


def step_for(event_type: str, data: dict) -> Step:
    """The timeline entry for a downstream event (known types first; unknown → staff-only)."""
    for fn in (_dispatch, _aid, _mediation):
        found = fn(event_type, data)
        if found is not None:
            return found
    name = _name(event_type)
    if name in _LEGACY:
        return Step(*_LEGACY[name])
    return Step(name[:48], f"办理进展更新（{name}）", public=False, text_en=f"Progress update ({name})")
