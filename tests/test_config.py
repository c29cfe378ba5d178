import re
from pathlib import Path

import pytest

from sanzi_audit.config import Config, ConfigError, load_config

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_defaults_and_township_override(tmp_path):
    f = tmp_path / "county.yaml"
    f.write_text("thresholds:\n  tender_limit: {工程: 30000}\ntownships:\n  '330599101':\n"
                 "    thresholds: {tender_limit: {工程: 20000}}\n    disabled_detectors: [vendor_concentration]\n",
                 encoding="utf-8")
    cfg = load_config(f)
    assert cfg.thresholds_for("330599102200").tender_limit_for("工程") == 30000
    assert cfg.thresholds_for("330599101200").tender_limit_for("工程") == 20000
    assert cfg.thresholds_for("330599101200").tender_limit_for("货物") == 50000  # inherited
    assert not cfg.enabled_for("vendor_concentration", "330599101201")
    assert cfg.enabled_for("vendor_concentration", "330599102201")


@pytest.mark.parametrize("text,needle", [
    ("thresholds:\n  cash_payment_limit: -5\n", "thresholds.cash_payment_limit"),
    ("ranking:\n  scoer_share: 0.5\n", "scoer_share"),
    ("region: [1, 2\n", "无法读取"),
    ("- a\n- b\n", "映射"),
])
def test_bad_config_names_the_key(tmp_path, text, needle):
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(needle)):
        load_config(f)


def _settings(model, prefix=""):
    for name, field in model.model_fields.items():
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, Config.__mro__[1]) and ann is not Config:
            yield from _settings(ann, f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}"


def test_every_setting_is_documented():
    doc = DOCS.read_text(encoding="utf-8")
    missing = [s for s in _settings(Config) if s != "source_file" and f"`{s}`" not in doc]
    assert not missing, f"undocumented settings in docs/configuration.md: {missing}"
