"""Complaint tools: classifier training, the simulated history, ``gyeonggi complaints``."""
