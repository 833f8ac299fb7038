"""Postal codes in the forms of many countries, written beside a street or a town
(``Cape Town 8001``, ``80-827 Gdańsk``, ``1016 EZ Amsterdam``, ``ON M4C 1B4``,
``Co. Galway, H91 H3P3``)."""

POSTCODE_ANY = (
    r"(?:\d{5}-\d{3}|\d{2}-\d{3}|\d{4}[ \t]?[A-Z]{2}(?![\w])|\d{3}[ \t]\d{2}|\d{4,5}(?:-\d{4})?"
    r"|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"
    # Irish Eircode: routing key, then a unique identifier ("V94 R7N0", "D6W XY12")
    r"|(?:[AC-FHKNPRTV-Y]\d{2}|D6W)[ \t]?[0-9AC-FHKNPRTV-Y]{4}(?![\w]))"
)
