"""Signals cohorts send, so later features can react without cohorts importing them."""

from blinker import Namespace

signals = Namespace()

#: Sent inside the release's transaction, once per release:
#: ``module_released.send(cohort_module, members=[(user_id, email)], now=now)``.
module_released = signals.signal("module-released")

#: Sent inside the launch transaction, after the modules are copied:
#: ``cohort_launched.send(cohort, modules={module_id: cohort_module_id}, now=now)``;
#: features copy their own parts of each module (the snapshot rule).
cohort_launched = signals.signal("cohort-launched")
