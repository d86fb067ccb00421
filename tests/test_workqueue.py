"""The run's work queue: guided piece sizes, claims atomic between processes and threads,
a fresh queue per run, and claimers that die without stopping the others."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.run import inputs, order
from pipeline.run.locking import folder_lock
from pipeline.run.workqueue import WorkQueue, piece_size

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def make_queue():
    made = []

    def make(n: int, workers: int, most: int) -> WorkQueue:
        made.append(WorkQueue.create([f"call-{i:04d}" for i in range(n)], workers, most))
        return made[-1]

    yield make
    for queue in made:
        queue.remove()


def claim_all(queue: WorkQueue) -> list[range]:
    pieces = []
    while piece := queue.claim():
        pieces.append(piece)
    return pieces


def test_pieces_start_big_shrink_to_one_call_and_cover_the_batch_in_order(make_queue):
    pieces = claim_all(make_queue(1000, workers=2, most=40))
    sizes = [len(p) for p in pieces]
    assert sizes[0] == 40 and max(sizes) == 40  # capped
    assert sizes == sorted(sizes, reverse=True)  # guided: never bigger than the one before
    assert sizes[-4:] == [1, 1, 1, 1]  # the tail goes a call at a time
    assert [i for p in pieces for i in p] == list(range(1000))
    assert len(pieces) < 1000 / 10  # but few claims in all


@pytest.mark.parametrize(("remaining", "workers", "expected"), [(21, 2, 6), (4, 2, 1), (1, 8, 1), (500, 1, 40)])
def test_piece_size_is_remaining_over_twice_the_workers(remaining, workers, expected):
    assert piece_size(remaining, workers, most=40) == expected


def test_threads_claiming_at_once_get_every_call_exactly_once(make_queue):
    queue = make_queue(600, workers=8, most=3)
    claimed: list[list[range]] = [[] for _ in range(8)]
    start = threading.Barrier(8)

    def claimer(mine: list[range]) -> None:
        start.wait()
        mine.extend(claim_all(WorkQueue(queue.folder)))

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    indices = [i for mine in claimed for p in mine for i in p]
    assert sorted(indices) == list(range(600))  # none twice, none left out
    assert sum(bool(mine) for mine in claimed) >= 2


CLAIMER = """
import json, sys
from pipeline.run.workqueue import WorkQueue
queue = WorkQueue(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()  # all claimers start together
print(json.dumps([[p.start, p.stop] for p in iter(queue.claim, range(0))]))
"""


def test_processes_claiming_at_once_get_every_call_exactly_once(make_queue):
    queue = make_queue(800, workers=4, most=1)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER, str(queue.folder)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env, text=True) for _ in range(4)]  # fmt: skip
    assert [p.stdout.readline().strip() for p in procs] == ["ready"] * 4
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    claimed = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0]
    indices = [i for mine in claimed for start, stop in mine for i in range(start, stop)]
    assert sorted(indices) == list(range(800))  # none twice, none left out
    assert sum(bool(mine) for mine in claimed) >= 2


def test_a_claimer_killed_while_holding_the_lock_does_not_stop_the_others(make_queue):
    queue = make_queue(10, workers=2, most=40)
    die_holding_the_lock = (
        "import os, signal, sys\nfrom pipeline.run.locking import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    died = subprocess.run([sys.executable, "-c", die_holding_the_lock, str(queue.folder)],
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)  # fmt: skip
    assert died.returncode == -9
    got: list[range] = []
    claimer = threading.Thread(target=lambda: got.extend(claim_all(queue)), daemon=True)
    claimer.start()
    claimer.join(timeout=30)
    assert not claimer.is_alive(), "a dead claimer's lock must not block the queue"
    assert [i for p in got for i in p] == list(range(10))


def test_every_run_gets_a_fresh_queue_and_a_removed_one_hands_out_nothing(make_queue):
    first = make_queue(50, workers=2, most=40)
    assert first.claim().start == 0
    assert first.claim().start > 0
    second = make_queue(50, workers=2, most=40)  # the next run, on the same calls
    assert second.folder != first.folder
    assert second.claim().start == 0
    first.remove()
    assert not first.folder.exists()
    assert not WorkQueue(first.folder).claim()  # a worker of a stopped run stops claiming
    with pytest.raises(FileNotFoundError):
        with folder_lock(first.folder):  # the lock never recreates a removed folder
            pass


def test_batch_order_is_largest_first_and_a_piece_keeps_its_order(tmp_path):
    for name, size in (("small.wav", 10), ("big.wav", 3000), ("middle.wav", 500)):
        (tmp_path / name).write_bytes(b"\0" * size)
    calls = inputs.plan_batch([str(tmp_path)], None)[0]
    ordered = order.ordered(calls)
    assert [Path(c.source).name for c in ordered] == ["big.wav", "middle.wav", "small.wav"]
    piece = [ordered[2].call_id, "gone-0000000000", ordered[0].call_id]
    assert [c.call_id for c in order.select(calls, piece)] == [ordered[2].call_id, ordered[0].call_id]
