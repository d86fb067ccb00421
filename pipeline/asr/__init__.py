"""Speech to text: decode and convert recordings, transcribe them with Whisper."""


class ModelLoadError(RuntimeError):
    """A speech model cannot be found or loaded (a bad path, a missing package, a busy file).

    The run layer retries it: loading can fail once and work the next time."""
