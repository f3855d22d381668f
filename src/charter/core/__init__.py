"""Shared building blocks every domain package may use: settings, database, crypto, i18n, errors."""
