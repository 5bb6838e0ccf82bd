"""How every downstream step of an order reads on its timeline (pure, no I/O).

Citizen-visible (`public`) text is Chinese and never carries anyone's personal data: no staff or
lawyer names, no phone or ID numbers, no free-text reasons written by staff. Supervision (督办:
overdue, deadline breaches) and risk reports are for staff only — the citizen sees the outcome of
supervision, not the internal warning. An event type we do not know yet is kept for staff
(non-public) until someone decides how it should read for the citizen."""

from __future__ import annotations

from dataclasses import dataclass

from libs.common.events import aid, dispatch, mediation
from libs.common.pii import mask_text


@dataclass(frozen=True)
class Step:
    kind: str
    text: str
    public: bool = True


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
}
_CLOCK_ZH = {"transfer": "转办", "reply": "答复", "max": "办结", "decision": "审查决定", "assignment": "指派"}


# dispatch.routing_confirmed: dispatch's own state of an order intake asked about again.
_DISPATCH_STATE_ZH = {
    "new": "待分派",
    "offered": "已分派，等待接单",
    "assigned": "已接单",
    "escalated": "已提交上级督办",
    "closed": "已办结",
}


def _dispatch(event_type: str, data: dict) -> Step | None:
    point = data.get("service_point_name") or "服务点"
    if event_type == dispatch.OFFERED:
        return Step("offered", f"已分派至{point}，等待工作人员接单")
    if event_type == dispatch.ASSIGNED:
        return Step("assigned", f"{point}工作人员已接单，将尽快与您联系")
    if event_type == dispatch.REJECTED:
        kind, text, public = _REJECTED_ZH.get(
            data.get("reason_code") or "", ("rerouting", "工单正在重新分派", True)
        )
        return Step(kind, text, public)
    if event_type == dispatch.ESCALATED:
        return Step("escalated", "已提交上级督办")
    if event_type == dispatch.ROUTING_CONFIRMED:
        # Bookkeeping of the reconciliation (intake asked again, dispatch had it): nothing new
        # happened to the order, so the citizen sees nothing.
        state = _DISPATCH_STATE_ZH.get(data.get("status") or "", data.get("status") or "")
        where = f"（{data['service_point_name']}）" if data.get("service_point_name") else ""
        return Step("routing_confirmed", f"派单系统确认已收到本工单：{state}{where}", public=False)
    if event_type == dispatch.OVERDUE:
        level = int(data.get("level") or 0)
        clock = _CLOCK_ZH.get(data.get("clock", ""), "办理")
        state = "即将超时（预警）" if level == 0 else f"已超时（第 {level} 级督办）"
        return Step("overdue", f"督办：{clock}时限{state}", public=False)
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
# Internal bookkeeping the citizen does not need to see.
_AID_STAFF_ONLY = {
    aid.SUBSIDY_RECORDED: ("aid_subsidy_recorded", "办案补贴已记录（第五十二条）"),
    aid.RECEIPT_CORRECTED: ("aid_receipt_corrected", "申请（通知）收到时间已更正，期限已按其重新计算"),
}


def _aid(event_type: str, data: dict) -> Step | None:
    if event_type == aid.CASE_OPENED:
        return Step(
            "aid_case_opened", f"法律援助申请已登记，案件编号 {data.get('case_number') or ''}".strip()
        )
    if event_type in _AID_ZH:
        kind, text = _AID_ZH[event_type]
        return Step(kind, text.format(case_number=data.get("case_number") or "").strip())
    if event_type in _AID_STAFF_ONLY:
        kind, text = _AID_STAFF_ONLY[event_type]
        return Step(kind, text, public=False)
    if event_type == aid.DEADLINE_BREACHED:
        clock = _CLOCK_ZH.get(data.get("clock", ""), data.get("clock") or "")
        article = data.get("article") or ""
        return Step(
            "aid_deadline_breached", f"督办：{clock}期限已届满（{article}，应于 {data.get('due')} 前）", False
        )
    return None


# ---- people's mediation (人民调解法) ----------------------------------------------------------
_RISK_ZH = {
    "violence": "可能激化为暴力",
    "criminal": "可能引发刑事案件",
    "self_harm": "有自伤风险",
    "mass_incident": "可能引发群体性事件",
}


def _mediation(event_type: str, data: dict) -> Step | None:
    if event_type == mediation.CASE_OPENED:
        return Step(
            "mediation_case_opened", f"人民调解案件已登记，案件编号 {data.get('case_number') or ''}".strip()
        )
    if event_type == mediation.CASE_TRANSITIONED:
        # Mediation writes citizen_text for the citizen; masked once more as a safety net.
        text = mask_text(str(data.get("citizen_text") or "").strip()) or "人民调解办理进展更新"
        return Step(f"mediation_{str(data.get('action') or 'step')[:37]}", text)
    if event_type == mediation.RISK_REPORTED:
        risk = _RISK_ZH.get(data.get("risk_kind", ""), data.get("risk_kind") or "")
        return Step("mediation_risk", f"风险预警：{risk}，已通报（人民调解法第二十五条）", public=False)
    if event_type == mediation.DEADLINE_BREACHED:
        return Step("mediation_overdue", f"督办：调解期限已超 {data.get('days_over')} 天", public=False)
    return None


# Earlier generic names some producers used; their texts carry no personal data.
_LEGACY = {
    "case_closed": ("case_closed", "案件已办结"),
    "agreement_signed": ("agreement", "已达成调解协议"),
    "decision_made": ("decision", "法律援助申请已作出决定"),
    "lawyer_assigned": ("lawyer_assigned", "已指派承办律师"),
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
    return Step(name[:48], f"办理进展更新（{name}）", public=False)
