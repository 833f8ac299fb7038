# ruff: noqa: RUF001
"""Field labels of forms, in the languages forms are written in: never a name or a place.

A form line is ``label: value``. NER reads a capitalised label in a language it was not
trained on as a person or a town (``Anwani: Nyerere Road``, ``Heimilisfang:``, ``Nama
ibu kandung : ...``), and redacting it costs the record its structure while the value
after the colon is what identifies someone. A person or place finding is dropped
(:func:`drop_form_labels`) when it lies in the label of a line (from the line's start,
or from a ``;``/``|`` field separator, to the first colon) and every word of that label
is a label word or a joining word of some language (:data:`LABEL_LEXICON`); a finding
that runs on past the colon keeps only its part after it.

The words are the vocabulary of personal-data fields (name, address, phone, birth, next
of kin, notes...) in the main European languages and Swahili, Indonesian/Malay,
Tagalog, Turkish, Vietnamese and Russian. A label holding any other word is left to the
other rules: a speaker's name before a colon (``Amina: I called...``) is not a label,
and neither is a one-word label that heads two lines or more (a transcript's speaker
turns repeat, a form's fields do not: ``Tala: ...`` twice is a person speaking).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from nodes.privacy.scan_types import Finding


def _words(spaced: str) -> frozenset[str]:
    return frozenset(_fold(w) for w in spaced.split())


def _fold(word: str) -> str:
    """Lower case without accents (``Téléphone`` -> ``telephone``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


LABEL_LEXICON = _words(
    # English
    "name names full first last given family middle maiden surname address addresses home"
    " current permanent postal phone mobile cell telephone tel fax email e-mail mail birth"
    " date place dob patient next kin relative relatives contact contacts emergency notes"
    " note complaint chief diagnosis occupation nationality sex gender age number no nr"
    " file record signature reason visit allergies medication insurance employer mother"
    " father spouse guardian parent city town country region province district village"
    " postcode zip street id ref details info information personal of"
    " prescription insurance results result doctor physician refund account bank payment"
    " fee fees"
    # Swahili
    " jina majina mgonjwa tarehe kuzaliwa anwani simu barua pepe ndugu karibu maelezo namba"
    " nambari faili umri jinsia kazi mahali makazi mke mume mzazi mama baba dawa daktari"
    " malipo sahihi kijiji mkoa wilaya"
    # Indonesian / Malay
    " nama lengkap tempat tgl tanggal lahir alamat telepon telp hp nomor ibu kandung ayah"
    " suami istri isteri keluhan pekerjaan agama jenis kelamin umur usia kota kecamatan"
    " kelurahan provinsi catatan diagnosa kontak darurat keluarga perkawinan kewarganegaraan"
    " kode pos pesakit warganegara resep asuransi hasil dokter biaya rekening"
    # Icelandic
    " nafn fullt heimilisfang simi simanumer netfang kennitala faedingardagur"
    " faedingarstadur adstandandi nanasti postnumer athugasemdir"
    # Romanian
    " nume prenume domiciliu adresa telefon data nasterii locul cnp varsta judet localitate"
    " strada cod postal observatii diagnostic ocupatie ruda pacient reteta asigurare"
    " rezultate medic cont"
    # German
    " vorname nachname familienname anschrift adresse wohnort strasse telefonnummer handy"
    " mobil geburtsdatum geburtsort geburtstag staatsangehorigkeit geschlecht alter beruf"
    " angehorige angehoriger notfallkontakt bemerkungen diagnose versicherung"
    " versichertennummer postleitzahl ort rezept befund befunde arzt arztin konto"
    # French
    " nom prenom domicile telephone portable courriel lieu naissance nee sexe age"
    " profession nationalite personne prevenir remarques ville medecin traitant ordonnance"
    " assurance resultats compte"
    # Spanish
    " nombre nombres apellido apellidos direccion telefono celular movil correo electronico"
    " fecha nacimiento edad ocupacion nacionalidad familiar contacto observaciones"
    " diagnostico ciudad provincia colonia municipio codigo cedula documento dni curp rut"
    " esposa esposo madre padre paciente acompanante receta seguro resultados cuenta"
    # Portuguese
    " nome completo endereco morada telefone telemovel nascimento naturalidade idade"
    " profissao cpf rg mae pai conjuge responsavel cidade bairro cep observacoes utente"
    " receita exames conta"
    # Italian
    " cognome indirizzo residenza cellulare luogo nascita sesso eta professione"
    " cittadinanza codice fiscale comune cap paziente recapito ricetta assicurazione"
    " esami risultati conto"
    # Dutch / Afrikaans
    " naam voornaam achternaam adres woonplaats telefoon mobiel geboortedatum"
    " geboorteplaats geslacht leeftijd beroep plaats contactpersoon opmerkingen patient"
    " ouderdom"
    # Polish
    " imie nazwisko zamieszkania urodzenia miejsce plec wiek zawod pesel miejscowosc"
    " pocztowy ulica opiekun uwagi rozpoznanie recepta ubezpieczenie wyniki lekarz"
    " prowadzacy rachunku rachunek zwrotu konto"
    # Turkish
    " ad adi soyad soyadi adres adresi dogum tarihi yeri cinsiyet yas meslek tc kimlik"
    " uyruk hasta yakini il ilce mahalle notlar tani recete sigorta sonuclar doktor iade"
    " hesap ucret"
    # Scandinavian
    " namn navn fornamn fornavn efternamn etternavn efternavn adress bostadsort mobilnummer"
    " fodelsedatum fodselsdato fodselsnummer personnummer kon kjonn alder yrke postnummer"
    " sted anhorig parorende anmarkning merknad"
    # Finnish
    " nimi etunimi sukunimi osoite puhelin puhelinnumero syntymaaika henkilotunnus"
    " sukupuoli ika ammatti postinumero kotikunta omainen lisatiedot"
    # Hungarian
    " nev vezeteknev keresztnev cim lakcim telefonszam szuletesi szuletes datum hely helye"
    " neme kor foglalkozas iranyitoszam taj anyja hozzatartozo megjegyzes"
    # Czech / Slovak
    " jmeno meno prijmeni priezvisko bydliste datum narozeni narodenia misto miesto"
    " pohlavi vek povolani rodne cislo psc poznamka"
    # Tagalog
    " pangalan buong tirahan telepono kapanganakan petsa kasarian trabaho asawa magulang"
    " kamag-anak tala"
    # Vietnamese
    " ho ten dia chi dien thoai ngay sinh noi gioi tinh tuoi nghe nghiep nguoi than ghi chu"
    # Russian
    " имя фамилия отчество адрес телефон дата рождения место пол возраст"
)
# Words that join the words of a label ("Tarehe ya kuzaliwa", "Data di nascita").
JOINING_WORDS = _words("la ya wa za na de di du da do dos das del der des e y i & / and the")

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# A label: at a line's start, or after a field separator, up to its colon.
_LABEL = re.compile(r"(?m)(?:^|[;|•])[ \t\-*•]*([^\n:;|]{1,48}?)[ \t]*:(?!//)")
_ENTITIES = frozenset(["PERSON", "LOCATION"])


def label_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each field label of ``text`` made only of label words (the
    colon excluded)."""
    out = []
    seen: dict[str, int] = {}
    for m in _LABEL.finditer(text):
        words = [_fold(w) for w in _WORD.findall(m.group(1))]
        if len(words) == 1:
            seen[words[0]] = seen.get(words[0], 0) + 1
        if (
            words
            and all(w in LABEL_LEXICON or w in JOINING_WORDS for w in words)
            and any(w in LABEL_LEXICON for w in words)
        ):
            out.append((m.start(1), m.end(1), words))
    return [(s, e) for s, e, words in out if len(words) > 1 or seen[words[0]] == 1]


def drop_form_labels(text: str, found: Sequence[Finding]) -> list[Finding]:
    """``found`` without the person and place findings inside a field label; one that
    runs on past the label's colon keeps its part after it."""
    if ":" not in text or not any(f.entity in _ENTITIES for f in found):
        return list(found)
    labels = label_spans(text)
    if not labels:
        return list(found)
    out = []
    for f in found:
        if f.entity in _ENTITIES:
            label = next((lb for lb in labels if lb[0] <= f.start < lb[1] + 1), None)
            if label is not None:
                colon = text.find(":", label[1])
                rest = colon + 1
                while rest < f.end and text[rest] in " \t":
                    rest += 1
                if f.end <= colon or rest >= f.end:
                    continue
                f = Finding(rest, f.end, f.entity, f.score, f.source)
        out.append(f)
    return out
