"""Provides the reviewer's terminal UI, the only package of the workbench that imports Textual."""
