"""Safety tools: the device simulator, CCTV test clips, gateway and alert admin, redrive."""
