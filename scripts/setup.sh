#!/usr/bin/env bash
# Set up everything callqa needs on a fresh Debian machine with Python 3.11:
# system packages (ffmpeg; with --test also espeak-ng, sox, flite and chromium for the tests
# and benchmarks),
# a virtual environment at .venv with torch's CPU build installed first, then the project.
# Running it again is fast and changes nothing: each step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

say() { printf 'setup: %s\n' "$*" >&2; }

need=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
if [ "$want_test" = 1 ]; then
  command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
  command -v sox >/dev/null 2>&1 || need+=(sox)
  command -v flite >/dev/null 2>&1 || need+=(flite)  # benchmarks: voices of four people
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing system packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

python=${PYTHON:-python3.11}
command -v "$python" >/dev/null 2>&1 || python=python3
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $python"
  "$python" -m venv .venv
fi

# Reinstall only when the project's requirements changed since the last install.
stamp=.venv/.callqa-installed
digest=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  pip() { .venv/bin/python -m pip --disable-pip-version-check -q "$@"; }
  say "installing torch (CPU build) first, then callqa and its models"
  pip install --upgrade pip
  pip install torch==2.13.0
  pip install -e ".[dev]"
  # openai-whisper without triton (GPU only): its other dependencies are in pyproject.toml.
  pip install --no-deps openai-whisper==20250625
  # resemblyzer without its pin on the original webrtcvad (see pyproject.toml).
  pip install --no-deps resemblyzer==0.1.4
  echo "$digest" > "$stamp"
fi
