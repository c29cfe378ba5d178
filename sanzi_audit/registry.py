"""Detector registry and runner. Built-ins are found in the package; plugins register through entry points."""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import math
import time
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from pydantic import ValidationError

from sanzi_audit.config import Config, ConfigError
from sanzi_audit.detectors.base import EVIDENCE_TABLES, Detector, DetectorInput, Lead

if TYPE_CHECKING:
    from sanzi_audit.carry import Carry

GROUP = "sanzi_audit.detectors"
log = logging.getLogger(__name__)


class RegistryError(RuntimeError):
    pass


def builtin_detectors() -> dict[str, type[Detector]]:
    """The detectors shipped in ``sanzi_audit.detectors``: every module's Detector subclasses, found by scanning the
    package, so a new built-in is one file and nothing else to edit."""
    import pkgutil

    import sanzi_audit.detectors as package

    found: dict[str, type[Detector]] = {}
    for mod in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{mod.name}")
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, Detector) and obj.__module__ == module.__name__
                    and not inspect.isabstract(obj)):
                if obj.name in found:
                    raise RegistryError(f"检测器名 {obj.name} 被定义了两次（{found[obj.name].__module__}、{module.__name__}）")
                found[obj.name] = obj
    return found


@functools.cache
def _load_all() -> tuple[tuple[str, type[Detector]], ...]:
    found = builtin_detectors()
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = ep.load()
        except Exception as exc:
            raise RegistryError(f"检测器 {ep.name}（{ep.value}）无法加载: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            raise RegistryError(f"入口点 {ep.name} 指向的 {ep.value} 不是 Detector 子类")
        if cls.name != ep.name:
            raise RegistryError(f"入口点名 {ep.name} 与检测器 name={cls.name!r} 不一致")
        if ep.name in found and found[ep.name] is not cls:
            raise RegistryError(f"检测器名 {ep.name} 已被 {found[ep.name].__module__} 使用，插件 {ep.value} 不能再注册")
        found[ep.name] = cls
    return tuple(sorted(found.items()))


def load_detectors() -> dict[str, type[Detector]]:
    """Every detector class by name, sorted: the built-ins of this package, then third-party packages through the
    ``sanzi_audit.detectors`` entry-point group. A broken plugin fails loudly, never silently."""
    return dict(_load_all())


# leads that come from the pipeline or the province step rather than a detector class
OTHER_TITLES = {"cross_county_claims": "跨县重复领取", "cross_township_splits": "跨乡镇拆分"}


def settings(config: Config, name: str):
    """The detector's effective settings: the county's overrides over what its class declares."""
    s = config.detector(name)
    cls = dict(_load_all()).get(name)
    enabled = s.enabled if s.enabled is not None else (cls.enabled_by_default if cls else True)
    weight = s.weight if s.weight is not None else (cls.default_weight if cls else 1.0)
    return s.model_copy(update={"enabled": enabled, "weight": weight})


def quality_sources() -> frozenset[str]:
    """The detectors whose leads are about the data, not conduct (kind = "data_quality"): a queue of their own,
    ranked after every other lead and never joined into a case."""
    return frozenset(n for n, c in _load_all() if c.kind == "data_quality")


def detector_titles() -> dict[str, str]:
    """Every lead source's Chinese title, from the detector classes themselves (the one source of truth)."""
    return {**OTHER_TITLES, **{name: cls.title for name, cls in load_detectors().items()}}


def render_markdown() -> str:
    """The detector reference part of docs/detectors.md, from the classes (a test keeps the two in step)."""
    from sanzi_audit.config import load_config

    config = load_config()
    lines = ["| detector | 标题 | version | needs | reads when present | views | weight |",
             "|---|---|---|---|---|---|---:|"]
    classes = load_detectors()
    for name, cls in classes.items():
        s = settings(config, name)
        weight = f"{s.weight:g}" + ("" if s.enabled else " (off by default)")
        lines.append(f"| `{name}` | {cls.title} | {cls.version} | {', '.join(cls.requires) or '-'} | "
                     f"{', '.join(cls.uses) or '-'} | {', '.join(cls.views) or '-'} | {weight} |")
    lines.append("")
    for name, cls in classes.items():
        lines += [f"### `{name}` — {cls.title}", "", " ".join(cls.description.split()), ""]
        if cls.basis:
            lines += [f"依据：{cls.basis}", ""]
        if cls.examples:
            lines += [f"- {'flags' if e.positive else 'leaves alone'}: {e.label}" for e in cls.examples] + [""]
        fields = cls.Params.model_fields
        if fields:
            lines += ["| parameter | default | meaning |", "|---|---|---|"]
            for k, f in fields.items():
                default = f.default if not isinstance(f.default, tuple) else "、".join(map(str, f.default))
                lines.append(f"| `{k}` | {default} | {' '.join((f.description or '').split())} |")
            lines.append("")
    return "\n".join(lines)


def make_detector(cls: type[Detector], config: Config) -> Detector:
    try:
        params = cls.Params.model_validate(config.detector(cls.name).params)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"检测器 {cls.name} 的参数有误（detectors.{cls.name}.params）: {problems}") from exc
    return cls(params)


@dataclass
class DetectorReport:
    name: str
    status: str  # ran / skipped / disabled / failed
    leads: int = 0
    seconds: float = 0.0
    reason: str = ""
    params: dict = field(default_factory=dict)
    version: str = ""
    carried: str = ""  # "all": every lead carried over from the last night (carry.py); "N/M": villages run again

    @property
    def how(self) -> str:
        """How the leads came, for the log and the run's artifact: "" when it ran on everything."""
        if not self.carried:
            return ""
        return "（输入未变，沿用上次结果）" if self.carried == "all" else f"（重新检测 {self.carried} 个村）"


def check_leads(det: Detector, leads: list[Lead], data: DetectorInput) -> None:
    """The parts of the contract a runner can check cheaply on every run."""
    for ld in leads:
        if not (0.0 <= ld.score <= 1.0) or math.isnan(ld.score):
            raise ValueError(f"{det.name}: score {ld.score} outside [0, 1]")
        if not ld.title.strip() or not ld.explanation.strip():
            raise ValueError(f"{det.name}: a lead has an empty title or explanation")
        if not ld.evidence:
            raise ValueError(f"{det.name}: a lead has no evidence")
        for table, _ in ld.evidence:
            if table not in EVIDENCE_TABLES:
                raise ValueError(f"{det.name}: evidence table {table!r} is not one of {EVIDENCE_TABLES}")


def _notes(notes: list[str], shown: int = 5) -> str:
    if len(notes) <= shown:
        return "；".join(notes)
    return "；".join(notes[:shown]) + f"；另有 {len(notes) - shown} 条说明"


WEAK_SOURCES = frozenset({"summary"})  # a payee read from a 摘要 pattern, not from a column or the accounts


def weaken_inferred_payees(leads: list[Lead], data: DetectorInput, factor: float) -> None:
    """A lead whose ledger evidence names its payee only through 摘要 patterns is a weaker reason to look: its
    score is multiplied by ``factor`` (ranking.weak_payee_factor) and the explanation says so."""
    if factor >= 1 or not leads or not data.has("ledger") or "counterparty_source" not in data["ledger"]:
        return
    led = data["ledger"]
    weak = set(led.loc[led["counterparty_source"].isin(WEAK_SOURCES), "entry_id"])
    if not weak:
        return
    for ld in leads:
        ids = [r for t, r in ld.evidence if t == "ledger"]
        if ids and sum(r in weak for r in ids) * 2 > len(ids):
            ld.score = round(ld.score * factor, 4)
            ld.explanation += "（注：收款人仅从摘要文字推断，未见于辅助核算或明细科目，请先核对原始凭证上的收款人。）"
            ld.details["payee_inferred_from_summary"] = True


def _detect(det: Detector, config: Config, data: DetectorInput) -> tuple[list[Lead], list[str]]:
    """One detector on ``data``: its leads in the villages the county switched it on for, checked, with the weak
    payee discount applied, and its notes."""
    leads = [ld for ld in det.detect(data) if config.enabled_for(det.name, ld.village_code)]
    check_leads(det, leads, data)
    if det.uses_payee:
        weaken_inferred_payees(leads, data, config.ranking.weak_payee_factor)
    return leads, list(det.notes)


def run_detectors(data: DetectorInput, config: Config, only: list[str] | None = None,
                  classes: dict[str, type[Detector]] | None = None,
                  carry: Carry | None = None) -> tuple[list[Lead], list[DetectorReport]]:
    """Run every enabled detector on ``data``. With ``carry`` (carry.Carry), a detector whose input, code and
    settings are as on the last night it ran is not run again: its leads are carried over (a village-scope
    detector runs again on the villages whose rows changed); ``carry.entries`` then holds what to store."""
    from .carry import config_digest

    classes = classes if classes is not None else load_detectors()
    all_leads: list[Lead] = []
    reports: list[DetectorReport] = []
    digest = config_digest(config) if carry is not None else ""
    for name, cls in classes.items():
        if only is not None and name not in only:
            continue
        if not settings(config, name).enabled:
            reports.append(DetectorReport(name, "disabled", reason="配置中已停用", version=cls.version))
            continue
        missing = [t for t in cls.requires if not data.has(t)]
        if missing:
            reports.append(DetectorReport(name, "skipped", reason=f"缺少输入表: {', '.join(missing)}",
                                          version=cls.version))
            continue
        det = make_detector(cls, config)
        t0 = time.perf_counter()
        try:
            if carry is None:
                (leads, notes), carried = _detect(det, config, data), ""
            else:
                leads, notes, carried = carry.run(det, digest, functools.partial(_detect, det, config))
        except Exception as exc:  # one broken detector must not sink the others; the run says so
            log.error("detector %s failed: %s", name, traceback.format_exc())
            reports.append(DetectorReport(name, "failed", reason=f"{exc.__class__.__name__}: {exc}",
                                          seconds=time.perf_counter() - t0, version=cls.version))
            continue
        reports.append(DetectorReport(name, "ran", len(leads), time.perf_counter() - t0, reason=_notes(notes),
                                      params=det.params.model_dump(), version=cls.version, carried=carried))
        all_leads.extend(leads)
    return all_leads, reports
