"""The outbox: its texts render in its own Jinja environment, without a Flask app."""

from __future__ import annotations

from flask import has_app_context
from jinja2 import nodes

from tests.test_notify import MORNING_WIB, ready_with_sms
from tracker.models import Channel
from tracker.outbox import texts

BASE_URL = "https://cek.example.go.id"
# What the templates gave through Flask's render_template before the outbox had its own
# environment, for this request (the receipt number is drawn at random).
READY_SMS = (
    "KTP-el a.n. Budi SIAP DIAMBIL di Kantor Kecamatan Cipocok Jaya 02/12-15/12, no. C-001. "
    "Bawa tanda terima & KTP-el asli."
)
READY_SUBJECT = "KTP-el Anda siap diambil (C-001)"
READY_EMAIL = (
    "Yth. Budi Santoso,\n\n"
    "KTP-el Anda sudah SIAP DIAMBIL.\n\n"
    "Di mana: Kantor Kecamatan Cipocok Jaya, Jl. Bhayangkara No. 12, Cipocok Jaya, Serang\n"
    "Kapan: Rabu, 2 Desember 2026, 08.00 WIB sampai Selasa, 15 Desember 2026, 14.00 WIB\n"
    "Nomor pengambilan: C-001\n"
    "Yang dibawa: tanda terima dan KTP-el asli. "
    "KTP-el lama (bila ada) atau surat keterangan kehilangan.\n"
    "Boleh diwakilkan dengan surat kuasa.\n\n"
    "Status dan jam buka: https://cek.example.go.id/s/{receipt}\n"
    "Layanan ini gratis. Petugas tidak pernah meminta bayaran.\n"
)


def test_texts_render_without_a_flask_app_as_they_did_with_one(make_request, session) -> None:
    request = ready_with_sms(make_request, session, MORNING_WIB)
    assert not has_app_context()  # the factories and the session need none either
    sms = texts.render(request, "ready", Channel.SMS, base_url=BASE_URL)
    mail = texts.render(request, "ready", Channel.EMAIL, base_url=BASE_URL)
    assert sms == ("", READY_SMS)
    assert mail == (READY_SUBJECT, READY_EMAIL.format(receipt=request.receipt))
    assert not has_app_context()
    # Control: the base URL is the one given, not one read from an app.
    other = texts.render(request, "ready", Channel.EMAIL, base_url="https://x.example")
    assert f"https://x.example/s/{request.receipt}\n" in other.body
    session.rollback()


def filters_used() -> dict[str, set[str]]:
    """Every filter each message template uses, from its syntax tree."""
    env = texts.environment()
    used: dict[str, set[str]] = {}
    for name in env.list_templates():
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        tree = env.parse(source)
        used[name] = {node.name for node in tree.find_all(nodes.Filter)}
    return used


def test_the_outbox_environment_has_every_filter_the_message_templates_use() -> None:
    used = filters_used()
    missing = {name: names - set(texts.environment().filters) for name, names in used.items()}
    assert not any(missing.values()), missing
    # Control: the walk finds the filters that are there.
    assert set().union(*used.values()) == {"truncate", "ddmm", "day", "moment"}
