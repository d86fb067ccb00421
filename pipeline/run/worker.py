"""One worker process of a batch: ``python -m pipeline.run.worker SPEC_JSON``.

Started by ``callqa run --workers N``; prints its statistics as one JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

from pipeline.logs import setup_logging
from pipeline.run.runner import RunSpec, run_in_process


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    spec = RunSpec(**json.loads(args[0]))
    setup_logging(verbose=spec.log_level == "DEBUG", quiet=spec.log_level == "WARNING", prefix=spec.worker_name)
    stats = run_in_process(spec)
    print(json.dumps(asdict(stats)), flush=True)
    return 0 if stats.ok else 3


if __name__ == "__main__":
    sys.exit(main())
