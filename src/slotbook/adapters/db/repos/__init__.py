"""Repositories: functions from an open connection to domain objects and back."""
