"""Reading and writing the records of entities."""
