"""Plan files kept between the import page's steps (upload, preview, confirm): on the server, never in the cookie.

Each file sits in a private folder under a random id that only the uploader's session holds, with who uploaded it,
its name and type, and the options last chosen for it. A file lives an hour at most; the session holds one at a time.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

LIFETIME = 60 * 60  # Seconds: long enough to fix a mapping, short enough that nobody's plan lingers.
ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CLAIMED = ".importing"


@dataclass
class Upload:
    id: str
    user_id: str
    filename: str | None
    media_type: str | None
    created: float
    options: dict[str, Any] = field(default_factory=dict)  # default_lead_agency, start_date, mapping, headings


class Uploads:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.gettempdir()) / "accord-uploads"

    def keep(self, user_id: str, data: bytes, filename: str | None, media_type: str | None) -> Upload:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = self.folder.stat()
        if found.st_uid != os.getuid() or found.st_mode & 0o077:  # Another user's folder in a shared /tmp.
            raise RuntimeError(f"{self.folder} must belong to this user and be private to it (mode 700)")
        self.purge()
        upload = Upload(secrets.token_urlsafe(32), user_id, filename, media_type, time.time())
        place = self.folder / upload.id
        place.mkdir(mode=0o700)
        (place / "file").write_bytes(data)
        self.save(upload)
        return upload

    def save(self, upload: Upload) -> None:
        meta = self.folder / upload.id / "meta.json"
        partial = meta.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(upload)))
        partial.replace(meta)

    def find(self, upload_id: str | None, user_id: str) -> Upload | None:
        """The upload, if it exists, is this user's and has not expired."""
        if not upload_id or not ID.match(upload_id):
            return None
        try:
            upload = Upload(**json.loads((self.folder / upload_id / "meta.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if upload.user_id != user_id or time.time() - upload.created > LIFETIME:
            return None
        return upload

    def data(self, upload: Upload) -> bytes:
        return (self.folder / upload.id / "file").read_bytes()

    def claim(self, upload: Upload) -> bytes | None:
        """The file, for the one request that may import it (a second click of "Import" gets None)."""
        try:
            os.rename(self.folder / upload.id, self.folder / f"{upload.id}{CLAIMED}")
        except OSError:
            return None
        return (self.folder / f"{upload.id}{CLAIMED}" / "file").read_bytes()

    def release(self, upload: Upload) -> None:
        """Back to the preview, after an import that was refused."""
        os.rename(self.folder / f"{upload.id}{CLAIMED}", self.folder / upload.id)

    def discard(self, upload_id: str | None) -> None:
        if upload_id and ID.match(upload_id):
            shutil.rmtree(self.folder / upload_id, ignore_errors=True)
            shutil.rmtree(self.folder / f"{upload_id}{CLAIMED}", ignore_errors=True)

    def purge(self) -> None:
        """Forget every file older than its lifetime."""
        for place in self.folder.iterdir():
            try:
                expired = time.time() - place.stat().st_mtime > LIFETIME
            except OSError:
                continue
            if expired:
                shutil.rmtree(place, ignore_errors=True)
