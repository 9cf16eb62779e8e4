"""The sensor_anomalies function."""
