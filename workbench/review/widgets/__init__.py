"""Provides the review UI's widgets: the header, the claim queue, the claim and its evidence."""
