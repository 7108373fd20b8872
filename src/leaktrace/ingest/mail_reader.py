"""E-mail as a container: an EML message's headers, its bodies (base64 or quoted-printable undone,
in their declared charset) and its attachments are its members; an MBOX's members are messages."""

from __future__ import annotations

import codecs
import mailbox
from collections.abc import Generator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from leaktrace.errors import InputError
from leaktrace.ingest.encoding import normalize_encoding
from leaktrace.ingest.member import Member

_BODY_SUFFIX = {"text/html": ".html"}


def eml_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """The decoded headers (``headers.txt``), each text body (``body-1.txt``, ``body-2.html``)
    and each attachment (by its file name) of one message."""
    del password
    with path.open("rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    headers = "".join(f"{k}: {v}\n" for k, v in msg.items()).encode("utf-8", "replace")
    yield Member("headers.txt", lambda: iter((headers,)), format="text", encoding="utf-8")
    bodies = attachments = 0
    for part in msg.walk():
        if part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        filename = part.get_filename()
        content_type = part.get_content_type()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if (
            filename
            or part.get_content_disposition() == "attachment"
            or part.get_content_maintype() != "text"
        ):
            attachments += 1
            member = Path(filename or "").name or f"attachment-{attachments}"
            yield Member(member, lambda data=data: iter((data,)), size=len(data))
            continue
        bodies += 1
        suffix = _BODY_SUFFIX.get(content_type, ".txt")
        yield Member(
            f"body-{bodies}{suffix}",
            lambda data=data: iter((data,)),
            size=len(data),
            format="html" if suffix == ".html" else "text",
            encoding=_charset(part, data),
        )


def _charset(part: EmailMessage, data: bytes) -> str | None:
    """The part's declared charset if its bytes decode with it (GBK and GB2312 read as their
    superset GB18030); None, so the content decides, when it is missing or wrong."""
    declared = part.get_content_charset()
    if not declared:
        return None
    try:
        encoding = normalize_encoding(declared)
        codecs.decode(data, encoding)
    except (InputError, UnicodeDecodeError, LookupError):
        return None
    return encoding


def mbox_members(path: Path, name: str, password: str | None) -> Generator[Member, None, None]:
    """Each message of an MBOX file as ``message-N.eml``, read one at a time."""
    del password
    box = mailbox.mbox(path, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), 1):
            data = box.get_bytes(key)
            yield Member(f"message-{number}.eml", lambda data=data: iter((data,)), size=len(data))
    finally:
        box.close()
