"""Petition forms written through dialogue (issue 11).

The catalogue of forms is data (``catalogue/*.json``, one file per form); the modules here read
it, validate what a citizen says (:mod:`.validation` and the exact readers it uses), understand
an utterance (:mod:`.understanding`, with the exported models of :mod:`.models`), run the
conversation (:mod:`.dialogue`) and keep it (:mod:`.sessions`). See docs/FORMS.md.
"""
