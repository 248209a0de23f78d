"""Infrastructure: the event store's hash-chained recorders and their audit, the read models' SQL, the projection
queue, the DDL lock: how Accord talks to databases and queues."""
