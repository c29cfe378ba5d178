"""一人多名: one person or company paid under several names (same ID, or homophones on one account)."""

from __future__ import annotations

import pandas as pd
from pydantic import Field
from pypinyin import lazy_pinyin

from sanzi_audit.detectors.examples import Example, pay

from .base import Detector, DetectorInput, Lead, Params, wan


class AliasParams(Params):
    min_amount: float = Field(500.0, ge=0, description="Ignore aliases under which less than this was paid (元)")


class PayeeAliases(Detector):
    name = "payee_aliases"
    version = "1.0"
    default_weight = 0.9
    title = "一人多名"
    description = (
        "Flags one payee paid under several names: the same 居民身份证号 or 统一社会信用代码 written with different "
        "names (after normalising full-width characters, traditional characters and company suffixes), or one bank "
        "account paid under two names that sound the same (pinyin, tones ignored: 王伟/王玮). Two different-"
        "sounding names on one account is usually a couple and stays quiet; three or more names is the shared-"
        "account detector's. Basis: cases of labour or subsidies paid twice to one person under homophone or "
        "variant names, and companies renamed to spread contracts.")
    requires = ("ledger",)
    uses_payee = True
    uses = ("contracts", "claims")
    views = ("entities",)
    Params = AliasParams

    examples = (
        Example("“王伟”“王玮”两个同音名字收款到同一账户",
                {"ledger": [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_account="A1"),
                            pay("b", "2024-03-09", 1600, "王玮", "213001", counterparty_account="A1")]}, leads=1),
        Example("夫妻共用一个账户（名字不相近）",
                {"ledger": [pay("a", "2024-03-01", 1500, "王伟", "213001", counterparty_account="A1"),
                            pay("b", "2024-03-09", 1600, "李秀英", "213001", counterparty_account="A1")]}, leads=0),
        Example("公司名称的“有限公司/有限责任公司”写法不同",
                {"ledger": [pay("a", "2024-03-01", 4800, "演示县兴湾建材有限公司", "121001",
                                counterparty_id="91330599AAAAAAAAA1"),
                            pay("b", "2024-05-01", 4800, "兴湾建材有限责任公司", "121001",
                                counterparty_id="91330599AAAAAAAAA1")]}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        k = data.entities.keys
        if k.empty:
            return []
        k = k[k["name_norm"].notna()]
        leads = self._same_id(k)
        seen = {r for ld in leads for r in ld.evidence}
        leads += self._homophones_on_account(k, seen)
        return leads

    def _same_id(self, k: pd.DataFrame) -> list[Lead]:
        ided = k[k["pid"].notna()]
        n = ided.groupby("pid")["name_norm"].nunique()
        leads = []
        for pid, g in ided[ided["pid"].isin(n.index[n > 1])].groupby("pid", sort=True):
            by_name = g.groupby("name")["amount"].sum().sort_values(ascending=False)
            minor = float(by_name.iloc[1:].sum())
            if minor < self.params.min_amount:
                continue
            person = len(pid) == 18 and pid[:17].isdigit()
            names = "、".join(f"{nm}（{wan(a)}）" for nm, a in by_name.items())
            leads.append(self.lead(
                village_code=g["village_code"].mode().iloc[0], score=0.7 if person else 0.5, amount_at_risk=minor,
                title=f"一人多名疑点：证件号 {pid} 对应 {len(by_name)} 个名称",
                explanation=(f"{'身份证号' if person else '统一社会信用代码'} {pid} 在 {len(g)} 条记录中以不同名称出现: "
                             f"{names}。同一证件号对应多个名称，可能是录入错误，也可能是以不同名义重复支付或分散业务，"
                             f"建议核对原始单据与证件；若确为不同的人，可据身份证件排除。"),
                evidence=list(dict.fromkeys(zip(g["source"], g["record_id"], strict=True))), key=("id", str(pid)),
                details=dict(names=len(by_name), person=person)))
        return leads

    def _homophones_on_account(self, k: pd.DataFrame, seen: set) -> list[Lead]:
        acc = k[k["account"].notna()]
        n = acc.groupby("account")["name_norm"].nunique()
        acc = acc[acc["account"].isin(n.index[n >= 2])].copy()
        if acc.empty:
            return []
        distinct = acc["name_norm"].unique()
        sound = dict(zip(distinct, ["".join(lazy_pinyin(x)) for x in distinct], strict=True))
        acc["sound"] = acc["name_norm"].map(sound)
        # keep, per account, the names that share their sound with another name on it (a spouse stays out)
        names_per_sound = acc.groupby(["account", "sound"])["name_norm"].transform("nunique")
        acc = acc[names_per_sound >= 2]
        leads = []
        for (acct, _sound), g in acc.groupby(["account", "sound"], sort=True):
            ev = list(dict.fromkeys(zip(g["source"], g["record_id"], strict=True)))
            if all(e in seen for e in ev):
                continue
            by_name = g.groupby("name")["amount"].sum().sort_values(ascending=False)
            minor = float(by_name.iloc[1:].sum())
            if minor < self.params.min_amount:
                continue
            names = "、".join(f"{nm}（{wan(a)}）" for nm, a in by_name.items())
            leads.append(self.lead(
                village_code=g["village_code"].mode().iloc[0], score=0.8, amount_at_risk=minor,
                title=f"一人多名疑点：账户 {acct} 以同音名字收款（{'/'.join(by_name.index)}）",
                explanation=(f"银行账户 {acct} 以读音相同的两个名字收款: {names}（拼音均为 {g['sound'].iloc[0]}）。"
                             f"可能是同一人以同音名字重复领取，建议核实实际提供劳务或领取补贴的人员；若确为两人（如家人共用账户），可据证件和考勤排除。"),
                evidence=ev, key=("homophone", str(acct), str(_sound)), details=dict(pinyin=g["sound"].iloc[0])))
        return leads
