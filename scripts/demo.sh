#!/usr/bin/env bash
# Set up (if needed) and run callqa on the sample recordings in audio/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
set +e
.venv/bin/callqa run audio --manifest audio/manifest.csv --out outputs "$@"
code=$?
set -e
echo
echo "Results are in $(pwd)/outputs; open $(pwd)/outputs/report.html in a browser."
exit $code
