"""The complaint_privacy function."""
