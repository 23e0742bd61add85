"""Pickup announcements: publishing what became ready per pickup point and the morning digest
(``operations``), the latest announcements (``queries``), and ``/pengumuman`` with its Atom
feed (``views``)."""
