"""Provides verdict hints: agreement signals, an optional NLI model, suggestions, verdict memory."""
