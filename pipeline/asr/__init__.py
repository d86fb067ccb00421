"""Speech to text: decode and convert recordings, transcribe them with Whisper."""
