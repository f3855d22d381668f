"""The privacy policy as code: schema, loading with line numbers, checks, diff, rendering, promise coverage."""
