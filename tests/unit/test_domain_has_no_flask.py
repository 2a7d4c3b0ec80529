"""The domain package never imports Flask or the web layer (DESIGN.md §2)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import credits
names = ["credits"]
for info in pkgutil.walk_packages(credits.__path__, "credits."):
    importlib.import_module(info.name)
    names.append(info.name)
web = ("flask", "app")
leaked = sorted(m for m in sys.modules if m.split(".")[0] in web or m.startswith("flask_"))
print(json.dumps({"modules": names, "leaked": leaked}))
"""


def test_importing_every_credits_module_does_not_import_flask_or_app():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert {"credits.ledger", "credits.workflow", "credits.models"} <= set(found["modules"])
    assert found["leaked"] == [], f"credits imports the web layer: {found['leaked']}"
