"""Event envelope (CloudEvents 1.0, Kafka binary mode), topic names and the versioned
payload contracts, one module per producing service."""
