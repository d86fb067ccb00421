"""callqa: call-center QA in batch.

Data flows one way, recording -> audio -> transcript -> tone -> flags -> reports, through four
layers, each importing only from the ones before it:

- ``asr/``: decode and convert recordings (``audio``), transcribe them (``transcribe``, with
  faster-whisper or ``openai_engine``; ``ct2_to_openai`` converts the bundled weights);
- ``analysis/``: tone (``tone`` over the ``minilm`` encoder), phrase ``rules``, ``prosody``,
  conversation ``metrics`` and ``flags``, put together per call by ``analyze``;
  ``train_tone`` retrains the tone head;
- ``outputs/``: ``redact``, the CSV/VTT ``writers`` and the HTML ``report``;
- ``run/``: the batch machinery (``cli``, ``runner``, ``worker``, ``workqueue``, ``locking``,
  ``batch``, ``stages``, ``inputs``) and ``evaluate``.

At the root: ``schema`` (what passes between stages and what is written), ``config`` (every
option) and ``logs``. ``tasks.py`` (beside this package) wraps the stages in Luigi tasks.
"""

__version__ = "0.1.0"
