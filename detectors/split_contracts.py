"""化整为零: one job split into pieces that each stay under the tender limit."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.examples import Example, contract
from sanzi_audit.entities import components, make_normaliser

from .base import Detector, DetectorInput, Lead, Params, wan, ymd

_NOISE = re.compile(r"[\d一二三四五六七八九十]+[组期标段]|[（）()\s]|工程|项目|支付|款|预付|进度|尾|首期|二期")

# Account roles whose payments are procurement, and their tender category (sanzi_audit.chart.TENDER_CATEGORY,
# except that a fixed asset built or bought in pieces is judged against the works limit here)
_CATEGORY_BY_ROLE = {"construction": "工程", "fixed_asset": "工程", "inventory": "货物", "public_welfare": "服务",
                     "operating_expense": "服务"}


# contracts that bring money in (leases of assets, 发包 of resources) are let by auction, not tendered
INCOME_CATEGORIES = ("资产租赁", "资源发包")


class SplitParams(Params):
    window_days: int = Field(90, ge=1, le=730, description="Pieces signed or paid within this many days form one group")
    min_piece_share: float = Field(0.3, gt=0, lt=1, description="Ignore pieces below this share of the limit")
    near_limit_band: float = Field(0.9, gt=0, lt=1, description="Single amounts at or above this share of the limit, "
                                   "without a decision record, are a weak lead of their own")
    flag_near_limit_singles: bool = Field(True, description="Emit the weak single-amount leads")


class SplitContracts(Detector):
    name = "split_contracts"
    version = "1.0"
    title = "化整为零规避招标"
    description = (
        "Flags groups of contracts or procurement payments to the same counterparty (after entity resolution) in "
        "one village, within a window, each under the region's tender limit for its category (工程/货物/服务) "
        "while their total reaches it; scored by how close pieces sit under the line, how tightly they cluster, "
        "how many there are, how alike their titles are, and whether any carries a 村民代表会议 decision record. "
        "Basis: local rules require a resolution and a tender above a limit (e.g. 安吉 10万; see config), and "
        "纪委 cases show splits of 2–5 pieces at 70–99% of the limit within 0–90 days. Also flags single "
        "amounts in a narrow band just under the limit without a decision record, at a low score.")
    requires = ("ledger",)
    uses_payee = True
    uses = ("contracts",)
    views = ("contract_links", "entities", "payments", "roles")
    Params = SplitParams

    examples = (
        Example("同一承包方一个月内两份合同，各为招标限额（10万元）的 90%、95%",
                {"contracts": [contract("HT1", "2024-03-01", 90000, "演示县安永建筑工程有限公司", title="3组道路硬化（一期）"),
                               contract("HT2", "2024-04-01", 95000, "演示县安永建筑工程有限公司", title="3组道路硬化（二期）")],
                 "ledger": []}, leads=1),
        Example("7万元、7.5万元两份合同相隔 200 天（分年度的两项工程）",
                {"contracts": [contract("HT1", "2024-01-10", 70000, "演示县安永建筑工程有限公司", title="3组道路硬化（一期）"),
                               contract("HT2", "2024-07-28", 75000, "演示县安永建筑工程有限公司", title="3组道路硬化（二期）")],
                 "ledger": []}, leads=0),
        Example("两份小合同合计仍在限额以下",
                {"contracts": [contract("HT1", "2024-03-01", 40000, "演示县安永建筑工程有限公司"),
                               contract("HT2", "2024-03-20", 45000, "演示县安永建筑工程有限公司")], "ledger": []}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        events = self._events(data)
        if events.empty:
            return []
        p = self.params
        th = {v: data.config.thresholds_for(v) for v in events["village_code"].unique()}
        events["limit"] = [th[v].tender_limit_for(c) for v, c in zip(events["village_code"], events["category"],
                                                                         strict=True)]
        events["share"] = events["amount"] / events["limit"]
        pieces = events[(events["share"] >= p.min_piece_share) & (events["share"] < 1.0)]
        leads: list[Lead] = []
        in_group: set[str] = set()
        # 1) one counterparty, several pieces; 2) one job or site, pieces spread over several counterparties
        for group in self._windows(pieces, ["village_code", "group", "category"]):
            if _unrelated_jobs(group):
                continue  # one vendor's separate jobs at separate sites: no split (a look-alike honest books have)
            leads.append(self._split_lead(group))
            in_group.update(r["event_id"] for r in group)
        # Only registered contracts: their titles name a project, while ledger summaries ("购买维修材料") are
        # booking text shared by unrelated purchases (tried: it tripled this detector's false leads).
        rest = pieces[pieces["contracts"].str.len() > 0]
        rest = rest.assign(job=rest["title"].map(_job_key))
        rest = rest[rest["job"].str.len() >= 2]
        for group in self._windows(rest, ["village_code", "job", "category"]):
            if len({r["entity"] for r in group}) > 1:
                leads.append(self._split_lead(group, same_job=True))
                in_group.update(r["event_id"] for r in group)
        if p.flag_near_limit_singles:
            near = events[(events["share"] >= p.near_limit_band) & (events["share"] < 1.0)
                          & events["decision_ref"].isna() & ~events["event_id"].isin(in_group)]
            leads.extend(self._single_lead(r) for r in near.sort_values("event_id").to_dict("records"))
        return leads

    def _windows(self, pieces: pd.DataFrame, keys: list[str]):
        """Runs of pieces within the window whose total reaches the limit, per group of ``keys``. Every run that
        starts at a piece is a candidate; the strongest (most pieces, then most alike in title, then largest) are
        taken first and runs never share a piece, so an unrelated earlier job cannot pull one piece of a split
        into its own run and leave the other alone."""
        window = self.params.window_days
        for _, g in pieces.sort_values(["date", "event_id"]).groupby(keys, sort=True):
            if len(g) < 2:
                continue
            rows = g.to_dict("records")
            candidates = []
            for i in range(len(rows)):
                j = i
                while j + 1 < len(rows) and (rows[j + 1]["date"] - rows[i]["date"]).days <= window:
                    j += 1
                run = rows[i:j + 1]
                if len(run) >= 2 and sum(r["amount"] for r in run) >= run[0]["limit"]:
                    candidates.append((-len(run), -_title_similarity([r["title"] for r in run]),
                                       -sum(r["amount"] for r in run), i, j))
            used: set[int] = set()
            for *_, i, j in sorted(candidates):
                free = [k for k in range(i, j + 1) if k not in used]
                run = [rows[k] for k in free]
                if len(run) >= 2 and sum(r["amount"] for r in run) >= run[0]["limit"]:
                    used.update(free)
                    yield run

    # ---- events: one per contract, or per unregistered procurement payment -------------------------
    def _events(self, data: DetectorInput) -> pd.DataFrame:
        ent = data.entities
        frames = []
        # only amounts big enough to be a piece somewhere in the county matter (most payments are small upkeep bills)
        floor = self.params.min_piece_share * _lowest_limit(data, data.payments["village_code"].unique())
        pay = data.payments
        pay = pay[pay["role"].isin(_CATEGORY_BY_ROLE)]
        registered: set[str] = set()
        contracts = pd.DataFrame()
        if data.has("contracts") and len(data["contracts"]):
            c = data["contracts"]
            registered = set(c["contract_no"])
            # instalments: cited only in 摘要, or fitting inside a tendered contract of the payee (contract_links)
            pay = pay.assign(contract_no=data.contract_links.reindex(pay.index).fillna(pay["contract_no"]))
            c = c[~c["category"].isin(INCOME_CATEGORIES)]  # leases bring money in: nothing to tender
            ce = ent.for_source("contracts")
            linked = pay[pay["contract_no"].isin(registered)].groupby("contract_no")["entry_id"].agg(list)
            contracts = pd.DataFrame({
                "event_id": c["contract_no"], "village_code": c["village_code"],
                "entity": c["contract_no"].map(ce["entity"]), "vendor": c["vendor"], "amount": c["amount"],
                "date": c["sign_date"], "title": c["title"].fillna(""),
                "category": c["category"].fillna("工程"), "decision_ref": c["decision_ref"],
                "method": c["method"], "account": c["vendor_account"],
                "contracts": [[x] for x in c["contract_no"]],
                "entries": [linked.get(x, []) for x in c["contract_no"]],
            })
            frames.append(contracts)
        loose = pay[~pay["contract_no"].isin(registered)].copy()
        if len(loose):
            loose["entity"] = ent.of_payments(loose.index)["entity"]
            loose["event_id"] = np.where(loose["contract_no"].notna(), "HT:" + loose["contract_no"].fillna(""),
                                         "E:" + loose["entry_id"])
            # a list of lines per event over a million lines costs seconds: only for events above the floor
            sums = loose.groupby("event_id")["debit"].sum()
            loose = loose[loose["event_id"].isin(sums.index[sums >= floor])]
            agg = loose.groupby("event_id", sort=True).agg(
                village_code=("village_code", "first"), entity=("entity", "first"), vendor=("counterparty", "first"),
                amount=("debit", "sum"), date=("entry_date", "min"), title=("summary", "first"),
                role=("role", "first"), account=("counterparty_account", "first")).reset_index()
            lines = loose.groupby("event_id", sort=True)["entry_id"].agg(list)
            agg["entries"] = agg["event_id"].map(lines)
            agg["category"] = agg["role"].map(_CATEGORY_BY_ROLE)
            agg["decision_ref"] = None
            agg["method"] = None
            agg["contracts"] = [[] for _ in range(len(agg))]
            frames.append(agg.drop(columns=["role"]))
        accrued = self._accruals(data, floor)
        if len(accrued):
            frames.append(accrued)
        if not frames:
            return pd.DataFrame()
        ev = pd.concat(frames, ignore_index=True)
        ev = ev[ev["amount"].notna() & ev["date"].notna() & ev["entity"].notna()]
        ev["title"] = ev["title"].fillna("").astype("str")
        ev["group"] = _linked_by_account(ev)
        return ev.reset_index(drop=True)

    def _accruals(self, data: DetectorInput, floor: float) -> pd.DataFrame:
        """Works booked through 应付款: the voucher debits a procurement account with no payee and credits 应付款
        under the vendor's name (the bank pays the payable later, on a line that is no procurement). The vendor
        comes from the payable line."""
        led, roles = data["ledger"], data.roles
        proc = roles.isin(_CATEGORY_BY_ROLE) & (led["debit"].fillna(0) >= floor) & led["counterparty"].isna()
        payable = (roles == "payable") & (led["credit"].fillna(0) > 0)
        if not proc.any() or not payable.any():
            return pd.DataFrame()
        key = ["village_code", "voucher_no"]
        who = led.loc[payable, key + ["counterparty", "counterparty_id", "entry_id"]]
        who = who.sort_values(key + ["counterparty"], na_position="last").drop_duplicates(key)
        work = led.loc[proc, key + ["entry_id", "entry_date", "summary", "debit"]].assign(role=roles[proc])
        m = work.merge(who.rename(columns={"entry_id": "payable_entry"}), on=key, how="inner")
        m = m.assign(paid_entry=None)
        unnamed = m["counterparty"].isna()
        if unnamed.any():
            # the export left the payable line unnamed (some 三资 layouts): the vendor is whoever the payable is paid
            # to later, the same amount within half a year (支付XX公司工程款, 应付款 debited)
            paid = led.loc[(roles == "payable") & (led["debit"].fillna(0) > 0) & led["counterparty"].notna(),
                           ["village_code", "entry_id", "entry_date", "debit", "counterparty", "counterparty_id"]]
            c = m.loc[unnamed, ["village_code", "entry_id", "entry_date", "debit"]].merge(
                paid, on=["village_code", "debit"], suffixes=("", "_p"))
            lag = (c["entry_date_p"] - c["entry_date"]).dt.days
            c = c[(lag >= 0) & (lag <= 183)].assign(lag=lag).sort_values(["lag", "entry_id_p"])
            c = c.drop_duplicates("entry_id").drop_duplicates("entry_id_p").set_index("entry_id")
            hit = m["entry_id"].map(c["counterparty"])
            m["counterparty"] = m["counterparty"].astype("object").where(~unnamed, hit)
            m["counterparty_id"] = m["counterparty_id"].astype("object").where(~unnamed, m["entry_id"].map(c["counterparty_id"]))
            m["paid_entry"] = m["entry_id"].map(c["entry_id_p"])
            m = m[m["counterparty"].notna()]
        if m.empty:
            return pd.DataFrame()
        known = data.entities.keys.dropna(subset=["name_norm"]).drop_duplicates("name_norm").set_index("name_norm")
        norm = make_normaliser(data.config.region.name)(m["counterparty"])
        entity = ("id:" + m["counterparty_id"]).where(m["counterparty_id"].notna(),
                                                      norm.map(known["entity"]).where(norm.isin(known.index)))
        entity = entity.fillna("org:" + norm)
        return pd.DataFrame({
            "event_id": "A:" + m["entry_id"], "village_code": m["village_code"], "entity": entity.to_numpy(),
            "vendor": m["counterparty"], "amount": m["debit"], "date": m["entry_date"], "title": m["summary"],
            "category": m["role"].map(_CATEGORY_BY_ROLE), "decision_ref": None, "method": None, "account": None,
            "contracts": [[] for _ in range(len(m))],
            "entries": [[a, b] + ([c] if isinstance(c, str) else []) for a, b, c in zip(
                m["entry_id"], m["payable_entry"], m["paid_entry"], strict=True)]})

    # ---- scoring and wording -----------------------------------------------------------------------
    def _split_lead(self, group: list[dict], same_job: bool = False) -> Lead:
        p = self.params
        k = len(group)
        limit = group[0]["limit"]
        total = float(sum(r["amount"] for r in group))
        span = (group[-1]["date"] - group[0]["date"]).days
        shares = [r["share"] for r in group]
        closeness = float(np.clip((np.mean(shares) - p.min_piece_share) / (1 - p.min_piece_share), 0, 1))
        tightness = 1 - span / p.window_days
        count = min(1.0, (k - 1) / 3)
        similarity = _title_similarity([r["title"] for r in group])
        decisions = [r for r in group if isinstance(r["decision_ref"], str) and r["decision_ref"]]
        no_decision = 1.0 if not decisions else 0.2
        score = 0.30 * closeness + 0.20 * tightness + 0.15 * count + 0.20 * similarity + 0.15 * no_decision
        if same_job:  # different counterparties: the job is the link, which is weaker than one vendor
            score *= 0.85
        vendor = group[0]["vendor"]
        names = sorted({r["vendor"] for r in group})
        cat = group[0]["category"]
        kind = "合同" if any(r["contracts"] for r in group) else "笔付款"
        pieces = "、".join(f"{ymd(r['date'])} {wan(r['amount'])}" for r in group)
        dec = ("均无村民代表会议决议或招标记录" if not decisions
               else f"其中 {len(decisions)} 笔有决策记录（{'、'.join(r['decision_ref'] for r in decisions)}）")
        linked = len({r["entity"] for r in group}) > 1 and not same_job
        accounts = sorted({r["account"] for r in group if isinstance(r.get("account"), str) and r["account"]})
        alias = (f"（{'、'.join(names)} 名称不同，但收款银行账号相同（{accounts[0] if accounts else ''}），"
                 f"按关联方合并计算）" if linked else
                 f"（名称写法不一: {'、'.join(names)}）" if len(names) > 1 else "")
        who = (f"同一工程/地点“{group[0]['job']}”由 {'、'.join(names)} 等 {len({r['entity'] for r in group})} 个相对方分别承接，"
               if same_job else f"同一相对方“{vendor}”{alias}")
        explanation = (
            f"{who}在 {span} 天内与本村发生 {k} {kind if kind == '笔付款' else '份' + kind}"
            f"（{pieces}），合计 {wan(total)}，达到{cat}类招标限额 {wan(limit)}，但每笔均低于限额"
            f"（为限额的 {min(shares):.0%}–{max(shares):.0%}），{dec}。标题/摘要相似度 {similarity:.0%}。"
            f"存在化整为零、规避招标和民主决策程序的疑点，建议核查是否属于同一工程或采购事项；"
            f"若为同一份经招标或决议的合同分期付款，请核对合同后排除。")
        evidence = [("contracts", c) for r in group for c in r["contracts"]] + \
                   [("ledger", e) for r in group for e in r["entries"]]
        return self.lead(
            village_code=group[0]["village_code"], score=round(float(np.clip(score, 0, 1)), 4), amount_at_risk=total,
            title=(f"化整为零疑点：“{group[0]['job']}”分 {k} 笔由多家承接，合计 {wan(total)}（限额 {wan(limit)}）"
                   if same_job else f"化整为零疑点：{vendor} {k} 笔合计 {wan(total)}（限额 {wan(limit)}）"),
            explanation=explanation, evidence=_unique(evidence),
            key=("split_job", group[0]["job"], group[0]["event_id"]) if same_job
            else ("split", group[0]["group"], group[0]["event_id"]),
            details=dict(pieces=k, span_days=span, total=total, limit=limit, closeness=round(closeness, 3),
                         tightness=round(tightness, 3), title_similarity=round(similarity, 3),
                         decision_records=len(decisions), category=cat, same_job=same_job,
                         linked_by_account=linked))

    def _single_lead(self, r: dict) -> Lead:
        p = self.params
        share = r["share"]
        score = 0.25 + 0.15 * (share - p.near_limit_band) / (1 - p.near_limit_band)
        evidence = [("contracts", c) for c in r["contracts"]] + [("ledger", e) for e in r["entries"]]
        return self.lead(
            village_code=r["village_code"], score=round(float(score), 4), amount_at_risk=float(r["amount"]),
            title=f"金额贴近限额疑点：{r['vendor']} {wan(r['amount'])}（限额 {wan(r['limit'])}）",
            explanation=(f"{ymd(r['date'])} 与“{r['vendor']}”的{r['category']}事项“{r['title']}”金额 {wan(r['amount'])}，"
                         f"为招标限额 {wan(r['limit'])} 的 {share:.0%}，且无决策记录。单笔金额贴近限额本身不构成问题，"
                         f"建议结合同期其他合同核查是否存在拆分；若该事项单独立项、经询价或比选确定承包人，可据立项和采购记录排除。"),
            evidence=_unique(evidence), key=("near_limit", r["event_id"]),
            details=dict(share=round(share, 3), limit=r["limit"], category=r["category"]))


_STAGE = re.compile(r"[（(][一二三四五六七八九十\d]+期[）)]|[一二三四五六七八九十\d]+标段|附属|配套|二次施工|修补|"
                    r"工程|项目|支付|预付|进度|尾款|首期|二期|[款（）()\s]")


_SITE = re.compile(r"(\d+|[一二三四五六七八九十]+)组")


def _linked_by_account(ev: pd.DataFrame) -> pd.Series:
    """Payees in one village that are paid into one bank account are one party for grouping (a second name, a 经营部
    beside the company): union of entities over shared accounts."""
    keyed = ev["village_code"] + "\x1f" + ev["entity"]
    acct = ev["account"].where(ev["account"].notna() & (ev["account"].astype("str").str.len() >= 8))
    root = components((k, a) for k, a in zip(keyed, ev["village_code"] + "\x1f@" + acct.fillna(""), strict=True)
                      if not a.endswith("@"))
    return keyed.map(lambda k: root.get(k, k)).str.split("\x1f", n=1).str[1]


def _unrelated_jobs(group: list[dict]) -> bool:
    """Pieces that name different sites and different jobs (3组道路硬化 / 7组路灯安装) for one vendor: separate
    small jobs, which honest books have. Pieces without a site, or at one site, or alike in title, stay linked."""
    sites = [_SITE.findall(r["title"]) for r in group]
    if not all(sites):
        return False
    if len({s[0] for s in sites}) < len(sites):
        return False
    return _title_similarity([_SITE.sub("", r["title"]) for r in group]) < 0.34


def _job_key(title: str) -> str:
    """'3组道路硬化（二期）' and '支付3组道路硬化工程预付款' → '3组道路硬化': stages go, the site stays."""
    return _STAGE.sub("", title or "")


def _lowest_limit(data: DetectorInput, villages) -> float:
    return min((min(data.config.thresholds_for(v).tender_limit.values()) for v in villages), default=0.0)


def _bigrams(text: str) -> set[str]:
    t = _NOISE.sub("", text)
    return {t[i:i + 2] for i in range(len(t) - 1)} or {t}


def _title_similarity(titles: list[str]) -> float:
    grams = [_bigrams(t) for t in titles]
    sims = [len(a & b) / len(a | b) if (a | b) else 0.0 for a, b in itertools.combinations(grams, 2)]
    return float(np.mean(sims)) if sims else 0.0


def _unique(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(items))
