"""Extraction of names, emails, phones (AR/MX/ES/CO as people write them), dates, amounts,
order numbers and custom fields."""

from __future__ import annotations

from datetime import date

import pytest

from cauce.ai import FieldSpec, extract, normalize_phone
from cauce.ai.extract import parse_number, pattern_from_example

TODAY = date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hola, me llamo juan pérez y quiero info", "Juan Pérez"),
        ("Soy María Gómez, de Rosario", "María Gómez"),
        ("mi nombre es ANA LOPEZ", "Ana Lopez"),
        ("Buenas! Les escribe Carlos Andrés Ruiz por el pedido", "Carlos Andrés Ruiz"),
        ("Nombre: lucía fernández", "Lucía Fernández"),
        ("Hi, my name is John Smith and I need help", "John Smith"),
        ("I'm Sarah, from the Austin store", "Sarah"),
    ],
)
def test_names(text: str, expected: str) -> None:
    assert extract(text, ["name"]).fields["name"] == expected


@pytest.mark.parametrize(
    "text",
    ["soy cliente hace años", "Soy de Córdoba y quiero saber el precio", "I'm having trouble",
     "hola quiero comprar"],
)
def test_no_name_when_none_is_given(text: str) -> None:
    result = extract(text, ["name"])
    assert "name" not in result.fields and result.missing == ["name"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi mail es Juan.Perez@Gmail.com", "Juan.Perez@gmail.com"),
        ("escribime a ventas+promo@mitienda.com.ar.", "ventas+promo@mitienda.com.ar"),
        ("email: ana_lopez99@hotmail.es gracias", "ana_lopez99@hotmail.es"),
        ("my email is JOHN@EXAMPLE.ORG", "JOHN@example.org"),
    ],
)
def test_emails(text: str, expected: str) -> None:
    assert extract(text, ["email"]).fields["email"] == expected


def test_invalid_emails_are_not_extracted() -> None:
    assert "email" not in extract("mi mail es juan@@gmail..com o juan@", ["email"]).fields


ARGENTINA_MOBILE = "+5491155551234"


@pytest.mark.parametrize(
    "written",
    [
        "11 5555-1234",
        "1155551234",
        "+54 11 5555 1234",
        "+54 9 11 5555-1234",
        "+5491155551234",
        "011 15 5555-1234",
        "11 15 5555 1234",
        "(011) 15-5555-1234",
        "54 9 11 5555 1234",
    ],
)
def test_argentine_mobiles_are_normalised_to_the_whatsapp_form(written: str) -> None:
    assert extract(f"mi cel es {written} gracias", ["phone"]).fields["phone"] == ARGENTINA_MOBILE


def test_argentine_mobiles_outside_buenos_aires() -> None:
    assert normalize_phone("0351 15 512-3456", "AR") == "+5493515123456"  # Córdoba
    assert normalize_phone("351 512 3456", "AR") == "+5493515123456"
    assert normalize_phone("0341 155 123456", "AR") == "+5493415123456"  # Rosario


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("55 1234 5678", "+525512345678"),
        ("+52 1 55 1234 5678", "+525512345678"),  # pre-2019 mobile prefix
        ("044 55 1234 5678", "+525512345678"),  # old domestic mobile prefix
        ("(33) 1234-5678", "+523312345678"),
        ("+52 81 1234 5678", "+528112345678"),
    ],
)
def test_mexican_phones(written: str, expected: str) -> None:
    assert extract(f"mi whats: {written}", ["phone"], default_region="MX").fields["phone"] == (
        expected
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("612 34 56 78", "+34612345678"),
        ("612345678", "+34612345678"),
        ("+34 612 345 678", "+34612345678"),
        ("0034 612 34 56 78", "+34612345678"),
        ("91 123 45 67", "+34911234567"),
    ],
)
def test_spanish_phones(written: str, expected: str) -> None:
    assert extract(f"llámame al {written}", ["phone"], default_region="ES").fields["phone"] == (
        expected
    )


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("300 123 4567", "+573001234567"),
        ("3001234567", "+573001234567"),
        ("+57 300 1234567", "+573001234567"),
        ("(601) 234 5678", "+576012345678"),
        ("+57 (315) 555-1234", "+573155551234"),
    ],
)
def test_colombian_phones(written: str, expected: str) -> None:
    assert extract(f"mi número {written}", ["phone"], default_region="CO").fields["phone"] == (
        expected
    )


def test_international_number_wins_over_the_default_region() -> None:
    assert extract("mi cel +34 612 345 678", ["phone"], default_region="AR").fields["phone"] == (
        "+34612345678"
    )


def test_numbers_that_are_not_phones_are_ignored() -> None:
    result = extract("pedido #12345678 del 15/03/2026 por $1.500", ["phone"])
    assert result.fields == {}


def test_every_phone_is_listed() -> None:
    result = extract("llamame al 11 5555-1234 o al 0351 15 512-3456", ["phone"])
    assert [e.value for e in result.entities] == [ARGENTINA_MOBILE, "+5493515123456"]
    assert result.entities[0].raw == "11 5555-1234"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("el 15/03", "2026-03-15"),
        ("15/03/2026", "2026-03-15"),
        ("el 1/2", "2027-02-01"),  # already past this year: next one
        ("15 de marzo", "2026-03-15"),
        ("el 3 de abril de 2027", "2027-04-03"),
        ("mañana a las 10", "2026-03-03"),
        ("pasado mañana", "2026-03-04"),
        ("hoy", "2026-03-02"),
        ("el martes", "2026-03-03"),
        ("el lunes", "2026-03-09"),  # today is Monday: the next one
        ("next friday", "2026-03-06"),
        ("March 20th", "2026-03-20"),
    ],
)
def test_dates(text: str, expected: str) -> None:
    assert extract(text, ["date"], today=TODAY).fields["date"] == expected


def test_morning_is_not_tomorrow() -> None:
    assert "date" not in extract("vengo a la mañana", ["date"], today=TODAY).fields


def test_us_dates_are_month_first() -> None:
    assert extract("on 3/4", ["date"], default_region="US", today=TODAY).fields["date"] == (
        "2026-03-04"
    )


@pytest.mark.parametrize(
    ("text", "region", "amount", "currency"),
    [
        ("son $1.500", "AR", "1500", "ARS"),
        ("te transfiero $ 12.345,50", "AR", "12345.50", "ARS"),
        ("cuesta USD 300", "AR", "300", "USD"),
        ("u$s 1.200", "AR", "1200", "USD"),
        ("20 lucas", "AR", "20000", "ARS"),
        ("2500 pesos", "MX", "2500", "MXN"),
        ("150 dólares", "CO", "150", "USD"),
        ("49,99 €", "ES", "49.99", "EUR"),
        ("$1,250.75", "US", "1250.75", "USD"),
    ],
)
def test_amounts(text: str, region: str, amount: str, currency: str) -> None:
    value = extract(text, ["amount"], default_region=region).fields["amount"]
    assert value == {"amount": amount, "currency": currency}


def test_plain_numbers_are_not_amounts() -> None:
    assert extract("quiero 3 unidades del talle 42", ["amount"]).fields == {}


@pytest.mark.parametrize("value", ["1.500", "1,500", "1 500"])
def test_thousands_separators(value: str) -> None:
    assert str(parse_number(value)) == "1500"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mi pedido 4521 no llegó", "4521"),
        ("orden #A-99812", "A-99812"),
        ("pedido nro. 123456", "123456"),
        ("order number 77812", "77812"),
        ("te paso el #889123", "889123"),
        ("ticket: SR-20931", "SR-20931"),
    ],
)
def test_order_numbers(text: str, expected: str) -> None:
    assert extract(text, ["order_number"]).fields["order_number"] == expected


def test_custom_field_by_pattern_uses_its_group() -> None:
    spec = FieldSpec(name="dni", pattern=r"dni\s*:?\s*(\d{1,2}\.?\d{3}\.?\d{3})")
    assert extract("mi DNI: 30.123.456", [spec]).fields["dni"] == "30.123.456"


def test_custom_field_by_example() -> None:
    spec = FieldSpec(name="policy", example="POL-123456")
    result = extract("la póliza es POL-654321, no la ABC-1", [spec])
    assert result.fields["policy"] == "POL-654321"
    assert pattern_from_example("AB-12").pattern.count(r"\d{2}") == 1


def test_custom_field_needs_a_pattern_example_or_description() -> None:
    with pytest.raises(ValueError, match="needs a pattern, an example value or a description"):
        FieldSpec(name="policy")
    with pytest.raises(ValueError, match="unknown field 'nombre'"):
        extract("hola", ["nombre"])
    described = FieldSpec(name="policy", description="insurance policy number")
    assert extract("POL-1", [described]).missing == ["policy"]  # left to the LLM


def test_engine_field_shapes_with_kind_and_name_parts() -> None:
    fields = [FieldSpec(name="first_name", kind="name"), FieldSpec(name="last_name", kind="name"),
              FieldSpec(name="contact_email", kind="email")]
    result = extract("Hola, soy Ana María Sosa, ana@sosa.com", fields)
    assert result.fields == {"first_name": "Ana", "last_name": "María Sosa",
                             "contact_email": "ana@sosa.com"}
    assert extract("soy Ana", fields).missing == ["last_name", "contact_email"]
    with pytest.raises(ValueError, match="invalid pattern"):
        FieldSpec(name="policy", pattern="([")


def test_lead_capture_message_extracts_everything() -> None:
    text = ("Hola! Soy Martina Sosa, mi mail es martina.sosa@gmail.com y mi cel 11 4444-9876. "
            "Quería saber si el pedido 55123 llega el viernes, pagué $25.000")
    result = extract(text, today=TODAY)
    assert result.fields == {
        "name": "Martina Sosa",
        "email": "martina.sosa@gmail.com",
        "phone": "+5491144449876",
        "date": "2026-03-06",
        "amount": {"amount": "25000", "currency": "ARS"},
        "order_number": "55123",
    }
    assert result.missing == []
