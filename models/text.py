"""Text normalisation shared by addresses, places and search (pure).

- `nfc()`: the one stored form of typed text (a precomposed "ř" and "r" + combining caron compare equal).
- `place_key()`: the key a place name is matched by, whatever the script, case or diacritics: NFKD, combining
  marks dropped (Latin diacritics, Arabic harakat, the hamza on alef), Arabic letter variants unified
  (ى/ی → ي, ة → ه, ک → ك), tatweel dropped, case folded, and only word characters kept. So "Plzeň" → "plzen",
  "أبو ظبي" → "ابوظبي", "Brno-střed" → "brnostred". models/reference/build_places.py builds the shipped keys
  with this very function; tests/markets/test_places.py guards against drift.
"""

import re
import unicodedata

_ARABIC_VARIANTS = str.maketrans({"ى": "ي", "ی": "ي", "ة": "ه", "ک": "ك", "ـ": None})
_NOT_WORD = re.compile(r"[\W_]+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def place_key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return _NOT_WORD.sub("", bare.translate(_ARABIC_VARIANTS).casefold())


def without_trailing_number(key: str) -> str:
    """ "praha5" → "praha": a city district written with its number ("Praha 5")."""
    return key.rstrip("0123456789")
