"""Market profiles for the demo: what a shop in the United States, Czechia, Saudi Arabia or the United Arab
Emirates is made of (`ordergraph seed --market us|cz|sa|ae`).

A profile holds the local words and numbers the world (world.py) is built from: delivery methods and how often
shoppers choose them, people's names (Czech surnames take the feminine form, Novák/Nováková; Arabic names are
written in Arabic script with a Latin spelling for e-mail addresses), streets and how an address line is written,
mobile phone numbers (stored in E.164), the catalog's nouns, adjectives and price points in whole units of the
market's currency, the tax class of each noun (CZ: books and coffee are REDUCED), postal codes, and the words a
location's name is made of.

Invariants:
- `US_PROFILE` is today's demo: its data are world.py's constants (the same objects), and its drawing functions
  take the same random numbers in the same order as world.py always has, so `seed --market us` (the default)
  builds the same world.
- Pure: no database and no clock; every draw comes from the generator passed in.
- Prices are in the market's currency, tax included where the market's prices include it (CZ, SA, AE); the demo
  never converts between currencies.
- Phone numbers are demo numbers in the mobile ranges of each country and valid for `phonenumbers`; US numbers
  keep the 555-01xx range reserved for fiction.
"""

import random
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from ordergraph.models.enums import DeliveryKind, LocationKind
from ordergraph.server.seed.world import (
    ADJECTIVES,
    AREA_CODES,
    CATEGORIES,
    COLORS,
    CUSTOMIZABLE_NOUNS,
    DELIVERY_METHODS,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    KIND_TRAITS,
    LAST_NAMES,
    STREET_SUFFIXES,
    STREETS,
    MethodSpec,
)

Category = tuple[tuple[str, ...], tuple[int, int]]  # nouns and a price range in whole currency units

US_METHOD_WEIGHTS: Mapping[str, int] = {
    "STANDARD": 55,
    "NEXT_DAY": 12,
    "SAME_DAY": 7,
    "ONE_HOUR": 3,
    "WEEKEND": 4,
    "PICKUP": 15,
}
US_UNIT_LABELS = ("Apt 4B", "Unit 12", "Suite 300", "Apt 2")

# Czech postal codes: the first two digits by ISO 3166-2 region (CZ-10 is Prague).
CZ_POSTAL_PREFIXES: Mapping[str, tuple[int, int]] = {
    "10": (10, 19),
    "20": (25, 29),
    "31": (37, 39),
    "32": (30, 34),
    "41": (35, 36),
    "42": (40, 44),
    "51": (46, 47),
    "52": (50, 55),
    "53": (53, 57),
    "63": (58, 59),
    "64": (60, 69),
    "71": (77, 79),
    "72": (76, 76),
    "80": (70, 74),
}


@dataclass(frozen=True, slots=True)
class Person:
    name: str  # as written in the market (Arabic script in SA and AE)
    email_stem: str  # ASCII, for the e-mail address: "jiri.novak"


@dataclass(frozen=True, slots=True)
class MarketProfile:
    code: str  # the market's code, "US"; the CLI takes it in lower case
    name: str
    country: str
    currency: str
    prices_include_tax: bool
    methods: tuple[MethodSpec, ...]
    method_weights: Mapping[str, int]  # by method code: how often shoppers choose it when it is open
    first_names: tuple[str, ...]  # US: anyone's; elsewhere men's names, then `female_first_names`
    last_names: tuple[str, ...]  # CZ: the masculine form
    streets: tuple[str, ...]
    email_domains: tuple[str, ...]
    categories: tuple[Category, ...]
    adjectives: tuple[str, ...]  # the US's adjectives; elsewhere the name of a product line
    colors: tuple[str, ...]
    customizable_nouns: frozenset[str]
    reduced_nouns: frozenset[str]  # nouns of the REDUCED tax class; every other noun is STANDARD
    kind_labels: Mapping[LocationKind, str]  # what a location of each kind is called
    unit_labels: tuple[str, ...]  # a second address line ("Apt 4B", "byt 12")
    female_first_names: tuple[str, ...] = ()
    city_names: Mapping[str, str] = field(default_factory=dict)  # the place table's name -> the local one
    latin: Mapping[str, str] | None = None  # Latin spelling of each name in another script

    # --- drawing: each function takes the generator's numbers in a fixed order ---------------------------

    def person(self, rng: random.Random) -> Person:
        if self.code == "US":  # world.py's draws: a first name, then a last name, from one list each
            first, last = rng.choice(self.first_names), rng.choice(self.last_names)
            return Person(f"{first} {last}", f"{first}.{last}")
        female = rng.random() < 0.5
        first = rng.choice(self.female_first_names if female else self.first_names)
        last = rng.choice(self.last_names)
        if female and self.code == "CZ":
            last = feminine_surname(last)
        return Person(f"{first} {last}", f"{self._latin(first)}.{self._latin(last)}")

    def street(self, rng: random.Random) -> str:
        if self.code == "US":
            return f"{rng.randint(10, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}"
        return f"{rng.choice(self.streets)} {rng.randint(1, 199)}"  # "Husova 12", "شارع الملك فهد 123"

    def line2(self, rng: random.Random) -> str | None:
        return rng.choice(self.unit_labels) if rng.random() < 0.25 else None

    def phone(self, rng: random.Random) -> str:
        """A mobile number in E.164."""
        if self.code == "US":
            # 555-01xx numbers are reserved for fiction.
            return f"+1{rng.choice(AREA_CODES)}55501{rng.randint(0, 99):02d}"
        prefix = rng.choice(MOBILE_PREFIXES[self.code])
        return f"{prefix}{rng.randint(0, 10 ** (SUBSCRIBER_DIGITS[self.code]) - 1):0{SUBSCRIBER_DIGITS[self.code]}d}"

    def email(self, person: Person, customer_id: int, rng: random.Random) -> str:
        return f"{person.email_stem}.{customer_id}@{rng.choice(self.email_domains)}".lower().replace("'", "")

    def price_minor(self, rng: random.Random, low: int, high: int) -> int:
        """A shelf price in minor units: US mostly .99, some .00 and .49; CZ whole crowns ending in 9 or 0
        (249, 1 490, 2 999); SA and AE whole riyals or dirhams (449, 1 299)."""
        if self.code == "US":
            return rng.randint(low, high) * 100 - rng.choice((1, 1, 1, 0, 51))
        if self.code == "CZ":
            return max(low, rng.randint(low // 10 + 1, high // 10) * 10 - rng.choice((1, 1, 1, 0, 10))) * 100
        return (rng.randint(low, high) - rng.choice((1, 1, 0))) * 100

    def postal_code(self, rng: random.Random, region: str | None) -> str:
        """A postal code in the region: CZ "110 00"; SA five digits for about half of the addresses, else "" (the
        code is optional there); AE "" (the Emirates have none). The US takes its codes from the postal-code
        table, not from here."""
        if self.code == "CZ":
            low, high = CZ_POSTAL_PREFIXES.get(region or "", (10, 79))
            digits = f"{rng.randint(low, high):02d}{rng.randint(0, 999):03d}"
            return f"{digits[:3]} {digits[3:]}"
        if self.code == "SA":
            return f"{rng.randint(11000, 99999):05d}" if rng.random() < 0.5 else ""
        return ""

    def item_name(self, adjective: str, noun: str, color: str) -> str:
        """ "Summit Tee - Navy" in the US; elsewhere the noun comes first: "Mikina Šumava - černá"."""
        if self.code == "US":
            return f"{adjective} {noun} - {color}"
        return f"{noun} {adjective} - {color}"

    def tax_class(self, noun: str) -> str:
        return "REDUCED" if noun in self.reduced_nouns else "STANDARD"

    def site_name(self, city: str, kind: LocationKind) -> str:
        label = self.kind_labels[kind]
        return f"{city} {label}" if self.code == "US" else f"{label} {city}"

    def method(self, code: str) -> MethodSpec:
        return next(method for method in self.methods if method.code == code)

    def _latin(self, name: str) -> str:
        if self.latin is not None and name in self.latin:
            return self.latin[name]
        return ascii_fold(name)


def feminine_surname(last: str) -> str:
    """The Czech feminine form: Novák → Nováková, Svoboda → Svobodová, Černý → Černá, Král → Králová."""
    if last.endswith("ý"):
        return last[:-1] + "á"
    if last.endswith(("a", "o")):
        return last[:-1] + "ová"
    if last.endswith("ek"):
        return last[:-2] + "ková"
    return last + "ová"


def ascii_fold(text: str) -> str:
    """ "Jiří Šťastný" → "Jiri Stastny": letters without their diacritics, for e-mail addresses."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def money_text(minor: int, currency: str) -> str:
    """An amount as the demo's event messages write it: "$1,234.56" (USD, as always), "1 234,56 Kč",
    "1,234.56 SAR"."""
    whole, cents = divmod(minor, 100)
    if currency == "USD":
        return f"${whole:,}.{cents:02d}"
    if currency == "CZK":
        return f"{whole:,}".replace(",", "\u00a0") + f",{cents:02d}\u00a0Kč"
    return f"{whole:,}.{cents:02d} {currency}"


MOBILE_PREFIXES: Mapping[str, tuple[str, ...]] = {
    "CZ": (
        "+420601",
        "+420602",
        "+420603",
        "+420604",
        "+420605",
        "+420606",
        "+420607",
        "+420608",
        "+420702",
        "+420720",
        "+420721",
        "+420723",
        "+420724",
        "+420725",
        "+420728",
        "+420731",
        "+420732",
        "+420736",
        "+420737",
        "+420739",
        "+420774",
        "+420775",
        "+420776",
        "+420777",
    ),
    "SA": ("+96650", "+96653", "+96654", "+96655", "+96656", "+96658", "+96659"),
    "AE": ("+97150", "+97152", "+97154", "+97155", "+97156", "+97158"),
}
SUBSCRIBER_DIGITS: Mapping[str, int] = {"CZ": 6, "SA": 7, "AE": 7}

US_PROFILE = MarketProfile(
    code="US",
    name="United States",
    country="US",
    currency="USD",
    prices_include_tax=False,
    methods=DELIVERY_METHODS,
    method_weights=US_METHOD_WEIGHTS,
    first_names=FIRST_NAMES,
    last_names=LAST_NAMES,
    streets=STREETS,
    email_domains=EMAIL_DOMAINS,
    categories=CATEGORIES,
    adjectives=ADJECTIVES,
    colors=COLORS,
    customizable_nouns=frozenset(CUSTOMIZABLE_NOUNS),
    reduced_nouns=frozenset(),
    kind_labels={kind: traits.label for kind, traits in KIND_TRAITS.items()},
    unit_labels=US_UNIT_LABELS,
)

# --- Czechia: CZK, VAT included (21 % standard, 12 % reduced for books and coffee) -------------------------

CZ_PROFILE = MarketProfile(
    code="CZ",
    name="Czechia",
    country="CZ",
    currency="CZK",
    prices_include_tax=True,
    methods=(
        MethodSpec(
            "CZ_STANDARD",
            "Standardní doručení (1–3 pracovní dny)",
            DeliveryKind.SHIP,
            9900,
            "UPS",
            time(15),
            transit_days=2,
        ),
        MethodSpec("CZ_NEXT_DAY", "Doručení další den", DeliveryKind.SHIP, 14900, "FedEx", time(14), transit_days=1),
        MethodSpec(
            "CZ_SAME_DAY",
            "Doručení ještě dnes",
            DeliveryKind.SHIP,
            19900,
            "METRO",
            time(12),
            weekend_delivery=True,
            metro_only=True,
        ),
        MethodSpec(
            "CZ_BOX",
            "Výdejní box",
            DeliveryKind.SHIP,
            5900,
            "METRO",
            time(14),
            transit_days=1,
            pickup_point_network="PARCELBOX",
        ),
        MethodSpec(
            "CZ_POINT",
            "Výdejní místo",
            DeliveryKind.SHIP,
            4900,
            "METRO",
            time(14),
            transit_days=1,
            pickup_point_network="VYDEJNA",
        ),
        MethodSpec(
            "CZ_PICKUP",
            "Osobní odběr na prodejně",
            DeliveryKind.PICKUP,
            0,
            None,
            time(18),
            transit_hours=2,
            weekend_delivery=True,
        ),
    ),
    method_weights={
        "CZ_STANDARD": 35,
        "CZ_NEXT_DAY": 8,
        "CZ_SAME_DAY": 5,
        "CZ_BOX": 25,
        "CZ_POINT": 15,
        "CZ_PICKUP": 12,
    },
    first_names=(
        "Jiří",
        "Jan",
        "Petr",
        "Josef",
        "Pavel",
        "Martin",
        "Tomáš",
        "Jaroslav",
        "Miroslav",
        "Zdeněk",
        "Václav",
        "Michal",
        "František",
        "Jakub",
        "Lukáš",
        "Ondřej",
        "Vojtěch",
        "Matěj",
        "Radek",
        "Karel",
    ),
    female_first_names=(
        "Jana",
        "Marie",
        "Eva",
        "Hana",
        "Anna",
        "Lenka",
        "Kateřina",
        "Lucie",
        "Věra",
        "Alena",
        "Petra",
        "Veronika",
        "Jaroslava",
        "Tereza",
        "Martina",
        "Zuzana",
        "Michaela",
        "Eliška",
        "Barbora",
        "Šárka",
    ),
    last_names=(
        "Novák",
        "Svoboda",
        "Novotný",
        "Dvořák",
        "Černý",
        "Procházka",
        "Kučera",
        "Veselý",
        "Horák",
        "Němec",
        "Pokorný",
        "Marek",
        "Pospíšil",
        "Hájek",
        "Jelínek",
        "Král",
        "Růžička",
        "Beneš",
        "Fiala",
        "Sedláček",
        "Doležal",
        "Zeman",
        "Kolář",
        "Navrátil",
        "Čermák",
        "Šťastný",
        "Urban",
        "Vaněk",
        "Blažek",
        "Kříž",
    ),
    streets=(
        "Husova",
        "Masarykova",
        "Palackého",
        "Nádražní",
        "Školní",
        "Komenského",
        "Smetanova",
        "Jiráskova",
        "Tyršova",
        "Nerudova",
        "Žižkova",
        "Havlíčkova",
        "Zahradní",
        "Lipová",
        "Revoluční",
        "Sokolská",
        "Vinohradská",
        "Křižíkova",
        "Dlouhá",
        "Široká",
    ),
    email_domains=("example.cz", "example.com", "example.net"),
    categories=(
        (("Trekové boty", "Tenisky", "Sandály", "Kotníkové boty", "Pantofle"), (899, 3990)),
        (
            (
                "Tričko",
                "Mikina",
                "Bunda do deště",
                "Péřová bunda",
                "Fleecová vesta",
                "Kraťasy",
                "Legíny",
                "Flanelová košile",
            ),
            (249, 4990),
        ),
        (("Kšiltovka", "Čepice", "Batoh", "Láhev na vodu", "Peněženka", "Pásek", "Vlněné ponožky"), (199, 2490)),
        (("Hrnek", "Deka", "Svíčka", "Prkénko", "Smaltovaný hrnec"), (249, 1990)),
        (("Stan", "Spacák", "Čelovka", "Trekové hole", "Kempová židle", "Chladicí box"), (499, 8990)),
        (("Průvodce Krkonošemi", "Atlas Šumavy", "Kuchařka z chaty", "Kniha o houbách"), (249, 699)),
        (("Káva zrnková", "Káva mletá", "Káva do konvice"), (249, 599)),
    ),
    adjectives=(
        "Šumava",
        "Krkonoše",
        "Beskydy",
        "Jizera",
        "Vltava",
        "Sněžka",
        "Ještěd",
        "Radhošť",
        "Praděd",
        "Lužnice",
        "Morava",
        "Labe",
        "Ohře",
        "Říp",
        "Blaník",
        "Bezděz",
    ),  # product lines: indeclinable
    colors=(
        "černá",
        "námořnická",
        "olivová",
        "písková",
        "rezavá",
        "břidlicová",
        "lesní",
        "krémová",
        "antracitová",
        "nebeská",
    ),
    customizable_nouns=frozenset({"Tričko", "Mikina", "Kšiltovka", "Batoh", "Láhev na vodu", "Hrnek", "Prkénko"}),
    reduced_nouns=frozenset(
        {
            "Průvodce Krkonošemi",
            "Atlas Šumavy",
            "Kuchařka z chaty",
            "Kniha o houbách",
            "Káva zrnková",
            "Káva mletá",
            "Káva do konvice",
        }
    ),
    kind_labels={
        LocationKind.WAREHOUSE: "Sklad",
        LocationKind.DISTRIBUTION_CENTER: "Distribuční centrum",
        LocationKind.STORE: "Prodejna",
        LocationKind.THIRD_PARTY: "Fulfillment partner",
    },
    unit_labels=("byt 12", "2. patro", "vchod B", "byt 4"),
    city_names={"Prague": "Praha", "Pilsen": "Plzeň"},
)

# --- Saudi Arabia and the United Arab Emirates: names and streets in Arabic script ---------------------------

ARABIC_LATIN: Mapping[str, str] = {
    "محمد": "mohammed",
    "أحمد": "ahmed",
    "عبدالله": "abdullah",
    "خالد": "khaled",
    "فهد": "fahad",
    "سعود": "saud",
    "عمر": "omar",
    "يوسف": "yousef",
    "علي": "ali",
    "سلطان": "sultan",
    "راشد": "rashed",
    "حمد": "hamad",
    "فاطمة": "fatima",
    "نورة": "noura",
    "سارة": "sara",
    "مريم": "maryam",
    "عائشة": "aisha",
    "هند": "hind",
    "ريم": "reem",
    "لطيفة": "latifa",
    "شيخة": "shaikha",
    "منى": "mona",
    "العتيبي": "alotaibi",
    "القحطاني": "alqahtani",
    "الغامدي": "alghamdi",
    "الحربي": "alharbi",
    "الشمري": "alshammari",
    "الدوسري": "aldosari",
    "الزهراني": "alzahrani",
    "المطيري": "almutairi",
    "الكعبي": "alkaabi",
    "المنصوري": "almansoori",
    "الظاهري": "aldhaheri",
    "النعيمي": "alnuaimi",
    "الشامسي": "alshamsi",
    "المهيري": "almheiri",
    "الفلاسي": "alfalasi",
    "السويدي": "alsuwaidi",
}
ARABIC_MEN = ("محمد", "أحمد", "عبدالله", "خالد", "فهد", "سعود", "عمر", "يوسف", "علي", "سلطان", "راشد", "حمد")
ARABIC_WOMEN = ("فاطمة", "نورة", "سارة", "مريم", "عائشة", "هند", "ريم", "لطيفة", "شيخة", "منى")
ARABIC_CATEGORIES: tuple[Category, ...] = (
    (("حذاء جري", "حذاء مشي", "حذاء رياضي", "صندل", "حذاء جلدي"), (99, 899)),
    (("قميص", "هودي", "جاكيت مطر", "سترة", "شورت", "بنطال رياضي"), (39, 699)),
    (("قبعة", "حقيبة ظهر", "قارورة ماء", "محفظة جلدية", "حزام", "نظارة شمسية"), (29, 499)),
    (("كوب قهوة", "بطانية", "شمعة", "لوح تقطيع", "قدر مينا"), (29, 349)),
    (("خيمة", "كيس نوم", "مصباح رأس", "كرسي تخييم", "مبرد"), (79, 1499)),
)
ARABIC_ADJECTIVES = ("الصحراء", "الواحة", "المدينة", "الجبل", "الكلاسيكي", "اليومي", "الساحل", "النخيل", "الكثبان")
ARABIC_COLORS = ("أسود", "كحلي", "زيتي", "رملي", "بني", "رمادي", "أخضر", "كريمي", "أزرق")
ARABIC_CUSTOMIZABLE = frozenset({"قميص", "هودي", "قبعة", "حقيبة ظهر", "قارورة ماء", "كوب قهوة"})
ARABIC_KIND_LABELS: Mapping[LocationKind, str] = {
    LocationKind.WAREHOUSE: "مستودع",
    LocationKind.DISTRIBUTION_CENTER: "مركز توزيع",
    LocationKind.STORE: "متجر",
    LocationKind.THIRD_PARTY: "شريك تنفيذ",
}
ARABIC_CITY_NAMES: Mapping[str, str] = {
    "Riyadh": "الرياض",
    "Jeddah": "جدة",
    "Mecca": "مكة المكرمة",
    "Medina": "المدينة المنورة",
    "Dammam": "الدمام",
    "Khobar": "الخبر",
    "Al Khobar": "الخبر",
    "Taif": "الطائف",
    "Tabuk": "تبوك",
    "Buraydah": "بريدة",
    "Abha": "أبها",
    "Dubai": "دبي",
    "Abu Dhabi": "أبوظبي",
    "Sharjah": "الشارقة",
    "Ajman": "عجمان",
    "Al Ain": "العين",
    "Ras Al Khaimah": "رأس الخيمة",
    "Fujairah": "الفجيرة",
}
ARABIC_UNITS = ("شقة 4", "الدور 2", "فيلا 12", "مكتب 300")

SA_PROFILE = MarketProfile(
    code="SA",
    name="Saudi Arabia",
    country="SA",
    currency="SAR",
    prices_include_tax=True,
    methods=(  # Saudi carriers work Sunday to Thursday
        MethodSpec(
            "SA_STANDARD",
            "توصيل عادي",
            DeliveryKind.SHIP,
            2500,
            "UPS",
            time(15),
            transit_days=2,
            carrier_weekdays="71234",
        ),
        MethodSpec(
            "SA_NEXT_DAY",
            "توصيل اليوم التالي",
            DeliveryKind.SHIP,
            4500,
            "FedEx",
            time(14),
            transit_days=1,
            carrier_weekdays="71234",
        ),
        MethodSpec(
            "SA_SAME_DAY",
            "توصيل في نفس اليوم",
            DeliveryKind.SHIP,
            3500,
            "METRO",
            time(12),
            weekend_delivery=True,
            metro_only=True,
            carrier_weekdays="71234",
        ),
        MethodSpec(
            "SA_PICKUP",
            "الاستلام من المتجر",
            DeliveryKind.PICKUP,
            0,
            None,
            time(18),
            transit_hours=2,
            weekend_delivery=True,
        ),
    ),
    method_weights={"SA_STANDARD": 55, "SA_NEXT_DAY": 15, "SA_SAME_DAY": 15, "SA_PICKUP": 15},
    first_names=ARABIC_MEN,
    female_first_names=ARABIC_WOMEN,
    last_names=("العتيبي", "القحطاني", "الغامدي", "الحربي", "الشمري", "الدوسري", "الزهراني", "المطيري"),
    streets=(
        "شارع الملك فهد",
        "شارع العليا",
        "طريق الملك عبدالعزيز",
        "شارع التحلية",
        "طريق الأمير سلطان",
        "شارع الأمير محمد بن عبدالعزيز",
        "شارع الستين",
        "طريق المدينة",
    ),
    email_domains=("example.sa", "example.com", "example.net"),
    categories=ARABIC_CATEGORIES,
    adjectives=ARABIC_ADJECTIVES,
    colors=ARABIC_COLORS,
    customizable_nouns=ARABIC_CUSTOMIZABLE,
    reduced_nouns=frozenset(),  # Saudi Arabia has one VAT rate (15 %)
    kind_labels=ARABIC_KIND_LABELS,
    unit_labels=ARABIC_UNITS,
    latin=ARABIC_LATIN,
    city_names=ARABIC_CITY_NAMES,
)

AE_PROFILE = MarketProfile(
    code="AE",
    name="United Arab Emirates",
    country="AE",
    currency="AED",
    prices_include_tax=True,
    methods=(  # the Emirates' working week has been Monday to Friday since 2022
        MethodSpec("AE_STANDARD", "توصيل عادي", DeliveryKind.SHIP, 2000, "UPS", time(15), transit_days=2),
        MethodSpec("AE_NEXT_DAY", "توصيل اليوم التالي", DeliveryKind.SHIP, 3500, "FedEx", time(14), transit_days=1),
        MethodSpec(
            "AE_SAME_DAY",
            "توصيل في نفس اليوم",
            DeliveryKind.SHIP,
            2500,
            "METRO",
            time(12),
            weekend_delivery=True,
            metro_only=True,
        ),
        MethodSpec(
            "AE_PICKUP",
            "الاستلام من المتجر",
            DeliveryKind.PICKUP,
            0,
            None,
            time(18),
            transit_hours=2,
            weekend_delivery=True,
        ),
    ),
    method_weights={"AE_STANDARD": 45, "AE_NEXT_DAY": 15, "AE_SAME_DAY": 25, "AE_PICKUP": 15},
    first_names=ARABIC_MEN,
    female_first_names=ARABIC_WOMEN,
    last_names=("الكعبي", "المنصوري", "الظاهري", "النعيمي", "الشامسي", "المهيري", "الفلاسي", "السويدي"),
    streets=(
        "شارع الشيخ زايد",
        "شارع الوصل",
        "شارع الجميرا",
        "شارع الخليج",
        "شارع الكورنيش",
        "شارع المطينة",
        "شارع الاتحاد",
        "شارع حمدان",
    ),
    email_domains=("example.ae", "example.com", "example.net"),
    categories=ARABIC_CATEGORIES,
    adjectives=ARABIC_ADJECTIVES,
    colors=ARABIC_COLORS,
    customizable_nouns=ARABIC_CUSTOMIZABLE,
    reduced_nouns=frozenset(),  # the Emirates have one VAT rate (5 %)
    kind_labels=ARABIC_KIND_LABELS,
    unit_labels=ARABIC_UNITS,
    latin=ARABIC_LATIN,
    city_names=ARABIC_CITY_NAMES,
)

PROFILES: Mapping[str, MarketProfile] = {p.code.lower(): p for p in (US_PROFILE, CZ_PROFILE, SA_PROFILE, AE_PROFILE)}


def profile_for(market: str) -> MarketProfile:
    """The profile of a market code ("us", "CZ", …); a ValueError names the known ones."""
    try:
        return PROFILES[market.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown market {market!r}: choose one of {', '.join(PROFILES)}") from None
