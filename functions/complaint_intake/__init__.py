"""The complaint_intake function."""
