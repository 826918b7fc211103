"""A skill's prose run as a session with the person (see :mod:`overture.skills.session.run`)."""
