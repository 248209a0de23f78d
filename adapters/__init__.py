"""Infrastructure: the event store's hash-chained recorders and their audit, the projection queue, the DDL lock."""
