"""Safety monitoring of industrial complexes: sensor telemetry, alarms, incidents."""
