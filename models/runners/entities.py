"""What semantic analysis finds, whoever finds it (models/runners/analysis.py's specialists,
models/runners/analysis_lac.py, models/runners/analysis_lm.py): entities with character
offsets and the colour family of their label, and subject - predicate - object relations."""
from __future__ import annotations

from dataclasses import dataclass

# One colour family per kind of entity, whatever the model calls it (spaCy's OntoNotes names,
# CoNLL's PER/LOC/ORG/MISC, WNUT's person/geo-loc/company, CLUENER's name/address, the LM's words).
KINDS = ("person", "organisation", "place", "date", "number", "other")
_KIND_OF = {
    "person": "person", "per": "person", "people": "person",
    "org": "organisation", "organization": "organisation", "organisation": "organisation",
    "company": "organisation", "sportsteam": "organisation",
    "gpe": "place", "loc": "place", "location": "place", "place": "place", "fac": "place",
    "facility": "place", "geo-loc": "place", "city": "place", "country": "place",
    "name": "person", "address": "place", "scene": "place", "government": "organisation",
    "date": "date", "time": "date",
    "cardinal": "number", "ordinal": "number", "quantity": "number", "money": "number",
    "percent": "number", "number": "number",
}


def kind_of(label: str) -> str:
    """The colour family of a model's label: person, organisation, place, date, number, other."""
    return _KIND_OF.get((label or "").strip().lower(), "other")


@dataclass(frozen=True)
class Entity:
    text: str
    label: str          # the model's own label (PERSON, B-PER's PER, the LM's "person")
    start: int          # character offsets in the analysed text: text[start:end] == text
    end: int

    @property
    def kind(self) -> str:
        return kind_of(self.label)


@dataclass(frozen=True)
class Relation:
    subject: str
    predicate: str
    object: str
