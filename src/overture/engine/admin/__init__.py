"""Running the tenancy and reading it back: orgs, users, feature switches and budgets
(``tenancy``), API tokens (``tokens``), and the read models the API, CLI and console show
(``views``)."""
