"""The demo's offices, pickup points and services: the five regions of the Tangerang–Serang area
of Banten, each with its Dinas and some kecamatan, kelurahan or mall pickup points."""

from __future__ import annotations

import datetime as dt

T = dt.time
OFFICE_HOURS = [(d, T(8), T(15)) for d in range(4)] + [(4, T(8), T(11, 30)), (4, T(13), T(15))]
KECAMATAN_HOURS = [(d, T(8), T(14)) for d in range(4)] + [(4, T(8), T(11))]
MALL_HOURS = [(d, T(10), T(18)) for d in range(6)]

# code, name, NIK region prefix (province+regency), address, pickup points:
#   (code, name, kind, address, counters, prefix, hours, is_main)
OFFICES = [
    (
        "36.73",
        "Disdukcapil Kota Serang",
        "3673",
        "Jl. Jenderal Sudirman No. 5, Kota Serang",
        [
            (
                "srg-dinas",
                "Disdukcapil Kota Serang",
                "office",
                "Jl. Jenderal Sudirman No. 5, Sumurpecung, Serang",
                ["Loket 1", "Loket 2", "Loket 3"],
                "A",
                OFFICE_HOURS,
                True,
            ),
            (
                "srg-cipocok",
                "Kantor Kecamatan Cipocok Jaya",
                "kecamatan",
                "Jl. Bhayangkara No. 12, Cipocok Jaya, Serang",
                ["Loket Adminduk"],
                "C",
                KECAMATAN_HOURS,
                False,
            ),
            (
                "srg-kasemen",
                "Kantor Kecamatan Kasemen",
                "kecamatan",
                "Jl. Raya Banten No. 40, Kasemen, Serang",
                ["Loket Adminduk"],
                "K",
                KECAMATAN_HOURS,
                False,
            ),
        ],
    ),
    (
        "36.02",
        "Disdukcapil Kabupaten Lebak",
        "3602",
        "Jl. Siliwangi No. 1, Rangkasbitung, Lebak",
        [
            (
                "lbk-dinas",
                "Disdukcapil Kabupaten Lebak",
                "office",
                "Jl. Siliwangi No. 1, Muara Ciujung Timur, Rangkasbitung",
                ["Loket 1", "Loket 2"],
                "A",
                OFFICE_HOURS,
                True,
            ),
            (
                "lbk-malingping",
                "Kantor Kecamatan Malingping",
                "kecamatan",
                "Jl. Raya Malingping–Saketi Km 1, Malingping",
                ["Loket Adminduk"],
                "M",
                KECAMATAN_HOURS,
                False,
            ),
            (
                "lbk-bayah",
                "Kantor Kecamatan Bayah",
                "kecamatan",
                "Jl. Raya Bayah No. 3, Bayah Barat, Bayah",
                ["Loket Adminduk"],
                "B",
                KECAMATAN_HOURS,
                False,
            ),
        ],
    ),
    (
        "36.71",
        "Disdukcapil Kota Tangerang",
        "3671",
        "Jl. Satria Sudirman No. 1, Sukaasih, Tangerang",
        [
            (
                "tng-dinas",
                "Disdukcapil Kota Tangerang (Puspemkot)",
                "office",
                "Jl. Satria Sudirman No. 1, Sukaasih, Tangerang",
                ["Loket 1", "Loket 2", "Loket 3", "Loket 4"],
                "A",
                OFFICE_HOURS,
                True,
            ),
            (
                "tng-mpp",
                "Mal Pelayanan Publik Kota Tangerang",
                "mall",
                "Jl. Daan Mogot No. 52, Sukarasa, Tangerang",
                ["Gerai Dukcapil 1", "Gerai Dukcapil 2"],
                "P",
                MALL_HOURS,
                False,
            ),
            (
                "tng-ciledug",
                "Kantor Kecamatan Ciledug",
                "kecamatan",
                "Jl. HOS Cokroaminoto No. 1, Sudimara Timur, Ciledug",
                ["Loket Adminduk"],
                "C",
                KECAMATAN_HOURS,
                False,
            ),
        ],
    ),
    (
        "36.03",
        "Disdukcapil Kabupaten Tangerang",
        "3603",
        "Jl. Atik Suardi No. 1, Tigaraksa, Tangerang",
        [
            (
                "kabtng-dinas",
                "Disdukcapil Kabupaten Tangerang",
                "office",
                "Jl. Atik Suardi No. 1, Kadu Agung, Tigaraksa",
                ["Loket 1", "Loket 2", "Loket 3"],
                "A",
                OFFICE_HOURS,
                True,
            ),
            (
                "kabtng-balaraja",
                "Kantor Kecamatan Balaraja",
                "kecamatan",
                "Jl. Raya Serang Km 24, Balaraja",
                ["Loket Adminduk"],
                "B",
                KECAMATAN_HOURS,
                False,
            ),
            (
                "kabtng-cikupa-mall",
                "Gerai Dukcapil Citra Raya Mall",
                "mall",
                "Citra Raya, Jl. Raya Citra Raya Boulevard, Cikupa",
                ["Gerai 1"],
                "M",
                MALL_HOURS,
                False,
            ),
        ],
    ),
    (
        "36.74",
        "Disdukcapil Kota Tangerang Selatan",
        "3674",
        "Jl. Maruga Raya No. 1, Serua, Ciputat",
        [
            (
                "tgsel-dinas",
                "Disdukcapil Kota Tangerang Selatan",
                "office",
                "Jl. Maruga Raya No. 1, Serua, Ciputat",
                ["Loket 1", "Loket 2", "Loket 3"],
                "A",
                OFFICE_HOURS,
                True,
            ),
            (
                "tgsel-mpp",
                "Mal Pelayanan Publik Tangerang Selatan",
                "mall",
                "Pasar Modern Intermoda BSD, Jl. Raya Cisauk–Lapan, Sampora, Cisauk",
                ["Gerai Dukcapil"],
                "P",
                MALL_HOURS,
                False,
            ),
            (
                "tgsel-pamulang",
                "Kantor Kelurahan Pamulang Barat",
                "kelurahan",
                "Jl. Siliwangi No. 8, Pamulang Barat, Pamulang",
                ["Loket Pelayanan"],
                "L",
                KECAMATAN_HOURS,
                False,
            ),
        ],
    ),
]

# code, Indonesian name, English name, target (working days), what to bring besides the receipt
# (id, en): each service its own, complete list. Whoever collects a KTP-el is not asked for one:
# they hand in the old card, if this one replaces it.
SERVICES = [
    (
        "ktp-el",
        "KTP-el",
        "Electronic ID card (KTP-el)",
        3,
        "Kartu Keluarga asli. Bila menggantikan kartu lama, serahkan kartu lama itu atau surat "
        "kehilangan dari kepolisian.",
        "Your original family card (KK). If it replaces an old card, hand in the old card or the "
        "police report of its loss.",
    ),
    (
        "kk",
        "Kartu Keluarga",
        "Family card (KK)",
        3,
        "KTP-el asli dan Kartu Keluarga lama (bila ada).",
        "Your original KTP-el and your old family card (if any).",
    ),
    (
        "kia",
        "Kartu Identitas Anak (KIA)",
        "Child identity card (KIA)",
        3,
        "Kutipan akta kelahiran anak asli dan KTP-el asli orang tua.",
        "The child's original birth certificate and a parent's original KTP-el.",
    ),
    (
        "akta-kelahiran",
        "Akta Kelahiran",
        "Birth certificate",
        5,
        "KTP-el asli orang tua atau pelapor kelahiran.",
        "The original KTP-el of a parent or of whoever reported the birth.",
    ),
    (
        "akta-kematian",
        "Akta Kematian",
        "Death certificate",
        5,
        "KTP-el asli pelapor kematian.",
        "The original KTP-el of whoever reported the death.",
    ),
    (
        "akta-perkawinan",
        "Akta Perkawinan",
        "Marriage certificate",
        7,
        "KTP-el asli kedua mempelai.",
        "The original KTP-el of both spouses.",
    ),
    (
        "akta-perceraian",
        "Akta Perceraian",
        "Divorce certificate",
        7,
        "KTP-el asli dan salinan putusan pengadilan.",
        "Your original KTP-el and a copy of the court's decision.",
    ),
    (
        "surat-pindah",
        "Surat Keterangan Pindah",
        "Certificate of moving out",
        1,
        "KTP-el asli dan Kartu Keluarga asli.",
        "Your original KTP-el and family card (KK).",
    ),
    (
        "pindah-datang",
        "Pindah Datang",
        "Registration of moving in",
        3,
        "Surat Keterangan Pindah asli dan KTP-el asli.",
        "The original certificate of moving out and your original KTP-el.",
    ),
    (
        "legalisir",
        "Legalisir Dokumen",
        "Document legalisation",
        1,
        "Dokumen asli yang dilegalisir dan KTP-el asli.",
        "The original of the legalised document and your original KTP-el.",
    ),
]

GIVEN_NAMES = [
    "Ahmad",
    "Siti",
    "Budi",
    "Dewi",
    "Rizky",
    "Nur",
    "Agus",
    "Sri",
    "Dedi",
    "Rina",
    "Asep",
    "Euis",
    "Ujang",
    "Neng",
    "Iwan",
    "Yanti",
    "Hendra",
    "Lilis",
    "Andi",
    "Fitri",
    "Muhammad",
    "Putri",
    "Eko",
    "Wulan",
    "Dodi",
    "Ratna",
    "Joko",
    "Ani",
    "Rudi",
    "Nining",
    "Tubagus",
    "Ratu",
]
FAMILY_NAMES = [
    "Hidayat",
    "Saputra",
    "Suryani",
    "Rahmawati",
    "Setiawan",
    "Kurniawan",
    "Nurhayati",
    "Maulana",
    "Hermawan",
    "Sulaeman",
    "Fauzi",
    "Susanti",
    "Permana",
    "Ramdani",
    "Firmansyah",
    "Wahyudi",
    "Lestari",
    "Pratama",
    "Sari",
    "Gunawan",
    "Jayadiningrat",
    "Mulyana",
]
STREETS = [
    "Jl. Ki Mas Jong",
    "Jl. Raya Pandeglang",
    "Jl. Kemang",
    "Jl. Merdeka",
    "Jl. Melati",
    "Jl. Cendrawasih",
    "Jl. Pahlawan",
    "Jl. Masjid Agung",
    "Gg. Haji Sarmili",
    "Jl. Kenanga",
]

NEEDS_FIX_NOTES = [
    "Foto kopi Kartu Keluarga kurang jelas. Mohon unggah ulang atau bawa aslinya ke kantor.",
    "Nama ayah pada formulir berbeda dengan Kartu Keluarga. Mohon bawa KK asli.",
    "Surat pengantar RT/RW belum dilampirkan.",
]
REJECTED_NOTES = [
    "Data kependudukan terdaftar di kabupaten/kota lain. Silakan ajukan di Disdukcapil asal.",
    "Dokumen pendukung tidak sah. Silakan ajukan kembali dengan dokumen asli.",
]
CANCELLED_NOTE = "Dibatalkan atas permintaan pemohon."
PUBLIC_NOTES = {
    "verifying": "Berkas diterima lengkap dan sedang diperiksa.",
    "processing": "Data sudah diverifikasi; dokumen sedang dicetak.",
    "ready": "Dokumen sudah jadi dan dapat diambil.",
    "collected": "Dokumen sudah diambil.",
    "returned": "Batas waktu pengambilan terlewati; dokumen disimpan di kantor Dinas.",
    "delivering": "Dokumen dikirim ke alamat pemohon.",
    "delivered": "Dokumen sudah diterima pemohon.",
}

# Where citizens reach each demo office (phone, WhatsApp, e-mail): made up, in the usual forms.
CONTACTS = {
    "36.73": ("(0254) 200101", "081100003673", "dukcapil.serang@contoh.go.id"),
    "36.02": ("(0252) 201102", "081100003602", "dukcapil.lebak@contoh.go.id"),
    "36.71": ("(021) 5580103", "081100003671", "dukcapil.tangerang@contoh.go.id"),
    "36.03": ("(021) 5990104", "081100003603", "dukcapil.kabtangerang@contoh.go.id"),
    "36.74": ("(021) 7470105", "081100003674", "dukcapil.tangsel@contoh.go.id"),
}

# Where each demo pickup point is, near enough for a map link (latitude, longitude).
COORDINATES = {
    "srg-dinas": (-6.1178, 106.1532),
    "srg-cipocok": (-6.1420, 106.1770),
    "srg-kasemen": (-6.0600, 106.1650),
    "lbk-dinas": (-6.3590, 106.2480),
    "lbk-malingping": (-6.7720, 106.0170),
    "lbk-bayah": (-6.9300, 106.2300),
    "tng-dinas": (-6.1780, 106.6320),
    "tng-mpp": (-6.1700, 106.6400),
    "tng-ciledug": (-6.2300, 106.7100),
    "kabtng-dinas": (-6.2650, 106.4720),
    "kabtng-balaraja": (-6.2000, 106.4500),
    "kabtng-cikupa-mall": (-6.2480, 106.5210),
    "tgsel-dinas": (-6.3200, 106.7020),
    "tgsel-mpp": (-6.3260, 106.6380),
    "tgsel-pamulang": (-6.3420, 106.7250),
}
