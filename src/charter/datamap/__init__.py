"""The data map: where each piece of personal data lives, checked against the policy, and the pure plan of a request."""
