"""优亲厚友: contracts and payments that go to village cadres' close relatives (or cadres themselves)."""

from __future__ import annotations

import re

import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, contract, official_row, pay
from sanzi_audit.entities import make_normaliser, unique_or_none
from sanzi_audit.normalize import to_halfwidth

from .base import Detector, DetectorInput, Lead, Params, wan

_BUSINESS = ("工作单位", "店名")

_SHOP = r"(?:店|部|超市|厂|坊|行|队|社|站|室)$"
_SHOP_END = re.compile(_SHOP)
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
    default_weight = 0.9
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
    views = ("official_accounts", "payments")
    Params = RelatedPartyParams

    examples = (
        Example("党支部书记的儿子（身份证号相符）承接本村 6 万元工程",
                {"contracts": [contract("HT1", "2024-03-01", 60000, "何超", vendor_id="330599199501011235")],
                 "ledger": [pay("s1", "2024-01-25", 3000, "何强", "212001", counterparty_id="330599197001011234")],
                 "officials": [official_row("330599197001011234", "何强"),
                               official_row("330599199501011235", "何超", None, "330599197001011234", "子女")]}, leads=1),
        Example("书记本人领取的工资（干部报酬不是优亲厚友）",
                {"ledger": [pay("s1", "2024-01-25", 3000, "何强", "212001", counterparty_id="330599197001011234")],
                 "officials": [official_row("330599197001011234", "何强")]}, leads=0),
    )

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
            by_business = self._by_business(o, name, village, region).where(
                by_id.isna() & by_acct.isna() & by_name.isna())
            matched = (by_id.astype("object").fillna(by_acct.astype("object")).fillna(by_name.astype("object"))
                       .fillna(by_business.str.split("|").str[0].astype("object")))
            how = pd.Series(None, index=df.index, dtype="object")
            how[by_business.notna()] = by_business.str.split("|").str[1]
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
        # a cadre's own pay and allowances are normal; purchases from the cadre's own shop are not
        own = (rel == "本人") & hits["role"].isin(self.params.own_pay_roles) & ~hits["how"].isin(_BUSINESS)
        hits = hits[~own]
        # most matched groups are a relative's small own payments: drop those before the per-group work
        flags = hits.assign(c=hits["source"] == "contracts", a=hits["how"].isin(["银行账号", *_BUSINESS]))
        agg = flags.groupby(["village_code", "official"]).agg(c=("c", "any"), a=("a", "any"), t=("amount", "sum"))
        keep = agg.index[agg["c"] | agg["a"] | (agg["t"] >= self.params.payment_only_min)]
        hits = hits.set_index(["village_code", "official"]).loc[lambda d: d.index.isin(keep)].reset_index()
        role_of = o.dropna(subset=["role"]).drop_duplicates("person_id").set_index("person_id")["role"]
        # the payments booked against a matched contract belong to its lead, even when their payee is unreadable
        led = data["ledger"]
        led = led[led["contract_no"].notna() & (led["debit"].fillna(0) > 0)]  # few lines: then the set lookup
        under = led[led["contract_no"].isin(set(hits.loc[hits["source"] == "contracts", "record_id"]))]
        paid_under = under.groupby("contract_no")["entry_id"].agg(list).to_dict() if len(under) else {}
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
            strongest = next(h for h in ("身份证号", "银行账号", "工作单位", "店名", "姓名") if h in hows)
            business = strongest in _BUSINESS
            if business:
                who += ("（干部名册登记的工作单位）" if strongest == "工作单位" else "经营的店铺")
            no_tender = contracts["method"].fillna("").ne("公开招标").any() if len(contracts) else False
            # someone else's name on a payment that lands in this official's account
            foreign = g[(g["how"] == "银行账号") & (g["payee"].fillna("").map(lambda n: _strip_trade(n, region))
                                                     != person["name"])]
            if len(contracts):
                base = {"身份证号": 0.7, "银行账号": 0.62, "工作单位": 0.62, "店名": 0.55, "姓名": 0.45}[strongest]
                score = base + 0.12 + (0.08 if no_tender else 0.0) + (0.05 if total >= 50_000 else 0.0)
            elif business:  # repeated purchases from a relative's shop or company
                score = (0.62 if strongest == "工作单位" else 0.55) + 0.1 * min(1.0, len(loose) / 8) + \
                    0.08 * min(1.0, total / 30_000)
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
                             f"村干部近亲属承接本村项目或收取款项应按规定回避并公开，建议核查决策程序与回避情况；"
                             f"若经公开比选且已回避、公示，可据相关记录排除。"),
                evidence=list(dict.fromkeys([(s, r) for s, r in zip(g["source"], g["record_id"], strict=True)]
                                            + [("ledger", e) for c in sorted(contract_nos)
                                               for e in paid_under.get(c, [])])),
                key=("related", str(official)),
                details=dict(matched_by=hows, relation=relation, contracts=len(contracts), payments=len(loose),
                             **({"account_shared_with": shared} if shared else {}))))
        return leads

    @staticmethod
    def _by_business(o: pd.DataFrame, payee: pd.Series, village: pd.Series, region: str) -> pd.Series:
        """person_id|how for payees that are a relative's business: the name the cadre register gives as their
        工作单位 (how 工作单位), or a shop named after them (演示县张三五金店, 城关镇李四建材经营部: how 店名)."""
        out = pd.Series(None, index=payee.index, dtype="object")
        norm = make_normaliser(region)
        names = payee.fillna("")
        distinct = pd.Series(names.unique())
        normed = dict(zip(distinct, norm(distinct).fillna(""), strict=True))
        key = names.map(normed)
        emp = o[o["employer"].notna()] if "employer" in o else o.iloc[0:0]
        if len(emp):
            by_emp = {(v, n): pid for v, n, pid in zip(emp["village_code"], norm(emp["employer"]).fillna(""),
                                                        emp["person_id"], strict=True) if len(n) >= 4}
            hit = [by_emp.get((v, k)) for v, k in zip(village, key, strict=True)]
            out = out.where(pd.isna(hit), pd.Series([f"{h}|工作单位" if h else None for h in hit], index=out.index))
        people = o.drop_duplicates(["village_code", "person_id"])
        by_village: dict[str, list[tuple[str, str]]] = {}
        for v, n, pid in zip(people["village_code"], people["name"], people["person_id"], strict=True):
            if isinstance(n, str) and len(n) >= 2:
                by_village.setdefault(v, []).append((n, pid))
        shop = key.str.contains(_SHOP, regex=True) & out.isna() & village.isin(by_village)
        if not shop.any():
            return out
        # each distinct (village, shop name) once: the rows of one shop are many
        pairs = pd.DataFrame({"v": village[shop], "k": key[shop]}).drop_duplicates()
        found = {}
        for v, k in zip(pairs["v"], pairs["k"], strict=True):
            for n, pid in sorted(by_village[v], key=lambda x: -len(x[0])):
                if n not in k:
                    continue
                m = re.match(rf"^(?:.{{0,8}}?[县镇乡市区村])?{re.escape(n)}(.{{1,8}})$", k)
                if m and _SHOP_END.search(m.group(1)):
                    found[(v, k)] = f"{pid}|店名"
                    break
        if found:
            hit = [found.get((v, k)) for v, k in zip(village[shop], key[shop], strict=True)]
            out.loc[shop[shop].index] = hit
        return out

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
