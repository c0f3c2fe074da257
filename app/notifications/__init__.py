"""Notifications: the e-mail outbox's delivery now; in-app notifications and digests next."""
