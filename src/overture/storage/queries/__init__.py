"""Named, org-scoped queries over the tables, one module per subject: jobs and steps,
pending actions and their messages, notifications, schedules, tenancy, tokens, integrations,
recording bots and budgets. The engine asks for operations by name; it never builds SQL inline."""
