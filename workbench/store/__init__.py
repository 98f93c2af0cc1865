"""Provides the workspace store by concern: connection, schema, evidence, claims, reviews, queue."""
