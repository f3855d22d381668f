"""Sign-in sessions for the pages: a server-side record per session, so sign-out and expiry really end them."""
