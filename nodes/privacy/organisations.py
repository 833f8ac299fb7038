"""Names of organisations and departments, which are not people or places of a record.

Name and place rules see capitalised words: ``Quest Diagnostics``, ``Nordvik Pharma AS``,
``Philips Healthcare`` and ``Cardiology`` look like a person or a town to them (a founder's
surname, a word GeoNames holds as a town). A company or a hospital department identifies
no one under HIPAA or GDPR, and destroying it costs the data its meaning, so a person or
place finding is dropped (:func:`drop_organisations`) when

- its span holds, or is directly followed by, a word that makes a phrase an organisation
  (``Diagnostics``, ``Pharma``, ``Logistics``; a legal form such as ``Ltd``, ``GmbH`` or,
  in capitals, ``AS`` and ``AB``), or
- every word of it names a medical specialty or service (``Cardiology``, ``Endoscopy
  Suite``, ``Orthopaedics``): words built as specialties are (``-ology``, ``-iatrics``,
  ``-scopy``, ``-therapy``), and facility nouns (``Suite``, ``Unit``, ``Ward``) beside them.

The words are English, with the legal forms of the main European and Asian company laws;
no list of company names is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Words that make a capitalised phrase a company or an institution (any case).
ORG_WORDS = _words(
    """inc incorporated llc llp ltd limited corp corporation company companies group
    holdings banking financial securities capital ventures partners associates
    brothers bros enterprises industries industrial manufacturing diagnostics pharma
    pharmaceutical pharmaceuticals therapeutics biosciences bioscience biotech biologics
    biopharma healthcare medtech laboratories laboratory labs scientific instruments
    devices imaging robotics electronics systems solutions technologies technology
    software analytics consulting networks telecom communications media studios
    insurance assurance logistics freight couriers courier airlines airways motors
    foods energy chemicals dynamics supplies services gmbh plc hotel hotels inn resort
    resorts motel lodge hostel"""
)
# Legal forms that are also names, words or abbreviations ("Asa", "Co", "AS" aortic
# stenosis, "AB" a blood group): organisation words only as the law writes them.
ORG_FORMS_EXACT = frozenset(
    ["Co.", "SA", "S.A.", "SAS", "ASA", "SpA", "S.p.A.", "AG", "KG", "Oy", "Oyj", "NV", "BV",
     "B.V.", "N.V.", "ApS", "KK", "mbH", "Pty", "SARL", "SRL", "S.L.",
     # Nordic, Central and Eastern European, Turkish, Russian, Malay/Indonesian, Latin
     # American forms (as written, trailing dot optional)
     "A/S", "hf", "ehf", "Nyrt", "Zrt", "Kft", "KGaA", "A.Ş", "PJSC", "JSC", "OJSC", "PAO",
     "OOO", "Tbk", "Bhd", "Pte", "Ltda", "d.o.o", "a.s", "s.r.o", "Sp", "S.C", "S.A.B",
     "S.A.S", "S.A.C", "C.V", "S.R.L", "S.p.A", "S.L"]
)  # fmt: skip
# Nouns for places inside a hospital or service ("Endoscopy Suite", "Acute Medical Unit").
FACILITY_WORDS = _words(
    """suite unit ward wing bay theatre theatres theater clinic clinics department dept
    service services team office desk lab centre center annex block floor outpatients
    inpatients day acute medical surgical general emergency intensive care icu hdu ccu
    nicu picu scbu amu mau sdec resus recovery"""
)
SPECIALTY_WORDS = _words(
    """surgery medicine oncology radiology cardiology neurology urology nephrology
    dermatology haematology hematology gastroenterology endocrinology rheumatology
    ophthalmology pathology psychiatry paediatrics pediatrics geriatrics obstetrics
    gynaecology gynecology orthopaedics orthopedics anaesthetics anesthesiology
    maternity pharmacy physiotherapy radiotherapy chemotherapy dialysis endoscopy
    audiology podiatry dietetics phlebotomy triage imaging ultrasound mammography
    respiratory renal cardiac vascular trauma neonatal palliative"""
)
_SPECIALTY_SHAPE = re.compile(
    r"[a-z]{3,}(?:ology|ologie|olog[ií]a|iatrics|iatry|iatrie|paedics|pedics|stetrics|"
    r"scopy|therapy|graphy|ologies|iatric|ological|ologic|paedic|pedic|stetric)"
)
# Nouns of occupations: a run of ordinary words ending in one is a job title ("Staff
# Pharmacist", "Clinical Coder"), unless a word of it is a popular given name.
OCCUPATION_WORDS = _words(
    """nurse nurses pharmacist pharmacists coder coders analyst analysts manager managers
    officer officers assistant assistants technician technicians therapist therapists
    consultant consultants registrar registrars physician physicians surgeon surgeons
    doctor doctors clerk clerks coordinator coordinators director directors engineer
    engineers administrator administrators receptionist receptionists midwife midwives
    paramedic paramedics secretary secretaries supervisor supervisors specialist
    specialists practitioner practitioners worker workers adviser advisor advisors
    agent agents representative representatives lead leads head heads scientist
    scientists dietitian dietician radiographer radiographers sonographer
    phlebotomist physiotherapist physio chaplain counsellor counselor developer
    developers architect accountant auditor inspector investigator handler dispatcher
    operator operators controller executive executives intern interns resident residents
    fellow trainee trainees volunteer volunteers steward librarian"""
)
_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")
# A brand's inner capital ("ResMed", "AirSense", "FreeStyle"); names with an inner capital
# start with a particle ("McDonald", "DeShawn", "LaToya", "VanDyke").
_CAMEL = re.compile(r"([A-Z][a-z]+)[A-Z][a-z]+")
_NAME_PREFIXES = _words(
    "mc mac de di da du la le van von del della dela des fitz ter ten st san al el abu ben bin ibn"
)
_DOTTED_TAIL = re.compile(r"(?:\.[^\W\d_]{1,3})+\.?(?![\w\-])")
_NEXT_WORD = re.compile(r"(,?) +([^\W\d_]+(?:[./][^\W\d_]+)*\.?)(?![\w\-])")
# Legal forms that may follow a comma ("Acme, Inc."); other words after a comma start a
# new phrase ("Kwame Mensah, Solutions architect").
LEGAL_FORMS = _words("inc ltd llc llp plc corp co gmbh ag sa bv nv")
# An honorific right before a finding makes it a person, whatever words follow it.
_HONORIFIC_BEFORE = re.compile(
    r"(?i)\b(?:mr|mrs|ms|mx|miss|dr|prof|sr|sra|dra|sir|dame|rev|fr)\.?[ \t]+$"
)
_ENTITIES = frozenset(["PERSON", "LOCATION"])


def org_word(word: str) -> bool:
    """True for a word that makes a capitalised phrase an organisation."""
    return (
        word.strip(".").lower() in ORG_WORDS
        or word in ORG_FORMS_EXACT
        or (word.rstrip(".") in ORG_FORMS_EXACT)
    )


def specialty_word(word: str) -> bool:
    """True for a medical specialty or service (``Cardiology``, ``Endoscopy``)."""
    low = word.lower()
    return low in SPECIALTY_WORDS or _SPECIALTY_SHAPE.fullmatch(low) is not None


def organisation_span(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` names an organisation or a department."""
    words = _WORD.findall(text[start:end])
    if not words:
        return False
    if any(org_word(w) for w in words[1:]) or (len(words) > 1 and org_word(words[0])):
        return True
    # a span cut inside a dotted legal form ("Nestlé S" of "Nestlé S.A.")
    cut = _DOTTED_TAIL.match(text, end)
    if cut is not None and len(words) > 1:
        head = text.rfind(" ", start, end) + 1
        if org_word(text[head : cut.end()].rstrip(".")) or org_word(text[head : cut.end()]):
            return True
    nxt = _NEXT_WORD.match(text, end)
    if (
        nxt is not None
        and (nxt.group(2)[:1].isupper() or nxt.group(2).rstrip(".") in ORG_FORMS_EXACT)
        and org_word(nxt.group(2))
        and (not nxt.group(1) or nxt.group(2).strip(".").lower() in LEGAL_FORMS)
    ):
        return True
    return department_span(text, start, end)


def department_span(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` names a hospital department or service."""
    words = _WORD.findall(text[start:end])
    if words and all(specialty_word(w) or w.lower() in FACILITY_WORDS for w in words):
        return (
            len(words) > 1 or any(specialty_word(w) for w in words) or _after_specialty(text, start)
        )
    return False


def _after_specialty(text: str, start: int) -> bool:
    """A facility noun alone right after a specialty ("Endoscopy" + "Suite")."""
    before = _WORD.findall(text[max(0, start - 40) : start])
    return bool(before) and specialty_word(before[-1]) and text[:start].rstrip() != text[:start]


def job_title(text: str, start: int, end: int) -> bool:
    """Ordinary words ending in an occupation ("Staff Pharmacist"), none of them a popular
    given name ("Grace Porter" is a person)."""
    from nodes.privacy.gazetteer import gazetteer
    from nodes.privacy.names import english_words

    words = _WORD.findall(text[start:end])
    if len(words) < 2 or words[-1].lower() not in OCCUPATION_WORDS:
        return False  # one word is as often a surname ("Mr Steward")
    english = english_words()
    if not all(w.lower() in english for w in words):
        return False
    given, _surname = gazetteer().ranks(words[:-1])
    return not any(0 < g <= POPULAR_GIVEN_RANK for g in given)


POPULAR_GIVEN_RANK = 2_000


def brand_word(word: str) -> bool:
    """A word with a brand's inner capital (``ResMed``), not a name's (``McDonald``,
    ``ElSayed``, ``JoAnn``: a particle or a short given name before the capital)."""
    m = _CAMEL.fullmatch(word)
    return m is not None and len(m.group(1)) >= 3 and m.group(1).lower() not in _NAME_PREFIXES


def not_a_person(text: str, start: int, end: int) -> bool:
    """A person finding that is no person: one letter, the first half of a hyphenated
    word (``Rusty-coloured``), a drug's name alone (``Sertraline``), a brand (``ResMed
    AirSense``) or a job title."""
    span = text[start:end]
    if sum(c.isalpha() for c in span) < 2:
        return True
    if " " not in span.strip() and text.startswith("-", end) and text[end + 1 : end + 2].islower():
        return True
    words = _WORD.findall(span)
    if len(words) == 1 and _unknown_drug(words[0]):
        return True
    return any(brand_word(w) for w in words) or job_title(text, start, end)


def _unknown_drug(word: str) -> bool:
    """A word shaped like a drug's name that the names table does not hold as a name
    (``Sertraline``, ``Apixaban``; not ``Caroline``)."""
    from nodes.privacy.gazetteer import gazetteer
    from nodes.privacy.subject_names import drug_shaped

    if not drug_shaped(word.lower()):
        return False
    given, surname = gazetteer().ranks([word])
    return not (0 < given[0] <= DRUG_NAME_RANK or 0 < surname[0] <= DRUG_NAME_RANK)


DRUG_NAME_RANK = 5_000


def drop_organisations(text: str, found: Sequence[Finding]) -> list[Finding]:
    """``found`` without the person and place findings that name an organisation, a
    department, a product, a role or an eponymous scale (``Glasgow Coma Scale``)."""
    from nodes.privacy.names import eponym, eponym_inside

    out = []
    for f in found:
        if f.entity in _ENTITIES and not _after_honorific(text, f.start):
            person = f.entity == "PERSON"
            if (
                (person and organisation_span(text, f.start, f.end))
                or (not person and department_span(text, f.start, f.end))
                or employer_span(text, f.start)
                or (person and product_span(text, f.start, f.end))
                or (" " not in text[f.start : f.end].strip() and eponym(text, f.start, f.end))
                or eponym_inside(text, f.start, f.end)
                or (person and not_a_person(text, f.start, f.end))
            ):
                continue
        out.append(f)
    return out


# "works at Eli Lilly": one works at an organisation, not at a person.
_EMPLOYED_AT = re.compile(
    r"(?i)\b(?:works?|worked|working|employed|employee|job|jobs|intern|internship|position)"
    r"[ \t]+at[ \t]+$"
)
# "the Garmin Forerunner 265", "a Dell Latitude 5440": a determiner, capitalised words
# and a model number make a product.
_DETERMINER_BEFORE = re.compile(
    r"(?i)\b(?:the|a|an|this|that|my|your|our|their|its|new|same)[ \t]+$"
)
_MODEL_AFTER = re.compile(r"[ \t]*-?[ \t]?(?:[A-Za-z]{0,4}\d[\w.\-]*|[IVX]{1,4})(?![\w'\u2019])")


def employer_span(text: str, start: int) -> bool:
    """A finding right after "works at" (``works at Eli Lilly``): an employer."""
    return _EMPLOYED_AT.search(text, max(0, start - 24), start) is not None


def product_span(text: str, start: int, end: int) -> bool:
    """Capitalised words between a determiner and a model number (``the Cochlear Nucleus
    8``, ``a Dell Latitude 5440``): a product, not a person."""
    return (
        _DETERMINER_BEFORE.search(text, max(0, start - 8), start) is not None
        and _MODEL_AFTER.match(text, end) is not None
    )


def _after_honorific(text: str, start: int) -> bool:
    return _HONORIFIC_BEFORE.search(text, max(0, start - 8), start) is not None
