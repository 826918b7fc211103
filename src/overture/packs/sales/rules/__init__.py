"""The offline rules: what a model would be asked, answered by rules over the same input.
Transcript text and sides (``text``), spoken dates (``dates``), commitments and their intents
(``commitments``, ``intents``), the other signals of a call (``signals``), incoming email
(``email``), deal health (``pipeline``), and their wiring into the offline provider
(``offline``)."""
