"""Running a prose skill's body: the model or the offline drafter (``llm``, ``model``,
``drafts``), the vault-confined write tool (``vault_tools``), and metering each call's cost
(``metering``)."""
