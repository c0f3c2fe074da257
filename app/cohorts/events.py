"""Live events of cohorts: who may join a cohort room."""

from app.cohorts.access import can_listen_to_cohort
from app.realtime import room_kind

room_kind("cohort")(can_listen_to_cohort)
