"""Users, roles, sessions and terminal enrollment."""
