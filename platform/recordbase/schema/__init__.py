"""Physical tables of entities and the service that changes them."""
