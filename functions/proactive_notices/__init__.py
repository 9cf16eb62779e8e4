"""The proactive_notices function."""
