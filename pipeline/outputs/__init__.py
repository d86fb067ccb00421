"""What a reviewer reads: redaction, CSV and VTT writers, HTML reports."""
