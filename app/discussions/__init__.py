"""Staged discussions: threads, stages, posts, anonymity and moderation."""
