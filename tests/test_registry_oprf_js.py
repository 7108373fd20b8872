"""The browser's OPRF (static/oprf.js on the vendored @noble/curves build) in Node and in headless
Chromium (Debian's, driven by Playwright), the page served under the registry's own security
headers: both reproduce RFC 9497's ristretto255-SHA512 OPRF-mode vectors for the given Blind, blind
randomly, refuse invalid elements, and finalize what Python's key side evaluated into Python's own
output for the same input. The vendored file's SHA-256 is the one its README and the docs state."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from leaktrace.registry import oprf
from leaktrace.registry.app import SECURITY_HEADERS
from leaktrace.registry.page_render import STATIC
from leaktrace.report.pdf import CHROMIUM, CHROMIUM_ARGS

sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")

ROOT = Path(__file__).resolve().parents[1]
JS = Path(__file__).parent / "js"
VENDORED = STATIC / "vendor" / "noble-curves-oprf.js"
SUITE = json.loads((Path(__file__).parent / "data" / "rfc9497_oprf_ristretto255.json").read_text())
SECRET_KEY = bytes.fromhex(SUITE["skSm"])
# A resident ID and a mobile (made up), the empty input, and text beyond ASCII.
TEXTS = ["11010519491231002X", "13812345678", "", "身份证号"]
NOT_ELEMENTS = ["00" * 32, "ff" * 32, "01" + "00" * 31, "e2f2ae0a"]

Run = Callable[[str, Any], Any]


def run_in_node(check: str, args: Any) -> Any:
    """One check of oprf_checks.mjs run by Node on the package's static/oprf.js."""
    node = shutil.which("node")
    assert node, "these checks need Node.js (Debian's nodejs package) on the PATH"
    done = subprocess.run(
        [node, str(JS / "oprf_node.mjs"), str(STATIC / "oprf.js")],
        input=json.dumps({"check": check, "args": args}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the test's folder with the registry's security headers (its CSP included)."""

    extensions_map = {".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript"}

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads responses, not the server's log."""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A page of headless Chromium that loaded static/oprf.js and the checks, ready to run them."""
    root = tmp_path_factory.mktemp("oprf_site")
    (root / "static").symlink_to(STATIC, target_is_directory=True)
    for name in ("oprf_page.html", "oprf_page.mjs", "oprf_checks.mjs"):
        (root / name).symlink_to(JS / name)
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
            )
            try:
                tab = browser.new_page()
                tab.goto(f"http://127.0.0.1:{server.server_port}/oprf_page.html")
                tab.wait_for_selector("body[data-ready=yes]", state="attached")
                yield tab
            finally:
                browser.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=["node", "chromium"])
def run(request: pytest.FixtureRequest) -> Run:
    """Runs one check of oprf_checks.mjs in Node or in the Chromium page."""
    if request.param == "node":
        return run_in_node
    tab = request.getfixturevalue("page")
    return lambda check, args: tab.evaluate(
        "([check, args]) => window.oprfChecks[check](args)", [check, args]
    )


def test_rfc9497_vectors(run: Run) -> None:
    results = run("vectors", SUITE)
    assert len(results) == len(SUITE["vectors"])
    for got, vector in zip(results, SUITE["vectors"], strict=True):
        assert got["blind"] == vector["Blind"]
        assert got["blindedElement"] == vector["BlindedElement"]
        assert got["output"] == vector["Output"]


def test_blinding_is_randomised(run: Run) -> None:
    first, second = run("blindTexts", [TEXTS[1], TEXTS[1]])
    assert first["blind"] != second["blind"]
    assert first["blindedElement"] != second["blindedElement"]


def test_a_javascript_blind_finalized_after_python_evaluates(run: Run) -> None:
    blinded = run("blindTexts", TEXTS)
    items = [
        {
            "text": text,
            "blind": b["blind"],
            "evaluatedElement": oprf.blind_evaluate(
                SECRET_KEY, bytes.fromhex(b["blindedElement"])
            ).hex(),
        }
        for text, b in zip(TEXTS, blinded, strict=True)
    ]
    outputs = run("finalizeTexts", items)
    assert outputs == [oprf.evaluate(SECRET_KEY, text.encode("utf-8")).hex() for text in TEXTS]


def test_invalid_elements_are_refused(run: Run) -> None:
    assert run("refusals", NOT_ELEMENTS) == [True] * len(NOT_ELEMENTS)


def test_the_page_ran_under_the_registry_csp(page: Any) -> None:
    """The checks ran as modules from 'self' while the page's inline script was blocked."""
    assert "script-src 'self'" in SECURITY_HEADERS["Content-Security-Policy"]
    assert page.evaluate("() => window.inlineScriptRan === undefined")
    assert page.evaluate("() => typeof window.oprfChecks.vectors") == "function"


def test_the_vendored_build_is_the_one_documented() -> None:
    digest = hashlib.sha256(VENDORED.read_bytes()).hexdigest()
    for doc in (STATIC / "vendor" / "README.md", ROOT / "docs" / "registry-oprf.md"):
        stated = re.findall(r"\b[0-9a-f]{64}\b", doc.read_text("utf-8"))
        assert digest in stated, doc.name
