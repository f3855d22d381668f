"""Attempt limits (sign-in, second factor, one-time codes), kept in the database so they hold across workers."""
