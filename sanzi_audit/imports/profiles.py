"""Import profiles: one declarative YAML file per export family (金蝶 凭证列表, 用友 序时账, 一卡通 roll …).

A profile says which table the family fills, how to recognise it (sheet name, first line, header cells), which
header names carry which field, which fields are filled only on a voucher's first line, and how amounts, dates,
vouchers and counterparties are written. The reader (``apply.py``) interprets them; no family has code of its own
beyond the field vocabulary documented in docs/importing.md. Built-in profiles live beside this module; a county
adds its own with ``imports.profiles: [path, …]`` in its config (same format, same vocabulary).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..normalize import to_halfwidth

TableName = Literal["ledger", "contracts", "claims", "residents", "officials", "bank", "public_employees", "vehicles",
                    "properties", "businesses", "business_people", "decisions",
                    "contract_terms"]

# Intermediate fields a profile may map besides the contract's own columns (see docs/importing.md).
FIELDS = {
    "ledger": {
        "voucher": "凭证字号 in one cell (记-12)", "voucher_word": "凭证字 (记/收/付)", "voucher_num": "凭证号 (number)",
        "subject": "科目 in one cell: code and name (22410053 其他应付款_某公司)", "year": "年", "month": "月", "day": "日",
        "period": "会计期间 (month number)", "amount": "one amount: signed, or with 方向", "direction": "方向 借/贷",
        "preparer": "制单人", "reviewer": "审核人", "aux_customer": "辅助核算 客户", "aux_supplier": "辅助核算 供应商",
        "aux_employee": "辅助核算 职员", "aux_project": "辅助核算 项目", "aux_department": "辅助核算 部门",
        "aux_custom": "自定义辅助核算", "aux_items": "K/3 核算项目 (类别---编码---名称,…)",
        "aux_text": "辅助项 text (客商:XX / 项目:XX)",
    },
    "claims": {
        "village_name": "村(居)委会 name, looked up in the village directory", "bank_name": "开户银行", "group": "村民小组", "standard": "补贴标准", "year": "年度",
    },
    "contracts": {"term": "起止日期 in one cell (2020.01.01-2030.12.31)", "village_name": "村名"},
    "residents": {"village_name": "村名"},
    "bank": {"txn_amount": "one 交易金额: signed, or with a 收/支 flag", "direction": "收支标志 收/支, 借/贷, 转入/转出",
             "village_name": "村名"},
    "public_employees": {}, "vehicles": {}, "properties": {}, "businesses": {}, "business_people": {}, "decisions": {},
    "contract_terms": {},
    "officials": {"village_name": "村名",
        "cadre_name": "干部姓名", "cadre_id": "干部身份证号", "relative_name": "亲属姓名", "relative_id": "亲属身份证号",
    },
}


class Match(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sheet: str | None = Field(None, description="regex a sheet name must match")
    first_line: str | None = Field(None, description="regex the first cell of the first row must match")
    headers: list[str] = Field(default_factory=list, description="fields that must all be found in the header")
    any_headers: list[list[str]] = Field(default_factory=list,
                                         description="groups of fields of which at least one each must be found")


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title: str
    table: TableName
    family: str = ""
    priority: int = Field(50, description="higher wins when two profiles fit a file equally well")
    match: Match = Field(default_factory=Match)
    columns: dict[str, list[str]] = Field(default_factory=dict, description="field → header names")
    positional: list[str | None] = Field(default_factory=list,
                                         description="no header row: field of each column in order (U8 text)")
    skip_sheets: list[str] = Field(default_factory=list, description="regexes of sheet names to leave out")
    fill_down: list[str] = Field(default_factory=list, description="fields written only on a voucher's first line")
    name_separator: str = Field("_", description="separator of levels in 科目 names (_ or -)")
    line_base: int = Field(1, description="first 分录号 in the file (K/3 and KIS start at 0)")
    voucher_numbering: Literal["auto", "period", "year"] = Field(
        "auto", description="vouchers numbered per period (month) or per year; auto: told from the file")
    placeholders: list[str] = Field(default_factory=list, description="cell values that mean empty (NONE, *)")
    program: str | None = Field(None, description="claims: the program when no column or title names it")
    source: str | None = Field(None, description="file the profile was loaded from")

    def aliases(self) -> dict[str, str]:
        """Normalised header text → field."""
        out: dict[str, str] = {}
        for f, names in self.columns.items():
            for n in [f, *names]:
                out.setdefault(header_key(n), f)
        return out


_UNIT = re.compile(r"[(（](元|万元|亩|平方米|㎡|人|户|个|年|月|日|%|％)[)）]$")


@functools.lru_cache(maxsize=65536)
def header_key(text: str) -> str:
    """A header cell as compared with profile aliases: no spaces or marks, half-width, and the common variants
    folded (帐/账, 号码/号, 编码/代码, 名称/名), a trailing unit like （元） dropped. 编号 stays: 分录编号 (an id) and
    分录号 (a line number) are different columns."""
    t = to_halfwidth(str(text)).replace("\ufeff", "")
    t = re.sub(r"[\s\u00a0*★※:：]", "", t)
    t = _UNIT.sub("", t)
    t = t.replace("帐", "账").replace("號", "号").replace("号码", "号").replace("编码", "代码").replace("名称", "名")
    return t.lower()


class ProfileError(ValueError):
    pass


@functools.cache
def builtin_profiles() -> tuple[Profile, ...]:
    out = []
    for entry in sorted(resources.files(__package__).joinpath("profiles").iterdir(), key=lambda p: p.name):
        if entry.name.endswith((".yaml", ".yml")):
            out.append(_parse(entry.read_text(encoding="utf-8"), f"(内置) {entry.name}"))
    return tuple(out)


def load_profile(path: Path) -> Profile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"导入配置 {path} 无法读取: {exc}") from exc
    return _parse(text, str(path))


def _parse(text: str, where: str) -> Profile:
    try:
        data = yaml.safe_load(text)
        p = Profile.model_validate({**(data or {}), "source": where})
    except (yaml.YAMLError, ValidationError) as exc:
        raise ProfileError(f"导入配置 {where} 有误: {exc}") from exc
    from ..contract import TABLES

    known = set(TABLES[p.table].column_names) | set(FIELDS[p.table])
    unknown = sorted({f for f in [*p.columns, *(x for x in p.positional if x)] if f not in known})
    if unknown:
        raise ProfileError(f"导入配置 {where}: 表 {p.table} 没有字段 {', '.join(unknown)}"
                           f"（可用字段: {', '.join(sorted(known))}）")
    return p


def all_profiles(extra_paths: Sequence[Path] = ()) -> list[Profile]:
    """County profiles first (they win ties), then the built-in ones."""
    county = [load_profile(p) for p in extra_paths]
    names = {p.name for p in county}
    return county + [p for p in builtin_profiles() if p.name not in names]
