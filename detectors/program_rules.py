"""Shared reading of the county's program rules (config ``programs``) for the claims detectors."""

from __future__ import annotations

import pandas as pd

from sanzi_audit.detectors.base import DetectorInput


def programs_of(data: DetectorInput, claims: pd.DataFrame) -> pd.DataFrame:
    """Per claim: the configured program it is (``key``) and its ``kind`` (None where the county lists none)."""
    names = claims["program"].astype("object")
    found = {n: data.config.program(n) for n in names.dropna().unique()}
    key = names.map(lambda n: hit[0] if (hit := found.get(n)) else None)
    kind = names.map(lambda n: hit[1].kind if (hit := found.get(n)) else None)
    return pd.DataFrame({"key": key, "kind": kind}, index=claims.index)


def held_on(dates: pd.Series, start: pd.Series, end: pd.Series) -> pd.Series:
    """Whether a register row (a term, a registration, a role) held on each date; an empty end is still held, an
    empty start held since ever."""
    return (start.isna() | (dates >= start)) & (end.isna() | (dates <= end))


def in_office(data: DetectorInput, claims: pd.DataFrame) -> pd.Series:
    """Per claim: the claimant's label as a cadre or close relative (党支部书记李四的配偶) when the cadre held office on
    the pay date; None otherwise (not on the roster, or the cadre's term had ended or not begun)."""
    out = pd.Series(None, index=claims.index, dtype="object")
    if not data.has("officials") or claims.empty:
        return out
    o = data["officials"]
    labels = data.official_labels
    cadre_of = o[["person_id", "related_to"]].assign(
        cadre=o["related_to"].astype("object").where(o["related_to"].notna(), o["person_id"]))
    terms = o[o["related_to"].isna()].drop_duplicates("person_id").set_index("person_id")[["term_start", "term_end"]]
    links = cadre_of.merge(terms, left_on="cadre", right_index=True, how="left")
    c = claims[["claimant_id", "pay_date"]].reset_index().merge(links, left_on="claimant_id", right_on="person_id")
    if c.empty:
        return out
    c = c[held_on(c["pay_date"], c["term_start"], c["term_end"])].drop_duplicates("index")
    out.loc[c["index"].to_numpy()] = c["claimant_id"].map(labels).to_numpy()
    return out
