"""Address lines written as a chain of parts: "Plot 570, Nkrumah Street", "Woreda 7,
Kebele 18, House 255", "Str. Republicii nr. 1836, bl. E24, sc. 31, ap. 196",
"vul. Shevchenka 25, kv. 18", "Renmin Road No. 20, Bldg 26, Rm 704".

Much of the world writes an address as parts separated by commas, each a numbered unit
(plot, house, flat, block, building, district) or a named street with its number, in
words of its own language. Two such parts in a row are an address line, whatever the
street is called; the whole chain is taken, with the town that closes it. Hospital
places (ward, room, bed, bay) are not address units: "Ward 7C, Bed 6" is where a patient
lies, not where they live.
"""

from __future__ import annotations

import re

from nodes.privacy.scan_types import Finding, Recognizer

# A numbered unit: the word, then its number ("House No. 11", "h.no. 101", "kv. 18").
_UNIT_WORDS = (
    r"plot|house|h\.? ?no|door|flat|apt|apartment|bldg|building|blk|block|lot|unit|suite"
    r"|kv|bl|sc|ap|et|nr|no|num|d|mkr|woreda|kebele|sangkat|khoroo|rt|rw|nyumba|stand|erf"
    r"|zone|sector|phase|gali|khan|moo|soi|km|int|dpto|depto|piso|esc|portal|casa|lote"
    r"|manzana|mz|fl|floor|tower|torre|wing|quarter|kvartal|korpus|k|stroenie|str|ul|vul"
)
_UNIT = re.compile(
    r"(?i)^(?:" + _UNIT_WORDS + r")\.?(?: ?(?:no|nr|na|n°|#)\.?)?[ .#:]*[A-Za-z]?[0-9]+[A-Za-z]?"
    r"(?:[/\-][0-9A-Za-z]+)?$"
)
# A street with its number, either way round, in many languages' street words.
_STREET_WORDS = (
    r"street|st|road|rd|avenue|ave|av|lane|ln|drive|dr|way|close|crescent|court|ct|place|pl"
    r"|highway|hwy|quay|boulevard|blvd|bd|bulv|terrace|row|parade|square|sq|walk|path"
    r"|jalan|jl|calle|c|carrera|cra|rua|r|rue|via|viale|corso|piazza|ulica|ul|ulitsa|vul"
    r"|vulytsia|prospekt|pr|pereulok|per|al|aleja|strada|str|soseaua|cd|caddesi|sok|sokak"
    r"|mtaa|barabara|kalea|kale|ro|gil|daero|gu|dong|marg|nagar|path|salai|thanon"
    r"|duong|pho|sub-city|straat|weg|gasse|platz|allee|vej|gade|gatan|vagen|veien|tie|katu"
    r"|utca|ut|paseo|camino|avenida|travessa|largo|estrada|rodovia|sokagi|mahallesi|mah"
)
_STREET = re.compile(
    r"(?i)^(?:[0-9]+[A-Za-z]?(?:/[0-9A-Za-z]+)?,? (?:[^\W\d_][\w'\u2019.\-]*\.? ){0,4}(?:"
    + _STREET_WORDS
    + r")\.?|(?:"
    + _STREET_WORDS
    + r")\.? (?:[^\W\d_][\w'\u2019.\-]*\.? ?){1,4}(?:(?:no|nr|n°|#)\.? ?)?[0-9]+[A-Za-z]?"
    r"(?:[/\-][0-9A-Za-z]+)?"
    r"|(?:[^\W\d_][\w'\u2019.\-]*\.? ){1,4}(?:" + _STREET_WORDS + r")\.?(?: (?:no|nr|n°|#)\.?)? ?"
    r"[0-9]+[A-Za-z]?(?:[/\-][0-9A-Za-z]+)?"
    r"|(?:[^\W\d_][\w'\u2019.\-]*\.? ){0,3}[^\W\d_][\w'\u2019.\-]*(?:"
    + r"str|straße|strasse|stræti|gata|gatan|vej|veien|weg|laan|kalea|utca|katu|tie|-ro|-gil"
    + r"|-daero|-dong|-gu|-si|-ku|-cho|-machi|-shi)\.? [0-9]+[A-Za-z]?(?:/[0-9A-Za-z]+)?)$"
)
# A named street without its number ("Nkrumah Street", "Rash Behari Street"): an address
# part only next to a numbered one.
_STREET_NAME = re.compile(
    r"(?i)^(?:[^\W\d_][\w'\u2019.\-]*\.? ){1,4}(?:" + _STREET_WORDS + r")\.?$"
    r"|^(?:" + _STREET_WORDS + r")\.? (?:[^\W\d_][\w'\u2019.\-]*\.? ?){1,4}$"
)
_HOSPITAL = re.compile(r"(?i)^(?:ward|room|rm|bed|bay|theatre|icu|suite)\b")
_SEPARATOR = re.compile(r"\\?[,;]\s*|\n")
_PART_MAX = 60


def _kind(part: str) -> str | None:
    p = part.strip()
    if not p or len(p) > _PART_MAX or _HOSPITAL.match(p):
        return None
    if _UNIT.match(p):
        return "unit"
    if _STREET.match(p):
        return "street"
    if _STREET_NAME.match(p):
        return "name"
    return None


def find_address_chain(text: str) -> list[Finding]:
    """Runs of two or more address parts (units or numbered streets), with the town after."""
    out: list[Finding] = []
    for line_start, line in _lines(text):
        parts = _split(line)
        i = 0
        while i < len(parts):
            j = i
            kinds = []
            while j < len(parts) and (kind := _kind(parts[j][2])) is not None:
                kinds.append(kind)
                j += 1
            numbered = sum(k != "name" for k in kinds)
            if j - i >= 2 and numbered >= 1 and kinds.count("street") + kinds.count("name") <= 2:
                start, end = parts[i][0], parts[j - 1][1]
                # the town closing the chain ("..., ap. 196, Brașov")
                if j < len(parts) and _town(parts[j][2]):
                    end = parts[j][1]
                s, e = _strip(line, start, end)
                out.append(Finding(line_start + s, line_start + e, "STREET_ADDRESS", 0.75))
                i = j
            else:
                i = max(j, i + 1)
    return out


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _split(line: str) -> list[tuple[int, int, str]]:
    parts, pos = [], 0
    for m in _SEPARATOR.finditer(line):
        parts.append((pos, m.start(), line[pos : m.start()]))
        pos = m.end()
    parts.append((pos, len(line), line[pos:]))
    # a label before the address ("Address: Plot 570") is not part of it
    out = []
    for s, e, p in parts:
        labels = list(_LABEL_END.finditer(p))
        if labels:
            skip = labels[-1].end()
            s, p = s + skip, p[skip:]
        out.append((s, e, p))
    return out


_LABEL_END = re.compile(r"(?i):\s+|(?:^|\s)(?:at|to|in)\s+")


_TOWN = re.compile(
    r"^(?:[0-9]{3,6} )?[^\W\d_][\w'\u2019\-]*(?: (?:[^\W\d_][\w'\u2019\-]*|[0-9]{3,6})){0,2}$"
)


def _town(part: str) -> bool:
    p = part.strip()
    if not p or len(p) > 40 or _TOWN.match(p) is None:
        return False
    return all(w[0].isupper() or w.isdigit() for w in p.split())


def _strip(line: str, start: int, end: int) -> tuple[int, int]:
    while start < end and line[start] in " \t":
        start += 1
    while end > start and line[end - 1] in " \t.":
        end -= 1
    return start, end


def address_chain_recognizers() -> list[Recognizer]:
    return [
        Recognizer(
            "address_chain",
            ("STREET_ADDRESS",),
            r"[0-9][A-Za-z]?(?:/[0-9A-Za-z]+)?\\?[,;] ?\pL",
            find_address_chain,
        )
    ]
