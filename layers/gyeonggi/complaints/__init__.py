"""Civil complaints: Open311 intake, privacy separation, storage and lookup."""
