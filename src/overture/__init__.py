"""Overture: an event-driven orchestrator for AI-agent workflows.

Events from webhooks, schedules and clicks become durable, resumable sequences of
skills, with approval gates, follow-up chains and safeguards against cost, noise,
duplicates and runaway loops.
"""

__version__ = "0.1.0"
