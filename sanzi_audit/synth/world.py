"""The people and organisations of a synthetic county: villages, households, cadres, relatives, vendors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from faker.providers.person.zh_CN import Provider as _Names

from ..identifiers import RIC_CHECK, RIC_WEIGHTS, USCC_ALPHABET, uscc_check_char

_SURNAMES = list(_Names.last_names.keys())
_SURNAME_W = np.array(list(_Names.last_names.values()), dtype=float)
_SURNAME_W /= _SURNAME_W.sum()
_GIVEN = list(_Names.first_names)
# Zipf-like: a few given names (伟, 芳, 敏...) are far more common, which makes same-name strangers realistic.
_GIVEN_W = 1.0 / np.arange(1, len(_GIVEN) + 1) ** 0.6
_GIVEN_W /= _GIVEN_W.sum()

_RIC_W = [int(w) for w in RIC_WEIGHTS]
_PLACE = list("东西南北上下前后新石桥河山塘湾溪岭坑口头庄林竹桃梅杨柳枫松安丰宁和平兴隆福寿永乐")
_INDUSTRY = [("建筑工程", "工程"), ("市政园林", "工程"), ("水利工程", "工程"), ("建材", "货物"), ("农资", "货物"),
             ("物业服务", "服务"), ("环境卫生服务", "服务"), ("电气安装", "工程"), ("装饰工程", "工程"),
             ("劳务", "服务"), ("办公用品", "货物"), ("广告设计", "服务")]


@dataclass
class Person:
    person_id: str
    name: str
    village_code: str
    household_id: str
    birth: dt.date
    male: bool
    account: str
    status: str = "在册"
    status_date: dt.date | None = None
    contracted_area: float | None = None
    head: bool = False


@dataclass
class Vendor:
    name: str
    vendor_id: str
    account: str
    category: str  # 工程/货物/服务
    kind: str  # company / individual
    person: Person | None = None


@dataclass
class Village:
    code: str
    name: str
    township_code: str
    township_name: str
    people: list[Person] = field(default_factory=list)
    households: dict[str, list[Person]] = field(default_factory=dict)
    cadres: list[tuple[Person, str]] = field(default_factory=list)  # (person, role)
    relatives: list[tuple[Person, Person, str]] = field(default_factory=list)  # (relative, cadre, relation)
    local_vendors: list[Vendor] = field(default_factory=list)


class Identities:
    """Unique, checksum-valid identifiers drawn from one seeded generator."""

    def __init__(self, rng: np.random.Generator, county_code: str):
        self.rng = rng
        self.county = county_code
        self._seq: dict[str, int] = {}
        self._accounts: set[str] = set()
        self._acct_buf: list[str] = []
        self._name_buf: list[tuple[str, str]] = []

    def person_name(self, surname: str | None = None) -> str:
        """A weighted (surname, given name) draw, one numpy draw per 4096 names instead of one per name.

        The buffer belongs to this generation: a module-level one keyed on ``id(rng)`` handed a new generator
        whose id happened to be recycled the previous generation's leftover names, so one seed gave two
        different counties in one process.
        """
        if not self._name_buf:
            sur = self.rng.choice(len(_SURNAMES), size=4096, p=_SURNAME_W)
            giv = self.rng.choice(len(_GIVEN), size=4096, p=_GIVEN_W)
            self._name_buf = [(_SURNAMES[a], _GIVEN[b]) for a, b in zip(sur, giv, strict=True)]
        s, g = self._name_buf.pop()
        return (surname or s) + g

    def ric(self, birth: dt.date, male: bool, area: str | None = None) -> str:
        area = area or self.county
        key = area + birth.strftime("%Y%m%d")
        n = self._seq.get(key, int(self.rng.integers(0, 200)))
        n += 1 + int(self.rng.integers(0, 3))
        if (n % 2 == 1) != male:  # odd sequence = male
            n += 1
        self._seq[key] = n
        first17 = key + f"{n % 1000:03d}"
        total = sum(int(c) * w for c, w in zip(first17, _RIC_W, strict=True))
        return first17 + RIC_CHECK[total % 11]

    def uscc(self, prefix: str = "91") -> str:
        body = "".join(self.rng.choice(list(USCC_ALPHABET[:10] + USCC_ALPHABET[10:]), 9))
        first17 = prefix + self.county + body
        return first17 + uscc_check_char(first17)

    def bank_account(self) -> str:
        while True:
            if not self._acct_buf:
                prefixes = self.rng.choice(["622848", "621700", "623058", "622908"], 4096)
                bodies = self.rng.integers(0, 10**12, 4096)
                self._acct_buf = [f"{a}{b:012d}" for a, b in zip(prefixes, bodies, strict=True)]
            body = self._acct_buf.pop()
            acct = body + _luhn_digit(body)
            if acct not in self._accounts:
                self._accounts.add(acct)
                return acct


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def place_name(rng: np.random.Generator) -> str:
    return "".join(rng.choice(_PLACE, 2, replace=False))


def build_villages(rng: np.random.Generator, ids: Identities, n: int, year: int) -> list[Village]:
    villages: list[Village] = []
    n_towns = max(1, round(n / 12))
    town_names = set()
    while len(town_names) < n_towns:
        town_names.add(place_name(rng) + "镇")
    towns = [(f"{ids.county}{100 + i + 1:03d}", nm) for i, nm in enumerate(sorted(town_names))]
    used_names: set[str] = set()
    for i in range(n):
        tcode, tname = towns[i % n_towns]
        vname = place_name(rng) + "村"
        while vname in used_names:
            vname = place_name(rng) + "村"
        used_names.add(vname)
        v = Village(code=f"{tcode}{200 + i // n_towns:03d}", name=vname, township_code=tcode, township_name=tname)
        _populate(rng, ids, v, year)
        villages.append(v)
    return villages


def _birth(rng: np.random.Generator, age_lo: int, age_hi: int, year: int) -> dt.date:
    age = int(rng.integers(age_lo, age_hi + 1))
    return dt.date(year - age, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))


def _populate(rng: np.random.Generator, ids: Identities, v: Village, year: int) -> None:
    n_households = int(rng.integers(100, 220))
    for h in range(n_households):
        hid = f"{v.code}{h + 1:04d}"
        surname = ids.person_name()[0]
        members: list[Person] = []
        head_male = rng.random() < 0.85
        head_birth = _birth(rng, 30, 85, year)
        head = Person(ids.ric(head_birth, head_male), ids.person_name(surname) if head_male else ids.person_name(),
                      v.code, hid, head_birth, head_male, ids.bank_account(), head=True,
                      contracted_area=round(float(rng.uniform(1.5, 6.0)), 2))
        members.append(head)
        if rng.random() < 0.85:  # spouse
            sb = head_birth + dt.timedelta(days=int(rng.integers(-1500, 1500)))
            spouse_account = head.account if (year - sb.year >= 60 and rng.random() < 0.3) else ids.bank_account()
            members.append(Person(ids.ric(sb, not head_male), ids.person_name(), v.code, hid, sb, not head_male,
                                  spouse_account))
        for _ in range(int(rng.integers(0, 3))):  # children
            cb = head_birth + dt.timedelta(days=int(rng.integers(20 * 365, 35 * 365)))
            if cb.year > year - 1:
                continue
            male = bool(rng.random() < 0.5)
            members.append(Person(ids.ric(cb, male), ids.person_name(surname) if male or rng.random() < 0.7
                                  else ids.person_name(), v.code, hid, cb, male, ids.bank_account()))
        # roughly 1.1% die and 0.8% move out during the year (most of them keep no subsidy afterwards)
        for p in members:
            r = rng.random()
            if r < 0.011 + 0.02 * (year - p.birth.year > 75):
                p.status, p.status_date = "死亡", dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 330)))
            elif r < 0.03:
                p.status, p.status_date = "迁出", dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 330)))
        v.households[hid] = members
        v.people.extend(members)

    adults = [p for p in v.people if p.status == "在册" and 28 <= year - p.birth.year <= 62 and p.head]
    heads_by_surname: dict[str, list[Person]] = {}
    for p in v.people:
        if p.head:
            heads_by_surname.setdefault(p.name[0], []).append(p)
    roles = ["党支部书记", "村委会主任", "村委会副主任", "报账员", "村务监督委员会主任"]
    picks = rng.choice(len(adults), size=min(len(roles), len(adults)), replace=False)
    for role, k in zip(roles, picks, strict=False):
        cadre = adults[int(k)]
        v.cadres.append((cadre, role))
        for rel in v.households[cadre.household_id]:
            if rel is cadre:
                continue
            relation = "配偶" if abs(rel.birth.year - cadre.birth.year) < 12 else "子女"
            v.relatives.append((rel, cadre, relation))
        # a sibling in another household with the same surname, when one exists
        sibs = [p for p in heads_by_surname.get(cadre.name[0], [])
                if p.household_id != cadre.household_id and abs(p.birth.year - cadre.birth.year) < 10]
        if sibs:
            v.relatives.append((sibs[int(rng.integers(0, len(sibs)))], cadre, "兄弟姐妹"))

    # Local individual businesses (个体): villagers who do small works, repairs and supplies.
    # Cadres and their relatives are kept out: an insider doing the village's works is what the related-party
    # injection plants, with ground truth.
    insiders = {c.person_id for c, _ in v.cadres} | {r.person_id for r, _, _ in v.relatives}
    locals_ = [p for p in v.people if p.status == "在册" and 25 <= year - p.birth.year <= 65
               and p.person_id not in insiders]
    for k in rng.choice(len(locals_), size=min(4, len(locals_)), replace=False):
        p = locals_[int(k)]
        ind, cat = _INDUSTRY[int(rng.integers(0, len(_INDUSTRY)))]
        v.local_vendors.append(Vendor(p.name, p.person_id, p.account, cat, "individual", p))


def build_vendors(rng: np.random.Generator, ids: Identities, n: int) -> list[Vendor]:
    """County-wide companies shared across villages."""
    vendors: list[Vendor] = []
    names: set[str] = set()
    while len(vendors) < n:
        ind, cat = _INDUSTRY[int(rng.integers(0, len(_INDUSTRY)))]
        name = f"演示县{place_name(rng)}{ind}有限公司"
        if name in names:
            continue
        names.add(name)
        vendors.append(Vendor(name, ids.uscc("91"), ids.bank_account(), cat, "company"))
    return vendors


def name_variant(rng: np.random.Generator, name: str) -> str:
    """A spelling of the same payee as clerks really type it: suffix variants, full-width, stray spaces."""
    choices = []
    if name.endswith("有限公司"):
        choices.append(name.replace("有限公司", "有限责任公司"))
        choices.append(name.replace("演示县", ""))
    choices.append(name[:2] + " " + name[2:])
    choices.append(name + "（个体）" if not name.endswith("公司") else name.replace("公司", "公司 "))
    return str(choices[int(rng.integers(0, len(choices)))])
