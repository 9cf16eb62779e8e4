"""Lambda function sources, one folder per function."""
