"""The console's third-party browser code, xterm.js, from npm (package.json and its lockfile
at the repository's root, installed into node_modules by scripts/install). Only the files
the console loads are served, under /static/vendor/, as every other static file is."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.staticfiles import StaticFiles

NODE_MODULES = Path(__file__).resolve().parent.parent.parent / "node_modules"

# The name the console asks for -> the file in node_modules; nothing else there is served.
FILES = {
    "xterm.js": "@xterm/xterm/lib/xterm.js",
    "xterm.css": "@xterm/xterm/css/xterm.css",
    "addon-fit.js": "@xterm/addon-fit/lib/addon-fit.js",
}


class VendorFiles(StaticFiles):
    """StaticFiles over node_modules that answers only for the names in FILES (404 for any
    other path, and for these too when npm's install step has not run)."""

    def __init__(self, directory: Path = NODE_MODULES) -> None:
        super().__init__(directory=str(directory), check_dir=False)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        wanted = FILES.get(path)
        if wanted is None:
            return "", None
        return super().lookup_path(wanted)
