"""Sign-in, password resets, sessions and API tokens."""
