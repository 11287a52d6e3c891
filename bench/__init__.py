"""The pipeline benchmark (make bench)."""
