"""The batch: job repository, partitioner, steps and the BatchService."""
