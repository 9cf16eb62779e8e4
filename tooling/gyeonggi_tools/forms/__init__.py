"""Petition-form dialogue tools: the generated dialogues, training and export of the two models,
the offline ``gyeonggi forms converse`` and the evaluation against the hand-written set."""
