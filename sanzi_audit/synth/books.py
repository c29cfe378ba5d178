"""The honest books of a synthetic county: balanced vouchers, contracts with their payments, subsidy rolls."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from ..config import Config
from ..workdays import is_workday
from .world import Person, Vendor, Village, place_name

ACCOUNTS = {
    "101001": "库存现金", "102001": "银行存款-基本户", "121001": "库存物资-材料",
    "153001": "在建工程-村内道路", "153002": "在建工程-水利设施", "153003": "在建工程-公共建筑",
    "212001": "应付工资-村干部报酬", "213001": "应付劳务费-临时用工",
    "501001": "经营收入-资产租赁", "501002": "经营收入-资源发包", "503001": "补助收入-转移支付",
    "504001": "其他收入-利息",
    "513001": "管理费用-办公费", "513002": "管理费用-水电费", "513003": "管理费用-通讯费",
    "513004": "管理费用-误工补贴", "513006": "管理费用-干部报酬", "513007": "管理费用-差旅费", "513008": "管理费用-银行手续费",
    "112001": "应收款-个人", "113001": "内部往来-村干部",
    "514001": "公益支出-环境卫生", "514002": "公益支出-路灯维护", "514003": "公益支出-绿化养护",
    "514004": "公益支出-道路养护",
}

WORKS = ["道路硬化工程", "排水沟修建工程", "文化礼堂修缮工程", "河道清淤工程", "路灯安装工程", "公厕改造工程",
         "桥梁加固工程", "村委会办公楼维修工程", "山塘整治工程", "停车场铺装工程"]
GOODS = ["办公设备采购", "垃圾桶采购", "健身器材采购", "苗木采购", "监控设备采购"]
SERVICES = ["保洁服务", "绿化养护服务", "安保服务", "规划设计服务", "河道保洁服务"]
WORKS_ACCOUNT = {"道路": "153001", "停车场": "153001", "排水": "153002", "河道": "153002", "山塘": "153002",
                 "桥梁": "153001"}

# Leasable assets and resources: unit, county going rent per unit and year (元), size range, category, income account.
LEASES = {
    "厂房": ("平方米", 90.0, (200, 1500), "资产租赁", "501001"),
    "店面": ("平方米", 220.0, (30, 200), "资产租赁", "501001"),
    "鱼塘": ("亩", 900.0, (5, 40), "资源发包", "501002"),
    "山林": ("亩", 60.0, (50, 500), "资源发包", "501002"),
    "耕地": ("亩", 700.0, (10, 100), "资源发包", "501002"),
}

PROGRAMS = {"耕地地力保护补贴": "GD", "城乡居民基础养老金": "YL", "最低生活保障金": "DB"}


@dataclass
class Voucher:
    village: str
    date: dt.date
    lines: list[dict]
    key: int


@dataclass
class Books:
    year: int
    config: Config
    rng: np.random.Generator
    vouchers: list[Voucher] = field(default_factory=list)
    contracts: list[dict] = field(default_factory=list)
    claims: list[dict] = field(default_factory=list)
    truth: list[tuple[str, str, str, object]] = field(default_factory=list)
    lookalikes: list[tuple[str, str, str, object]] = field(default_factory=list)
    employers: dict[str, str] = field(default_factory=dict)  # person_id → 工作单位 written on the cadre register
    backdated: dict[int, dt.date] = field(default_factory=dict)  # voucher key → the earlier date written on it
    bank_fees: dict[int, list[tuple]] = field(default_factory=dict)  # voucher key → (day, amount) fee rows
    _invoices: set[str] = field(default_factory=set)
    # where the current village's vouchers and claims begin, so injectors never scan the whole county
    dropped: dict[int, str] = field(default_factory=dict)  # voucher key → case id of a removed voucher (断号)
    voucher_start: int = 0
    claim_start: int = 0
    _day_cdf: np.ndarray | None = None
    _town_rent: dict[str, float] = field(default_factory=dict)

    # ---- small helpers -------------------------------------------------------------------------
    def day(self, lo: dt.date | None = None, hi: dt.date | None = None) -> dt.date:
        """A working day, weighted to spring works and the year-end rush."""
        if self._day_cdf is None:
            days = [dt.date(self.year, 1, 1) + dt.timedelta(d) for d in range(365)]
            month_w = np.array([0.7, 0.5, 1.0, 1.1, 1.1, 1.0, 0.9, 0.9, 1.0, 1.0, 1.2, 1.6])
            w = np.array([month_w[d.month - 1] * (0.05 if d.weekday() >= 5 else 1.0) for d in days])
            self._day_cdf = np.concatenate([[0.0], np.cumsum(w / w.sum())])
        start = dt.date(self.year, 1, 1)
        a = 0 if lo is None else max(0, (lo - start).days)
        b = 365 if hi is None else min(365, (hi - start).days + 1)
        if a >= b:
            return start + dt.timedelta(days=min(a, 364))
        cdf = self._day_cdf
        u = cdf[a] + self.rng.random() * (cdf[b] - cdf[a])
        idx = min(b - 1, max(a, int(np.searchsorted(cdf, u, side="right")) - 1))
        return start + dt.timedelta(days=idx)

    def working_day_near(self, d: dt.date) -> dt.date:
        """The first working day on or after ``d``: statutory holidays and 调休 as published (chinese-calendar)."""
        while not is_workday(d):
            d += dt.timedelta(days=1)
        return d

    def logu(self, lo: float, hi: float) -> float:
        """A log-uniform amount: money spread over whole decades follows Benford's law, as real village spending
        does (a uniform draw would give far too many leading 1s)."""
        return float(np.exp(self.rng.uniform(np.log(lo), np.log(hi))))

    def invoice(self) -> str:
        while True:
            no = f"{int(self.rng.integers(10**7, 10**8))}"
            if no not in self._invoices:
                self._invoices.add(no)
                return no

    def begin_village(self) -> None:
        self.voucher_start, self.claim_start = len(self.vouchers), len(self.claims)

    def village_vouchers(self) -> list[Voucher]:
        return self.vouchers[self.voucher_start:]

    def village_claims(self) -> list[dict]:
        return self.claims[self.claim_start:]

    def in_year(self, d: dt.date) -> bool:
        return d.year == self.year

    def add_voucher(self, village: Village, date: dt.date, lines: list[dict], any_day: bool = False) -> Voucher:
        """Honest books are kept on working days: a date falling on a weekend or holiday moves to the next
        working day (or the previous one at the year's end). ``any_day`` keeps the date as given (injections)."""
        if not any_day:
            moved = self.working_day_near(date)
            if moved.year != date.year:
                moved = date
                while moved.year == date.year and not is_workday(moved):
                    moved -= dt.timedelta(days=1)
            date = moved
        for ln in lines:
            ln.setdefault("account_name", ACCOUNTS.get(ln["account_code"], ""))
        v = Voucher(village.code, date, lines, len(self.vouchers))
        self.vouchers.append(v)
        return v

    def pay(self, village: Village, date: dt.date, account: str, amount: float, summary: str, payee_name: str,
            payee_id: str | None, payee_account: str | None, *, contract_no: str | None = None,
            invoice: str | None = None, cash: bool | None = None, any_day: bool = False) -> Voucher:
        """A two-line payment voucher: debit the expense, credit bank (or cash)."""
        amount = round(float(amount), 2)
        if cash is None:
            cash = amount <= self.config.thresholds_for(village.code).cash_payment_limit and self.rng.random() < 0.5
        handler = _cadre(village, "报账员")
        approver = _cadre(village, "党支部书记")
        debit = dict(account_code=account, summary=summary, debit=amount, credit=0.0, counterparty=payee_name,
                     counterparty_account=None if cash else payee_account, counterparty_id=payee_id,
                     contract_no=contract_no, invoice_no=invoice, handler=handler, approver=approver,
                     settlement="现金" if cash else "转账")
        credit = dict(account_code="101001" if cash else "102001", summary=summary, debit=0.0, credit=amount,
                      handler=handler, approver=approver, settlement="现金" if cash else "转账")
        return self.add_voucher(village, date, [debit, credit], any_day=any_day)

    def receive(self, village: Village, date: dt.date, account: str, amount: float, summary: str,
                payer: str | None = None, contract_no: str | None = None) -> Voucher:
        amount = round(float(amount), 2)
        return self.add_voucher(village, date, [
            dict(account_code="102001", summary=summary, debit=amount, credit=0.0, counterparty=payer,
                 contract_no=contract_no, settlement="转账"),
            dict(account_code=account, summary=summary, debit=0.0, credit=amount, counterparty=payer,
                 contract_no=contract_no, settlement="转账")])

    # ---- the honest books ----------------------------------------------------------------------
    def routine(self, village: Village, county_vendors: list[Vendor], n_vouchers: int) -> None:
        rng, y = self.rng, self.year
        cleaner = _pick(rng, [v for v in county_vendors if "环境" in v.name or "物业" in v.name] or county_vendors)
        clean_fee = float(rng.choice([2000, 2500, 3000, 3600, 4200]))
        cadres = village.cadres
        start = len(self.vouchers)
        for m in range(1, 13):
            d = self.working_day_near(dt.date(y, m, int(rng.integers(3, 12))))
            self.pay(village, d, "513002", self.logu(200, 2000), f"支付{m}月电费", "国网演示县供电公司",
                     "91330599MA2B0000X1", "6228480000000000015", invoice=self.invoice(), cash=False)
            # a fixed monthly cleaning fee: same payee, same amount every month — honest, not a duplicate
            d = self.working_day_near(dt.date(y, m, int(rng.integers(20, 28))))
            self.pay(village, d, "514001", clean_fee, f"支付{m}月村庄保洁费", cleaner.name, cleaner.vendor_id,
                     cleaner.account, invoice=self.invoice(), cash=False)
            # cadre remuneration: accrue, then pay every cadre from one voucher
            d = self.working_day_near(dt.date(y, m, 25))
            pay = {p.person_id: round(float(rng.uniform(2500, 4500)), 0) for p, _ in cadres}
            total = sum(pay.values())
            self.add_voucher(village, d, [
                dict(account_code="513006", summary=f"计提{m}月村干部报酬", debit=total, credit=0.0),
                dict(account_code="212001", summary=f"计提{m}月村干部报酬", debit=0.0, credit=total)])
            lines = [dict(account_code="212001", summary=f"发放{m}月村干部报酬", debit=pay[p.person_id], credit=0.0,
                          counterparty=p.name, counterparty_account=p.account, counterparty_id=p.person_id,
                          settlement="转账") for p, _ in cadres]
            lines.append(dict(account_code="102001", summary=f"发放{m}月村干部报酬", debit=0.0, credit=total,
                              settlement="转账"))
            self.add_voucher(village, self.working_day_near(d + dt.timedelta(days=3)), lines)
        for q in (3, 6, 9, 12):
            self.receive(village, dt.date(y, q, 21), "504001", rng.uniform(50, 900), f"收到第{q // 3}季度存款利息",
                         "演示县农村商业银行")
        for _ in range(int(rng.integers(2, 5))):
            self.receive(village, self.day(), "503001", rng.choice([50000, 80000, 100000, 150000, 200000]),
                         "收到上级转移支付资金", "演示县财政局")

        residents = [p for p in village.people if p.status == "在册" and 20 <= y - p.birth.year <= 70]
        shops = village.local_vendors + [v for v in county_vendors if v.category == "货物"][:20]
        while len(self.vouchers) - start < n_vouchers:
            r = rng.random()
            d = self.day()
            if r < 0.30:  # reimbursement with several items
                payee = _pick(rng, shops)
                items = rng.choice(["513001", "513003", "513007"], size=int(rng.integers(1, 4)), replace=False)
                amounts = [round(self.logu(60, 600), 2) for _ in items]
                total = round(sum(amounts), 2)
                cash = total <= self.config.thresholds_for(village.code).cash_payment_limit
                inv = self.invoice()
                lines = [dict(account_code=str(a), summary=f"报销{ACCOUNTS[str(a)].split('-')[1]}", debit=amt,
                              credit=0.0, counterparty=payee.name, counterparty_id=payee.vendor_id,
                              counterparty_account=None if cash else payee.account, invoice_no=inv,
                              handler=_cadre(village, "报账员"), approver=_cadre(village, "党支部书记"),
                              settlement="现金" if cash else "转账") for a, amt in zip(items, amounts, strict=True)]
                lines.append(dict(account_code="101001" if cash else "102001", summary="报销办公费用", debit=0.0,
                                  credit=total, settlement="现金" if cash else "转账"))
                self.add_voucher(village, d, lines)
            elif r < 0.55:  # villagers paid for casual labour / 误工
                p = _pick(rng, residents)
                acct, summ = (("213001", "支付临时用工劳务费") if rng.random() < 0.6 else ("513004", "支付误工补贴"))
                self.pay(village, d, acct, round(self.logu(150, 1500), 0), summ, p.name, p.person_id,
                         p.account)
            elif r < 0.80:  # upkeep of public facilities
                vend = _pick(rng, village.local_vendors + county_vendors)
                acct = str(rng.choice(["514002", "514003", "514004"]))
                self.pay(village, d, acct, self.logu(300, 10000), f"支付{ACCOUNTS[acct].split('-')[1]}费用",
                         vend.name, vend.vendor_id, vend.account, invoice=self.invoice())
            else:  # materials
                vend = _pick(rng, shops)
                self.pay(village, d, "121001", self.logu(800, 8000), "购买维修材料", vend.name,
                         vend.vendor_id, vend.account, invoice=self.invoice())

    def cash_float(self, village: Village) -> None:
        """Keep petty cash as an honest village does: withdraw 备用金 from the bank on the day cash would run short,
        topping up to a float well under the 库存现金限额. Runs after everything else is booked for the village, so
        injected cash movements are funded the same way."""
        rng = self.rng
        limit = self.config.thresholds_for(village.code).cash_balance_limit
        flow: dict[dt.date, float] = {}
        for vo in self.village_vouchers():
            if vo.village != village.code:
                continue
            for ln in vo.lines:
                if ln["account_code"].startswith("101"):
                    flow[vo.date] = flow.get(vo.date, 0.0) + ln.get("debit", 0.0) - ln.get("credit", 0.0)
        balance = 0.0
        for day in sorted(flow):
            need = -(balance + flow[day])
            if need > 0:
                target = float(rng.choice([0.3, 0.4, 0.5])) * limit
                amt = float(np.ceil((need + target) / 500.0) * 500.0)
                self.add_voucher(village, day, [
                    dict(account_code="101001", summary="提取备用金", debit=amt, credit=0.0, settlement="现金"),
                    dict(account_code="102001", summary="提取备用金", debit=0.0, credit=amt, settlement="转账")],
                    any_day=True)
                balance += amt
            balance += flow[day]

    def contract(self, village: Village, vendor: Vendor, category: str, title: str, amount: float, sign: dt.date,
                 method: str, decision_ref: str | None, vendor_name: str | None = None) -> dict:
        row = dict(contract_no=f"HT{village.code[-6:]}{self.year}{len(self.contracts) + 1:05d}",
                   village_code=village.code, title=title, category=category, vendor=vendor_name or vendor.name,
                   vendor_id=vendor.vendor_id, vendor_account=vendor.account, amount=round(float(amount), 2),
                   sign_date=sign, method=method, decision_ref=decision_ref)
        self.contracts.append(row)
        return row

    def contract_payments(self, village: Village, c: dict, vendor: Vendor, payee_name: str | None = None) -> list[Voucher]:
        """Pay a contract in the usual instalments; instalments after year-end are not in these books."""
        rng, sign, amt = self.rng, c["sign_date"], c["amount"]
        if c["category"] == "工程":
            plan = [("预付款", 0.3, (5, 25)), ("进度款", 0.6, (30, 110)), ("尾款", 0.1, (120, 300))]
            acct = next((a for k, a in WORKS_ACCOUNT.items() if k in c["title"]), "153003")
        elif c["category"] == "货物":
            plan, acct = [("货款", 1.0, (5, 40))], "121001"
        else:
            plan, acct = [("首期款", 0.5, (5, 30)), ("二期款", 0.5, (60, 150))], "514003"
        out = []
        for stage, share, (lo, hi) in plan:
            d = self.working_day_near(sign + dt.timedelta(days=int(rng.integers(lo, hi))))
            if not self.in_year(d):
                continue
            out.append(self.pay(village, d, acct, amt * share, f"支付{c['title']}{stage}", payee_name or c["vendor"],
                                vendor.vendor_id, vendor.account, contract_no=c["contract_no"],
                                invoice=self.invoice(), cash=False))
        return out

    def honest_contracts(self, village: Village, county_vendors: list[Vendor], vendor_w: np.ndarray) -> None:
        rng = self.rng
        th = self.config.thresholds_for(village.code)
        for _ in range(1 + int(rng.poisson(1.5))):
            self.lease(village)
        for _ in range(int(rng.poisson(7))):
            cat = str(rng.choice(["工程", "货物", "服务"], p=[0.55, 0.22, 0.23]))
            sign = self.day(hi=dt.date(self.year, 11, 30))
            pool = [v for v in county_vendors if v.category == cat]
            w = vendor_w[[county_vendors.index(v) for v in pool]]
            vendor = (_pick(rng, village.local_vendors) if rng.random() < 0.25 and village.local_vendors
                      else pool[int(rng.choice(len(pool), p=w / w.sum()))])
            title = f"{int(rng.integers(1, 12))}组{rng.choice({'工程': WORKS, '货物': GOODS, '服务': SERVICES}[cat])}"
            mu, sigma = {"工程": (10.2, 0.9), "货物": (9.3, 0.8), "服务": (9.4, 0.7)}[cat]
            amount = float(np.clip(np.exp(rng.normal(mu, sigma)), 3000, 900000))
            limit = th.tender_limit_for(cat)
            if amount >= limit:
                ref: str | None
                method, ref = "公开招标", f"ZB{self.year}{len(self.contracts):05d}"
            elif amount >= 0.3 * limit:
                method = str(rng.choice(["询价", "竞争性谈判"]))
                ref = f"JY{self.year}{len(self.contracts):05d}" if rng.random() < 0.6 else None
            else:
                method, ref = "直接采购", None
            c = self.contract(village, vendor, cat, title, amount, sign, method, ref)
            self.contract_payments(village, c, vendor)

    def town_rent_factor(self, village: Village) -> float:
        """Rent levels differ by township (location, roads); the same factor for every lease in a township."""
        if village.township_code not in self._town_rent:
            self._town_rent[village.township_code] = float(self.rng.uniform(0.8, 1.25))
        return self._town_rent[village.township_code]

    def lease(self, village: Village, kind: str | None = None, lessee: Person | None = None,
              price_factor: float | None = None) -> dict:
        """Let a collective asset or resource at about the township's going rent (per unit and year)."""
        rng = self.rng
        kind = kind or str(rng.choice(list(LEASES)))
        unit, base, (qlo, qhi), category, account = LEASES[kind]
        if lessee is None:  # honest leases go to villagers outside the cadres' families
            insiders = {c.person_id for c, _ in village.cadres} | {r.person_id for r, _, _ in village.relatives}
            lessee = _pick(rng, [p for p in village.people if p.status == "在册" and p.head
                                 and p.person_id not in insiders])
        qty = round(float(rng.uniform(qlo, qhi)), 0 if unit == "平方米" else 1)
        factor = price_factor if price_factor is not None else float(rng.uniform(0.8, 1.2))
        annual = round(base * self.town_rent_factor(village) * factor * qty, -1)
        years = int(rng.choice([1, 2, 3, 5, 10]))
        sign = self.day(hi=dt.date(self.year, 11, 30))
        les = Vendor(lessee.name, lessee.person_id, lessee.account, category, "individual", lessee)
        c = self.contract(village, les, category, f"{place_name(rng)}{kind}{'租赁' if category == '资产租赁' else '承包'}",
                          annual * years, sign, "公开竞价", f"JY{self.year}{len(self.contracts):05d}")
        c.update(quantity=qty, unit=unit, term_years=years, annual_rent=annual, start_date=sign,
                 end_date=_plus_years(sign, years) - dt.timedelta(days=1))
        self.receive(village, self.working_day_near(sign + dt.timedelta(days=10)), account, annual,
                     f"收到{c['title']}{'租金' if category == '资产租赁' else '承包费'}", lessee.name, c["contract_no"])
        return c

    def subsidies(self, village: Village, rate: float) -> None:
        rng, y = self.rng, self.year
        gd_day = self.working_day_near(dt.date(y, 5, 1) + dt.timedelta(days=int(rng.integers(0, 55))))
        prior_day = self.working_day_near(gd_day.replace(year=y - 1))
        prior_rate = round(rate * float(rng.uniform(0.95, 1.0)), 2)
        for members in village.households.values():
            head = members[0]
            if not head.contracted_area:
                continue
            # last year's roll (the history a year-on-year check needs): mostly the same area; a few households
            # took on a little land since (流转), well within any growth tolerance
            prior = head.contracted_area * float(rng.choice([1.0] * 18 + [0.95, 0.92]))
            self.claim(village, "耕地地力保护补贴", str(y - 1), head, round(prior * prior_rate, 2), prior_day,
                       quantity=round(prior, 2))
            if _active(head, gd_day):
                self.claim(village, "耕地地力保护补贴", str(y), head, round(head.contracted_area * rate, 2), gd_day,
                           quantity=head.contracted_area)
        elderly = [p for p in village.people if y - p.birth.year >= 60]
        pension = {p.person_id: float(rng.choice([240, 260, 300, 380])) for p in elderly}
        # 低保 is selective: an honest village puts no cadre or relative on it (that is a lead of its own), nor a
        # household that runs one of the village's shops (a registered business)
        insiders = {c.person_id for c, _ in village.cadres} | {r.person_id for r, _, _ in village.relatives}
        shops = {lv.person.household_id for lv in village.local_vendors if lv.person is not None}
        dibao = [h for h in (m[0] for m in village.households.values() if rng.random() < 0.025)
                 if h.person_id not in insiders and h.household_id not in shops]
        for m in range(1, 13):
            pay_day = self.working_day_near(dt.date(y, m, 15))
            for p in elderly:
                if _active(p, pay_day):
                    self.claim(village, "城乡居民基础养老金", f"{y}-{m:02d}", p, pension[p.person_id], pay_day)
            for p in dibao:
                if _active(p, pay_day):
                    self.claim(village, "最低生活保障金", f"{y}-{m:02d}", p, 780.0, pay_day)

    def claim(self, village: Village, program: str, period: str, p: Person, amount: float, pay_date: dt.date,
              quantity: float | None = None, account: str | None = None, name: str | None = None,
              person_id: str | None = None) -> dict:
        row = dict(claim_id=f"{village.code}{PROGRAMS[program]}{len(self.claims) + 1:07d}", village_code=village.code,
                   program=program, period=period, claimant_name=name or p.name,
                   claimant_id=person_id or p.person_id, bank_account=account or p.account, amount=amount,
                   quantity=quantity, pay_date=pay_date)
        self.claims.append(row)
        return row


def _plus_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def _active(p: Person, on: dt.date) -> bool:
    return p.status == "在册" or (p.status_date is not None and p.status_date > on)


def _pick(rng: np.random.Generator, items: list):
    return items[int(rng.integers(0, len(items)))]


def _cadre(village: Village, role: str) -> str | None:
    return next((p.name for p, r in village.cadres if r == role), None)

