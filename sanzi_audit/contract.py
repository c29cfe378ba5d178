"""The input data contract: tables, canonical columns, Chinese header aliases, types and record ids.

This module is the single source of truth for what a source must look like; docs/data-contract.md is
generated from the same definitions (see ``render_markdown``) and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["text", "code", "amount", "number", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    title: str  # Chinese name shown to users
    columns: tuple[Column, ...]
    record_id: str  # column that identifies a record in lead_evidence
    # When the record id column is absent, it is derived from these columns (stable across reloads).
    derive_id_from: tuple[str, ...] = ()
    optional: bool = False
    date_column: str | None = None
    doc: str = ""
    # Columns that identify a row in the warehouse; defaults to (record_id,). An official's relative may be
    # listed once per cadre they are related to, so officials are unique per (person_id, related_to).
    key: tuple[str, ...] = ()
    _by_name: dict[str, Column] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for c in self.columns:
            self._by_name[c.name] = c

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def unique_key(self) -> tuple[str, ...]:
        return self.key or (self.record_id,)

    @property
    def canonical_order(self) -> tuple[str, ...]:
        """The order detection sees the table in: village, date, then the unique key (so the order is total)."""
        first = ("village_code", self.date_column) if self.date_column else ("village_code",)
        return tuple(dict.fromkeys((*first, *self.unique_key)))

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def columns_of_kind(self, *kinds: ColumnKind) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]


C = Column

LEDGER = Table(
    name="ledger",
    title="会计分录",
    record_id="entry_id",
    derive_id_from=("village_code", "voucher_no", "line_no"),
    date_column="entry_date",
    doc="One line of a voucher (凭证分录) from the village books.",
    columns=(
        C("entry_id", "code", aliases=("分录ID", "分录编号"), doc="stable id; derived if absent"),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码"), "12-digit 统计用区划代码"),
        C("village_name", "text", aliases=("村名称", "村名", "单位名称")),
        C("voucher_no", "code", True, ("凭证号", "凭证编号"), "voucher number within the village's year"),
        C("line_no", "code", aliases=("分录号", "分录序号", "行号")),
        C("entry_date", "date", True, ("日期", "记账日期", "凭证日期")),
        C("account_code", "code", True, ("科目编码", "科目代码")),
        C("account_name", "text", aliases=("科目名称",)),
        C("summary", "text", aliases=("摘要",)),
        C("debit", "amount", aliases=("借方金额", "借方")),
        C("credit", "amount", aliases=("贷方金额", "贷方")),
        C("counterparty", "text", aliases=("往来单位", "收款人", "往来单位/收款人", "收款单位")),
        C("counterparty_account", "code", aliases=("收款账号", "银行账号")),
        C("counterparty_id", "code", aliases=("证件号码", "统一社会信用代码", "身份证号")),
        C("contract_no", "code", aliases=("合同编号",)),
        C("invoice_no", "code", aliases=("发票号码", "发票号")),
        C("handler", "text", aliases=("经办人",)),
        C("approver", "text", aliases=("审批人",)),
        C("settlement", "text", aliases=("结算方式",), doc="现金/转账/村务卡"),
        C("chart", "text", aliases=("科目体系", "会计制度"), doc="the chart of the account code: village-2004, village-2024 "
          "or enterprise (小企业会计准则); empty = the village chart in force on the date (see sanzi_audit/chart.py)"),
        C("counterparty_source", "text", doc="where the counterparty was read: column, aux (辅助核算), item (K/3 核算项目), "
          "subaccount (科目 sub-account), voucher (another line of the voucher), summary (a 摘要 pattern: weak); detectors also see "
          "bank (the bank statement's 对方户名, where the export names no payee)"),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for (kept, not dropped)"),
    ),
)

CONTRACTS = Table(
    name="contracts",
    title="合同台账",
    record_id="contract_no",
    date_column="sign_date",
    optional=True,
    doc="Contract register: works, goods, services, leases of assets and resources.",
    columns=(
        C("contract_no", "code", True, ("合同编号",)),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码")),
        C("title", "text", aliases=("合同名称", "项目名称")),
        C("category", "text", aliases=("类别", "合同类别"), doc="工程/货物/服务/资产租赁/资源发包"),
        C("vendor", "text", aliases=("相对方", "承包方", "乙方")),
        C("vendor_id", "code", aliases=("相对方证件号", "统一社会信用代码", "证件号码")),
        C("vendor_account", "code", aliases=("相对方账号", "收款账号")),
        C("amount", "amount", True, ("合同金额", "金额")),
        C("sign_date", "date", True, ("签订日期",)),
        C("method", "text", aliases=("采购方式", "发包方式")),
        C("decision_ref", "code", aliases=("决策记录编号",), doc="村民代表会议 resolution or tender record"),
        C("quantity", "number", aliases=("租赁面积", "发包面积", "数量"),
          doc="leases: area or size let (in `unit`), for the rent per unit"),
        C("unit", "text", aliases=("计量单位", "单位"), doc="leases: 亩/平方米/间"),
        C("term_years", "number", aliases=("租期", "租期（年）", "期限（年）"),
          doc="leases: years the contract amount covers"),
        C("start_date", "date", aliases=("起始日期", "开始日期"), doc="first day of the contract term"),
        C("end_date", "date", aliases=("终止日期", "结束日期", "到期日期"), doc="last day of the contract term"),
        C("annual_rent", "amount", aliases=("年租金", "年承包费")),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

CLAIMS = Table(
    name="claims",
    title="补贴发放",
    record_id="claim_id",
    derive_id_from=("village_code", "program", "period", "claimant_id", "bank_account", "amount", "pay_date"),
    date_column="pay_date",
    optional=True,
    doc="Subsidy payment roll (惠农补贴一卡通发放).",
    columns=(
        C("claim_id", "code", aliases=("发放ID", "发放编号")),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码")),
        C("program", "text", True, ("补贴项目", "项目名称")),
        C("period", "code", aliases=("发放期间", "期间")),
        C("claimant_name", "text", aliases=("姓名", "领取人")),
        C("claimant_id", "code", True, ("身份证号", "证件号码")),
        C("bank_account", "code", aliases=("银行卡号", "一卡通账号", "账号")),
        C("amount", "amount", True, ("发放金额", "金额")),
        C("quantity", "number", aliases=("面积", "数量")),
        C("pay_date", "date", True, ("发放日期",)),
        C("payee_name", "text", aliases=("收款人姓名", "持卡人"), doc="一卡通: the card holder paid (may differ from the claimant)"),
        C("payee_id", "code", aliases=("收款人身份证号", "持卡人身份证号")),
        C("household_head_name", "text", aliases=("户主姓名",)),
        C("household_head_id", "code", aliases=("户主身份证号",)),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

RESIDENTS = Table(
    name="residents",
    title="村民名册",
    record_id="person_id",
    key=("person_id", "village_code"),
    optional=True,
    doc="Resident roster (户籍/村民名册) with status changes. A person who moved is one person with a history: a row "
        "per village (迁出 from one with its date, 迁入 into the other with its date), not a duplicate.",
    columns=(
        C("person_id", "code", True, ("身份证号", "证件号码")),
        C("name", "text", aliases=("姓名",)),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码")),
        C("household_id", "code", aliases=("户号",)),
        C("status", "text", aliases=("状态", "户籍状态"), doc="在册/死亡/迁出/迁入 (迁入: moved in on status_date)"),
        C("status_date", "date", aliases=("变动日期",)),
        C("contracted_area", "number", aliases=("承包面积", "确权面积")),
        C("relation_to_head", "text", aliases=("与户主关系",)),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

OFFICIALS = Table(
    name="officials",
    title="村干部及近亲属",
    record_id="person_id",
    key=("person_id", "related_to"),
    optional=True,
    doc="Village cadres and their close relatives (one row per relative per cadre).",
    columns=(
        C("person_id", "code", True, ("身份证号", "证件号码")),
        C("name", "text", aliases=("姓名",)),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码")),
        C("role", "text", aliases=("职务",)),
        C("related_to", "code", aliases=("关联干部身份证号",), doc="empty for the cadre"),
        C("relation", "text", aliases=("关系",), doc="本人/配偶/子女/父母/兄弟姐妹/其他"),
        C("term_start", "date", aliases=("任期开始",)),
        C("term_end", "date", aliases=("任期结束",)),
        C("employer", "text", aliases=("工作单位",), doc="a relative's 工作单位: can name the business that wins work"),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

BANK = Table(
    name="bank",
    title="银行流水",
    record_id="txn_id",
    derive_id_from=("account_no", "txn_date", "txn_time", "serial_no", "amount_out", "amount_in", "balance",
                    "counterparty_account", "summary"),
    date_column="txn_date",
    optional=True,
    doc="Bank statement of a village's own account (对公账户交易明细), one row per transaction as the bank exported "
        "it. Amounts are from the village's side: `amount_out` left the account (借方发生额/支出), `amount_in` came "
        "in (贷方发生额/收入). The counterparty is whoever the bank paid or was paid by: its name is the account "
        "holder's, not the name the ledger gives.",
    columns=(
        C("txn_id", "code", aliases=("流水ID",), doc="stable id; derived if absent"),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码"),
          "the village owning the account: from the column, the 户名 in the title (village directory) or "
          "`bank.accounts` in the county config"),
        C("account_no", "code", True, ("本方账号", "账号"), "the village's own account (often in the title rows)"),
        C("account_name", "text", aliases=("本方户名", "户名", "账户名称")),
        C("txn_date", "date", True, ("交易日期", "记账日期", "日期")),
        C("txn_time", "text", aliases=("交易时间", "时间")),
        C("summary", "text", aliases=("摘要", "交易摘要")),
        C("amount_out", "amount", aliases=("借方发生额", "支出金额", "付款金额", "借方金额"), doc="money out"),
        C("amount_in", "amount", aliases=("贷方发生额", "收入金额", "收款金额", "贷方金额"), doc="money in"),
        C("balance", "amount", aliases=("余额", "账户余额", "联机余额"),
          doc="running balance after the row; checked row by row in file order (a break is a data-quality lead)"),
        C("counterparty_name", "text", aliases=("对方户名", "对方账户名称", "对方名称", "收/付方名称")),
        C("counterparty_account", "code", aliases=("对方账号", "对方账户", "收/付方账号")),
        C("counterparty_bank", "text", aliases=("对方行名", "对方开户行", "对方银行")),
        C("serial_no", "code", aliases=("流水号", "交易流水号", "凭证号码", "柜员流水号")),
        C("purpose", "text", aliases=("用途", "附言", "备注")),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

# ---- registers of other departments (数据碰撞): each row holds for a period, so a rule asks "held on the pay date?" ----
# ID numbers may come raw or hashed; hashed IDs must be hashed with one county key in every table (docs/registers.md).

_REG_VILLAGE = C("village_code", "code", aliases=("村代码", "户籍村代码", "区划代码"),
                 doc="the holder's village when the register gives it (rows without one are shown only to county-wide "
                     "users)")

PUBLIC_EMPLOYEES = Table(
    name="public_employees",
    title="财政供养人员",
    record_id="person_id",
    key=("person_id", "start_date"),
    date_column="start_date",
    optional=True,
    doc="People paid from public funds (财政供养人员: 公务员, 事业单位, 村干部 on a county payroll), one row per spell.",
    columns=(
        C("person_id", "code", True, ("身份证号", "证件号码", "公民身份号码")),
        C("name", "text", aliases=("姓名",)),
        C("employer", "text", aliases=("工作单位", "单位名称")),
        C("position", "text", aliases=("职务", "岗位", "人员类别")),
        C("start_date", "date", aliases=("入职日期", "参加工作时间", "起始日期")),
        C("end_date", "date", aliases=("离职日期", "退休日期", "终止日期"), doc="empty: still employed"),
        _REG_VILLAGE,
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

VEHICLES = Table(
    name="vehicles",
    title="车辆登记",
    record_id="plate_no",
    key=("plate_no", "owner_id"),
    date_column="reg_date",
    optional=True,
    doc="Motor vehicle registrations (公安车管), one row per vehicle and owner.",
    columns=(
        C("plate_no", "code", True, ("号牌号码", "车牌号", "号牌")),
        C("owner_id", "code", True, ("所有人身份证号", "身份证号", "证件号码")),
        C("owner_name", "text", aliases=("所有人", "车主", "姓名")),
        C("vehicle_type", "text", aliases=("车辆类型", "车型", "车辆种类")),
        C("value", "amount", aliases=("车辆价值", "购置价", "发票价格", "价值"), doc="元; empty: unknown"),
        C("reg_date", "date", aliases=("初次登记日期", "登记日期")),
        C("dereg_date", "date", aliases=("注销日期", "转出日期"), doc="empty: still registered to the owner"),
        _REG_VILLAGE,
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

PROPERTIES = Table(
    name="properties",
    title="不动产登记",
    record_id="property_id",
    key=("property_id", "owner_id"),
    date_column="reg_date",
    optional=True,
    doc="Real estate registrations (不动产登记), one row per property and owner.",
    columns=(
        C("property_id", "code", True, ("不动产权证号", "产权证号", "不动产单元号")),
        C("owner_id", "code", True, ("权利人身份证号", "身份证号", "证件号码")),
        C("owner_name", "text", aliases=("权利人", "姓名")),
        C("address", "text", aliases=("坐落", "房屋坐落", "地址")),
        C("kind", "text", aliases=("用途", "房屋用途", "类型"), doc="住宅/商业/…"),
        C("area", "number", aliases=("建筑面积", "面积")),
        C("reg_date", "date", aliases=("登记日期", "登簿日期")),
        C("end_date", "date", aliases=("注销日期", "转移日期"), doc="empty: still held"),
        _REG_VILLAGE,
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

BUSINESSES = Table(
    name="businesses",
    title="市场主体登记",
    record_id="uscc",
    optional=True,
    date_column="reg_date",
    doc="Registered businesses (企业, 个体工商户, 农民专业合作社) from 市场监管.",
    columns=(
        C("uscc", "code", True, ("统一社会信用代码", "注册号")),
        C("name", "text", True, ("企业名称", "名称", "字号名称")),
        C("kind", "text", aliases=("市场主体类型", "类型", "企业类型")),
        C("reg_date", "date", aliases=("成立日期", "登记日期")),
        C("cancel_date", "date", aliases=("注销日期", "吊销日期"), doc="empty: active"),
        C("status", "text", aliases=("登记状态", "经营状态")),
        _REG_VILLAGE,
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

BUSINESS_PEOPLE = Table(
    name="business_people",
    title="市场主体人员",
    record_id="link_id",
    derive_id_from=("uscc", "person_id", "role", "start_date"),
    optional=True,
    date_column="start_date",
    doc="Who stands behind a registered business: 法定代表人, 股东, 监事, 经营者 (个体户), with the dates they held it.",
    columns=(
        C("link_id", "code", doc="stable id; derived if absent"),
        C("uscc", "code", True, ("统一社会信用代码",)),
        C("person_id", "code", True, ("身份证号", "证件号码")),
        C("name", "text", aliases=("姓名",)),
        C("role", "text", aliases=("职务", "身份", "人员类型"), doc="法定代表人/股东/监事/经营者/负责人"),
        C("share", "number", aliases=("出资比例", "持股比例"), doc="shareholders: share in %"),
        C("start_date", "date", aliases=("任职日期", "起始日期", "认缴日期")),
        C("end_date", "date", aliases=("离任日期", "终止日期", "退出日期"), doc="empty: still holds it"),
        _REG_VILLAGE,
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

DECISIONS = Table(
    name="decisions",
    title="民主决策记录",
    record_id="decision_id",
    date_column="meeting_date",
    optional=True,
    doc="The village's decision records (四议两公开: 村民代表会议, 村民会议, 两委会): what was decided, when, for how much.",
    columns=(
        C("decision_id", "code", True, ("决策记录编号", "决议编号", "会议编号")),
        C("village_code", "code", True, ("村代码", "村级代码", "区划代码")),
        C("meeting_date", "date", True, ("会议日期", "决策日期", "表决日期")),
        C("kind", "text", aliases=("会议类型", "决策形式"), doc="村民代表会议/村民会议/两委会"),
        C("subject", "text", aliases=("议题", "事项名称", "项目名称")),
        C("amount", "amount", aliases=("金额", "估算价", "预算金额")),
        C("contract_no", "code", aliases=("合同编号",), doc="the contract decided, when the record names it"),
        C("result", "text", aliases=("表决结果", "决议结果"), doc="通过/未通过"),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

CONTRACT_TERMS = Table(
    name="contract_terms",
    title="合同收付款计划",
    record_id="term_id",
    derive_id_from=("contract_no", "period", "due_date"),
    date_column="due_date",
    optional=True,
    doc="A contract's payment schedule (lease and 承包 cards: 期次, 应付金额, 付款日期): what is due when. Where a "
        "contract has one, `lease_overdue` reads its dues from it instead of the start date's anniversaries.",
    columns=(
        C("term_id", "code", doc="stable id; derived if absent"),
        C("contract_no", "code", True, ("合同编号",)),
        C("village_code", "code", aliases=("村代码", "区划代码")),
        C("period", "code", aliases=("期次", "期数", "第几期")),
        C("amount_due", "amount", True, ("应付金额", "应收金额", "本期金额", "金额")),
        C("due_date", "date", True, ("应付日期", "应收日期", "付款日期", "到期日")),
        C("status", "text", aliases=("状态", "收款状态")),
        C("extra", "text", doc="JSON of the export's columns the contract has no column for"),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (LEDGER, CONTRACTS, CLAIMS, RESIDENTS, OFFICIALS, BANK, DECISIONS,
                                                     CONTRACT_TERMS,
                                                     PUBLIC_EMPLOYEES, VEHICLES, PROPERTIES, BUSINESSES,
                                                     BUSINESS_PEOPLE)}
REGISTERS = ("public_employees", "vehicles", "properties", "businesses", "business_people")


def header_map(table: Table) -> dict[str, str]:
    """Map every accepted header, as ``header_key`` folds it (spaces, full-width, 帐/账, 号码/号, 编码/代码, 名称/名,
    a unit in brackets), to its canonical column."""
    from .imports.profiles import header_key

    out: dict[str, str] = {}
    for c in table.columns:
        out.setdefault(header_key(c.name), c.name)
        for a in c.aliases:
            out.setdefault(header_key(a), c.name)
    return out


def render_markdown() -> str:
    """The column reference part of docs/data-contract.md."""
    lines: list[str] = []
    for t in TABLES.values():
        opt = "optional table" if t.optional else "required table"
        lines.append(f"### `{t.name}` ({t.title}) — {opt}\n")
        lines.append(f"{t.doc} Record id: `{t.record_id}`" + (
            f" (derived from {', '.join(t.derive_id_from)} when absent)." if t.derive_id_from else "."))
        lines.append("")
        lines.append("| column | type | required | Chinese headers accepted | notes |")
        lines.append("|---|---|---|---|---|")
        for c in t.columns:
            lines.append(f"| `{c.name}` | {c.kind} | {'yes' if c.required else ''} | {'、'.join(c.aliases)} | {c.doc} |")
        lines.append("")
    return "\n".join(lines)


def where(row: dict) -> str:
    """A source row's file as a reviewer finds it: the path inside the export folder (a full path: its name), and
    the sheet of a workbook."""
    from pathlib import Path

    f = str(row.get("source_file") or "")
    label = Path(f).name if Path(f).is_absolute() else f
    sheet = row.get("source_sheet")
    return f"{label}［{sheet}］" if sheet and isinstance(sheet, str) else label
