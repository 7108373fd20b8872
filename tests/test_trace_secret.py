"""The marking secret: from a file or the environment, hex or base64, at least 32 bytes; never
shown, named by its key id."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from leaktrace import i18n
from leaktrace.errors import InputError
from leaktrace.trace import secret
from leaktrace.trace.secret import FILE_ENV, VALUE_ENV, Secret

KEY = bytes(range(7, 7 + 48))
HEX = KEY.hex()


@pytest.mark.parametrize(
    "written",
    [HEX, HEX.upper(), f"  {HEX}\n", base64.b64encode(KEY).decode(), HEX[:48] + "\n" + HEX[48:]],
)
def test_the_secret_from_the_environment(written: str) -> None:
    s = secret.load({VALUE_ENV: written})
    assert s.key_id == Secret(KEY).key_id
    assert len(s.key_id) == secret.KEY_ID_CHARS


def test_the_secret_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "密钥" / "leaktrace.key"
    path.parent.mkdir()
    path.write_text(base64.b64encode(KEY).decode() + "\n", encoding="ascii")
    assert secret.load({FILE_ENV: str(path)}).key_id == Secret(KEY).key_id


def test_the_secret_is_never_shown() -> None:
    s = Secret(KEY)
    for shown in (repr(s), str(s), f"{s}"):
        assert HEX not in shown and base64.b64encode(KEY).decode() not in shown
        assert s.key_id in shown
    # The key id is keyed: not a plain hash of the secret, and different for another secret.
    assert s.key_id not in hashlib.sha256(KEY).hexdigest()
    assert Secret(KEY[::-1]).key_id != s.key_id


def test_each_use_gets_its_own_key() -> None:
    s = Secret(KEY)
    code, canary = s.derive("code"), s.derive("canary")
    assert len(code) == len(canary) == 32 and code != canary
    assert Secret(KEY).derive("code") == code and KEY not in (code, canary)


def _error(env: dict[str, str]) -> InputError:
    with pytest.raises(InputError) as caught:
        secret.load(env)
    return caught.value


def test_unusable_secrets_are_clear_errors(tmp_path: Path) -> None:
    short = "ab" * 31
    e = _error({VALUE_ENV: short})
    assert str(e) == (
        f"{VALUE_ENV}: expected a secret of at least 32 bytes written in hex or base64, "
        "found 31 bytes"
    )
    assert short not in str(e)
    e = _error({VALUE_ENV: "这不是密钥-not a key!!"})
    assert "neither hex nor base64" in str(e) and "not a key" not in str(e)
    assert "neither set" in str(_error({}))
    assert "both set" in str(_error({VALUE_ENV: HEX, FILE_ENV: str(tmp_path / "k")}))
    missing = tmp_path / "no_such.key"
    e = _error({FILE_ENV: str(missing)})
    assert str(e).startswith(f"{missing}: expected a readable file holding the marking secret")
    binary = tmp_path / "raw.key"
    binary.write_bytes(b"\xff\xfe" + KEY)
    assert "found binary data" in str(_error({FILE_ENV: str(binary)}))


def test_errors_in_chinese() -> None:
    i18n.set_language("zh")
    assert "至少 32 字节" in str(_error({VALUE_ENV: "abcd"}))
    assert "两者都未设置" in str(_error({}))


def test_the_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(FILE_ENV, raising=False)
    monkeypatch.setenv(VALUE_ENV, HEX)
    assert secret.load().key_id == Secret(KEY).key_id
    with pytest.raises(ValueError, match="32 bytes"):
        Secret(KEY[:31])
