"""The sales pack's CRM: named reads (``queries``), idempotent writes (``writes``), the
``crm:ACTION`` steps of sequences (``actions``), and the tier-2/3 context providers that read it
and the outside sources (``providers``)."""
