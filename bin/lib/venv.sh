# Sourced by bin/* (from the repository's root): ensure_venv DIR REQUIREMENTS creates DIR as a
# virtual environment holding the pinned REQUIREMENTS and this repository as an editable package
# (Airflow finds its connection types through pyproject.toml's entry point; the code imported is
# plugins/campaigns itself). It reinstalls only when REQUIREMENTS, requirements.txt or
# pyproject.toml changed.

find_python() {
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

ensure_venv() {
    local dir=$1 requirements=$2 python stamp wanted
    wanted=$(cat "$requirements" requirements.txt pyproject.toml | sha256sum | cut -c1-16)
    stamp="$dir/.requirements-$wanted"
    [ -f "$stamp" ] && return 0
    python=$(find_python)
    echo "Setting up $dir from $requirements (first run takes a few minutes)..." >&2
    [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e . >&2
    rm -f "$dir"/.requirements-*
    touch "$stamp"
}
