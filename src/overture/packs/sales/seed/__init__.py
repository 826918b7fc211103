"""The seed org: a believable sales team generated from a seed number and a day
(``generate``, ``builder``), its fixed cast (``cast``), its week of meetings, threads and proposals
(``week``, ``events``, ``scripts``), and the demo's story (``story``)."""
