"""The core: the records an event becomes (events, jobs, steps, pending actions and their
statuses) and every decision made about them, as pure functions of their inputs and the time
passed in: the five gates, active hours, budget periods, dedupe keys, failure policies, schedule
slots, delivery policy, draft rules and webhook decisions. Nothing here does I/O; storage imports
its record types from here, and the engine carries the decisions out."""
