"""Region configuration: built-in defaults ← county file ← township overrides, validated with clear errors."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ConfigError(ValueError):
    """A configuration file is unreadable or invalid; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Region(_Strict):
    name: str = Field(description="County (or region) name shown to users")
    county_code: str = Field(pattern=r"^\d{6}$", description="6-digit county part of the 统计用区划代码")
    village_directory: str | None = Field(
        None, description="The county's 统计用区划代码 list (CSV or XLSX with 代码 and 名称, optionally 乡镇 and 别名), "
        "relative to this config file: places each export in its village by the names in titles, files and folders")


class FilePin(_Strict):
    glob: str = Field(description="Files (relative to the source folder, or a file name) this applies to, e.g. "
                      "\"城关镇/新塘村/*.xls\"")
    profile: str | None = Field(None, description="The import profile to use (see `sanzi inspect`), when the guess is wrong")
    village: str | None = Field(None, description="The village of these files: a 12-digit code or a directory name")


class Imports(_Strict):
    profiles: list[str] = Field(default_factory=list, description="The county's own import profiles (YAML files, "
                                "relative to this config file), in the format of the built-in ones")
    files: list[FilePin] = Field(default_factory=list, description="Pins of a profile or a village for file globs")
    ignore: list[str] = Field(default_factory=list, description="Globs of files in the source folder that are not "
                              "exports (names starting with . or _ are always left out)")


class Thresholds(_Strict):
    tender_limit: dict[str, float] = Field(
        description="Per contract category (工程/货物/服务): amounts at or above need a 村民代表会议 resolution and a tender")
    cash_payment_limit: float = Field(gt=0, description="Payments above this must go by transfer")
    cash_balance_limit: float = Field(gt=0, description="库存现金限额")
    decision_limit: float | None = Field(None, gt=0, description="Contracts and payments at or above this need a "
                                         "decision record (四议两公开) before the first payment; empty: the tender "
                                         "limit of the category")

    def tender_limit_for(self, category: str | None) -> float:
        if category and category in self.tender_limit:
            return self.tender_limit[category]
        return min(self.tender_limit.values())


class Ranking(_Strict):
    amount_cap: float = Field(gt=0, description="Amount at risk (元) at which the amount factor saturates")
    score_share: float = Field(ge=0, le=1, description="Share of priority from the detector score (rest: amount)")
    feedback_weighting: bool = Field(False, description="Scale each detector's weight by reviewers' confirmed share")
    feedback_min_reviewed: int = Field(20, ge=1, description="Reviewed leads a detector needs before feedback applies")
    weak_payee_factor: float = Field(0.8, gt=0, le=1, description="Score multiplier for payee-based leads whose "
                                     "payee is read only from 摘要 text (a weak source)")
    signal_boost: float = Field(0.15, ge=0, le=1, description="A case whose records several detectors flag "
                                "independently (a split to a relative; a shared account of a relative) ranks by its "
                                "best priority × (1 + signal_boost × (detectors − 1)), at most two extra")


class Review(_Strict):
    reopen_amount_growth: float = Field(0.1, ge=0, description="A dismissed or closed lead reopens when its amount "
                                        "at risk grows by more than this share")
    reopen_on_new_records: bool = Field(True, description="A dismissed or closed lead reopens when new evidence "
                                        "records join it")


class Validation(_Strict):
    history_years: int = Field(10, ge=0, description="Entries and payments dated before 1 January of this many "
                               "years before the run are outside the period loaded (quarantined)")
    period_start: dt.date | None = Field(None, description="First date loaded; overrides history_years (backfills)")
    period_end: dt.date | None = Field(None, description="Last date loaded; defaults to the run date")
    villages: list[str] = Field(default_factory=list, description="The county's 12-digit village codes; when "
                                "given, rows of any other village are quarantined (empty: county prefix only)")

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        start = self.period_start or dt.date(today.year - self.history_years, 1, 1)
        return start, self.period_end or today


class Bank(_Strict):
    match_window_days: int = Field(7, ge=0, le=60, description="A ledger line on 银行存款 and a bank statement row "
                                   "of the same village, direction and amount are one movement when their dates are "
                                   "at most this many days apart (books are often kept days after the bank moved)")


class ProgramExclusions(_Strict):
    """Who may not draw a program: each is checked on the pay date against the optional registers
    (docs/data-contract.md), and only where that register is supplied."""

    public_employees: bool = Field(False, description="财政供养人员 (table public_employees) are excluded")
    vehicle_min_value: float | None = Field(None, ge=0, description="A household owning a vehicle worth at least "
                                            "this (元; 0 = any vehicle) is excluded (table vehicles)")
    vehicle_exempt_types: list[str] = Field(default_factory=lambda: ["农用", "拖拉机", "三轮", "收割", "摩托", "残疾人"],
                                            description="Vehicle types (any word of) that never exclude: farm and "
                                            "invalid vehicles")
    max_properties: int | None = Field(None, ge=0, description="A household holding more properties than this is "
                                       "excluded (table properties; 1 = a second house excludes)")
    businesses: bool = Field(False, description="A 法定代表人, 股东 or 经营者 of a registered business (tables "
                         "businesses, business_people) is excluded")


class Program(_Strict):
    kind: Literal["selective", "universal"] = Field(description="selective: eligibility is decided case by case "
                                                    "(低保, 特困, 危房改造, 临时救助), so any claim by a cadre or close "
                                                    "relative is worth a look; universal: everyone who qualifies by "
                                                    "age or land gets it (养老金, 耕地地力保护补贴)")
    aliases: list[str] = Field(default_factory=list, description="Other names rolls give the program")
    exclusive_with: list[str] = Field(default_factory=list, description="Programs that may not be drawn for the same "
                                      "month (低保 and 特困供养)")
    excludes: ProgramExclusions = Field(default_factory=ProgramExclusions)


class DetectorSettings(_Strict):
    """The county's overrides of one detector; what is left unset comes from the class (registry.settings)."""

    enabled: bool | None = Field(None, description="Run this detector (unset: the class's enabled_by_default)")
    weight: float | None = Field(None, ge=0, description="Multiplier on the priority of this detector's leads "
                                 "(unset: the class's default_weight)")
    params: dict[str, Any] = Field(default_factory=dict, description="Overrides of the detector's parameters")


class TownshipOverride(_Strict):
    thresholds: dict[str, Any] = Field(default_factory=dict, description="Keys of `thresholds` to override")
    disabled_detectors: list[str] = Field(default_factory=list, description="Detectors not run for this township")


class Config(_Strict):
    region: Region
    thresholds: Thresholds
    ranking: Ranking
    review: Review = Field(default_factory=Review)
    validation: Validation = Field(default_factory=Validation)
    detectors: dict[str, DetectorSettings] = Field(default_factory=dict)
    townships: dict[str, TownshipOverride] = Field(default_factory=dict)
    imports: Imports = Field(default_factory=Imports)
    bank: Bank = Field(default_factory=Bank)
    programs: dict[str, Program] = Field(default_factory=dict)
    source_file: str | None = None

    def detector(self, name: str) -> DetectorSettings:
        return self.detectors.get(name, DetectorSettings())

    def program(self, name: str | None) -> tuple[str, Program] | None:
        """The configured program a roll's program name is (by name, alias, or a name or alias it contains)."""
        if not name:
            return None
        index = self._program_names
        found = index.get(name)
        if found is None:
            hits = [(len(k), k) for k in index if k and k in name]
            found = index[max(hits)[1]] if hits else None
        return found

    @functools.cached_property
    def _program_names(self) -> dict[str, tuple[str, Program]]:
        """Every program key and alias → (key, program)."""
        out: dict[str, tuple[str, Program]] = {}
        for key, prog in self.programs.items():
            for n in (key, *prog.aliases):
                out.setdefault(n, (key, prog))
        return out

    def thresholds_for(self, village_code: str) -> Thresholds:
        override = self.townships.get(str(village_code)[:9])
        if override is None or not override.thresholds:
            return self.thresholds
        merged = _deep_merge(self.thresholds.model_dump(), override.thresholds)
        return Thresholds.model_validate(merged)

    def enabled_for(self, detector: str, village_code: str) -> bool:
        override = self.townships.get(str(village_code)[:9])
        return override is None or detector not in override.disabled_detectors


def _deep_merge(base: dict, top: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (top or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def _read_yaml(path: Path | None, text: str | None = None) -> dict:
    try:
        data = yaml.safe_load(text if text is not None else path.read_text(encoding="utf-8"))  # type: ignore[union-attr]
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path} 无法读取: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"配置文件 {path} 顶层应为键值映射 (mapping)")
    return data


def default_config_dict() -> dict:
    text = resources.files("sanzi_audit").joinpath("default_config.yaml").read_text(encoding="utf-8")
    return _read_yaml(None, text)


def load_config(path: str | Path | None = None) -> Config:
    """Load the built-in defaults, overridden by the county file at ``path`` if given."""
    data = default_config_dict()
    if path is not None:
        data = _deep_merge(data, _read_yaml(Path(path)))
        data["source_file"] = str(path)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"配置文件 {path or '(内置默认)'} 有误: {problems}") from exc
