# Shared by scripts/server and scripts/test: the virtual environment and the catalogues.
# Sourced, not run. Expects ROOT to be the repository root.

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

setup_venv() {
    # $1: the extras to install ("" or "[dev]")
    local extras=$1
    local stamp="$ROOT/.venv/.installed$extras"
    if [ ! -x "$ROOT/.venv/bin/python" ]; then
        "$PYTHON" -m venv "$ROOT/.venv"
        "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
    fi
    # Reinstall only when pyproject.toml changed since the last install.
    if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
        "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT$extras"
        touch "$stamp"
    fi
}

compile_catalogues() {
    "$ROOT/.venv/bin/pybabel" compile --use-fuzzy -d "$ROOT/translations" -D messages >/dev/null
}
