"""The embedded local cloud: the stack from template.yaml, deployed into moto, run in-process."""
