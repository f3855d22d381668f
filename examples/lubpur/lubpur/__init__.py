"""Lubpur 超润: the B2B lubricant portal that shows Charter keeping every LUB promise end to end."""
