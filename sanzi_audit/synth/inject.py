"""Injected fraud patterns (with ground truth) and honest look-alikes, modelled on DOMAIN.md's real cases.

Each injector records every record it creates or corrupts in ``books.truth`` as
(case_id, fraud_type, table, ref) where ref is a contract_no, claim_id, or (voucher_key, line_index).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .books import LEASES, WORKS, Books, _active, _pick, _plus_years
from .world import Identities, Person, Vendor, Village, name_variant, place_name

FRAUD_TYPES = {
    "split_contract": "化整为零: one job split into pieces each under the tender limit",
    "duplicate_payment": "重复支付: the same bill paid twice",
    "shared_account": "一个账户多人收款: one bank account paid under several names",
    "related_party": "优亲厚友: work or payments given to a cadre's close relative",
    "payee_alias": "一人多名: one villager paid twice, once under a homophone of their name, into one account",
    "voucher_gap": "断号: a numbered voucher missing from the books (removed or never posted)",
    "claim_deceased": "虚报冒领: subsidy paid after the claimant died or moved away",
    "claim_nonresident": "虚报冒领: claimant not on the village roster",
    "claim_inflated_area": "虚报冒领: claimed area above the contracted area",
    "claim_duplicate": "重复领取: one person paid twice for the same program and period",
    "claim_shared_account": "代领: several villagers' subsidies paid into one cadre-linked account",
    "holiday_payment": "节假日记账: payments posted on statutory holidays by the village's handler",
    "near_limit": "刚低于限额: cash payments kept just under the cash payment limit",
    "hospitality": "零接待: meals, tobacco and gifts paid from collective funds, booked as office costs",
    "contract_overpaid": "超合同付款: a contract paid beyond its amount without a supplementary agreement",
    "voucher_backdated": "凭证倒签: a payment voucher booked (numbered) in order but dated weeks earlier",
    "large_cash": "大额现金支付: payments in cash far above the cash payment limit",
    "cash_hoard": "库存现金超限额: a large sum drawn in cash and held for weeks before part of it is paid back in",
    "cash_sitting": "坐收坐支: cash income spent on payments before it is banked",
    "benford": "虚列支出: a second handler books invented 误工补贴 amounts (digits a person picks, not Benford's)",
    "no_contract_payment": "无合同大额付款: a works payment above the tender limit with no contract number",
    "round_amounts": "整数金额: a second handler books 误工补贴 of round thousands with no time sheet",
    "lease_underpriced": "低价出租: a collective asset or resource let far below the township's going rent",
    "claim_cadre": "优亲厚友: a cadre's household claims a contracted area far above the village's households",
    "claim_area_growth": "虚报面积: claimed area grown year on year far beyond any land transfer, roster changed to match",
    "lease_too_long": "超期租赁: a collective 厂房 let for 30 years (民法典 §705 allows 20)",
    "lease_overdue": "租金逾期未收: a lease's rent for this year never received",
    "lease_expired": "到期未续签: a lease that ended this spring, still paid on with no new contract",
    "contract_signed_late": "补签合同: a works contract signed a month after its first payment",
    "collective_loan": "集体资金出借: collective money lent to a villager, booked on 应收款",
    "decision_missing": "无决策记录: a tendered contract with no 村民代表会议 record, or one written after the first payment",
    "register_benefit": "数据碰撞: a 低保 household with a member paid from public funds, a car, a second home or a business",
    "vendor_business": "优亲厚友: a works contract let to a company whose 股东 is a cadre's relative",
    "claim_selective_official": "优亲厚友: a cadre's relative on 低保 while the cadre is in office",
    "claim_exclusive": "违规享受多种救助: one person on 低保 and 特困供养 for the same months",
    "claim_multi_card": "一人多卡: one person's subsidies paid into a second card at the same time",
    "bank_unbooked_payment": "账外支出: money out of the village's bank account with no ledger line",
    "bank_unbooked_receipt": "账外收入: money received into the bank account, never booked",
    "ledger_unbanked": "虚列支出: a bank payment in the books that the bank statement never shows",
    "bank_round_trip": "公款私用: money out to a person and back within weeks, off the books",
    "bank_payee_mismatch": "冒名领取: labour booked under a villager's name, paid into a cadre relative's account",
}

# Statutory holidays and 调休 working weekends of 2024 (国务院办公厅通知), for the injector and its look-alike.
HOLIDAYS_2024 = [dt.date(2024, 2, d) for d in range(10, 18)] + [dt.date(2024, 5, d) for d in range(1, 6)] + [
    dt.date(2024, 10, d) for d in range(1, 8)] + [dt.date(2024, 4, 4), dt.date(2024, 6, 10), dt.date(2024, 9, 16)]
MAKEUP_WORKDAYS_2024 = [dt.date(2024, 2, 4), dt.date(2024, 2, 18), dt.date(2024, 4, 7), dt.date(2024, 4, 28),
                        dt.date(2024, 5, 11), dt.date(2024, 9, 14), dt.date(2024, 9, 29), dt.date(2024, 10, 12)]


# Given-name characters and a homophone a clerk could write instead (same pinyin, ignoring tones).
HOMOPHONES = dict(p for p in ("伟玮 丽莉 军君 静婧 明鸣 华桦 勇永 芳方 杰洁 强蔷 敏闽 霞夏 平萍 刚钢 辉晖 涛韬 超潮 鹏朋 "
                               "斌彬 娟鹃 燕艳 磊蕾 洋阳 波博 峰锋 红虹 英瑛 玲铃 飞菲 宇羽").split())


class Injector:
    def __init__(self, books: Books, ids: Identities, county_vendors: list[Vendor]):
        self.b = books
        self.rng: np.random.Generator = books.rng
        self.ids = ids
        self.vendors = county_vendors
        self.counter: dict[str, int] = {}

    def case(self, fraud_type: str) -> str:
        n = self.counter.get(fraud_type, 0) + 1
        self.counter[fraud_type] = n
        return f"{fraud_type}-{n:04d}"

    def mark(self, case: str, fraud_type: str, table: str, ref: object) -> None:
        self.b.truth.append((case, fraud_type, table, ref))

    def mark_voucher(self, case: str, fraud_type: str, voucher, lines: tuple[int, ...] = (0,)) -> None:
        for i in lines:
            self.mark(case, fraud_type, "ledger", (voucher.key, i))

    def _relative_vendor(self, v: Village) -> tuple[Vendor, Person] | None:
        rels = [r for r, _, _ in v.relatives if r.status == "在册" and 22 <= self.b.year - r.birth.year <= 70]
        if not rels:
            return None
        r = _pick(self.rng, rels)
        trade = str(self.rng.choice(["建材经营部", "土石方工程队", "水电安装部"]))
        kind = self.rng.random()
        # The key that ties the vendor to the relative varies: ID, bank account, or only the name.
        vid = r.person_id if kind < 0.5 else None
        acct = r.account if kind < 0.8 else self.ids.bank_account()
        name = r.name if self.rng.random() < 0.6 else f"演示县{r.name}{trade}"
        return Vendor(name, vid or "", acct, "工程", "individual", r), r

    # ---- ledger and contract patterns ---------------------------------------------------------
    def split_contract(self, v: Village) -> None:
        rng, b = self.rng, self.b
        case = self.case("split_contract")
        rel = self._relative_vendor(v) if rng.random() < 0.5 else None
        vendor = rel[0] if rel else _pick(rng, [x for x in self.vendors if x.category == "工程"])
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        k = int(rng.choice([2, 2, 2, 3, 3, 4, 5]))
        span = int(rng.integers(0, 91))
        start = b.day(hi=dt.date(b.year, 8, 31))
        offsets = sorted([0, span] + [int(rng.integers(0, span + 1)) for _ in range(k - 2)])[:k]
        job = str(rng.choice(WORKS)).replace("工程", "")
        site = f"{int(rng.integers(1, 12))}组"
        parts = [f"（{'一二三四五'[i]}期）" for i in range(k)] if rng.random() < 0.5 else \
            ["", "附属工程", "配套工程", "二次施工", "修补工程"][:k]
        register = rng.random() < 0.8  # one in five splits never reaches the contract register
        # one in four spreads the pieces over two related vendors; only the job ties them together
        second = _pick(rng, [x for x in self.vendors if x.category == "工程" and x is not vendor]) \
            if register and rng.random() < 0.25 else None
        first_vendor = vendor
        for i, off in enumerate(offsets):
            vendor = second if (second is not None and i % 2) else first_vendor
            amount = round(limit * float(rng.uniform(0.70, 0.99)), -2)
            sign = b.working_day_near(start + dt.timedelta(days=off))
            title = f"{site}{job}{parts[i] or '工程'}"
            shown = name_variant(rng, vendor.name) if rng.random() < 0.3 else vendor.name
            if register:
                c = b.contract(v, vendor, "工程", title, amount, sign, str(rng.choice(["直接发包", "议价"])), None,
                               vendor_name=shown)
                self.mark(case, "split_contract", "contracts", c["contract_no"])
                pays = b.contract_payments(v, c, vendor, payee_name=shown)
            else:
                pays = [b.pay(v, sign, "153001", amount, f"支付{title}工程款", shown, vendor.vendor_id or None,
                              vendor.account, invoice=b.invoice(), cash=False)]
            for p in pays:
                self.mark_voucher(case, "split_contract", p)

    def split_lookalike(self, v: Village) -> None:
        """One honest vendor, two unrelated jobs half a year apart, each well under the limit."""
        b, rng = self.b, self.rng
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"])
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        first = b.day(hi=dt.date(b.year, 4, 30))
        jobs = rng.choice(WORKS, 2, replace=False)
        for i, job in enumerate(jobs):
            sign = b.working_day_near(first + dt.timedelta(days=i * int(rng.integers(170, 220))))
            c = b.contract(v, vendor, "工程", f"{int(rng.integers(1, 12))}组{job}", limit * float(rng.uniform(0.3, 0.6)),
                           sign, "询价", f"JY{b.year}{len(b.contracts):05d}")
            b.lookalikes.append(("split_lookalike", v.code, "contracts", c["contract_no"]))
            b.contract_payments(v, c, vendor)

    def duplicate_payment(self, v: Village) -> None:
        b, rng = self.b, self.rng
        own = [x for x in b.village_vouchers() if x.village == v.code and len(x.lines) == 2 and x.lines[0].get("invoice_no")
               and x.lines[0]["debit"] >= 800 and not x.lines[0].get("contract_no") and x.date.month < 12]
        if not own:
            return
        orig = _pick(rng, own)
        line = dict(orig.lines[0])
        case = self.case("duplicate_payment")
        kind = rng.random()
        if kind < 0.6:  # the same invoice booked again weeks later
            date = b.working_day_near(orig.date + dt.timedelta(days=int(rng.integers(3, 40))))
        elif kind < 0.85:  # reimbursed twice without invoice, a few days apart
            date = b.working_day_near(orig.date + dt.timedelta(days=int(rng.integers(0, 8))))
            line["invoice_no"] = None
        else:  # the payee under another spelling
            date = b.working_day_near(orig.date + dt.timedelta(days=int(rng.integers(1, 30))))
            line["counterparty"] = name_variant(rng, line["counterparty"])
        if date.year != b.year:
            date = orig.date
        dup = b.pay(v, date, line["account_code"], line["debit"], line["summary"], line["counterparty"],
                    line.get("counterparty_id"), line.get("counterparty_account") or orig.lines[0].get("counterparty_account"),
                    invoice=line.get("invoice_no"), cash=line.get("settlement") == "现金")
        self.mark_voucher(case, "duplicate_payment", orig)
        self.mark_voucher(case, "duplicate_payment", dup)

    def shared_account(self, v: Village) -> None:
        """Labour paid to several villagers' names, all into one account of a cadre's relative."""
        b, rng = self.b, self.rng
        if not v.relatives:
            return
        holder = _pick(rng, v.relatives)[0]
        names = rng.choice([p for p in v.people if p.status == "在册" and p.household_id != holder.household_id],
                           int(rng.integers(3, 7)), replace=False)
        case = self.case("shared_account")
        for p in names:
            for _ in range(int(rng.integers(1, 3))):
                vo = b.pay(v, b.day(), "213001", round(float(rng.uniform(800, 3000)), 0), "支付临时用工劳务费",
                           p.name, p.person_id if rng.random() < 0.5 else None, holder.account, cash=False)
                self.mark_voucher(case, "shared_account", vo)

    def related_party(self, v: Village) -> None:
        got = self._relative_vendor(v)
        if got is None:
            return
        vendor, _rel = got
        self.favour_contracts(v, self.case("related_party"), vendor)

    def favour_contracts(self, v: Village, case: str, vendor: Vendor) -> None:
        """One or two works contracts let directly to ``vendor`` (well under the limit), paid in instalments."""
        b, rng = self.b, self.rng
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        for _ in range(int(rng.integers(1, 3))):
            c = b.contract(v, vendor, "工程", f"{int(rng.integers(1, 12))}组{rng.choice(WORKS)}",
                           round(limit * float(rng.uniform(0.2, 0.65)), -2), b.day(hi=dt.date(b.year, 10, 31)),
                           "直接发包", None)
            self.mark(case, "related_party", "contracts", c["contract_no"])
            for p in b.contract_payments(v, c, vendor):
                self.mark_voucher(case, "related_party", p)

    # ---- leases, contracts and loans -----------------------------------------------------------------------
    def _lease(self, v: Village, kind: str, sign: dt.date, years: int, title: str | None = None) -> dict:
        """A lease of ``kind`` signed on ``sign`` (any year), with its term and annual rent, and no receipts."""
        b, rng = self.b, self.rng
        unit, base, (qlo, qhi), category, _account = LEASES[kind]
        insiders = {c.person_id for c, _ in v.cadres} | {r.person_id for r, _, _ in v.relatives}
        lessee = _pick(rng, [p for p in v.people if p.status == "在册" and p.head and p.person_id not in insiders])
        qty = round(float(rng.uniform(qlo, qhi)), 0 if unit == "平方米" else 1)
        annual = round(base * b.town_rent_factor(v) * float(rng.uniform(0.9, 1.1)) * qty, -1)
        les = Vendor(lessee.name, lessee.person_id, lessee.account, category, "individual", lessee)
        c = b.contract(v, les, category, title or f"{place_name(rng)}{kind}{'租赁' if category == '资产租赁' else '承包'}",
                       annual * years, sign, "公开竞价", f"JY{sign.year}{len(b.contracts):05d}")
        c.update(quantity=qty, unit=unit, term_years=years, annual_rent=annual, start_date=sign,
                 end_date=_plus_years(sign, years) - dt.timedelta(days=1))
        return c

    def _rent(self, v: Village, c: dict, day: dt.date):
        account = LEASES[next(k for k in LEASES if k in c["title"])][4] if any(k in c["title"] for k in LEASES) else "501001"
        return self.b.receive(v, self.b.working_day_near(day), account, c["annual_rent"],
                              f"收到{c['title']}{'租金' if c['category'] == '资产租赁' else '承包费'}", c["vendor"],
                              c["contract_no"])

    def lease_too_long(self, v: Village) -> None:
        """A 厂房 let for 30 years (民法典 §705: beyond 20 the excess is void), paid this year."""
        y = self.b.year
        c = self._lease(v, "厂房", dt.date(y - 2, int(self.rng.integers(1, 12)), 10), 30)
        self._rent(v, c, _plus_years(c["sign_date"], 2))
        self.mark(self.case("lease_too_long"), "lease_too_long", "contracts", c["contract_no"])

    def wasteland_lookalike(self, v: Village) -> None:
        """Honest: 荒山 let for 40 years (四荒 承包 may run to 50)."""
        y = self.b.year
        c = self._lease(v, "山林", dt.date(y - 3, 4, 1), 40, title=f"{place_name(self.rng)}荒山承包")
        self._rent(v, c, _plus_years(c["sign_date"], 3))
        self.b.lookalikes.append(("wasteland_lookalike", v.code, "contracts", c["contract_no"]))

    def lease_overdue(self, v: Village) -> None:
        """A lease signed last year whose second year's rent, due this year, never arrives. Due from April: a due date
        in the books' first two months cannot be judged (rent paid early would lie before the books)."""
        y = self.b.year
        c = self._lease(v, str(self.rng.choice(["鱼塘", "店面", "耕地"])),
                        dt.date(y - 1, int(self.rng.integers(4, 9)), 1), 3)
        self.mark(self.case("lease_overdue"), "lease_overdue", "contracts", c["contract_no"])

    def late_rent_lookalike(self, v: Village) -> None:
        """Honest: a lease signed last year whose rent arrives 25 days after its due date."""
        y = self.b.year
        c = self._lease(v, str(self.rng.choice(["鱼塘", "店面", "耕地"])), dt.date(y - 1, int(self.rng.integers(3, 9)), 1), 3)
        self._rent(v, c, _plus_years(c["sign_date"], 1) + dt.timedelta(days=25))
        self.b.lookalikes.append(("late_rent_lookalike", v.code, "contracts", c["contract_no"]))

    def lease_expired(self, v: Village) -> None:
        """A three-year lease that ended this spring, still paid on in the autumn with no new contract."""
        y = self.b.year
        c = self._lease(v, str(self.rng.choice(["鱼塘", "店面", "厂房"])), dt.date(y - 3, 4, 1), 3)
        r = self._rent(v, c, dt.date(y, 9, int(self.rng.integers(5, 25))))
        case = self.case("lease_expired")
        self.mark(case, "lease_expired", "contracts", c["contract_no"])
        self.mark_voucher(case, "lease_expired", r, lines=(0, 1))

    def renewed_lease_lookalike(self, v: Village) -> None:
        """Honest: a lease that ended this spring and was renewed on the day, paid under the new contract."""
        y = self.b.year
        old = self._lease(v, "店面", dt.date(y - 3, 4, 1), 3)
        new = self.b.contract(v, Vendor(old["vendor"], old["vendor_id"], old["vendor_account"], old["category"],
                                        "individual"), old["category"], old["title"], old["annual_rent"] * 3,
                              dt.date(y, 4, 1), "公开竞价", f"JY{y}{len(self.b.contracts):05d}")
        new.update(quantity=old["quantity"], unit=old["unit"], term_years=3, annual_rent=old["annual_rent"],
                   start_date=dt.date(y, 4, 1), end_date=dt.date(y + 3, 3, 31))
        self._rent(v, new, dt.date(y, 4, 10))
        self.b.lookalikes.append(("renewed_lease_lookalike", v.code, "contracts", old["contract_no"]))

    def contract_signed_late(self, v: Village) -> None:
        """A works contract signed a month after the village paid its first instalment (补签)."""
        b, rng = self.b, self.rng
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"] or self.vendors)
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        sign = b.day(lo=dt.date(b.year, 4, 1), hi=dt.date(b.year, 10, 31))
        c = b.contract(v, vendor, "工程", f"{int(rng.integers(1, 12))}组{rng.choice(WORKS)}",
                       round(limit * float(rng.uniform(0.3, 0.6)), -2), sign, "询价", f"JC{b.year}{len(b.contracts):05d}")
        paid = b.pay(v, sign - dt.timedelta(days=int(rng.integers(20, 60))), "153003", round(c["amount"] * 0.4, 2),
                     f"支付{c['title']}预付款", vendor.name, vendor.vendor_id, vendor.account,
                     contract_no=c["contract_no"], cash=False)
        case = self.case("contract_signed_late")
        self.mark(case, "contract_signed_late", "contracts", c["contract_no"])
        self.mark_voucher(case, "contract_signed_late", paid)

    def prepaid_lookalike(self, v: Village) -> None:
        """Honest: a tendered works contract whose advance was paid three days before the signing ceremony."""
        b, rng = self.b, self.rng
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"] or self.vendors)
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        sign = b.day(lo=dt.date(b.year, 4, 1), hi=dt.date(b.year, 10, 31))
        c = b.contract(v, vendor, "工程", f"{int(rng.integers(1, 12))}组{rng.choice(WORKS)}",
                       round(limit * float(rng.uniform(1.1, 1.6)), -2), sign, "公开招标", f"ZB{b.year}{len(b.contracts):05d}")
        b.pay(v, sign - dt.timedelta(days=3), "153003", round(c["amount"] * 0.3, 2), f"支付{c['title']}预付款",
              vendor.name, vendor.vendor_id, vendor.account, contract_no=c["contract_no"], cash=False)
        b.lookalikes.append(("prepaid_lookalike", v.code, "contracts", c["contract_no"]))

    def collective_loan(self, v: Village) -> None:
        """Collective money lent to a villager, booked on 应收款."""
        b, rng = self.b, self.rng
        people = [p for p in v.people if p.status == "在册" and 25 <= b.year - p.birth.year <= 65]
        if not people:
            return
        p = _pick(rng, people)
        amt = round(float(rng.uniform(20_000, 60_000)), -3)
        vo = b.add_voucher(v, b.day(), [
            dict(account_code="112001", summary=f"借给{p.name}个人借款", debit=amt, credit=0.0, counterparty=p.name,
                 counterparty_id=p.person_id, counterparty_account=p.account, settlement="转账"),
            dict(account_code="102001", summary=f"借给{p.name}个人借款", debit=0.0, credit=amt, settlement="转账")])
        self.mark_voucher(self.case("collective_loan"), "collective_loan", vo, lines=(0, 1))

    def advance_lookalike(self, v: Village) -> None:
        """Honest: the 报账员 draws a travel advance (借支差旅费) for village business."""
        b, rng = self.b, self.rng
        handler = next((p for p, r in v.cadres if r == "报账员"), None)
        if handler is None:
            return
        amt = round(float(rng.uniform(800, 3000)), -2)
        vo = b.add_voucher(v, b.day(), [
            dict(account_code="113001", summary=f"{handler.name}借支差旅费", debit=amt, credit=0.0,
                 counterparty=handler.name, counterparty_id=handler.person_id, settlement="现金"),
            dict(account_code="101001", summary=f"{handler.name}借支差旅费", debit=0.0, credit=amt, settlement="现金")])
        b.lookalikes.append(("advance_lookalike", v.code, "ledger", (vo.key, 0)))

    def bank_payee_mismatch(self, v: Village) -> None:
        """Labour booked under one villager's name (with their ID), paid into a cadre relative's account: the bank
        statement shows the relative as the account holder (synth/bank.py writes it)."""
        b, rng = self.b, self.rng
        if not v.relatives:
            return
        holder = _pick(rng, v.relatives)[0]
        people = [p for p in v.people if p.status == "在册" and p.household_id != holder.household_id
                  and 20 <= b.year - p.birth.year <= 70]
        if not people:
            return
        p = _pick(rng, people)
        case = self.case("bank_payee_mismatch")
        for _ in range(int(rng.integers(1, 3))):
            vo = b.pay(v, b.day(), "213001", round(float(rng.uniform(1500, 6000)), 0), "支付临时用工劳务费",
                       p.name, p.person_id, holder.account, cash=False)
            self.mark_voucher(case, "bank_payee_mismatch", vo)

    def payee_alias(self, v: Village) -> None:
        """The same labour paid twice: once to the villager, once to a homophone of their name, one account."""
        b, rng = self.b, self.rng
        people = [p for p in v.people if p.status == "在册" and 20 <= b.year - p.birth.year <= 70
                  and any(ch in HOMOPHONES for ch in p.name[1:])]
        if not people:
            return
        p = _pick(rng, people)
        i = next(i for i, ch in enumerate(p.name) if i > 0 and ch in HOMOPHONES)
        alias = p.name[:i] + HOMOPHONES[p.name[i]] + p.name[i + 1:]
        case = self.case("payee_alias")
        for _ in range(int(rng.integers(1, 3))):
            d = b.day(hi=dt.date(b.year, 11, 30))
            amount = round(float(rng.uniform(800, 2800)), 0)
            real = b.pay(v, d, "213001", amount, "支付临时用工劳务费", p.name, p.person_id, p.account, cash=False)
            fake = b.pay(v, b.working_day_near(d + dt.timedelta(days=int(rng.integers(3, 20)))), "213001",
                         round(amount * float(rng.uniform(0.8, 1.2)), 0), "支付临时用工劳务费", alias, None, p.account,
                         cash=False)
            self.mark_voucher(case, "payee_alias", real)
            self.mark_voucher(case, "payee_alias", fake)

    def voucher_gap(self, v: Village) -> None:
        """One to three consecutive vouchers vanish after numbering; their neighbours are the evidence."""
        b, rng = self.b, self.rng
        evidence = {ref[0] for *_, table, ref in b.truth if table == "ledger"}
        own = [x for x in b.village_vouchers() if x.village == v.code and 3 <= x.date.month <= 10
               and x.key not in evidence]
        if len(own) < 10:
            return
        own.sort(key=lambda x: (x.date, x.key))
        first = int(rng.integers(1, len(own) - 4))
        case = self.case("voucher_gap")
        for x in own[first:first + int(rng.integers(1, 4))]:
            b.dropped[x.key] = case

    def namesake_lookalike(self, v: Village) -> None:
        """A villager who shares a cadre relative's name, but is another person, paid for honest labour."""
        b, rng = self.b, self.rng
        if not v.relatives:
            return
        rel = _pick(rng, v.relatives)[0]
        twin = Person(self.ids.ric(dt.date(1975, 6, 1) + dt.timedelta(days=int(rng.integers(0, 4000))), True),
                      rel.name, v.code, f"{v.code}9{len(v.households):03d}", dt.date(1980, 1, 1), True,
                      self.ids.bank_account(), head=True)
        v.households[twin.household_id] = [twin]
        v.people.append(twin)
        vo = b.pay(v, b.day(), "213001", 1200.0, "支付临时用工劳务费", twin.name, twin.person_id, twin.account,
                   cash=False)
        b.lookalikes.append(("namesake", v.code, "ledger", (vo.key, 0)))

    # ---- subsidy roll patterns ----------------------------------------------------------------
    def claim_deceased(self, v: Village) -> None:
        b, rng = self.b, self.rng
        elderly = [p for p in v.people if b.year - p.birth.year >= 62 and p.status == "在册"]
        if not elderly:
            return
        p = _pick(rng, elderly)
        p.status = "死亡" if rng.random() < 0.8 else "迁出"
        p.status_date = dt.date(b.year, int(rng.integers(1, 8)), int(rng.integers(1, 28)))
        case = self.case("claim_deceased")
        # the roll was never updated: the pension keeps flowing after the status date
        for c in b.village_claims():
            if c["claimant_id"] == p.person_id and c["pay_date"] > p.status_date:
                self.mark(case, "claim_deceased", "claims", c["claim_id"])

    def claim_nonresident(self, v: Village) -> None:
        b, rng = self.b, self.rng
        case = self.case("claim_nonresident")
        ghost_birth = dt.date(int(rng.integers(1940, 1964)), int(rng.integers(1, 13)), int(rng.integers(1, 28)))
        ghost = Person(self.ids.ric(ghost_birth, bool(rng.random() < 0.5), area=str(rng.choice(["330521", "330522"]))),
                       self.ids.person_name(), v.code, "", ghost_birth, True, self.ids.bank_account())
        for m in range(int(rng.integers(1, 7)), 13):
            c = b.claim(v, "最低生活保障金", f"{b.year}-{m:02d}", ghost, 780.0, b.working_day_near(dt.date(b.year, m, 15)))
            self.mark(case, "claim_nonresident", "claims", c["claim_id"])

    def claim_inflated_area(self, v: Village) -> None:
        b, rng = self.b, self.rng
        heads = {r.household_id for r, _, _ in v.relatives} | {c.household_id for c, _ in v.cadres}
        rows = [c for c in b.village_claims() if c["village_code"] == v.code and c["program"] == "耕地地力保护补贴"
                and c["period"] == str(b.year)]
        favoured = [c for c in rows if c["claimant_id"] in {m[0].person_id for h, m in v.households.items() if h in heads}]
        pool = favoured or rows
        if not pool:
            return
        case = self.case("claim_inflated_area")
        for c in rng.choice(pool, min(len(pool), int(rng.integers(1, 3))), replace=False):
            rate = c["amount"] / c["quantity"]
            c["quantity"] = round(c["quantity"] + float(rng.uniform(6, 10)), 2)
            c["amount"] = round(c["quantity"] * rate, 2)
            self.mark(case, "claim_inflated_area", "claims", c["claim_id"])

    def claim_duplicate(self, v: Village, other: Village) -> None:
        b, rng = self.b, self.rng
        rows = [c for c in b.village_claims() if c["village_code"] == v.code and c["program"] == "城乡居民基础养老金"]
        if not rows:
            return
        src = _pick(rng, rows)
        target = other if rng.random() < 0.5 else v
        case = self.case("claim_duplicate")
        p = next(x for x in v.people if x.person_id == src["claimant_id"])
        dup = b.claim(target, src["program"], src["period"], p, src["amount"],
                      b.working_day_near(src["pay_date"] + dt.timedelta(days=int(rng.integers(0, 10)))),
                      account=self.ids.bank_account())
        self.mark(case, "claim_duplicate", "claims", src["claim_id"])
        self.mark(case, "claim_duplicate", "claims", dup["claim_id"])

    def claim_shared_account(self, v: Village) -> None:
        """An official holding villagers' passbooks: their pensions land in one cadre-linked account."""
        b, rng = self.b, self.rng
        if not v.cadres:
            return
        cadre = _pick(rng, v.cadres)[0]
        elderly = sorted({c["claimant_id"] for c in b.village_claims() if c["village_code"] == v.code
                          and c["program"] == "城乡居民基础养老金" and c["bank_account"] != cadre.account})
        if len(elderly) < 5:
            return
        chosen = set(rng.choice(elderly, int(rng.integers(5, min(15, len(elderly)) + 1)), replace=False))
        case = self.case("claim_shared_account")
        for c in b.village_claims():
            if c["claimant_id"] in chosen and c["village_code"] == v.code:
                c["bank_account"] = cadre.account
                self.mark(case, "claim_shared_account", "claims", c["claim_id"])

    def holiday_payment(self, v: Village) -> None:
        """Three to five ordinary-looking payments dated on 春节/劳动节/国庆 by the village's handler."""
        b, rng = self.b, self.rng
        case = self.case("holiday_payment")
        payee = _pick(rng, self.vendors)
        days = [HOLIDAYS_2024[i] for i in rng.choice(len(HOLIDAYS_2024), size=int(rng.integers(3, 6)), replace=False)]
        for d in sorted(days):
            if d.year != b.year:
                continue
            vo = b.pay(v, d, "513002", float(rng.uniform(800, 9000)), "支付办公用品费用", payee.name,
                       payee.vendor_id, payee.account, invoice=b.invoice(), cash=False, any_day=True)
            self.mark_voucher(case, "holiday_payment", vo)

    def near_limit(self, v: Village) -> None:
        """One purchase cut into five to eight cash payments to one supplier within six weeks, each a little under
        the cash payment limit (avoiding a transfer)."""
        b, rng = self.b, self.rng
        case = self.case("near_limit")
        limit = b.config.thresholds_for(v.code).cash_payment_limit
        payee = _pick(rng, self.vendors)
        start = dt.date(b.year, int(rng.integers(1, 11)), int(rng.integers(1, 28)))
        for _ in range(int(rng.integers(5, 9))):
            d = start + dt.timedelta(days=int(rng.integers(0, 42)))
            vo = b.pay(v, d, "513001", float(rng.uniform(0.92, 0.995)) * limit, "购买办公用品", payee.name,
                       payee.vendor_id, payee.account, invoice=b.invoice(), cash=True)
            self.mark_voucher(case, "near_limit", vo)

    def voucher_backdated(self, v: Village) -> None:
        """A payment numbered where it was booked but written with a date 30–80 days earlier."""
        b, rng = self.b, self.rng
        evidence = {ref[0] for *_, table, ref in b.truth if table == "ledger"}
        own = [x for x in b.village_vouchers() if x.village == v.code and 4 <= x.date.month <= 11
               and x.key not in evidence and x.lines[0].get("counterparty")]
        if not own:
            return
        vo = _pick(rng, own)
        b.backdated[vo.key] = vo.date - dt.timedelta(days=int(rng.integers(30, 81)))
        self.mark_voucher(self.case("voucher_backdated"), "voucher_backdated", vo)

    def hospitality(self, v: Village) -> None:
        b, rng = self.b, self.rng
        case = self.case("hospitality")
        items = [("接待上级检查工作餐费", "农家乐"), ("购买烟酒（接待用）", "烟酒商行"), ("中秋慰问礼品", "超市"),
                 ("宴请施工方餐费", "酒店"), ("购物卡（节日福利）", "超市")]
        for i in rng.choice(len(items), size=int(rng.integers(2, 4)), replace=False):
            summary, shop = items[int(i)]
            d = dt.date(b.year, int(rng.integers(1, 13)), int(rng.integers(1, 28)))
            vo = b.pay(v, d, "513001", float(rng.uniform(600, 4000)), summary, f"演示县{v.name[:1]}{shop}", None, None,
                       invoice=b.invoice())
            self.mark_voucher(case, "hospitality", vo)

    def hospitality_lookalike(self, v: Village) -> None:
        """Honest: food for the elderly canteen (老年食堂) is not hospitality."""
        b, rng = self.b, self.rng
        d = dt.date(b.year, int(rng.integers(1, 13)), int(rng.integers(1, 28)))
        vo = b.pay(v, d, "514001", float(rng.uniform(800, 3000)), "老年食堂购买米面油", "演示县粮油店", None, None,
                   invoice=b.invoice())
        b.lookalikes.append(("elderly_canteen", v.code, "ledger", (vo.key, 0)))

    def contract_overpaid(self, v: Village) -> None:
        """An extra "增项" payment on a fully paid contract, with no supplementary agreement on record."""
        b, rng = self.b, self.rng
        own = [c for c in b.contracts if c["village_code"] == v.code and c["sign_date"].month <= 6
               and c["category"] in ("工程", "货物", "服务")]  # leases and 发包 bring money in
        if not own:
            return
        c = _pick(rng, own)
        paid = [x for x in b.village_vouchers() if x.village == v.code and x.lines[0].get("contract_no") == c["contract_no"]]
        if not paid:
            return
        last = max(x.date for x in paid)
        d = min(last + dt.timedelta(days=int(rng.integers(10, 60))), dt.date(b.year, 12, 20))
        line = paid[0].lines[0]
        case = self.case("contract_overpaid")
        already = sum(x.lines[0]["debit"] for x in paid)
        # beyond the signed amount, by enough to matter (an overrun of a few hundred yuan is rounding, not a case)
        extra = c["amount"] - already + max(2000.0, c["amount"] * float(rng.uniform(0.15, 0.4)))
        vo = b.pay(v, d, line["account_code"], extra, f"支付{c['title']}增项款",
                   c["vendor"], c.get("vendor_id"), c.get("vendor_account"), contract_no=c["contract_no"],
                   invoice=b.invoice(), cash=False)
        self.mark_voucher(case, "contract_overpaid", vo)
        self.mark(case, "contract_overpaid", "contracts", c["contract_no"])

    def holiday_lookalike(self, v: Village) -> None:
        """Honest: payments on 调休 working weekends (Sunday 2024-02-04 was a working day)."""
        b, rng = self.b, self.rng
        payee = _pick(rng, self.vendors)
        for d in rng.choice(len(MAKEUP_WORKDAYS_2024), size=3, replace=False):
            day = MAKEUP_WORKDAYS_2024[int(d)]
            if day.year != b.year:
                continue
            vo = b.pay(v, day, "513002", float(rng.uniform(800, 9000)), "支付办公用品费用", payee.name,
                       payee.vendor_id, payee.account, invoice=b.invoice(), cash=False)
            b.lookalikes.append(("holiday_makeup_workday", v.code, "ledger", (vo.key, 0)))

    def death_after_pay_lookalike(self, v: Village) -> None:
        """Died after the last payment: the claims before death are honest."""
        b = self.b
        for c in b.village_claims():
            if c["village_code"] == v.code and c["program"] == "城乡居民基础养老金":
                p = next((x for x in v.people if x.person_id == c["claimant_id"] and x.status == "在册"), None)
                if p is None or not _active(p, dt.date(b.year, 12, 31)):
                    continue
                p.status, p.status_date = "死亡", dt.date(b.year, 12, 20)
                b.lookalikes.append(("death_after_pay", v.code, "residents", p.person_id))
                return

    # ---- cash, digits, leases and claims (Detectors II) ---------------------------------------------
    def large_cash(self, v: Village) -> None:
        """One to three payments of several thousand yuan handed over in cash."""
        b, rng = self.b, self.rng
        case = self.case("large_cash")
        limit = b.config.thresholds_for(v.code).cash_payment_limit
        people = [p for p in v.people if p.status == "在册" and 25 <= b.year - p.birth.year <= 65]
        for _ in range(int(rng.integers(1, 4))):
            p = _pick(rng, people)
            vo = b.pay(v, b.day(), "213001", round(limit * float(rng.uniform(2.5, 9.0)), -1), "支付临时用工劳务费",
                       p.name, p.person_id, p.account, cash=True)
            self.mark_voucher(case, "large_cash", vo)

    def cash_hoard(self, v: Village) -> None:
        """Tens of thousands drawn in cash, kept in the office for one to three months, part paid back in."""
        b, rng = self.b, self.rng
        case = self.case("cash_hoard")
        amt = round(float(rng.uniform(20000, 50000)), -3)
        d = b.day(lo=dt.date(b.year, 2, 1), hi=dt.date(b.year, 8, 31))
        out = b.add_voucher(v, d, [
            dict(account_code="101001", summary="提取现金", debit=amt, credit=0.0, settlement="现金"),
            dict(account_code="102001", summary="提取现金", debit=0.0, credit=amt, settlement="转账")])
        back = round(amt * float(rng.uniform(0.5, 0.8)), -2)
        back_day = d + dt.timedelta(days=int(rng.integers(30, 91)))
        inn = b.add_voucher(v, back_day, [
            dict(account_code="102001", summary="现金存入银行", debit=back, credit=0.0, settlement="转账"),
            dict(account_code="101001", summary="现金存入银行", debit=0.0, credit=back, settlement="现金")])
        self.mark_voucher(case, "cash_hoard", out)
        self.mark_voucher(case, "cash_hoard", inn, lines=(0, 1))

    def cash_sitting(self, v: Village) -> None:
        """坐收坐支: a fish-pond fee taken in cash and spent on casual labour over the next days; the rest is banked
        weeks later, if at all."""
        b, rng = self.b, self.rng
        case = self.case("cash_sitting")
        amt = round(float(rng.uniform(8000, 30000)), -2)
        d = b.day(hi=dt.date(b.year, 11, 15))
        payer = _pick(rng, [p for p in v.people if p.status == "在册" and p.head])
        rec = b.add_voucher(v, d, [
            dict(account_code="101001", summary="收到鱼塘承包费", debit=amt, credit=0.0, counterparty=payer.name,
                 settlement="现金"),
            dict(account_code="501002", summary="收到鱼塘承包费", debit=0.0, credit=amt, counterparty=payer.name,
                 settlement="现金")])
        self.mark_voucher(case, "cash_sitting", rec)
        workers = [p for p in v.people if p.status == "在册" and 25 <= b.year - p.birth.year <= 65]
        spent = 0.0
        for _ in range(int(rng.integers(3, 7))):
            x = round(amt * float(rng.uniform(0.08, 0.15)), 0)
            p = _pick(rng, workers)
            vo = b.pay(v, d + dt.timedelta(days=int(rng.integers(0, 5))), "213001", x, "支付临时用工劳务费", p.name,
                       p.person_id, p.account, cash=True)
            self.mark_voucher(case, "cash_sitting", vo)
            spent += x
        if rng.random() < 0.7:
            rest = round(amt - spent, 2)
            dep = b.add_voucher(v, d + dt.timedelta(days=int(rng.integers(10, 26))), [
                dict(account_code="102001", summary="现金存入银行", debit=rest, credit=0.0, settlement="转账"),
                dict(account_code="101001", summary="现金存入银行", debit=0.0, credit=rest, settlement="现金")])
            self.mark_voucher(case, "cash_sitting", dep, lines=(0, 1))

    def cash_banked_lookalike(self, v: Village) -> None:
        """Honest: a market-stall fee taken in cash and banked in full the same day."""
        b, rng = self.b, self.rng
        amt = round(float(rng.uniform(3000, 20000)), -2)
        d = b.day()
        rec = b.add_voucher(v, d, [
            dict(account_code="101001", summary="收到摊位费", debit=amt, credit=0.0, settlement="现金"),
            dict(account_code="501001", summary="收到摊位费", debit=0.0, credit=amt, settlement="现金")])
        b.add_voucher(v, rec.date, [
            dict(account_code="102001", summary="现金存入银行", debit=amt, credit=0.0, settlement="转账"),
            dict(account_code="101001", summary="现金存入银行", debit=0.0, credit=amt, settlement="现金")],
            any_day=True)
        b.lookalikes.append(("cash_receipt_banked", v.code, "ledger", (rec.key, 0)))

    def benford(self, v: Village) -> None:
        """A second handler (the 村委会主任) books a long list of 误工补贴 with amounts a person makes up: mostly
        starting with 5 to 9, few with 1 or 2."""
        b, rng = self.b, self.rng
        who = next((p.name for p, r in v.cadres if r == "村委会主任"), None)
        if who is None:
            return
        case = self.case("benford")
        people = [p for p in v.people if p.status == "在册" and 20 <= b.year - p.birth.year <= 70]
        first = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9], size=int(rng.integers(120, 200)),
                           p=[0.03, 0.04, 0.08, 0.12, 0.15, 0.16, 0.16, 0.14, 0.12])
        for f in first:
            amt = float(f * 100 + int(rng.integers(0, 100)))
            p = _pick(rng, people)
            vo = b.pay(v, b.day(), "513004", amt, "支付误工补贴", p.name, p.person_id, p.account)
            for ln in vo.lines:
                ln["handler"] = who
            self.mark_voucher(case, "benford", vo)

    def no_contract_payment(self, v: Village) -> None:
        """A county contractor paid 1.1–2.5 times the works tender limit with no contract behind it."""
        b, rng = self.b, self.rng
        vendor = _pick(rng, [x for x in self.vendors if x.category == "工程"] or self.vendors)
        limit = b.config.thresholds_for(v.code).tender_limit_for("工程")
        vo = b.pay(v, b.day(), "153001", round(limit * float(rng.uniform(1.1, 2.5)), -2), "支付村内道路工程款",
                   vendor.name, vendor.vendor_id, vendor.account, invoice=b.invoice(), cash=False)
        self.mark_voucher(self.case("no_contract_payment"), "no_contract_payment", vo)

    def round_amounts(self, v: Village) -> None:
        """The 村委会副主任, as handler, books 12–25 payments of exactly 1,000–8,000 yuan to villagers."""
        b, rng = self.b, self.rng
        who = next((p.name for p, r in v.cadres if r == "村委会副主任"), None)
        if who is None:
            return
        case = self.case("round_amounts")
        people = [p for p in v.people if p.status == "在册" and 20 <= b.year - p.birth.year <= 70]
        for _ in range(int(rng.integers(12, 26))):
            p = _pick(rng, people)
            vo = b.pay(v, b.day(), "513004", float(rng.integers(1, 9)) * 1000, "支付误工补贴", p.name, p.person_id,
                       p.account, cash=False)
            for ln in vo.lines:
                ln["handler"] = who
            self.mark_voucher(case, "round_amounts", vo)

    def lease_underpriced(self, v: Village) -> None:
        """A fish pond, hill forest or workshop let at a fifth to two fifths of the going rent, often to a cadre's
        relative."""
        b, rng = self.b, self.rng
        rels = [r for r, _, _ in v.relatives if r.status == "在册"]
        lessee = _pick(rng, rels) if rels and rng.random() < 0.6 else None
        c = b.lease(v, lessee=lessee, price_factor=float(rng.uniform(0.2, 0.4)))
        self.mark(self.case("lease_underpriced"), "lease_underpriced", "contracts", c["contract_no"])

    def lease_lookalike(self, v: Village) -> None:
        """Honest: a lease at the low end of the going rent (a poor site) is not underpriced."""
        c = self.b.lease(v, price_factor=float(self.rng.uniform(0.7, 0.75)))
        self.b.lookalikes.append(("lease_low_end", v.code, "contracts", c["contract_no"]))

    def claim_cadre(self, v: Village) -> None:
        """A cadre's household registered with 9–16亩 (the village's households hold 1.5–6亩) and paid on it, in the
        roster and in both years' rolls, so the roll agrees with the roster."""
        b, rng = self.b, self.rng
        heads = [c for c, _ in v.cadres if c.head and c.contracted_area]
        if not heads:
            return
        p = _pick(rng, heads)
        area = round(float(rng.uniform(9, 16)), 2)
        case = self.case("claim_cadre")
        p.contracted_area = area
        for c in b.village_claims():
            if c["claimant_id"] == p.person_id and c["program"] == "耕地地力保护补贴":
                rate = c["amount"] / c["quantity"]
                c["quantity"], c["amount"] = area, round(area * rate, 2)
                self.mark(case, "claim_cadre", "claims", c["claim_id"])

    def claim_area_growth(self, v: Village, grow: tuple[float, float] = (1.5, 2.5), truth: bool = True) -> None:
        """This year's claimed area 1.5–2.5 times last year's, with the roster's contracted area raised to match."""
        b, rng = self.b, self.rng
        rows = {c["claimant_id"]: c for c in b.village_claims()
                if c["program"] == "耕地地力保护补贴" and c["period"] == str(b.year)}
        prior = {c["claimant_id"]: c for c in b.village_claims()
                 if c["program"] == "耕地地力保护补贴" and c["period"] == str(b.year - 1)}
        officials = {c.person_id for c, _ in v.cadres}
        both = [pid for pid in rows if pid in prior and pid not in officials
                and rows[pid]["quantity"] == prior[pid]["quantity"]]
        if not both:
            return
        pid = both[int(rng.integers(0, len(both)))]
        c = rows[pid]
        rate = c["amount"] / c["quantity"]
        c["quantity"] = round(prior[pid]["quantity"] * float(rng.uniform(*grow)), 2)
        c["amount"] = round(c["quantity"] * rate, 2)
        person = next(x for x in v.people if x.person_id == pid)
        person.contracted_area = c["quantity"]
        if truth:
            self.mark(self.case("claim_area_growth"), "claim_area_growth", "claims", c["claim_id"])
        else:
            b.lookalikes.append(("area_growth_small", v.code, "claims", c["claim_id"]))

    def area_growth_lookalike(self, v: Village) -> None:
        """Honest: a household took on 12% more land (流转) this year, within the growth tolerance."""
        self.claim_area_growth(v, grow=(1.1, 1.14), truth=False)
