"""Infrastructure: how Accord talks to databases and queues."""
