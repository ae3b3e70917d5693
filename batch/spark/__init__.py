"""The Spark batch engine (PAYSYSTEM_BATCH_ENGINE=spark): the same partition-day computation
as batch/steps, on a Spark cluster, written back through the same SQL (batch/spark/README.md)."""
