"""The web console at ``/``: the approval inbox and the jobs pages (``routes``), their
rendering (``pages``, ``templates/``, ``static/``) and sign-in sessions (``session``)."""
