"""Context assembly for prose skills: the date argument resolved (``dates``), the Context
section's bullets mapped to needs (``needs``, ``classifier``), and the needs fulfilled
concurrently (``fulfil``, ``loading``)."""
