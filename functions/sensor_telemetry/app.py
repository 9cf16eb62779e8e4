"""Sensor telemetry from the IoT topic rule: validate, keep the latest reading per sensor.

A malformed reading never crashes the function: it goes to the dead-letter queue with the
reason and is counted, and the device's next reading is processed as usual.
"""

from __future__ import annotations

from typing import Any

from gyeonggi.common.config import Settings
from gyeonggi.common.errors import InvalidInput
from gyeonggi.common.observability import observability
from gyeonggi.safety.telemetry import RejectedReadings, SensorStateStore, parse_telemetry

logger, tracer, metrics = observability()


class TelemetrySettings(Settings):
    sensor_state_table: str
    telemetry_dlq_url: str


settings = TelemetrySettings.from_env()
store = SensorStateStore(settings.sensor_state_table)
rejected = RejectedReadings(settings.telemetry_dlq_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        reading = parse_telemetry(event)
    except InvalidInput as exc:
        metrics.add_metric(name="TelemetryRejected", unit="Count", value=1)
        logger.warning("telemetry rejected", extra={"reason": exc.message})
        rejected.reject(event, exc.message)
        return {"accepted": False, "reason": exc.message}
    store.record(reading)
    metrics.add_metric(name="TelemetryAccepted", unit="Count", value=1)
    return {"accepted": True, "sensor_key": reading.sensor_key}
