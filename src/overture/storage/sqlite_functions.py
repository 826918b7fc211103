"""SQL functions SQLite lacks, registered on every SQLite connection of the store.

``overture_json_text(doc)``: a stored JSON document as searchable text, lower-cased, whatever
form it was written in. SQLite keeps JSON as the text it was given, where "Müller" may be
written ``M\\u00fcller`` and where ``lower()`` folds only ASCII; PostgreSQL's ``jsonb::text``
is already one canonical form (and its ``lower()`` folds every letter), so searches there need
nothing of this.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

JSON_TEXT = "overture_json_text"


def json_text(value: Any) -> str | None:
    """Unescaped text with the separators PostgreSQL writes (``", "`` and ``": "``), lower-cased."""
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else str(value)
    with contextlib.suppress(ValueError):  # not JSON after all: searched as it is
        text = json.dumps(json.loads(text), ensure_ascii=False)
    return text.lower()


def register(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(JSON_TEXT, 1, json_text, deterministic=True)
