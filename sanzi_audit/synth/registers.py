"""Registers of other departments for the synthetic county (``sanzi synth --registers``), and the claims patterns the
county's program rules catch.

Honest registers: county vendors as 企业 with a legal representative, local 个体户 with their owner, teachers and
clerks paid from public funds, household cars and homes.

Injected, with truth:
- ``register_benefit``: a 低保 household with a member paid from public funds, a car, a second home, or an active
  business;
- ``vendor_business``: a works contract let to a company whose 股东 is a cadre's relative;
- ``claim_selective_official``: a cadre's relative on 低保 while the cadre is in office;
- ``claim_exclusive``: one person on 低保 and 特困供养 for the same months;
- ``claim_multi_card``: one person's subsidies paid into a second card at the same time.

Honest look-alikes:
- a farm vehicle;
- a spell of public employment that ended before the claims;
- a business cancelled before them;
- a former cadre's relative on 低保;
- a move from 低保 to 特困 within the year;
- a card replaced mid-year;
- a relative who left the vendor company before the contract.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

REGISTER_RATES = {"register_benefit": 0.35, "vendor_business": 0.12, "claim_selective_official": 0.12,
                  "claim_exclusive": 0.10, "claim_multi_card": 0.10, "decision_missing": 0.15}
REGISTER_LOOKALIKE = 0.3
DIBAO = "最低生活保障金"
TEKUN = "特困人员救助供养金"


class Registers:
    def __init__(self, rng: np.random.Generator, year: int, villages, vendors, county_code: str, ids,
                 rates: dict[str, float] | None = None):
        self.rng, self.year, self.villages, self.vendors = rng, year, villages, vendors
        self.county, self.ids = county_code, ids
        self.rates = rates if rates is not None else REGISTER_RATES
        self.rows: dict[str, list[dict]] = {t: [] for t in ("public_employees", "vehicles", "properties",
                                                           "businesses", "business_people", "decisions",
                                                           "contract_terms")}
        self.claims: list[dict] = []
        self.officials: list[dict] = []
        self.truth: list[tuple] = []
        self.lookalikes: list[tuple] = []
        self.counter: dict[str, int] = {}
        self._n = 0
        self.drop_dibao_after: list[tuple[str, int]] = []  # (person, last month on 低保): moved to 特困
        self.replace_card: list[tuple[str, int, str]] = []  # (person, first month on the new card, the card)
        self.used: set[str] = set()  # people in a pattern's truth: look-alikes leave them alone

    def case(self, kind: str) -> str:
        n = self.counter.get(kind, 0) + 1
        self.counter[kind] = n
        return f"{kind}-{n:04d}"

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n:07d}"

    def _day(self, lo: dt.date, hi: dt.date) -> dt.date:
        return lo + dt.timedelta(days=int(self.rng.integers(0, max(1, (hi - lo).days))))

    # ---- honest registers -----------------------------------------------------------------------------------
    def honest(self, dibao_ids: set[str], insiders: set[str]) -> None:
        rng, y = self.rng, self.year
        for vend in self.vendors:
            self.rows["businesses"].append(dict(uscc=vend.vendor_id, name=vend.name, kind="有限责任公司",
                                                reg_date=dt.date(int(rng.integers(2005, 2021)), 3, 1), status="存续"))
        people = [p for v in self.villages for p in v.people if p.status == "在册"]
        poor = {p.household_id for p in people if p.person_id in dibao_ids}  # a 低保 household, all its members
        outsiders = [p for p in people if p.household_id not in poor and p.person_id not in insiders
                     and 25 <= y - p.birth.year <= 65]
        for vend in self.vendors:
            rep = outsiders[int(rng.integers(0, len(outsiders)))]
            self._person_link(vend.vendor_id, rep, "法定代表人", dt.date(2015, 1, 1), None)
        for v in self.villages:
            for lv in v.local_vendors:
                uscc = self.ids.uscc("92")
                self.rows["businesses"].append(dict(uscc=uscc, name=f"演示县{lv.name}个体工商户",
                                                    kind="个体工商户", reg_date=dt.date(2016, 5, 1), status="存续",
                                                    village_code=v.code))
                if lv.person is not None:
                    self._person_link(uscc, lv.person, "经营者", dt.date(2016, 5, 1), None)
        for p in outsiders:
            u = rng.random()
            if u < 0.015:
                self._employee(p, dt.date(int(rng.integers(2000, 2020)), 9, 1), None)
            if u > 0.92:
                self._vehicle(p, "小型轿车", round(float(rng.uniform(50_000, 250_000)), -3))
        heads = [m[0] for v in self.villages for m in v.households.values()]
        for h in heads:
            if h.person_id in dibao_ids or rng.random() < 0.25:  # every 低保 household has its one home
                self._property(h)

    def _person_link(self, uscc: str, p, role: str, start: dt.date, end: dt.date | None) -> dict:
        row = dict(uscc=uscc, person_id=p.person_id, name=p.name, role=role, start_date=start, end_date=end,
                   village_code=p.village_code)
        row["link_id"] = self._id("BP")
        self.rows["business_people"].append(row)
        return row

    def _employee(self, p, start: dt.date, end: dt.date | None) -> dict:
        row = dict(person_id=p.person_id, name=p.name, employer=str(self.rng.choice(
            ["演示县第一中学", "演示县人民医院", "演示县自然资源局", "城关镇人民政府", "演示县水利局"])),
            position=str(self.rng.choice(["教师", "医生", "科员", "事业编制人员"])), start_date=start, end_date=end,
            village_code=p.village_code)
        self.rows["public_employees"].append(row)
        return row

    def _vehicle(self, p, kind: str, value: float | None) -> dict:
        row = dict(plate_no=f"浙J{self._n + 10000:05d}", owner_id=p.person_id,
                   owner_name=p.name, vehicle_type=kind, value=value,
                   reg_date=dt.date(int(self.rng.integers(2016, 2023)), 6, 1), village_code=p.village_code)
        self._n += 1
        self.rows["vehicles"].append(row)
        return row

    def _property(self, p, address: str | None = None) -> dict:
        row = dict(property_id=f"浙(2020)演示县不动产权第{self._n + 1:07d}号", owner_id=p.person_id, owner_name=p.name,
                   address=address or "本村自建房", kind="住宅", area=round(float(self.rng.uniform(80, 220)), 1),
                   reg_date=dt.date(2020, 1, 1), village_code=p.village_code)
        self._n += 1
        self.rows["properties"].append(row)
        return row

    # ---- decision records -----------------------------------------------------------------------------------
    def decisions(self, contracts: pd.DataFrame, ledger: pd.DataFrame, config) -> None:
        """A 村民代表会议 record for every contract with a decision reference, one to four weeks before signing (the
        amount decided is the budget, within 10% of the award); some records name the contract, the others only
        carry its reference. ``decision_missing``: a tendered contract whose record is missing, or was written after
        the first payment (补做)."""
        rng = self.rng
        first_pay = (ledger[ledger["contract_no"].notna() & (ledger["debit"].fillna(0) > 0)]
                     .groupby("contract_no")["entry_date"].min())
        chosen = set(np.flatnonzero(rng.random(len(self.villages)) < self.rates.get("decision_missing", 0)))
        if not chosen and self.rates.get("decision_missing", 0) > 0:
            chosen.add(int(rng.integers(0, len(self.villages))))
        planted = {self.villages[i].code for i in chosen}
        for k in contracts[contracts["decision_ref"].notna()].sort_values("contract_no").itertuples():
            sign = pd.Timestamp(k.sign_date).date()
            row = dict(decision_id=k.decision_ref, village_code=k.village_code,
                       meeting_date=sign - dt.timedelta(days=int(rng.integers(7, 30))), kind="村民代表会议",
                       subject=f"关于{k.title}的决议", amount=round(float(k.amount) * float(rng.uniform(0.9, 1.1)), -2),
                       contract_no=k.contract_no if rng.random() < 0.6 else None, result="通过")
            limit = config.thresholds_for(k.village_code).tender_limit_for(k.category)
            if k.village_code in planted and k.amount >= limit and k.contract_no in first_pay.index:
                planted.discard(k.village_code)
                case = self.case("decision_missing")
                self.truth.append((case, "decision_missing", "contracts", k.contract_no))
                if rng.random() < 0.5:
                    continue  # no record at all
                row["meeting_date"] = pd.Timestamp(first_pay[k.contract_no]).date() + dt.timedelta(
                    days=int(rng.integers(20, 60)))
                self.truth.append((case, "decision_missing", "decisions", row["decision_id"]))
            self.rows["decisions"].append(row)

    def terms(self, contracts: pd.DataFrame) -> None:
        """Every lease's payment schedule: a year's rent on each anniversary of its start (as lease cards list it)."""
        leases = contracts[contracts["annual_rent"].notna()] if "annual_rent" in contracts else contracts.iloc[0:0]
        for k in leases.sort_values("contract_no").itertuples():
            start = pd.Timestamp(k.start_date if k.start_date == k.start_date and k.start_date is not None
                                 else k.sign_date)
            years = int(k.term_years) if k.term_years == k.term_years and k.term_years else 1
            for n in range(min(years, 60)):
                self.rows["contract_terms"].append(dict(
                    contract_no=k.contract_no, village_code=k.village_code, period=f"第{n + 1}期",
                    amount_due=float(k.annual_rent), due_date=(start + pd.DateOffset(years=n)).date()))

    # ---- claims ---------------------------------------------------------------------------------------------
    def _claims(self, v, p, program: str, months: range, amount: float, account: str | None = None) -> list[dict]:
        out = []
        for m in months:
            row = dict(claim_id=f"{v.code}RG{self._n + 1:07d}", village_code=v.code, program=program,
                       period=f"{self.year}-{m:02d}", claimant_name=p.name, claimant_id=p.person_id,
                       bank_account=account or p.account, amount=amount, quantity=np.nan,
                       pay_date=dt.date(self.year, m, 15))
            self._n += 1
            self.claims.append(row)
            out.append(row)
        return out

    # ---- patterns -------------------------------------------------------------------------------------------
    def plant(self, claims: pd.DataFrame, contracts: pd.DataFrame, officials: pd.DataFrame) -> None:
        rng, y = self.rng, self.year
        dibao = claims[claims["program"] == DIBAO]
        recipients = dibao.groupby("claimant_id")["village_code"].first()
        person = {p.person_id: p for v in self.villages for p in v.people}
        household = {p.person_id: v.households.get(p.household_id, [p]) for v in self.villages for p in v.people}
        plan = {k: set(np.flatnonzero(rng.random(len(self.villages)) < r)) for k, r in self.rates.items()}
        for k, chosen in plan.items():
            if not chosen and self.rates[k] > 0:
                chosen.add(int(rng.integers(0, len(self.villages))))
        held = ({r["owner_id"] for r in self.rows["vehicles"]} | {r["person_id"] for r in self.rows["public_employees"]}
                | {r["person_id"] for r in self.rows["business_people"]} | set(officials["person_id"]))
        # households with no register entry and no cadre or relative: where honest look-alikes can live
        self.clean_house = {pid for pid, fam in household.items() if not any(m.person_id in held for m in fam)}
        for i, v in enumerate(self.villages):
            here = [pid for pid, code in recipients.items() if code == v.code and pid in person
                    and person[pid].status == "在册"]
            if i in plan["register_benefit"] and here:
                pid = here[int(rng.integers(0, len(here)))]
                p = person[pid]
                self.used.add(pid)
                fam = [m for m in household[pid] if m.status == "在册"] or [p]
                case = self.case("register_benefit")
                kind = str(rng.choice(["employee", "vehicle", "property", "business"]))
                member = fam[int(rng.integers(0, len(fam)))]
                if kind == "employee":
                    r = self._employee(member, dt.date(2019, 9, 1), None)
                    self.truth.append((case, "register_benefit", "public_employees", r["person_id"]))
                elif kind == "vehicle":
                    r = self._vehicle(member, "小型轿车", round(float(rng.uniform(60_000, 180_000)), -3))
                    self.truth.append((case, "register_benefit", "vehicles", r["plate_no"]))
                elif kind == "property":
                    r = self._property(member, "演示县城关镇滨江花园 3 幢 502 室")
                    self.truth.append((case, "register_benefit", "properties", r["property_id"]))
                else:
                    uscc = self.ids.uscc("92")
                    self.rows["businesses"].append(dict(uscc=uscc, name=f"演示县{member.name}百货店", kind="个体工商户",
                                                        reg_date=dt.date(2021, 4, 1), status="存续",
                                                        village_code=v.code))
                    r = self._person_link(uscc, member, "经营者", dt.date(2021, 4, 1), None)
                    self.truth.append((case, "register_benefit", "business_people", r["link_id"]))
                for cid in dibao.loc[dibao["claimant_id"] == pid, "claim_id"]:
                    self.truth.append((case, "register_benefit", "claims", cid))
            if i in plan["claim_selective_official"] and v.relatives:
                rel = [r for r, _, _ in v.relatives if r.status == "在册"]
                if rel:
                    r = rel[int(rng.integers(0, len(rel)))]
                    case = self.case("claim_selective_official")
                    for c in self._claims(v, r, DIBAO, range(1, 13), 780.0):
                        self.truth.append((case, "claim_selective_official", "claims", c["claim_id"]))
            if i in plan["claim_exclusive"]:
                pool = here or [m[0].person_id for m in v.households.values()
                                if m[0].status == "在册" and m[0].person_id in self.clean_house]
                p = person[pool[int(rng.integers(0, len(pool)))]]
                self.used.add(p.person_id)
                case = self.case("claim_exclusive")
                if not here:  # a village with no 低保 household of its own: this one is put on both
                    for c in self._claims(v, p, DIBAO, range(1, 13), 780.0):
                        self.truth.append((case, "claim_exclusive", "claims", c["claim_id"]))
                for c in self._claims(v, p, TEKUN, range(3, 9), 1050.0):
                    self.truth.append((case, "claim_exclusive", "claims", c["claim_id"]))
                for cid in dibao.loc[(dibao["claimant_id"] == p.person_id)
                                     & dibao["pay_date"].map(lambda d: 3 <= d.month <= 8), "claim_id"]:
                    self.truth.append((case, "claim_exclusive", "claims", cid))
            if i in plan["claim_multi_card"]:
                old = [p for p in v.people if p.status == "在册" and y - p.birth.year >= 60]
                if old:
                    p = old[int(rng.integers(0, len(old)))]
                    self.used.add(p.person_id)
                    case = self.case("claim_multi_card")
                    for c in self._claims(v, p, "高龄津贴", range(1, 13), 100.0, account=self.ids.bank_account()):
                        self.truth.append((case, "claim_multi_card", "claims", c["claim_id"]))
            if i in plan["vendor_business"] and v.relatives:
                mine = contracts[(contracts["village_code"] == v.code) & contracts["vendor_id"].astype("str").str.startswith("91")]
                rel = [r for r, _, _ in v.relatives if r.status == "在册"]
                if len(mine) and rel:
                    k = mine.iloc[int(rng.integers(0, len(mine)))]
                    r = rel[int(rng.integers(0, len(rel)))]
                    case = self.case("vendor_business")
                    link = self._person_link(k["vendor_id"], r, "股东", pd.Timestamp(k["sign_date"]).date()
                                             - dt.timedelta(days=400), None)
                    self.truth += [(case, "vendor_business", "contracts", k["contract_no"]),
                                   (case, "vendor_business", "business_people", link["link_id"])]
            self._lookalikes(v, here, person, household, contracts)

    def _lookalikes(self, v, here, person, household, contracts) -> None:
        rng, y = self.rng, self.year
        here = [pid for pid in here if pid not in self.used and person[pid].status == "在册"]
        if not here:
            return
        if rng.random() < REGISTER_LOOKALIKE:  # a farm vehicle in a 低保 household
            p = person[here[int(rng.integers(0, len(here)))]]
            r = self._vehicle(p, "三轮农用车", 8000.0)
            self.lookalikes.append(("farm_vehicle_lookalike", v.code, "vehicles", r["plate_no"]))
        if rng.random() < REGISTER_LOOKALIKE:  # a teaching spell that ended years before the claims
            p = person[here[int(rng.integers(0, len(here)))]]
            r = self._employee(p, dt.date(2008, 9, 1), dt.date(y - 2, 7, 31))
            self.lookalikes.append(("former_employee_lookalike", v.code, "public_employees", r["person_id"]))
        if rng.random() < REGISTER_LOOKALIKE:  # a shop closed before the claims
            p = person[here[int(rng.integers(0, len(here)))]]
            uscc = self.ids.uscc("92")
            self.rows["businesses"].append(dict(uscc=uscc, name=f"演示县{p.name}小吃店", kind="个体工商户",
                                                reg_date=dt.date(2018, 3, 1), cancel_date=dt.date(y - 1, 10, 1),
                                                status="注销", village_code=v.code))
            r = self._person_link(uscc, p, "经营者", dt.date(2018, 3, 1), None)
            self.lookalikes.append(("closed_business_lookalike", v.code, "business_people", r["link_id"]))
        if rng.random() < REGISTER_LOOKALIKE:  # moved from 低保 to 特困 in July
            p = person[here[int(rng.integers(0, len(here)))]]
            for c in self._claims(v, p, TEKUN, range(7, 13), 1050.0):
                self.lookalikes.append(("dibao_to_tekun_lookalike", v.code, "claims", c["claim_id"]))
            self.drop_dibao_after.append((p.person_id, 6))
        if rng.random() < REGISTER_LOOKALIKE:  # a former cadre's spouse on 低保
            former = [p for p in v.people if p.status == "在册" and p.head and 40 <= y - p.birth.year <= 65
                      and p.person_id not in here and p.person_id in self.clean_house]
            if former:
                cadre = former[int(rng.integers(0, len(former)))]
                fam = [m for m in household[cadre.person_id] if m.person_id != cadre.person_id and m.status == "在册"]
                if fam:
                    spouse = fam[0]
                    self.officials += [dict(person_id=cadre.person_id, name=cadre.name, village_code=v.code,
                                            role="村委会委员", related_to=None, relation="本人",
                                            term_start=dt.date(2018, 1, 1), term_end=dt.date(y - 1, 6, 30)),
                                       dict(person_id=spouse.person_id, name=spouse.name, village_code=v.code,
                                            related_to=cadre.person_id, relation="配偶")]
                    for c in self._claims(v, spouse, DIBAO, range(1, 13), 780.0):
                        self.lookalikes.append(("former_cadre_lookalike", v.code, "claims", c["claim_id"]))
        if rng.random() < REGISTER_LOOKALIKE:  # a card replaced in July
            old = [p for p in v.people if p.status == "在册" and y - p.birth.year >= 60 and p.person_id not in self.used]
            if old:
                p = old[int(rng.integers(0, len(old)))]
                self.replace_card.append((p.person_id, 7, self.ids.bank_account()))
                self.lookalikes.append(("card_replaced_lookalike", v.code, "person", p.person_id))

    def apply(self, tables: dict[str, pd.DataFrame]) -> None:
        """Add the register tables, claims and officials rows to the county's tables."""
        from . import _frame

        c = tables["claims"]
        for pid, month in self.drop_dibao_after:
            c = c[~((c["claimant_id"] == pid) & (c["program"] == DIBAO) & c["pay_date"].map(lambda d, m=month: d.month > m))]
        for pid, month, acct in self.replace_card:
            m = (c["claimant_id"] == pid) & c["pay_date"].map(lambda d, m=month: d.month >= m)
            c.loc[m, "bank_account"] = acct
            self.lookalikes += [("card_replaced_lookalike", c.loc[m, "village_code"].iat[0] if m.any() else "",
                                 "claims", x) for x in c.loc[m, "claim_id"]]
        self.lookalikes = [x for x in self.lookalikes if x[2] != "person"]
        tables["claims"] = pd.concat([c, _frame("claims", self.claims)], ignore_index=True) if self.claims else c
        if self.officials:
            tables["officials"] = pd.concat([tables["officials"], _frame("officials", self.officials)],
                                            ignore_index=True)
        for name, rows in self.rows.items():
            tables[name] = _frame(name, rows)
