"""Every label of the console, in Chinese (default) and English — one dict, one lookup.

A unit test checks that every key has both languages and that every key a template uses exists.
Taxonomy codes (service types, channels, …) are labelled here too, under `<kind>.<code>`.
"""

from __future__ import annotations

from libs.common.bilingual import Text
from services.console.i18n_accounts import ACCOUNTS
from services.console.i18n_cases import CASES
from services.console.i18n_citizen import CITIZEN
from services.console.i18n_clocks import CLOCKS
from services.console.i18n_figures import FIGURES
from services.console.i18n_operator import OPERATOR
from services.console.i18n_sms import SMS
from services.console.i18n_uploads import UPLOADS

LANGS = ("zh", "en")

M: dict[str, tuple[str, str]] = {
    # shell
    "app.title": ("12348 公共法律服务工作台", "12348 Public Legal Service Console"),
    "nav.operator": ("热线受理", "Hotline"),
    "nav.counter": ("窗口待办", "Counter inbox"),
    "nav.cases": ("案件办理", "Cases"),
    "nav.supervisor": ("督办看板", "Supervision"),
    "nav.logout": ("退出登录", "Log out"),
    "nav.lang": ("English", "中文"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "common.unavailable": ("此功能暂不可用", "Not available yet"),
    "common.unavailable_hint": (
        "所需的后台接口尚未上线或暂时无法连接，其余功能不受影响。",
        "The service endpoint behind this is not deployed or not reachable; everything else still works.",
    ),
    "common.error": ("操作失败", "The request failed"),
    "common.saved": ("已保存", "Saved"),
    "common.allowed": ("当前可进行的操作：", "Allowed from the current state:"),
    "common.submit": ("提交", "Submit"),
    "common.none": ("暂无", "None"),
    "common.detail": ("详情", "Details"),
    "common.status": ("状态", "Status"),
    "common.time": ("时间", "Time"),
    "common.reason": ("原因", "Reason"),
    "common.note": ("备注", "Note"),
    "common.forbidden": ("您的角色无权打开此页面", "Your role cannot open this page"),
    "common.csrf": ("页面已过期，请刷新后重试", "This page has expired; reload and try again"),
    "common.dropped_fields": (
        "受理服务暂不支持以下字段，已省略：",
        "The intake service does not support these fields yet, so they were left out:",
    ),
    # login
    "login.title": ("工作人员登录", "Staff login"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong username or password"),
    "login.identity_down": ("统一身份认证服务暂时无法连接", "The identity service cannot be reached"),
    "login.dev": (
        "开发/测试登录（仅在显式开启时可用）",
        "Development/test login (only when explicitly enabled)",
    ),
    "login.role": ("角色", "Role"),
    "login.region": ("辖区代码", "Jurisdiction code"),
    "login.staff_id": ("人员编号（UUID）", "Staff id (UUID)"),
    "login.name": ("姓名", "Name"),
    "login.welcome": ("欢迎", "Welcome"),
    # roles
    "role.operator": ("热线话务员", "Hotline operator"),
    "role.counter_staff": ("窗口工作人员", "Counter staff"),
    "role.lawyer": ("律师", "Lawyer"),
    "role.mediator": ("调解员", "Mediator"),
    "role.aid_officer": ("法律援助工作人员", "Legal-aid officer"),
    "role.supervisor": ("督办人员", "Supervisor"),
    "role.admin": ("管理员", "Administrator"),
    "role.system_admin": ("系统管理员", "System administrator"),
    "role.security_admin": ("安全管理员", "Security administrator"),
    "role.audit_admin": ("审计管理员", "Audit administrator"),
    # operator
    "op.title": ("12348 热线受理", "12348 hotline intake"),
    "op.caller": ("来电人", "Caller"),
    "op.phone": ("来电号码", "Caller number"),
    "op.name": ("姓名", "Name"),
    "op.lookup": ("来电历史", "Caller history"),
    "op.lookup_hint": (
        "输入号码后自动查询该来电人的在办工单",
        "Type the number to see the caller's open orders",
    ),
    "op.no_open": ("该号码没有在办工单", "No open orders for this number"),
    "op.duplicate": (
        "重复来电提醒：该来电人已有在办工单，请确认是否为催办或同一事项（并单）",
        "Repeat caller: there are open orders for this number — check whether this is a follow-up of the same matter",
    ),
    "op.duplicate_other": (
        "该来电人另有其他类型的在办工单：请先问清是否为同一事项（催办）还是新的诉求",
        "This caller has an open order of another type: ask whether it is the same matter (a follow-up) or a new one",
    ),
    "op.matter": ("诉求", "The request"),
    "op.description": ("诉求描述", "Description"),
    "op.suggest": ("智能分类建议", "Suggested classification"),
    "op.suggest_hint": ("边输入边给出分类建议", "Suggestions appear as you type"),
    "op.apply_suggestion": ("采用建议", "Use suggestion"),
    "op.confidence": ("置信度", "Confidence"),
    "op.evidence": ("依据", "Evidence"),
    "op.service_type": ("业务类型", "Service type"),
    "op.domain": ("法律领域", "Legal domain"),
    "op.region": ("所在地区", "Location"),
    "op.county": ("县（区）", "County"),
    "op.township": ("乡镇（街道）", "Township"),
    "op.village": ("村（社区）", "Village"),
    "op.choose": ("请选择", "Choose"),
    "op.special_groups": ("特殊群体", "Special groups"),
    "op.urgency": ("紧急程度", "Urgency"),
    "op.answered": ("电话中已解答（当场办结）", "Answered on the call (close now)"),
    "op.answer_summary": ("解答摘要", "Answer summary"),
    "op.create": ("创建工单", "Create order"),
    "op.created": ("工单已创建", "Order created"),
    "op.callback": ("记录回拨/回访", "Record a callback"),
    "op.callback_kind": ("类型", "Kind"),
    "op.callback_outcome": ("结果", "Outcome"),
    "op.rating": ("满意度评价", "Satisfaction rating"),
    "op.score": ("评分（1–5）", "Score (1–5)"),
    "op.comment": ("评价内容", "Comment"),
    "op.new_call": ("下一个来电", "Next call"),
    "op.keys": (
        "快捷键：Alt+P 号码 · Alt+D 描述 · Alt+S 创建",
        "Shortcuts: Alt+P number · Alt+D description · Alt+S create",
    ),
    "cb.callback": ("回拨", "Callback"),
    "cb.return_visit": ("回访", "Return visit"),
    "cb.reached": ("已联系上", "Reached"),
    # counter
    "ct.title": ("窗口待办", "Counter inbox"),
    "ct.live": ("实时更新", "Live"),
    "ct.offline": ("连接中断，正在重连…", "Disconnected, reconnecting…"),
    "ct.empty": ("暂无待办", "Nothing waiting"),
    "ct.sign_in": ("签到上岗", "Sign in for duty"),
    "ct.sign_out": ("签退", "Sign out of duty"),
    "ct.signed_in_since": ("已签到（%(at)s 起）", "On duty since %(at)s"),
    "ct.signed_out_at": ("已签退（%(at)s）", "Signed out at %(at)s"),
    "ct.sign_in_done": ("签到成功，开始接收派单", "Signed in: offers will reach you"),
    "ct.sign_out_done": ("已签退，不再接收新派单", "Signed out: no new offers until you sign in"),
    "ct.duty_unknown": ("未能读取签到状态，请刷新页面", "Could not read your duty state; reload the page"),
    "ct.accept": ("接单", "Accept"),
    "ct.reject": ("拒单", "Reject"),
    "ct.return": ("退单", "Return"),
    "ct.offered_at": ("派单时间", "Offered at"),
    "ct.point": ("服务点", "Service point"),
    "ct.why": ("派单理由", "Why you"),
    "ct.no_staff": (
        "当前账号未绑定人员编号，无法查看个人待办",
        "This account has no staff id, so it has no inbox",
    ),
    "reject.conflict": ("利益冲突", "Conflict of interest"),
    "reject.overload": ("工作量已满", "Overloaded"),
    "reject.out_of_scope": ("不属于本岗位业务", "Out of scope"),
    # order detail
    "od.title": ("工单详情", "Work order"),
    "od.number": ("工单号", "Order number"),
    "od.requester": ("求助人", "Requester"),
    "od.created": ("受理时间", "Received"),
    "od.timeline": ("办理进程", "Timeline"),
    "od.assignments": ("派单记录", "Offers and assignments"),
    "od.decision": ("派单依据", "Routing decision"),
    "od.close": ("办结工单", "Close the order"),
    "od.no_decision_answered": ("当场解答办结，无需派单", "Answered on the call and closed: not dispatched"),
    "od.no_decision_pending": (
        "尚未派单（派单服务处理后显示依据）",
        "Not dispatched yet: the reasons appear once dispatch has decided",
    ),
    "od.close_summary": ("办理结果", "Outcome summary"),
    "od.handler": ("承办人", "Handler"),
    "od.county_transfer": ("跨县（区）转办", "Move to another county"),
    "od.county_transfer_to": ("接收县（区）", "Receiving county"),
    "od.county_transfer_reason": ("转办理由", "Reason"),
    "od.county_transferred": (
        "已转办，接收县（区）将重新分派",
        "Moved: the receiving county routes it again",
    ),
    # order list
    "ol.title": ("工单查询", "Work orders"),
    "ol.q": ("工单号/姓名", "Number or name"),
    "ol.channel": ("渠道", "Channel"),
    "ol.from": ("起始日期", "From"),
    "ol.to": ("截止日期", "To"),
    "ol.overdue": ("仅看超期", "Overdue only"),
    "ol.search": ("查询", "Search"),
    "ol.next": ("下一页", "Next page"),
    "nav.orders": ("工单查询", "Orders"),
    # cases
    "cs.title": ("案件办理", "Cases"),
    "cs.aid": ("法律援助案件", "Legal-aid cases"),
    "cs.mediation": ("人民调解案件", "Mediation cases"),
    "cs.number": ("案件号", "Case number"),
    "cs.opened": ("立案时间", "Opened"),
    "cs.actions": ("办理操作", "Steps"),
    "cs.fields": ("案件信息", "Case record"),
    "cs.agreement": ("调解协议书", "Mediation agreement"),
    "cs.open_agreement": ("打开可打印的调解协议书", "Open the printable agreement"),
    "cs.work_order": ("来源工单", "Source work order"),
    "act.application": ("登记申请", "Record the application"),
    "act.review": ("材料审查", "Review the file"),
    "act.decision": ("审批决定", "Decide"),
    "act.assign": ("指派律师", "Assign a lawyer"),
    "act.close": ("结案", "Close the case"),
    "act.parties": ("登记当事人", "Add a party"),
    "act.consent": ("记录当事人同意", "Record consent"),
    "act.sessions": ("安排调解会", "Schedule a session"),
    "act.agreement": ("登记调解协议", "Record the agreement"),
    "f.applicant_name": ("申请人", "Applicant"),
    "f.matter": ("案由", "Matter"),
    "f.stage": ("诉讼阶段", "Procedural stage"),
    "f.income": ("家庭月收入（元）", "Monthly household income (CNY)"),
    "f.result": ("结论", "Result"),
    "f.grant": ("给予法律援助", "Grant"),
    "f.refuse": ("不予法律援助", "Refuse"),
    "f.reasons": ("理由", "Reasons"),
    "f.lawyer_staff_id": ("律师人员编号", "Lawyer's staff id"),
    "f.summary": ("结案摘要", "Summary"),
    "f.party_name": ("当事人姓名", "Party name"),
    "f.party_role": ("当事人身份", "Party role"),
    "f.applicant": ("申请人", "Applicant"),
    "f.respondent": ("被申请人", "Respondent"),
    "f.phone": ("联系电话", "Phone"),
    "f.party_id": ("当事人编号", "Party id"),
    "f.consents": ("是否同意调解", "Consents to mediation"),
    "f.yes": ("同意", "Yes"),
    "f.no": ("不同意", "No"),
    "f.scheduled_at": ("时间", "When"),
    "f.place": ("地点", "Where"),
    "f.terms": ("协议内容", "Terms"),
    "f.form": ("协议形式", "Form"),
    "f.written": ("书面协议", "Written"),
    "f.oral": ("口头协议", "Oral"),
    # supervisor
    "sv.title": ("督办看板", "Supervision dashboard"),
    "sv.today": ("今日受理", "Received today"),
    "sv.by_channel": ("今日各渠道受理量", "Today by channel"),
    "sv.by_type": ("今日各业务类型", "Today by service type"),
    "sv.month": ("本期受理", "Received in period"),
    "sv.closure": ("办结率", "Closure rate"),
    "sv.sla": ("按时办结率", "SLA attainment"),
    "sv.satisfaction": ("满意度", "Satisfaction"),
    "sv.completion": ("完成率", "Completion vs target"),
    "sv.target": ("目标", "Target"),
    "sv.overdue": ("超期与临期工单（督办）", "Overdue and at-risk orders"),
    "sv.escalate": ("一键督办", "Escalate"),
    "sv.escalated": ("已督办", "Escalated"),
    "sv.due": ("期限", "Due"),
    "sv.ranking": ("各县（区）排名通报", "County ranking"),
    "sv.rank": ("名次", "Rank"),
    "sv.county": ("县（区）", "County"),
    "sv.orders": ("工单数", "Orders"),
    "sv.closed": ("已办结", "Closed"),
    "sv.aid_cases": ("法律援助案件", "Legal-aid cases"),
    "sv.mediation_cases": ("人民调解案件", "Mediation cases"),
    "sv.export": ("导出", "Export"),
    "sv.export_orders": ("本月工单", "This month's orders"),
    "sv.refresh": ("刷新", "Refresh"),
    "sv.as_of": ("数据时间", "As of"),
    "sv.no_overdue": ("暂无超期工单", "Nothing overdue"),
    "sv.reconcile": ("派单确认", "Dispatch acknowledgement"),
    "sv.reconcile_line": (
        "待派单确认 %(n)s 单（最久 %(m)s 分钟）；已自动重发 %(k)s 单（近 24 小时）",
        "%(n)s orders awaiting dispatch's acknowledgement (longest %(m)s min); "
        "%(k)s re-sent automatically (last 24 h)",
    ),
    "sv.reconcile_hint": (
        "工单已发往派单系统但尚未收到其确认的，系统会自动重发，直到确认为止。",
        "Orders sent to dispatch without its acknowledgement are re-sent automatically until acknowledged.",
    ),
    "sv.reconcile_attempts": ("重发次数", "Re-sent"),
    "sv.reconcile_last": ("最近重发", "Last re-sent"),
    # taxonomies
    "channel.hotline": ("12348热线", "Hotline"),
    "channel.web": ("网络平台", "Web"),
    "channel.counter": ("窗口", "Counter"),
    "channel.external": ("外部系统", "External system"),
    "type.consultation": ("法律咨询", "Consultation"),
    "type.legal_aid": ("法律援助", "Legal aid"),
    "type.mediation": ("人民调解", "Mediation"),
    "type.notarization": ("公证", "Notarization"),
    "type.judicial_appraisal": ("司法鉴定", "Forensic appraisal"),
    "type.lawyer_referral": ("律师服务", "Lawyer referral"),
    "type.complaint": ("投诉", "Complaint"),
    "type.administrative_reconsideration": ("行政复议", "Administrative reconsideration"),
    "type.community_correction": ("社区矫正", "Community correction"),
    "type.resettlement": ("安置帮教", "Resettlement"),
    "type.legal_publicity": ("普法宣传", "Legal publicity"),
    "type.suggestion": ("意见建议", "Suggestion"),
    "domain.labor": ("劳动争议", "Labour"),
    "domain.marriage_family": ("婚姻家庭", "Marriage and family"),
    "domain.inheritance": ("继承", "Inheritance"),
    "domain.neighbor": ("邻里纠纷", "Neighbours"),
    "domain.land": ("土地", "Land"),
    "domain.housing": ("房屋", "Housing"),
    "domain.contract": ("合同", "Contract"),
    "domain.consumer": ("消费维权", "Consumer"),
    "domain.traffic": ("交通事故", "Traffic accident"),
    "domain.medical": ("医疗纠纷", "Medical"),
    "domain.personal_injury": ("人身损害", "Personal injury"),
    "domain.social_security": ("社会保障", "Social security"),
    "domain.criminal": ("刑事", "Criminal"),
    "domain.administrative": ("行政", "Administrative"),
    "domain.company": ("公司", "Company"),
    "domain.other": ("其他", "Other"),
    "group.elderly": ("老年人", "Elderly"),
    "group.disabled": ("残疾人", "Disabled"),
    "group.minor": ("未成年人", "Minor"),
    "group.women": ("妇女", "Women"),
    "group.migrant_worker": ("农民工", "Migrant worker"),
    "group.veteran": ("退役军人", "Veteran"),
    "group.low_income": ("低收入群体", "Low income"),
    "group.military_family": ("军人军属", "Military family"),
    "urgency.normal": ("一般", "Normal"),
    "urgency.urgent": ("紧急", "Urgent"),
    "urgency.critical": ("特急", "Critical"),
    "status.received": ("已受理", "Received"),
    "status.rerouting": ("重新分派中", "Being re-routed"),
    "status.escalated": ("督办中", "Escalated"),
    "status.dispatched": ("已派单", "Dispatched"),
    "status.in_progress": ("办理中", "In progress"),
    "status.closed": ("已办结", "Closed"),
    "status.answered": ("当场解答", "Answered"),
    "status.offered": ("待接单", "Offered"),
    "status.accepted": ("已接单", "Accepted"),
    "status.rejected": ("已拒单", "Rejected"),
    "status.returned": ("已退单", "Returned"),
    "status.open": ("办理中", "Open"),
    "status.opened": ("已立案", "Opened"),
    "status.applied": ("已申请", "Applied"),
    "status.under_review": ("审查中", "Under review"),
    "status.incomplete": ("待补正", "Incomplete"),
    "status.granted": ("已批准", "Granted"),
    "status.refused": ("不予援助", "Refused"),
    "status.assigned": ("已指派", "Assigned"),
    "status.terminated": ("已终止", "Terminated"),
    "status.withdrawn": ("已撤回", "Withdrawn"),
    "status.registered": ("已登记", "Registered"),
    "status.consented": ("各方同意", "Consented"),
    "status.in_session": ("调解中", "In session"),
    "status.agreed": ("达成协议", "Agreed"),
    "status.failed": ("调解不成", "Failed"),
    "status.merged": ("已并单", "Merged"),
    "status.mediating": ("调解中", "Mediating"),
    "status.agreement_pending": ("协议书待签署", "Agreement to sign"),
    "status.archived": ("已归档", "Archived"),
    "status.objecting_refusal": ("异议审查中", "Objection under review"),
    "status.objecting_termination": ("异议审查中", "Objection under review"),
    "status.expired": ("已超时", "Expired"),
    "status.transferred": ("已转办", "Transferred"),
    "status.cancelled": ("已撤销", "Cancelled"),
    "status.scheduled": ("已安排", "Scheduled"),
    "status.given": ("已同意", "Given"),
    "status.pending": ("待确认", "Pending"),
    "status.done": ("已完成", "Done"),
}


M.update(CASES)
M.update(CITIZEN)
M.update(CLOCKS)
M.update(ACCOUNTS)
M.update(FIGURES)
M.update(OPERATOR)
M.update(UPLOADS)
M.update(SMS)


def t(key: str, lang: str = "zh") -> str:
    pair = M.get(key)
    if pair is None:
        return key  # visible, and the unit test catches it before it ships
    return pair[1] if lang == "en" else pair[0]


def label(kind: str, code: str | None, lang: str = "zh") -> str:
    """Taxonomy label (e.g. label('type', 'legal_aid')); unknown codes are shown as they are."""
    if not code:
        return ""
    key = f"{kind}.{code}"
    return t(key, lang) if key in M else code


def pick(text: str | None, lang: str = "zh") -> str:
    """The reader's half of a service's bilingual text ("中文 | English", dispatch's convention)."""
    return Text.parse(text).pick(lang) if text else ""


def rule_label(rule: str | None, lang: str = "zh") -> str:
    """Dispatch's rule label in words: `legal-aid#1:county/法律援助~parent_tier` → 法律援助 ·
    第 1 目标：县级 · 法律援助窗口（本级无人，上移一级） — not the routing table's internals."""
    if not rule:
        return ""
    head, _, step = rule.partition("~")
    rid, _, target = head.partition("#")
    key = f"rule.{rid.split('/')[0]}"  # "follow-up/previous-handler": the kind names it
    name = t(key, lang) if key in M else rid
    if not target:
        return name
    n, _, place = target.partition(":")
    tier, _, window = place.partition("/")
    tier_name = t(f"tier.{tier}", lang) if f"tier.{tier}" in M else tier
    window_name = t(f"window.{window}", lang) if f"window.{window}" in M else window
    out = t("rule.target", lang).format(n=n, tier=tier_name, window=window_name)
    if step:
        out += t("rule.relaxed", lang).format(step=t(f"step.{step}", lang) if f"step.{step}" in M else step)
    return f"{name} · {out}"
