"""Records of other formats pasted into a cell: an SQL INSERT read under its column names
and the parts of a vCard address.

Every string is written by hand for this file. Each case runs the detection scanner and
the HIPAA redaction of one batch and asserts on the written text.
"""

from __future__ import annotations

from nodes.privacy.batch import ScanActor
from nodes.privacy.embedded_records import find_sql_values, find_vcard_addresses
from tests.nodes.privacy.helpers import redact_one

SQL = (
    "-- restore of the clinic table\n"
    "INSERT INTO clinic.people (chart_no, mrn, surname, first_name, zip, icd10, note) VALUES\n"
    "  (1, 'A55102933', 'Tuilagi', 'Sefo', '68114', 'E11.9', 'it''s fine'),\n"
    "  (2, NULL, 'Ng', 'Wing', '02139-4307', 'I10', NULL);\n"
    "COMMIT;"
)


def test_sql_insert_values_are_read_under_their_columns(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, SQL)
    for gone in ("A55102933", "Tuilagi", "Sefo", "68114", "02139-4307", "'Wing'"):
        assert gone not in out, out
    for kept in ("INSERT INTO clinic.people", "'E11.9'", "'I10'", "it''s fine", "COMMIT;"):
        assert kept in out, out


def test_sql_values_spans_and_what_is_left_alone() -> None:
    found = {(f.entity, SQL[f.start : f.end]) for f in find_sql_values(SQL)}
    assert ("MEDICAL_RECORD_NUMBER", "A55102933") in found
    assert ("PERSON", "Tuilagi") in found
    assert ("US_ZIP", "02139-4307") in found
    assert not any(v in ("E11.9", "I10", "1", "2") for _, v in found), found
    # no column names a kind of identifier: nothing is read
    plain = "INSERT INTO builds (tag, status) VALUES ('v2.3.1', 'green');"
    assert find_sql_values(plain) == []


VCARD = (
    "BEGIN:VCARD\nVERSION:4.0\nFN:Office\n"
    "ADR;TYPE=home:;Flat 2;17 Kereru Lane;Ōtaki;Wellington;5512;New Zealand\n"
    "item1.ADR;TYPE=work:;;Rua das Flores\\, 88;Braga;;4700-123;Portugal\n"
    "NOTE:parking at the back\nEND:VCARD"
)


def test_vcard_address_parts(hipaa: ScanActor) -> None:
    out = redact_one(hipaa, VCARD)
    for gone in ("Kereru", "Ōtaki", "5512", "Flores", "Braga", "4700-123"):
        assert gone not in out, out
    for kept in ("BEGIN:VCARD", "FN:Office", "parking at the back", "END:VCARD"):
        assert kept in out, out
    found = {(f.entity, VCARD[f.start : f.end]) for f in find_vcard_addresses(VCARD)}
    assert ("LOCATION", "Braga") in found
    assert ("STREET_ADDRESS", "Rua das Flores\\, 88") in found


def test_phone_uris_and_vcard_phones(hipaa: ScanActor) -> None:
    text = (
        '<li>Reception: <a href="tel:+264612345678">call us</a></li>\n'
        "BEGIN:VCARD\nTEL;TYPE=work:0612 77 84 19 poste 31\nTEL;VALUE=uri:tel:+1-709-555-0142\n"
        "END:VCARD\nhotel:20250118 booked"
    )
    out = redact_one(hipaa, text)
    for gone in ("264612345678", "0612 77 84 19", "709-555-0142"):
        assert gone not in out, out
    for kept in ("call us", "BEGIN:VCARD", "hotel:20250118 booked"):
        assert kept in out, out


def test_vcard_and_icalendar_names(hipaa: ScanActor) -> None:
    card = (
        "BEGIN:VCARD\nVERSION:4.0\nFN:Talia Okoro\nN:Okoro;Talia;Ifeoma;Dr.;\n"
        "ORG:Lagoon Dental\nEND:VCARD\n"
        'ATTENDEE;CN="Mwangi, Wanjiru";ROLE=REQ-PARTICIPANT:mailto:ww@clinic.example'
    )
    out = redact_one(hipaa, card)
    for gone in ("Okoro", "Talia", "Ifeoma", "Mwangi", "Wanjiru"):
        assert gone not in out, out
    for kept in ("N:", ";Dr.;", "ROLE=REQ-PARTICIPANT", "VERSION:4.0"):
        assert kept in out, out
