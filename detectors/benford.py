"""Benford 偏离: first-digit and first-two-digit tests of payment amounts, per village-year and per handler.

Money that people actually spend spreads over several orders of magnitude and its leading digits follow Benford's
law; amounts a person makes up do not (too few 1s, too many 5–9s). The test uses Nigrini's mean absolute deviation
(MAD): the average gap between the observed and the expected digit shares. MAD shrinks with the sample, so a
group must also stand out from what chance alone gives at its size, and groups below a minimum size are withheld
(and the run says so). Villages with too few payments are pooled into their township.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from sanzi_audit.detectors.base import Detector, DetectorInput, Lead, Params, mentions, wan
from sanzi_audit.detectors.examples import Example, pay

FIRST = np.log10(1 + 1 / np.arange(1, 10))          # P(first digit = d), d = 1..9
FIRST_TWO = np.log10(1 + 1 / np.arange(10, 100))    # P(first two digits = dd), dd = 10..99


def expected_mad(p: np.ndarray, n: int) -> float:
    """E[MAD] of a conforming sample of size n: mean over digits of E|p̂ − p| ≈ √(2/π)·√(p(1−p)/n)."""
    return float(np.mean(np.sqrt(2 / np.pi) * np.sqrt(p * (1 - p) / n)))


def _amounts(amounts: list[float], handler: str = "张会计") -> list[dict]:
    """Example payments of one handler over 2024."""
    return [pay(f"e{i}", f"2024-{i % 12 + 1:02d}-{i % 27 + 1:02d}", float(a), f"收款人{i % 50}", "513001",
                handler=handler) for i, a in enumerate(amounts)]


class BenfordParams(Params):
    min_amount: float = Field(10.0, gt=0, description="Smaller amounts are left out (their digits carry little)")
    min_sample: int = Field(300, ge=50, description="Payments a group needs for the first-digit test; smaller "
                            "villages are pooled into the township, smaller pools and handlers are withheld")
    min_sample_two: int = Field(1000, ge=100, description="Payments a group needs for the first-two-digit test")
    handler_min_sample: int = Field(100, ge=30, description="Payments a handler needs in a village-year")
    mad_first: float = Field(0.015, gt=0, description="Nigrini's nonconformity line for the first digit")
    mad_first_two: float = Field(0.0022, gt=0, description="Nigrini's nonconformity line for the first two digits")
    chance_factor: float = Field(2.5, ge=1, description="MAD must also exceed this multiple of its expected value "
                                 "for a conforming sample of the same size")
    exclude_keywords: tuple[str, ...] = Field(("工资", "报酬"), description="Payments whose 摘要 contains one of "
                                              "these are left out: payroll repeats fixed amounts by design")
    max_handler_share: float = Field(0.8, gt=0, le=1, description="A handler holding more than this share of the "
                                     "village's payments is the village test already")


class Benford(Detector):
    name = "benford"
    version = "1.0"
    default_weight = 0.6
    title = "金额首位数字分布异常"
    scope = "county"  # small villages of a township are pooled into one test
    description = (
        "First-digit (and, for large groups, first-two-digit) test of payment amounts against Benford's law, per "
        "village and year and per handler (经办人) within a village-year. Flags a group whose MAD exceeds both "
        "Nigrini's nonconformity line (0.015 first digit, 0.0022 first two) and chance_factor × the MAD expected by "
        "chance at its size. Villages under min_sample payments are pooled by township; groups still too small are "
        "withheld and named in the run's notes. Payroll (摘要 with exclude_keywords) is left out, and a village is "
        "tested without the handlers already flagged in it. Evidence: the payments with the most over-represented digits.")
    requires = ("ledger",)
    views = ("payments",)
    joins_cases = False  # a handler's year of payments: the evidence is a sample, not one matter
    Params = BenfordParams

    examples = (
        Example("一个村 600 笔付款的首位数字集中在 5–8（编造的金额）",
                {"ledger": _amounts([500 + (i * 37) % 400 + (i % 9) * 0.11 for i in range(600)])}, leads=1),
        Example("1,500 笔付款的首位数字符合本福特定律",
                {"ledger": _amounts([round(100 * 100 ** ((i + 0.5) / 1500), 2) for i in range(1500)])}, leads=0),
    )

    def detect(self, data: DetectorInput) -> list[Lead]:
        p = self.params
        pay = data.payments
        pay = pay[pay["debit"] >= p.min_amount]
        pay = pay[~mentions(pay["summary"], p.exclude_keywords).to_numpy()]
        if pay.empty:
            return []
        x = pay["debit"].to_numpy(dtype="float64")
        mag = np.floor(np.log10(x) + 1e-9)
        d2 = np.clip(np.floor(x / 10 ** (mag - 1) + 1e-6), 10, 99).astype(int)  # 1e-6: 2.9999999 → 30
        pay = pd.DataFrame({"entry_id": pay["entry_id"], "village_code": pay["village_code"], "debit": pay["debit"],
                            "d1": d2 // 10, "d2": d2, "yr": pay["entry_date"].dt.year,
                            "who": pay["handler"].fillna("（未填经办人）")})  # only what the groups below read
        leads: list[Lead] = []
        small: dict[tuple[str, int], list[str]] = {}
        for (village, yr), g in pay.groupby(["village_code", "yr"], sort=True):
            if len(g) < p.min_sample:
                small.setdefault((village[:9], yr), []).append(village)
                continue
            flagged_handlers = []
            for who, h in g.groupby("who", sort=True):
                if len(h) > p.max_handler_share * len(g) or len(h) < p.handler_min_sample:
                    continue
                found = self._test(h, village, f"经办人“{who}”{yr} 年", ("handler", str(who), str(yr)),
                                   scope="")
                if found:
                    flagged_handlers.append(who)
                    leads += found
            # the village test, without the handlers already flagged: their rows would only repeat their lead
            rest = g[~g["who"].isin(flagged_handlers)]
            if len(rest) >= p.min_sample:
                leads += self._test(rest, village, f"{village} {yr} 年", ("village", str(yr)),
                                    scope="本村" + ("（不含已单列的经办人）" if flagged_handlers else ""))
        for (town, yr), villages in sorted(small.items()):
            g = pay[pay["village_code"].isin(villages) & (pay["yr"] == yr)]
            if len(g) < p.min_sample:
                self.note(f"{town} {yr} 年 {len(villages)} 个村合计仅 {len(g)} 笔付款（少于 {p.min_sample}），"
                          "样本过少，未做首位数字检验")
                continue
            # the lead belongs to the village with most payments in the pool; the explanation names the pool
            main = g["village_code"].value_counts().idxmax()
            leads += self._test(g, main, f"{town} 乡镇 {yr} 年（{len(villages)} 个小村合并）",
                                ("township", town, str(yr)), scope=f"{len(villages)} 个村合并")
        return leads

    def _test(self, g: pd.DataFrame, village: str, label: str, key: tuple[str, ...], scope: str) -> list[Lead]:
        p = self.params
        n = len(g)
        obs1 = np.bincount(g["d1"], minlength=10)[1:] / n
        mad1 = float(np.abs(obs1 - FIRST).mean())
        line1 = max(p.mad_first, p.chance_factor * expected_mad(FIRST, n))
        mad2 = line2 = None
        hit2 = False
        if n >= p.min_sample_two:
            obs2 = np.bincount(g["d2"], minlength=100)[10:] / n
            mad2 = float(np.abs(obs2 - FIRST_TWO).mean())
            line2 = max(p.mad_first_two, p.chance_factor * expected_mad(FIRST_TWO, n))
            hit2 = mad2 > line2
        if mad1 <= line1 and not hit2:
            return []
        excess = obs1 - FIRST
        top = [int(d) + 1 for d in np.argsort(-excess)[:2] if excess[d] > 0]
        ev = g[g["d1"].isin(top)].nlargest(40, "debit")
        digits = "，".join(f"首位 {d}：实际 {obs1[d - 1]:.1%}，理论 {FIRST[d - 1]:.1%}" for d in top)
        two = (f"；前两位数字 MAD {mad2:.4f}（阈值 {line2:.4f}）" if mad2 is not None else "")
        strength = max(mad1 / line1, (mad2 / line2) if hit2 and mad2 is not None and line2 else 0.0)
        return [self.lead(
            village_code=village,
            score=round(min(0.85, 0.4 + 0.15 * min(3.0, strength - 1.0)), 4),
            amount_at_risk=round(float(g.loc[g["d1"].isin(top), "debit"].sum()), 2),
            title=f"金额首位数字分布异常疑点：{label} {n} 笔付款偏离本福特分布",
            explanation=(f"{label}{'（' + scope + '）' if scope else ''}共 {n} 笔付款，金额首位数字与本福特定律的平均绝对偏差 MAD 为 {mad1:.4f}，"
                         f"超过判定线 {line1:.4f}（Nigrini 不符合线 {p.mad_first} 与该样本量下随机波动预期的 "
                         f"{p.chance_factor} 倍取大）{two}。偏多的数字：{digits}；这些付款合计 "
                         f"{wan(float(g.loc[g['d1'].isin(top), 'debit'].sum()))}。人为编造的金额常偏离该分布，"
                         "但固定标准的补贴、工资也会造成偏离，建议抽查偏多数字对应的凭证和原始单据；若偏多的金额是固定标准（如每日误工补贴定额），可据标准文件排除。"),
            evidence=[("ledger", e) for e in ev["entry_id"]],
            key=key,
            details=dict(n=n, mad_first=round(mad1, 5), line_first=round(line1, 5),
                         mad_first_two=None if mad2 is None else round(mad2, 6),
                         observed=[round(float(x), 4) for x in obs1]),
        )]
