"""Backups: the database copied while it serves, sealed with ``BACKUP_KEY`` (``sealed``),
made and put back by ``operations``; the ``backup`` and ``restore`` commands (``commands``)."""
