"""callqa: call-center QA in batch.

Stages, one module each, data flowing one way:
``audio`` (convert) -> ``transcribe`` -> ``analyze`` (``tone``, ``prosody``, ``rules``,
``flags``) -> ``writers`` / ``report``. ``schema`` holds what passes between them and what is
written; ``config`` holds every option; ``stages`` runs one stage over a call folder;
``tasks.py`` (beside this package) wraps the stages in Luigi tasks.
"""

__version__ = "0.1.0"
