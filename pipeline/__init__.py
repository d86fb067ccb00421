"""callqa: call-center QA in batch.

Data flows one way, recording -> audio -> transcript -> tone -> flags -> reports -> reviews,
through five layers, each importing only from itself and the ones before it (``tests/test_layers.py``
checks the import graph):

- ``asr/``: decode and convert recordings (``audio``), transcribe them (``transcribe``, with
  faster-whisper or ``openai_engine``; ``ct2_to_openai`` converts the bundled weights);
- ``analysis/``: tone (``tone`` over the sentence ``encoder``, run from its ONNX export), phrase ``rules``, ``prosody``,
  conversation ``metrics`` and ``flags``, put together per call by ``analyze``;
  ``train_tone`` retrains the tone head;
- ``outputs/``: ``redact``, the CSV/VTT ``writers`` and the HTML ``report``;
- ``review/``: reviewers' decisions on flags (``store``, ``board``), the review ``server``, and what
  the decisions give: ``export``, ``precision``, training lines (``corpus``);
- ``run/``: a batch's machinery: ``inputs`` and ``plan`` (the calls), ``order``, ``stages``
  (per call, without Luigi), ``retry``, ``failures``, ``results`` (the batch files),
  ``runner`` (worker processes), ``workqueue``, ``locking``, and ``evaluate``.

At the root: ``schema`` (what passes between stages and what is written), ``config`` (every
setting, gathered in ``Settings``) and ``logs``. Above the layers: ``tasks.py`` (beside this
package, installed with it) wraps the stages in Luigi tasks, and the entry points
``run/cli.py`` (the ``callqa`` command) and ``run/worker.py`` (its worker processes) build them.
"""

__version__ = "0.1.0"
