"""Tests of the embedded local cloud itself: the deployer's intrinsics, the in-process runner
and pollers, the API routes, the MQTT broker and IoT rule bridge, the token issuer, `local up`,
the LocalStack probe. What the stack does in it is tested in `tests/integration`."""
