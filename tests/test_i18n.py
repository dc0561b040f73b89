"""Thai first: every user-facing string in code and templates has a Thai translation, and
numbers and dates read as Thai documents write them."""

from datetime import date

from planapp.formatting import baht, be_date
from planapp.i18n import untranslated


def test_every_message_has_a_thai_translation():
    missing = untranslated("th")
    assert not missing, (
        "add Thai for these to a translations/th/LC_MESSAGES/messages.po "
        "(`flask --app app i18n-missing` prints the entries):\n"
        + "\n".join(f"{filename}: {message!r}" for filename, message in missing)
    )


def test_pages_are_thai_by_default_and_english_on_request(client, demo_plan):
    home = client.get("/").get_data(as_text=True)
    assert "ตำบล" in home and 'lang="th"' in home
    client.post("/language", data={"language": "en", "next": "/"})
    english = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in english and "Tambons and their plans" in english


def test_baht_has_thousands_separators():
    assert baht(150_000_00) == "150,000"
    assert baht(1_234_567_50) == "1,234,567.50"
    assert baht(0) == "0"


def test_dates_are_buddhist_era(app):
    with app.test_request_context():
        assert be_date(date(2026, 11, 20)) == "20 พฤศจิกายน 2569"


def test_a_post_without_csrf_gets_a_clear_thai_message(client):
    response = client.post("/language", data={"language": "en"}, csrf=False)
    assert response.status_code == 400
    assert "แบบฟอร์มนี้หมดอายุแล้ว" in response.get_data(as_text=True)


def test_every_wtforms_message_has_a_thai_translation(app):
    """WTForms' own messages (its validators and fields) come from our catalog: none is left
    in English."""
    from babel.messages.pofile import read_po
    from wtforms.i18n import messages_path

    from planapp.i18n import merged_catalog

    with open(f"{messages_path()}/wtforms.pot", "rb") as handle:
        wtforms_messages = [message.id for message in read_po(handle) if message.id]
    catalog = merged_catalog("th")
    missing = [key for key in wtforms_messages if not catalog.get(key)]
    assert len(wtforms_messages) > 30
    assert not missing, "add Thai to planapp/translations/th/LC_MESSAGES/wtforms.po: " + repr(
        missing
    )


def test_a_form_left_empty_says_so_in_thai_and_in_english_on_request(client):
    thai = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert thai.count("กรุณากรอกช่องนี้") == 2
    assert "This field is required." not in thai
    client.post("/language", data={"language": "en", "next": "/"})
    english = client.post("/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert english.count("This field is required.") == 2
    assert "กรุณากรอกช่องนี้" not in english


def test_wtforms_length_message_is_thai_with_its_number(client):
    page = client.post("/login", data={"username": "ก" * 81, "password": "x"}).get_data(
        as_text=True
    )
    assert "ยาวได้ไม่เกิน 80 ตัวอักษร" in page
