"""The sales skills the sequences call, one module per moment: a meeting that ended
(``meeting``), email (``email``, ``mailer``), deals and proposals (``deals``), the morning brief's
sources (``brief``), mutual free time (``slots``), campaigns and coaching."""
