"""Copy the pack writes without a model: follow-up, reply and scheduling emails and proposals
(``copywriting``), advice after calls and for deals (``advice``), and the morning brief in the
seed's format (``brief``)."""
