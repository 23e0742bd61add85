"""Pickup points: opening hours, windows, pickup numbers and visits (``pickup``), working days
and public holidays (``workdays``), and the supervisors' pages (``views``)."""
