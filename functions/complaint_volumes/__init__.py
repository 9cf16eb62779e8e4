"""The complaint_volumes function."""
