"""The API's docs on the local stack, offline: its OpenAPI document and Swagger UI on it.

GET /_local/openapi.json     the document `make openapi` writes to docs/openapi.json, generated from the code
GET /_local/docs             Swagger UI listing every operation; "Try it out" calls this same stack
GET /_local/docs/<asset>     Swagger UI's own files, from the swagger-ui-py package (pinned in pyproject.toml)

Nothing comes from elsewhere: the page's Content-Security-Policy lets it load and call only its own origin.
The document is generated once per stack, on the first request, by `python -m points_local.openapi` in a
process of its own (that imports every function's module, which the stack's own process never does).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Final

from points_local.gateway import HttpResponse

PREFIX: Final = "/_local/docs"
DOCUMENT_PATH: Final = "/_local/openapi.json"
SWAGGER_UI_PACKAGE: Final = "swagger_ui"  # swagger-ui-py's import name
_GENERATION_TIMEOUT_SECONDS: Final = 120
_INITIALIZER: Final = "points-local-docs.js"
# Swagger UI's files that the page loads, from the package's static/ folder, and their media types.
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
# Swagger UI styles its elements inline and draws some icons from data: URIs; nothing else is allowed.
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

PAGE: Final = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>points-local: API docs</title>
<link rel="stylesheet" href="{PREFIX}/swagger-ui.css">
<link rel="icon" type="image/png" href="{PREFIX}/favicon-32x32.png" sizes="32x32">
<link rel="icon" type="image/png" href="{PREFIX}/favicon-16x16.png" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{PREFIX}/swagger-ui-bundle.js"></script>
<script src="{PREFIX}/{_INITIALIZER}"></script>
</body>
</html>
"""

# The document names `make run`'s address as its server; the page calls the stack that serves it, wherever.
INITIALIZER: Final = f""""use strict";
fetch("{DOCUMENT_PATH}")
  .then((response) => {{
    if (!response.ok) {{
      return response.text().then((text) => {{ throw new Error(response.status + " " + text); }});
    }}
    return response.json();
  }})
  .then((spec) => {{
    spec.servers = [{{ url: window.location.origin, description: "this points-local" }}];
    window.ui = SwaggerUIBundle({{
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      displayRequestDuration: true,
      validatorUrl: null,
    }});
  }})
  .catch((error) => {{
    document.getElementById("swagger-ui").textContent = "{DOCUMENT_PATH}: " + error.message;
  }});
"""


def _response(status: int, content_type: str, body: bytes, *headers: tuple[str, str]) -> HttpResponse:
    return HttpResponse(
        status,
        [("Content-Type", content_type), ("X-Content-Type-Options", "nosniff"), *headers],
        body,
    )


def _error(status: int, message: str) -> HttpResponse:
    return _response(status, "application/json", json.dumps({"message": message}).encode())


def swagger_ui_static() -> Path | None:
    """swagger-ui-py's static/ folder, found without importing the package (it imports web frameworks)."""
    spec = importlib.util.find_spec(SWAGGER_UI_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "static"


class ApiDocs:
    """The document and the page for the API of one template."""

    def __init__(self, template_path: Path) -> None:
        self._template_path = template_path
        self._document: bytes | None = None
        self._lock = threading.Lock()

    def document(self) -> bytes:
        """The OpenAPI document, as `python -m points_local.openapi` renders it for the template."""
        with self._lock:
            if self._document is None:
                command = [
                    sys.executable,
                    "-m",
                    "points_local.openapi",
                    "--stdout",
                    "--template",
                    str(self._template_path),
                ]
                completed = subprocess.run(  # noqa: S603 - this Python, this package, no shell
                    command,
                    capture_output=True,
                    cwd=self._template_path.parent,
                    timeout=_GENERATION_TIMEOUT_SECONDS,
                    check=False,
                )
                if completed.returncode != 0:
                    raise DocumentUnavailable(completed.stderr.decode(errors="replace").strip())
                self._document = completed.stdout
            return self._document

    def document_response(self) -> HttpResponse:
        try:
            document = self.document()
        except (DocumentUnavailable, subprocess.TimeoutExpired) as error:
            return _error(500, f"the OpenAPI document could not be generated from the code: {error}")
        return _response(200, "application/json", document, ("Cache-Control", "no-cache"))

    def page_response(self, name: str) -> HttpResponse:
        """`name` is what follows /_local/docs/ ("" for the page itself)."""
        if name == "":
            return _response(
                200,
                "text/html; charset=utf-8",
                PAGE.encode(),
                ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
                ("Cache-Control", "no-cache"),
            )
        if name == _INITIALIZER:
            return _response(200, "text/javascript; charset=utf-8", INITIALIZER.encode())
        if name not in ASSETS:
            return _error(404, f"no such file {PREFIX}/{name}: the page is {PREFIX}")
        static = swagger_ui_static()
        if static is None:
            return _error(500, "swagger-ui-py is not installed: `make install` installs it")
        return _response(200, ASSETS[name], (static / name).read_bytes())


class DocumentUnavailable(Exception):
    """`python -m points_local.openapi` failed for the template (its message is what it printed)."""
