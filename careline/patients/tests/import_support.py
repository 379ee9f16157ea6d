"""CSV builders shared by the import tests."""

from __future__ import annotations

HEADER = "mrn,first_name,last_name,preferred_name,date_of_birth,sex,language,phone,phone_kind,email,location,sms_consent"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    """A CSV file with HEADER and ROWS."""
    return ("\n".join([header, *rows]) + "\n").encode()


GOOD_ROWS = (
    "N-100,José,Álvarez,Pepe,1970-02-03,m,es,(312) 555-0140,,jose@example.test,Northside Clinic,yes",
    "N-101,Ana,Lee,,02/28/1990,female,en,+1 312 555 0141,landline,,northside clinic,no",
    "N-102,Bo,Kim,,2001-12-31,,,,,,Northside Clinic,",
)
