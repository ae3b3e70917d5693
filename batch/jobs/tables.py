"""The job repository's tables (defined in services/common/jobs_schema.py, beside the
migrations that create them)."""

from services.common.jobs_schema import job_execution, job_instance, job_partition, partition_execution

__all__ = ["job_execution", "job_instance", "job_partition", "partition_execution"]
