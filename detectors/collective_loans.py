"""集体资金出借给个人: collective money lent to a person, booked on 应收款 or 内部往来."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit import chart
from sanzi_audit.detectors.examples import Example, V
from sanzi_audit.entities import is_org, voucher_lines

from .base import Detector, DetectorInput, Lead, Params, mentions, wan, ymd


def _loan(no: str, date: str, account: str, amount: float, who: str, summary: str, paid_by: str = "102001") -> list:
    """An example voucher lending ``amount`` to ``who`` (receivable debit, bank or cash credit)."""
    return [dict(entry_id=f"{no}-1", village_code=V, voucher_no=no, line_no="1", entry_date=date, account_code=account,
                 debit=amount, credit=0.0, counterparty=who, summary=summary, handler="李会计"),
            dict(entry_id=f"{no}-2", village_code=V, voucher_no=no, line_no="2", entry_date=date, account_code=paid_by,
                 debit=0.0, credit=amount, summary=summary, handler="李会计")]


class LoanParams(Params):
    min_amount: float = Field(3000.0, ge=0, description="Loans below this (元) are left out (石西乡: up to 3000元 "
                              "needs only a 两委会 decision)")
    advance_words: tuple[str, ...] = Field(("备用金", "差旅", "借支", "预支", "周转金"),
                                           description="摘要 words of an advance to a cadre for village business")
    advance_max: float = Field(10000.0, ge=0, description="An advance to a cadre or handler up to this is village "
                               "business, not a loan")


class CollectiveLoans(Detector):
    name = "collective_loans"
    version = "1.0"
    title = "集体资金出借"
    description = (
        "Flags money paid out of the bank or cash box to a person (not an organisation) and booked as a receivable "
        "(应收款, 内部往来, 其他应收款): collective money lent to individuals. 浙江 forbids lending collective funds "
        "outright; elsewhere loans need 四议两公开 (石西乡: members only; above 3000元 a 村民代表会议). Advances to a "
        "cadre or the handler for village business (备用金, 差旅) up to advance_max are left out. A loan to a cadre or "
        "relative scores higher.")
    requires = ("ledger",)
    uses = ("officials",)
    views = ("official_of", "roles")
    Params = LoanParams

    examples = (
        Example("集体资金 3万元 借给村民王五个人",
                {"ledger": _loan("L1", "2024-03-01", "112001", 30000.0, "王五", "借给王五个人借款")}, leads=1),
        Example("会计借支差旅费 5,000元（备用金）",
                {"ledger": _loan("L2", "2024-03-02", "113001", 5000.0, "李会计", "李会计借支差旅费", paid_by="101001")},
                leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        led = data["ledger"]
        if led.empty:
            return []
        role = data.roles
        out_of = role.isin(["bank", "cash"]) & (led["credit"].fillna(0) > 0)
        m = role.isin(["receivable", "internal"]) & (led["debit"].fillna(0) >= p.min_amount) & led["counterparty"].notna()
        lines = led[m]
        lines = lines[~is_org(lines["counterparty"])]
        paid = voucher_lines(led[out_of], lines)  # the bank or cash lines the money left by
        lines = voucher_lines(lines, paid)
        if lines.empty:
            return []
        official = data.official_of(lines["village_code"], lines["counterparty"], person_id=lines["counterparty_id"])
        handlers = set(led["handler"].dropna())
        advance = mentions(lines["summary"], p.advance_words) & (lines["debit"] <= p.advance_max) & \
            (official.notna() | lines["counterparty"].isin(handlers))
        lines = lines.assign(official=official)[~advance]
        paid_by = paid.groupby(["village_code", "voucher_no"])["entry_id"].agg(list)
        leads = []
        for (village, who), g in lines.groupby(["village_code", "counterparty"], sort=True):
            g = g.sort_values(["entry_date", "entry_id"])
            total = float(g["debit"].sum())
            label = g["official"].dropna()
            link = f"借款人为{label.iat[0]}。" if len(label) else ""
            shown = "；".join(f"{ymd(r.entry_date)} {r.voucher_no} 号凭证 {wan(r.debit)}（{r.summary or ''}）"
                             for r in g.head(10).itertuples())
            acct = chart.ROLES.get(role.loc[g.index[0]], "应收款")
            leads.append(self.lead(
                village_code=village, score=round(min(0.9, 0.6 + (0.2 if len(label) else 0.0)
                                                      + (0.05 if total >= 20_000 else 0.0)), 4), amount_at_risk=total,
                title=f"集体资金出借疑点：{who} 借用集体资金 {wan(total)}",
                explanation=(f"{len(g)} 笔集体资金以{acct}记账付给个人 {who}，合计 {wan(total)}: {shown}。{link}集体资金原则上"
                             "不得出借给个人，确需出借须经四议两公开并约定还款，建议调阅民主决策记录、借款合同和还款情况；"
                             "若为经批准的村务备用金或已按期归还的经决议借款，可据决议和还款凭证排除。"),
                evidence=list(dict.fromkeys([("ledger", e) for r in g.itertuples() for e in
                                             [r.entry_id, *paid_by.get((r.village_code, r.voucher_no), [])]])),
                key=("loan", str(who)),
                details=dict(lines=len(g), official=bool(len(label)))))
        return leads
