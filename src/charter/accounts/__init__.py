"""Controllers (tenants), their staff accounts and roles, and the API keys host applications use."""
