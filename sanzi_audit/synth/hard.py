"""``sanzi synth --hard``: the variants real schemes use, and the honest records that resemble them.

The easy county plants each pattern the way our detectors were first written for. This one plants what 纪委 cases
and other people's generators show instead, beside honest look-alikes in proportions like real books (most
payments honest, cases rare):

Frauds (ground truth in truth.csv):
- splits to *different* names that share one bank account; splits paid with no contract and worded differently;
  splits booked through 应付款 (the work credited to 应付款 with the vendor there only, paid from the bank later);
  splits under name variants (有限责任公司, county prefix dropped, traditional characters, full-width brackets);
- duplicates without an invoice, worded differently a few days apart (支付…款 / 付…费 / 报销…); a recurring payee
  paid twice inside one period;
- favours through a relative's shop (``演示县张三五金店``: repeated small purchases, not contracts) or a company the
  relative's 工作单位 names.

Look-alikes (lookalikes.csv; a good detector leaves them alone):
- a tendered contract above the limit paid in instalments, some citing the contract only in 摘要, some not at all;
- one vendor doing two or three unrelated small jobs at different sites within a few weeks;
- a monthly payee (rent, a cleaner) whose payments fall a few days apart across a month boundary;
- a pensioner who moved into the village mid-year (迁入 with its date) and is paid from the month after;
- a pensioner who moved from one village to another: on both rosters (迁出 / 迁入, one date), paid by each in turn.
"""

from __future__ import annotations

import datetime as dt

from .books import WORKS, _pick
from .inject import Injector
from .world import Person, Vendor, Village, place_name

# Probability that a village carries each hard variant family; the easy patterns keep their own rates.
HARD_RATES = {"split_contract": 0.5, "duplicate_payment": 0.5, "related_party": 0.45}
HARD_LOOKALIKES = {"instalment_lookalike": 0.45, "unrelated_jobs_lookalike": 0.35, "recurring_lookalike": 0.45,
                   "moved_in_lookalike": 0.3, "two_rosters_lookalike": 0.3}

_T2T = str.maketrans("县区镇乡村组门东业务费设计维修电气装饰环卫岭桥湾头", "縣區鎮鄉村組門東業務費設計維修電氣裝飾環衛嶺橋灣頭")
_SHOPS = ["五金店", "建材店", "农资店", "便民超市", "水电维修部", "建材经营部"]
_SHOP_GOODS = {"五金店": "五金材料", "建材店": "建筑材料", "农资店": "农资", "便民超市": "办公用品",
               "水电维修部": "水电材料", "建材经营部": "建筑材料"}


def hard_variant(rng, name: str) -> str:
    """A spelling of a vendor as other clerks and systems write it."""
    options = [name.translate(_T2T)]
    if name.endswith("有限公司"):
        options.append(name.replace("有限公司", "有限责任公司"))
    if name.startswith("演示县"):
        options.append(name[3:])
        options.append(f"（演示县）{name[3:]}")
        options.append(f"演示县{name[3:].replace('有限公司', '')}（有限公司）" if "有限公司" in name else name[3:])
    return str(options[int(rng.integers(0, len(options)))])


def reword(rng, summary: str) -> str:
    """The same bill described again by another hand: 支付…款 / 付…费 / 报销… ."""
    core = summary
    for prefix in ("支付", "购买", "报销", "付"):
        if core.startswith(prefix):
            core = core[len(prefix):]
    for suffix in ("费用", "款", "费"):
        if core.endswith(suffix) and len(core) > len(suffix) + 1:
            core = core[: -len(suffix)]
    choices = [f"付{core}费", f"报销{core}", f"{core}款", f"支付{core}款项"]
    return str(choices[int(rng.integers(0, len(choices)))])


class HardInjector(Injector):
    """The easy injector's patterns, with the split, duplicate and favour families replaced by their hard variants
    (a share of each still planted the easy way), and the hard look-alikes."""

    villages: list[Village] = []  # the county's villages, in the order they are booked (set by generate)

    # ---- splits --------------------------------------------------------------------------------
    def split_contract(self, v: Village) -> None:
        rng = self.rng
        variant = str(rng.choice(["shared_account", "no_contract", "payable", "name_variants", "plain"],
                                 p=[0.25, 0.2, 0.2, 0.2, 0.15]))
        if variant == "plain":
            return super().split_contract(v)
        b = self.b
        case = self.case("split_contract")
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"])
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        k = int(rng.choice([2, 2, 3, 3, 4, 5]))
        span = int(rng.integers(5, 85))
        start = b.day(hi=dt.date(b.year, 8, 31))
        offsets = sorted([0, span] + [int(rng.integers(0, span + 1)) for _ in range(k - 2)])[:k]
        job = str(rng.choice(WORKS)).replace("工程", "")
        site = f"{int(rng.integers(1, 12))}组"
        other = Vendor(f"演示县{place_name(rng)}{str(rng.choice(['建筑劳务', '土石方', '水电安装']))}经营部", "",
                       vendor.account, "工程", "individual")  # another name, the same bank account
        for i, off in enumerate(offsets):
            amount = round(limit * float(rng.uniform(0.62, 0.99)), -2)
            sign = b.working_day_near(start + dt.timedelta(days=off))
            title = f"{site}{job}{['', '附属工程', '配套工程', '二次施工', '修补工程'][i]}"
            if variant == "shared_account":
                who = other if i % 2 else vendor
                if rng.random() < 0.5:
                    c = b.contract(v, who, "工程", title, amount, sign, "直接发包", None)
                    self.mark(case, "split_contract", "contracts", c["contract_no"])
                    for p in b.contract_payments(v, c, who):
                        self.mark_voucher(case, "split_contract", p)
                else:
                    p = b.pay(v, sign, "153001", amount, f"支付{title}工程款", who.name, who.vendor_id or None,
                              who.account, invoice=b.invoice(), cash=False)
                    self.mark_voucher(case, "split_contract", p)
            elif variant == "no_contract":
                words = [f"支付{title}工程款", f"付{site}{job}材料费", f"{site}{job}人工费", f"支付{site}{job}款项",
                         f"{site}{job}结算款"]
                p = b.pay(v, sign, "153001", amount, words[i % len(words)], vendor.name,
                          vendor.vendor_id if rng.random() < 0.5 else None, vendor.account, invoice=b.invoice(),
                          cash=False)
                self.mark_voucher(case, "split_contract", p)
            elif variant == "payable":
                # the work is credited to 应付款 under the vendor's name; the bank pays the payable weeks later
                accrual = b.add_voucher(v, sign, [
                    dict(account_code="153001", summary=f"{title}完工结算", debit=amount, credit=0.0),
                    dict(account_code="211001", summary=f"{title}完工结算", debit=0.0, credit=amount,
                         counterparty=vendor.name, counterparty_id=vendor.vendor_id or None)])
                self.mark_voucher(case, "split_contract", accrual, (0, 1))
                paid = sign + dt.timedelta(days=int(rng.integers(10, 60)))
                if b.in_year(paid):
                    p = b.pay(v, paid, "211001", amount, f"支付{vendor.name}工程款", vendor.name,
                              vendor.vendor_id or None, vendor.account, invoice=None, cash=False)
                    self.mark_voucher(case, "split_contract", p)
            else:  # name_variants: registered, each piece under another spelling of one company
                shown = hard_variant(rng, vendor.name)
                c = b.contract(v, vendor, "工程", title, amount, sign,
                               str(rng.choice(["直接发包", "议价"])), None, vendor_name=shown)
                self.mark(case, "split_contract", "contracts", c["contract_no"])
                for p in b.contract_payments(v, c, vendor, payee_name=hard_variant(rng, vendor.name)):
                    self.mark_voucher(case, "split_contract", p)
        return None

    # ---- duplicates ----------------------------------------------------------------------------
    def duplicate_payment(self, v: Village) -> None:
        rng, b = self.rng, self.b
        variant = str(rng.choice(["reworded", "recurring_twice", "plain"], p=[0.5, 0.3, 0.2]))
        if variant == "plain":
            return super().duplicate_payment(v)
        if variant == "recurring_twice":
            fees = [x for x in b.village_vouchers() if x.village == v.code and "月村庄保洁费" in x.lines[0]["summary"]
                    and x.date.month < 12]
            if not fees:
                return None
            orig = _pick(rng, fees)
            line = orig.lines[0]
            case = self.case("duplicate_payment")
            date = orig.date + dt.timedelta(days=int(rng.integers(8, 20)))
            if date.month != orig.date.month:
                date = orig.date - dt.timedelta(days=int(rng.integers(8, 15)))
            dup = b.pay(v, date, line["account_code"], line["debit"], str(rng.choice(
                [line["summary"], line["summary"].replace("支付", "补付"), line["summary"].replace("支付", "付")])),
                line["counterparty"], line.get("counterparty_id"), line.get("counterparty_account"),
                invoice=None, cash=False)
            self.mark_voucher(case, "duplicate_payment", orig)
            self.mark_voucher(case, "duplicate_payment", dup)
            return None
        own = [x for x in b.village_vouchers() if x.village == v.code and len(x.lines) == 2
               and x.lines[0]["debit"] >= 800 and not x.lines[0].get("contract_no") and x.date.month < 12
               and x.lines[0].get("counterparty") and "月" not in x.lines[0]["summary"]]
        if not own:
            return None
        orig = _pick(rng, own)
        line = dict(orig.lines[0])
        orig.lines[0]["invoice_no"] = None  # reimbursed on a receipt, twice
        case = self.case("duplicate_payment")
        date = b.working_day_near(orig.date + dt.timedelta(days=int(rng.integers(0, 7))))
        if date.year != b.year:
            date = orig.date
        dup = b.pay(v, date, line["account_code"], line["debit"], reword(rng, line["summary"]), line["counterparty"],
                    line.get("counterparty_id"), line.get("counterparty_account"), invoice=None,
                    cash=line.get("settlement") == "现金")
        self.mark_voucher(case, "duplicate_payment", orig)
        self.mark_voucher(case, "duplicate_payment", dup)
        return None

    # ---- favours -------------------------------------------------------------------------------
    def related_party(self, v: Village) -> None:
        rng, b = self.rng, self.b
        variant = str(rng.choice(["shop", "employer", "plain"], p=[0.4, 0.3, 0.3]))
        rels = [r for r, _, _ in v.relatives if r.status == "在册" and 22 <= b.year - r.birth.year <= 70]
        if variant == "plain" or not rels:
            return super().related_party(v)
        rel = _pick(rng, rels)
        case = self.case("related_party")
        if variant == "shop":
            trade = str(rng.choice(_SHOPS))
            prefix = str(rng.choice(["演示县", "", v.township_name]))
            shop = Vendor(f"{prefix}{rel.name}{trade}", "", self.ids.bank_account(), "货物", "individual")
            if rng.random() < 0.5:
                b.employers[rel.person_id] = shop.name
            goods = _SHOP_GOODS[trade]
            for _ in range(int(rng.integers(6, 15))):
                p = b.pay(v, b.day(), str(rng.choice(["121001", "513001"])), round(b.logu(300, 3000), 2),
                          f"购买{goods}", shop.name, None, shop.account, invoice=b.invoice(), cash=False)
                self.mark_voucher(case, "related_party", p)
            return None
        company = Vendor(f"演示县{place_name(rng)}{str(rng.choice(['建材', '建筑工程', '园林绿化']))}有限公司",
                         self.ids.uscc("91"), self.ids.bank_account(), "工程", "company")
        b.employers[rel.person_id] = company.name if rng.random() < 0.7 else company.name.replace("演示县", "")
        self.favour_contracts(v, case, company)
        return None

    # ---- look-alikes ---------------------------------------------------------------------------
    def instalment_lookalike(self, v: Village) -> None:
        """A tendered contract above the limit, paid in instalments each under it: one job, not a split."""
        rng, b = self.rng, self.b
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"])
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        small = rng.random() < 0.3  # a contract under the limit (询价), its instalments booked with no reference
        amount = round(limit * float(rng.uniform(0.6, 0.95) if small else rng.uniform(1.3, 2.6)), -2)
        sign = b.day(hi=dt.date(b.year, 7, 31))
        title = f"{int(rng.integers(1, 12))}组{rng.choice(WORKS)}"
        c = b.contract(v, vendor, "工程", title, amount, sign, "询价" if small else "公开招标",
                       None if small else f"ZB{b.year}{len(b.contracts):05d}")
        b.lookalikes.append(("instalment_lookalike", v.code, "contracts", c["contract_no"]))
        shares = [[0.3, 0.6, 0.1], [0.3, 0.3, 0.3, 0.1], [0.2, 0.3, 0.3, 0.15, 0.05]][int(rng.integers(0, 3))]
        mode = "none" if small else str(rng.choice(["column", "summary", "none"], p=[0.3, 0.4, 0.3]))
        day = sign
        for i, s in enumerate(shares):
            day = b.working_day_near(day + dt.timedelta(days=int(rng.integers(10, 35))))
            if not b.in_year(day):
                break
            stage = f"第{i + 1}期{'工程款' if i < len(shares) - 1 else '尾款'}"
            summary = {"column": f"支付{title}{stage}", "summary": f"支付{c['contract_no']}号合同{stage}",
                       "none": f"支付{title}{stage}"}[mode]
            p = b.pay(v, day, "153001", round(amount * s, 2), summary, vendor.name, vendor.vendor_id, vendor.account,
                      contract_no=c["contract_no"] if mode == "column" else None, invoice=b.invoice(), cash=False)
            b.lookalikes.append(("instalment_lookalike", v.code, "ledger", (p.key, 0)))

    def unrelated_jobs_lookalike(self, v: Village) -> None:
        """One vendor, two or three unrelated small jobs at different sites a few weeks apart."""
        rng, b = self.rng, self.b
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"])
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        jobs = rng.choice(WORKS, int(rng.integers(2, 4)), replace=False)
        sites = rng.choice(range(1, 12), len(jobs), replace=False)
        day = b.day(hi=dt.date(b.year, 8, 31))
        for job, site in zip(jobs, sites, strict=True):
            c = b.contract(v, vendor, "工程", f"{site}组{job}", round(limit * float(rng.uniform(0.4, 0.7)), -2), day,
                           str(rng.choice(["询价", "直接发包"])), None)
            b.lookalikes.append(("unrelated_jobs_lookalike", v.code, "contracts", c["contract_no"]))
            for p in b.contract_payments(v, c, vendor):
                b.lookalikes.append(("unrelated_jobs_lookalike", v.code, "ledger", (p.key, 0)))
            day = b.working_day_near(day + dt.timedelta(days=int(rng.integers(20, 70))))

    def recurring_lookalike(self, v: Village) -> None:
        """Monthly rent to one villager, the same amount, paid late one month and early the next."""
        rng, b = self.rng, self.b
        people = [p for p in v.people if p.status == "在册" and 30 <= b.year - p.birth.year <= 70]
        if not people:
            return
        owner = _pick(rng, people)
        what = str(rng.choice(["仓库租金", "场地租金", "保洁工资", "管水员报酬"]))
        amount = float(rng.choice([600, 800, 1000, 1200, 1500]))
        for m in range(1, 13):
            late = m % 2 == 1
            day = dt.date(b.year, m, int(rng.integers(26, 29)) if late else int(rng.integers(1, 5)))
            p = b.pay(v, b.working_day_near(day), "513001" if "租金" in what else "514001", amount,
                      f"支付{m}月{what}", owner.name, owner.person_id, owner.account, cash=False)
            b.lookalikes.append(("recurring_lookalike", v.code, "ledger", (p.key, 0)))

    def moved_in_lookalike(self, v: Village) -> None:
        """A pensioner from elsewhere moves in mid-year and is paid here from the month after the move."""
        rng, b = self.rng, self.b
        birth = dt.date(b.year - int(rng.integers(62, 82)), int(rng.integers(1, 13)), int(rng.integers(1, 28)))
        moved = dt.date(b.year, int(rng.integers(3, 10)), 1)
        hid = f"{v.code}9{len(v.households):03d}"
        p = Person(self.ids.ric(birth, bool(rng.random() < 0.5)), self.ids.person_name(), v.code, hid, birth,
                   bool(rng.random() < 0.5), self.ids.bank_account(), status="迁入", status_date=moved, head=True)
        v.households[hid] = [p]
        v.people.append(p)
        for m in range(moved.month + 1, 13):
            c = b.claim(v, "城乡居民基础养老金", f"{b.year}-{m:02d}", p, 260.0, b.working_day_near(dt.date(b.year, m, 15)))
            b.lookalikes.append(("moved_in_lookalike", v.code, "claims", c["claim_id"]))

    def two_rosters_lookalike(self, v: Village) -> None:
        """A pensioner of an earlier village moves here: 迁出 there and 迁入 here on one date, paid by each in turn."""
        rng, b = self.rng, self.b
        done = self.villages[: self.villages.index(v)] if v in self.villages else []
        if not done:
            return
        other = _pick(rng, done)
        moved = dt.date(b.year, int(rng.integers(4, 10)), 1)
        elderly = [q for q in other.people if q.status == "在册" and b.year - q.birth.year >= 62]
        if not elderly:
            return
        q = _pick(rng, elderly)
        paid = [c for c in b.claims if c["claimant_id"] == q.person_id and c["village_code"] == other.code
                and c["program"] == "城乡居民基础养老金"]
        if not paid:
            return
        q.status, q.status_date = "迁出", moved
        hid = f"{v.code}8{len(v.households):03d}"
        here = Person(q.person_id, q.name, v.code, hid, q.birth, q.male, q.account, status="迁入", status_date=moved,
                      head=True)
        v.households[hid] = [here]
        v.people.append(here)
        for c in paid:
            if c["pay_date"] >= moved:  # after the move the new village pays
                c["village_code"] = v.code
                c["claim_id"] = v.code + c["claim_id"][len(other.code):]
            b.lookalikes.append(("two_rosters_lookalike", c["village_code"], "claims", c["claim_id"]))
