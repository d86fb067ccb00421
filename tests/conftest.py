"""Shared fixtures. Nothing here reads ../shared or the network."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tasks.py lives at the top of the repo
sys.path.insert(0, str(Path(__file__).resolve().parent))  # audio_factory

SAMPLES = ROOT / "audio"


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture
def cache_env(tmp_path, monkeypatch):
    """A private model cache, so tests never touch the user's."""
    monkeypatch.setenv("CALLQA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
