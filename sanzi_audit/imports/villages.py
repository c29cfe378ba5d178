"""The county's village directory (统计用区划代码) and matching names the way people write them.

The directory is a CSV or XLSX with 代码 and 名称, optionally 乡镇 and 别名 (several joined by 、 , ; or spaces).
A village is written 新塘村, 新塘村民委员会, 新塘村股份经济合作社, 新塘经济合作社, or with its township in front
(城关镇新塘村); all of these match the same 12-digit code. A township name alone never matches a village.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..normalize import to_halfwidth

# longest first, so 股份经济合作社 is removed before 经济合作社, and 村民委员会 before 村
_VILLAGE_SUFFIXES = ("股份经济合作社", "股份经济联合社", "经济联合社", "经济合作社", "集体经济组织", "村民委员会", "居民委员会",
                     "社区居委会", "村委会", "居委会", "社区", "村")
_TOWN_SUFFIXES = ("人民政府", "街道办事处", "街道", "镇", "乡")


def _clean(text: str) -> str:
    return re.sub(r"[\s\u3000()（）【】\[\]<>《》\"'“”]", "", to_halfwidth(str(text or "")))


def village_core(name: str) -> str:
    """新塘村股份经济合作社 → 新塘; a name that is only a suffix stays as it is."""
    t = _clean(name)
    changed = True
    while changed:  # 后山村股份经济合作社 → 后山村 → 后山
        changed = False
        for s in _VILLAGE_SUFFIXES:
            if t.endswith(s) and len(t) > len(s) + 1:
                t, changed = t[: -len(s)], True
                break
    return t


def town_core(name: str) -> str:
    t = _clean(name)
    for s in _TOWN_SUFFIXES:
        if t.endswith(s) and len(t) > len(s) + 1:
            return t[: -len(s)]
    return t


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    township: str = ""


@dataclass
class Match:
    code: str | None
    name: str | None = None
    how: str = ""  # what matched, for `sanzi inspect`
    ambiguous: list[str] = field(default_factory=list)


class DirectoryError(ValueError):
    pass


@dataclass
class VillageDirectory:
    villages: list[Village]
    source: str = ""
    problems: list[str] = field(default_factory=list)  # directory rows that were not usable

    def __post_init__(self) -> None:
        self._by_code = {v.code: v for v in self.villages}
        self._names: list[tuple[str, str, str]] = []  # (core or alias, code, township core)
        for v in self.villages:
            for n in {village_core(v.name), _clean(v.name)}:
                if len(n) >= 2:
                    self._names.append((n, v.code, town_core(v.township)))
        self._names.sort(key=lambda x: -len(x[0]))
        self._towns = sorted({(town_core(v.township), v.code[:9]) for v in self.villages if v.township},
                             key=lambda x: -len(x[0]))

    @classmethod
    def load(cls, path: Path) -> VillageDirectory:
        from .grid import GridError, read_workbook

        try:
            wb = read_workbook(path)
        except GridError as exc:
            raise DirectoryError(f"村级区划目录 {path} 无法读取: {exc}") from exc
        rows = [r for r in wb.sheets[0].rows if any(str(c).strip() for c in r)]
        if not rows:
            raise DirectoryError(f"村级区划目录 {path} 为空")
        header = [_clean(h) for h in rows[0]]

        def col(*names: str) -> int | None:
            for n in names:
                if n in header:
                    return header.index(n)
            return None

        ci = col("代码", "区划代码", "统计用区划代码", "村代码", "code")
        ni = col("名称", "村名称", "村名", "单位名称", "name")
        ti = col("乡镇", "乡镇名称", "乡镇街道", "所属乡镇", "township")
        ai = col("别名", "其他名称", "alias", "aliases")
        if ci is None or ni is None:
            raise DirectoryError(f"村级区划目录 {path} 需要“代码”和“名称”两列（可选“乡镇”“别名”），表头为: {', '.join(rows[0])}")
        out, problems = [], []
        for k, r in enumerate(rows[1:], start=2):
            def cell(i, r=r):
                return str(r[i]).strip() if i is not None and i < len(r) else ""
            code = re.sub(r"\D", "", cell(ci))
            if len(code) == 9 and not cell(ti):  # a township's own row
                continue
            if len(code) != 12:
                problems.append(f"第 {k} 行代码“{cell(ci)}”不是 12 位村级代码")
                continue
            out.append(Village(code, cell(ni), cell(ti)))
            for a in re.split(r"[、,，;；\s]+", cell(ai)):
                if a:
                    out.append(Village(code, a, cell(ti)))
        if problems and not out:
            raise DirectoryError(f"村级区划目录 {path}: " + "；".join(problems[:5]))
        return cls(out, str(path), problems)

    def name_of(self, code: str) -> str | None:
        v = self._by_code.get(code)
        return v.name if v else None

    @property
    def codes(self) -> list[str]:
        return sorted(self._by_code)

    def match(self, *texts: str) -> Match:
        """The village named in the texts (title rows, unit name, sheet, file name, folders), nearest first.

        A 12-digit code of the directory in a text wins. Otherwise the longest village name found in the first
        text that names any; where several villages share that name, a township named anywhere in the texts
        decides, else the match is ambiguous (and reported, never guessed)."""
        cleaned = [_clean(t) for t in texts if t]
        for t in cleaned:
            for code in re.findall(r"(?<!\d)(\d{12})(?!\d)", t):
                if code in self._by_code:
                    return Match(code, self.name_of(code), f"代码 {code}")
        towns = {prefix for t in cleaned for name, prefix in self._towns if name and name in t}
        for t in cleaned:
            hits = [(n, code, town) for n, code, town in self._names if n in t]
            if not hits:
                continue
            best = len(hits[0][0])
            top = {code for n, code, _ in hits if len(n) == best}
            if len(top) > 1 and towns:
                top = {c for c in top if c[:9] in towns} or top
            if len(top) == 1:
                code = top.pop()
                return Match(code, self.name_of(code), f"名称“{hits[0][0]}”见于“{t[:40]}”")
            return Match(None, None, f"“{t[:40]}”可对应多个村", ambiguous=sorted(top))
        return Match(None, None, "未找到村名")

    def lookup_names(self, names: pd.Series) -> pd.Series:
        """Per-row village names (a township-wide roll's 村(居)委会 column) → codes; unknown names → None."""
        distinct = names.dropna().unique()
        found = {n: self.match(str(n)).code for n in distinct}
        return names.map(found)
