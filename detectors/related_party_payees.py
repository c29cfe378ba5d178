"""优亲厚友: contracts and payments that go to village cadres' close relatives (or cadres themselves)."""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from sanzi_audit.entities import unique_or_none
from sanzi_audit.normalize import to_halfwidth

from .base import Detector, DetectorInput, Lead, Params, wan

_TRADE = ("建材经营部", "土石方工程队", "水电安装部", "经营部", "工程队", "工作室", "商店", "店")


class RelatedPartyParams(Params):
    own_pay_roles: tuple[str, ...] = Field(
        ("payroll", "admin_expense"), description="Account roles (sanzi_audit.chart) where payments to a cadre "
        "themself are normal (pay, allowances)")
    min_amount: float = Field(1000.0, ge=0, description="Ignore matched contracts and payments totalling less than this (元)")
    payment_only_min: float = Field(5000.0, ge=0, description="Without a contract, a relative's own payments (e.g. casual "
                                    "labour) raise a lead only from this total (元), and at a low score")


class RelatedPartyPayees(Detector):
    name = "related_party_payees"
    version = "1.0"
    title = "优亲厚友"
    description = (
        "Matches contract vendors and ledger payees against the roster of cadres and their close relatives: by "
        "ID number first, then by bank account, then by name within the same village (only when the payee has "
        "no ID that says otherwise, so a namesake with another ID never matches). Cadres' own pay and allowances "
        "are excluded. Basis: 纪委 cases where contracts and labour went to cadres' spouses, children and "
        "siblings; the 四议两公开 rule requires such matters to be declared.")
    requires = ("ledger", "officials")
    uses_payee = True
    uses = ("contracts",)
    Params = RelatedPartyParams

    def detect(self, data: DetectorInput) -> list[Lead]:
        o = data["officials"]
        if o.empty:
            return []
        # one canonical row per person (a person on the roster twice: the cadre row, then by related_to)
        o = o.sort_values(["person_id", "related_to"], na_position="first", kind="stable")
        people = o.drop_duplicates("person_id").set_index("person_id")
        cadre_name = o[o["related_to"].isna()].drop_duplicates("person_id").set_index("person_id")["name"]
        owners = data.official_accounts
        acct_owner = {acct: pids[0] for acct, pids in owners.items()}
        name_idx = unique_or_none(o, ["village_code", "name"], "person_id")
        official_names = set(o["name"].dropna())

        rows = []
        region = data.config.region.name
        for src, df, cols in self._payees(data):
            pid, acct, name, village = (df[cols[0]], df[cols[1]], df[cols[2]], df["village_code"])
            by_id = pid.where(pid.isin(people.index))
            by_acct = acct.map(acct_owner).where(by_id.isna())
            distinct = pd.Series(name.fillna("").unique())
            person_name = name.fillna("").map(dict(zip(distinct, distinct.map(lambda n: _strip_trade(n, region)),
                                                       strict=True)))
            # by name only where nothing else matched and the name is an official's (a small share of the rows)
            ask = by_id.isna() & by_acct.isna() & pid.isna() & person_name.isin(official_names)
            key = pd.MultiIndex.from_arrays([village[ask], person_name[ask]])
            by_name = pd.Series(name_idx.reindex(key).to_numpy(), index=df.index[ask]).reindex(df.index)
            matched = by_id.fillna(by_acct).fillna(by_name)
            how = pd.Series(None, index=df.index, dtype="object")
            how[by_name.notna()] = "姓名"
            how[by_acct.notna()] = "银行账号"
            how[by_id.notna()] = "身份证号"
            m = matched.notna()
            part = df.loc[m].assign(official=matched[m], how=how[m], source=src)
            rows.append(part)
        if not rows:
            return []
        hits = pd.concat(rows, ignore_index=True)
        rel = hits["official"].map(people["relation"]).fillna("本人")
        own = (rel == "本人") & hits["role"].isin(self.params.own_pay_roles)
        hits = hits[~own]
        # most matched groups are a relative's small own payments: drop those before the per-group work
        flags = hits.assign(c=hits["source"] == "contracts", a=hits["how"] == "银行账号")
        agg = flags.groupby(["village_code", "official"]).agg(c=("c", "any"), a=("a", "any"), t=("amount", "sum"))
        keep = agg.index[agg["c"] | agg["a"] | (agg["t"] >= self.params.payment_only_min)]
        hits = hits.set_index(["village_code", "official"]).loc[lambda d: d.index.isin(keep)].reset_index()
        role_of = o.dropna(subset=["role"]).drop_duplicates("person_id").set_index("person_id")["role"]
        leads = []
        for (village, official), g in hits.groupby(["village_code", "official"], sort=True):
            total = float(g["amount"].sum())
            contracts = g[g["source"] == "contracts"]
            # payments already counted through their contract are not money twice
            contract_nos = set(contracts["record_id"])
            loose = g[(g["source"] == "ledger") & ~g["contract_no"].isin(contract_nos)]
            total = float(contracts["amount"].sum() + loose["amount"].sum())
            if total < self.params.min_amount:
                continue
            person = people.loc[official]
            relation = person["relation"] if isinstance(person["relation"], str) else "本人"
            cadre_id = person["related_to"] if isinstance(person["related_to"], str) else official
            cadre = cadre_name.get(cadre_id, "")
            role = role_of.get(cadre_id, "")
            who = (f"村干部{cadre}（{role}）本人" if relation == "本人"
                   else f"村干部{cadre}（{role}）的{relation}{person['name']}")
            hows = sorted(set(g["how"]))
            strongest = "身份证号" if "身份证号" in hows else ("银行账号" if "银行账号" in hows else "姓名")
            no_tender = contracts["method"].fillna("").ne("公开招标").any() if len(contracts) else False
            # someone else's name on a payment that lands in this official's account
            foreign = g[(g["how"] == "银行账号") & (g["payee"].fillna("").map(lambda n: _strip_trade(n, region))
                                                     != person["name"])]
            if len(contracts):
                base = {"身份证号": 0.7, "银行账号": 0.62, "姓名": 0.45}[strongest]
                score = base + 0.12 + (0.08 if no_tender else 0.0) + (0.05 if total >= 50_000 else 0.0)
            elif len(foreign):
                score = 0.75 + 0.05 * min(3, foreign["payee"].nunique() - 1)
            else:
                if total < self.params.payment_only_min:
                    continue
                score = 0.25 + 0.2 * min(1.0, total / 50_000) - (0.1 if strongest == "姓名" else 0.0)
            parts = []
            if len(contracts):
                parts.append(f"合同 {len(contracts)} 份（" + "、".join(
                    f"{r.record_id} {r.title} {wan(r.amount)}" for r in contracts.itertuples()) + "）")
            if len(loose):
                parts.append(f"付款 {len(loose)} 笔合计 {wan(float(loose['amount'].sum()))}")
            names = "、".join(dict.fromkeys(g["payee"].fillna("")))
            shared = sorted({p for a in g["acct"].dropna() for p in owners.get(a, ()) if p != official})
            also = ""
            if shared:  # an account of two officials: say so, and name the other one
                also = "该账户同时为" + "、".join(
                    f"{people.loc[p, 'name']}（{_relation(people.loc[p, 'relation'])}）"
                    for p in shared if p in people.index) + "所用。"
            # "…的子女何超" needs no "（何超）"; other spellings or trade names do get shown
            shown = "" if set(g["payee"].fillna("")) <= {person["name"]} else f"（{names}）"
            leads.append(self.lead(
                village_code=village, score=round(min(score, 0.95), 4), amount_at_risk=total,
                title=f"优亲厚友疑点：{who}{shown}涉及 {wan(total)}",
                explanation=(f"收款方/承包方“{names}”经{'、'.join(hows)}比对为{who}。涉及{'；'.join(parts)}，"
                             f"合计 {wan(total)}。{'其中有未经公开招标的合同。' if no_tender else ''}{also}"
                             f"村干部近亲属承接本村项目或收取款项应按规定回避并公开，建议核查决策程序与回避情况。"),
                evidence=list(dict.fromkeys([(s, r) for s, r in zip(g["source"], g["record_id"], strict=True)])),
                key=("related", str(official)),
                details=dict(matched_by=hows, relation=relation, contracts=len(contracts), payments=len(loose),
                             **({"account_shared_with": shared} if shared else {}))))
        return leads

    @staticmethod
    def _payees(data):
        pay = data.payments
        led = pd.DataFrame({"record_id": pay["entry_id"], "village_code": pay["village_code"],
                            "pid": pay["counterparty_id"], "acct": pay["counterparty_account"],
                            "payee": pay["counterparty"], "amount": pay["debit"], "role": pay["role"],
                            "contract_no": pay["contract_no"], "title": pay["summary"], "method": None})
        yield "ledger", led, ("pid", "acct", "payee")
        if data.has("contracts"):
            c = data["contracts"]
            con = pd.DataFrame({"record_id": c["contract_no"], "village_code": c["village_code"],
                                "pid": c["vendor_id"], "acct": c["vendor_account"], "payee": c["vendor"],
                                "amount": c["amount"], "role": "contract", "contract_no": c["contract_no"],
                                "title": c["title"], "method": c["method"]})
            yield "contracts", con, ("pid", "acct", "payee")


def _relation(v) -> str:
    return v if isinstance(v, str) else "本人"


def _strip_trade(name: str, region: str) -> str:
    """'演示县王伟建材经营部' → '王伟': the person behind a sole trader's name."""
    n = to_halfwidth(name).replace(" ", "")
    if region and n.startswith(region):
        n = n[len(region):]
    for t in _TRADE:
        if n.endswith(t) and len(n) > len(t) + 1:
            return n[: -len(t)]
    return n
