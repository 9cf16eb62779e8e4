"""The sensor_telemetry function."""
