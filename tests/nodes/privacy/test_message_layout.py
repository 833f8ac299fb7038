"""Identifiers that the layout of a message reveals, and the roles and codes around them.

Chat transcripts, greetings, signature blocks, names in capitals, addresses with their
town and postal code, and the words (job titles, product words) that must survive.
Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

from typing import Any

import pytest

from nodes.privacy.batch import ScanActor
from nodes.privacy.frameworks import CCPA, GDPR
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one


@pytest.fixture(scope="module")
def hipaa() -> ScanActor:
    return hipaa_batch_redactor()


CASES: list[tuple[str, list[str], list[str]]] = [
    # chat senders in capitals, introduced by a message stamp or speaking on several lines
    (
        "[14/11/2023, 09:02] TEMITOPE: the courier left it at reception\n"
        "[14/11/2023, 09:05] TEMITOPE: can you check",
        ["TEMITOPE"],
        ["the courier left it at reception", "can you check"],
    ),
    (
        "ANSELM: are we still on for tomorrow\nANSELM: bring the spare charger",
        ["ANSELM"],
        ["are we still on for tomorrow", "bring the spare charger"],
    ),
    ("03.05.2022 18:40 - Kalani: running late, sorry", ["Kalani"], ["running late"]),
    # a phone's chat export: a 12-hour stamp, senders in any case or surname-first
    (
        "7/9/22 8:05 PM - Florence: on my way\n7/9/22 8:07 PM - oksana melnyk: ok\n"
        "7/9/22 8:09 PM - Mwangi, Joy: see you",
        ["Florence", "oksana", "melnyk", "Mwangi", "Joy"],
        ["on my way", "see you"],
    ),
    ("7/9/22 8:05 PM - System: backup finished", [], ["System: backup finished"]),
    # a full name in capitals inside mixed-case text
    ("Spoke to the daughter; SEREMAIA VUNIBOLA will sign tomorrow.", ["SEREMAIA", "VUNIBOLA"],
     ["will sign tomorrow"]),
    ("Pt: MAKANA KEALOHA    MRN on file\nNPO after midnight", ["MAKANA", "KEALOHA"],
     ["MRN on file", "NPO after midnight"]),
    ("Hx: NSTEMI, CABG 2019. BP 120/80.", [], ["NSTEMI, CABG"]),
    # surname-first names take the word across the comma
    ("Ref 2231: Onwuachi, Brigid phoned twice about the bill", ["Onwuachi", "Brigid"],
     ["phoned twice"]),
    # a contact field in a serialized record
    ('{"ticket": "TK-5521", "contact": "agnetha sørlie"}', ["agnetha", "sørlie"],
     ['"TK-5521"']),
    # a record written into one cell: the name field beside its e-mail or phone
    ('PO-88120,"ingeborg waldmann",0049 171 2345678,iw@example.net', ["ingeborg",
     "waldmann"], ["PO-88120"]),
    ("TK-2201;Sunniva Aalto;sunniva.a@example.org;open", ["Sunniva", "Aalto"],
     ["TK-2201", "open"]),
    ("sku,title,qty\nQX-11,Steel Water Bottle,4", [], ["Steel Water Bottle"]),
    ("RX-4410\tOkafor, Blessing\tb.okafor@example.com\tactive", ["Okafor", "Blessing"],
     ["RX-4410", "active"]),
    # greetings, including ordinary words used as names and names in capitals
    ("Hi Patience,\nthe parts arrived this morning.", ["Patience"], ["parts arrived"]),
    ("Dear OLUFEMI,\nyour booking is confirmed.", ["OLUFEMI"], ["booking is confirmed"]),
    ("Hello team,\nthe release is out.", [], ["Hello team", "the release is out"]),
    # the writer's name alone on the line under the sign-off, and the title under it
    (
        "Thanks for the quick turnaround.\n\nKind regards,\nDorcas Nyambura\nProject Manager\n",
        ["Dorcas", "Nyambura"],
        ["Project Manager", "quick turnaround"],
    ),
    (
        "See attached.\nCheers,\nBRONWEN AP RHYS\nOffice Administrator",
        ["BRONWEN", "RHYS"],
        ["Office Administrator"],
    ),
    # an ordinary word in the slot of a person
    ("The forms are signed; let me know if Patience wants a copy.", ["Patience"],
     ["wants a copy"]),
    ("Please ring Sunny on 0161 496 0734 before noon.", ["Sunny", "496 0734"], ["before noon"]),
    ("I will call Monday if the scan is clear.", [], ["call Monday"]),
    # roles heading a field are not names
    ("Finance Director: approved the refund for ORD-771203.", [], ["Finance Director:",
                                                                   "ORD-771203"]),
    # the town and postal code after a street address, in several countries' orders
    ("Our depot is 9 Harbour Parade, Napier 4110 and opens at 8.", ["Harbour", "Napier",
     "4110"], ["and opens at 8"]),
    ("Nowa dostawa: ul. Piękna 14, 00-549 Warszawa", ["Piękna", "00-549", "Warszawa"], []),
    ("Bezorgen op Prinsengracht 88, 1015 DX Amsterdam\nRef: SKU QX-2231", ["Prinsengracht",
     "1015 DX", "Amsterdam"], ["SKU QX-2231"]),
    ("Envoyer au 3 rue du Moulin, 31000 Toulouse.", ["Moulin", "31000", "Toulouse"], []),
    ("Returns: 71 Vine Street, Leeds LS2 7QP", ["Vine", "Leeds", "LS2 7QP"], []),
    # a street after a phone in a tab-separated record: the phone's digits are not its
    # house number, and the street keeps what a stronger finding does not cover
    ("+39 06 4891 2270\tCorso Vittorio 8, 00186 Roma", ["Vittorio", "00186", "Roma"],
     []),
    # a number closing one line and "Dr" on the next are no street ("99213 ... Dr")
    ("Re: claim CPT 99214\n\nDear Dr Okonjo,\nplease review.", ["Okonjo"],
     ["CPT 99214", "please review"]),
    # an address label ends with its line or its quoted value
    ("Address: 40 Kings Road, Perth 6000\nPlan: recheck E11.65 in 3 months", ["Kings Road"],
     ["Plan: recheck E11.65 in 3 months"]),
    ('{"addr": "22 Quay Street, Cork", "code": "INV40913"}', ["Quay Street"], ['"INV40913"']),
    # an international number in a reserved range is still a phone number
    ("whatsapp me on +44 7700 900 118", ["7700 900 118"], ["whatsapp me"]),
    # a capitalised product word between a determiner and a noun is no name or place
    ("The Loaner tablet goes back on Monday.", [], ["The Loaner tablet"]),
    ("sure, Refurbished stock is limited this week", [], ["Refurbished stock"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CASES)
def test_layout(hipaa: ScanActor, text: str, gone: list[str], kept: list[str]) -> None:
    out = redact_one(hipaa, text)
    for g in gone:
        assert g not in out, out
    for k in kept:
        assert k in out, out


def test_chat_stamp_kept_like_a_log_timestamp(hipaa: ScanActor) -> None:
    """The date opening a chat line is a message stamp, kept like a log line's; a date
    with a personal word before it is still generalized."""
    out = redact_one(hipaa, "[2/03/2024, 20:14] Ana: ok\nDOB 2/03/1961, 20:14 per chart")
    assert "[2/03/2024, 20:14]" in out, out
    assert "2/03/1961" not in out, out


@pytest.mark.parametrize("framework", [GDPR, CCPA])
def test_age_is_generalized(framework: Any) -> None:
    assert framework.treatment("AGE") == {"operator": "generalize", "bucket": 10}
