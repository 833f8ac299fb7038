"""Street addresses whose house number carries a staircase or flat ("12/3/5") and whose
town holds particles ("ob der Tauber", "am Main"): the whole address is redacted, the
postcode and town included (hand-written cases)."""

from __future__ import annotations

import pytest

from nodes.privacy.batch import ScanActor
from tests.nodes.privacy.helpers import hipaa_batch_redactor, redact_one

CASES = [
    ("Home address: Gartenstr. 5/3, Rothenburg ob der Tauber 27635. Reach the patient.",
     ["5/3", "/3", "Rothenburg", "Tauber", "27635"]),
    ("Patient lives at Hauptstr. 12/4, Halle an der Saale 06108 with his wife.",
     ["/4", "Halle", "Saale", "06108"]),
    ("Home address: Bahnhofstr. 7/2, Freiburg im Breisgau 79098. Seen today.",
     ["7/2", "Freiburg", "Breisgau", "79098"]),
    ("Home address: Lindenallee 21, Mülheim an der Ruhr 45468. Seen today.",
     ["Lindenallee", "Mülheim", "Ruhr", "45468"]),
]  # fmt: skip


@pytest.fixture(scope="module")
def actor() -> ScanActor:
    return hipaa_batch_redactor()


@pytest.mark.parametrize(("text", "pieces"), CASES)
def test_address_with_flat_number_and_particled_town_is_redacted_whole(
    actor: ScanActor, text: str, pieces: list[str]
) -> None:
    out = redact_one(actor, text)
    assert [p for p in pieces if p in out] == [], out
    assert "<STREET_ADDRESS>" in out, out
