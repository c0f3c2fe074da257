"""Signals cohorts send, so later features can react without cohorts importing them."""

from blinker import Namespace

signals = Namespace()

#: Sent inside the release's transaction, once per release:
#: ``module_released.send(cohort_module, members=[(user_id, email)], now=now)``.
module_released = signals.signal("module-released")
