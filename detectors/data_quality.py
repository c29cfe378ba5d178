"""Data-quality leads: broken books, not conduct. The validation's ``warning`` expectations marked ``lead`` (a
running balance that does not chain, an ID whose checksum fails) become one lead per village, table and rule."""

from __future__ import annotations

from pydantic import Field

from sanzi_audit.contract import TABLES, where
from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params
from sanzi_audit.detectors.examples import Example, V


class DataQualityParams(Params):
    per_lead: int = Field(20, ge=1, description="How many records a lead lists in its explanation (all are evidence)")
    score: float = Field(0.3, ge=0, le=1, description="The score of every data-quality lead: they rank after every "
                         "lead of conduct in any case (kind = data_quality)")


class DataQuality(Detector):
    name = "data_quality"
    version = "1"
    title = "数据质量"
    views = ("warnings",)
    kind = "data_quality"
    description = (
        "把数据校验（expectations/*.json）中标为 lead 的警告规则的失败记录，按村、表和规则汇成一条数据质量疑点：银行流水余额"
        "不连续、身份证号校验位错误等。这些记录已载入并参与检测，疑点指向源数据本身（漏记、截断、录入错误），不是人的行为，"
        "所以单列在数据质量队列，排在所有行为疑点之后，不与其他疑点合并为案件。")
    basis = "《农村集体经济组织会计制度》关于会计资料真实、完整的要求；数据校验规则见 expectations/"
    Params = DataQualityParams

    examples = (
        Example("银行流水第 7 行的余额接不上上一行（中间缺了一笔）",
                {"bank": [dict(txn_id="B7", village_code=V, account_no="3301", txn_date="2024-03-05", amount_out=500.0,
                               balance=9000.0)]},
                warnings=[dict(table="bank", check="balance_chain", village_code=V, record_id="B7",
                               source_file="银行流水.xlsx", source_sheet=None, source_row=7, amount=500.0,
                               message="余额不连续: “9000” 应为 9500")], leads=1),
        Example("校验没有警告", {"bank": [dict(txn_id="B7", village_code=V, account_no="3301", txn_date="2024-03-05",
                                          amount_out=500.0, balance=9000.0)]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        w = data.warnings
        out: list[Lead] = []
        if w is None or w.empty:
            return out
        p = self.params
        for (table, check, village), g in w.groupby(["table", "check", "village_code"], sort=True):
            rows = g.to_dict("records")
            title_msg = rows[0]["message"].split(": “")[0]
            shown = [f"{where(r)} 第 {r['source_row']} 行（{r['record_id']}）: {r['message']}" for r in rows[:p.per_lead]]
            more = f"；另有 {len(rows) - p.per_lead} 条" if len(rows) > p.per_lead else ""
            out.append(self.lead(
                village_code=str(village), score=p.score, amount_at_risk=float(g["amount"].sum()),
                title=f"数据质量疑点：{TABLES[table].title} {len(rows)} 条记录{title_msg}",
                explanation=(f"数据校验（expectations/{table}.json 的 {check} 规则）发现 {len(rows)} 条记录不符合要求，"
                             f"记录已载入并参与检测，请核对源数据：" + "；".join(shown) + more
                             + "。若源数据经核对无误（如银行确有冲正），可排除。"),
                evidence=[(table, str(r["record_id"])) for r in rows], key=(table, check),
                details={"table": table, "check": check, "records": len(rows)}))
        return out
