"""A stored rule set this release cannot load (the poison journey's cause): the same step
``leadflow demo`` takes below the API, so both break scoring the same way."""

from leadflow_local.demo.poison import UNKNOWN_KIND_RULE, store_unloadable_rule_set

__all__ = ["UNKNOWN_KIND_RULE", "store_unloadable_rule_set"]
