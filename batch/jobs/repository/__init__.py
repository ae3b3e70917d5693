"""The job repository in SQL: instances, their fixed partition plans, executions, partitions.

One module per kind of row: instances.py (instances and plans), executions.py, partitions.py
(partition executions), reads.py (what operators read), rows.py (row mapping, LostUpdate).
Callers use the package: `from batch.jobs import repository; repository.start_execution(...)`.

Every function takes a connection inside the caller's transaction. Status changes of an
execution are optimistic-locked by its `version` column: an update that finds another
version (someone, e.g. `recover`, changed the row meanwhile) raises LostUpdate instead of
overwriting. The launch guard is the unique `running_instance_id` column (see
batch/jobs/tables.py).
"""

from batch.jobs.repository.executions import (
    completed_partition_keys,
    end_execution,
    heartbeat,
    insert_execution,
    mark_crashed,
    plays_read,
    previous_executions,
    running_execution,
    running_executions,
    start_execution,
    update_execution,
)
from batch.jobs.repository.instances import (
    find_instance,
    insert_instance,
    partition_plan,
    save_partition_plan,
)
from batch.jobs.repository.partitions import (
    complete_partition,
    fail_partition,
    get_partition_execution,
    partition_executions,
    partition_work,
    retry_partition,
    start_partition,
    stop_partitions,
)
from batch.jobs.repository.reads import get_execution, last_success_us, recent_executions
from batch.jobs.repository.rows import RUNNING, LostUpdate

__all__ = [
    "LostUpdate",
    "RUNNING",
    "complete_partition",
    "completed_partition_keys",
    "end_execution",
    "fail_partition",
    "find_instance",
    "get_execution",
    "get_partition_execution",
    "heartbeat",
    "insert_execution",
    "last_success_us",
    "insert_instance",
    "mark_crashed",
    "partition_executions",
    "partition_plan",
    "partition_work",
    "plays_read",
    "previous_executions",
    "recent_executions",
    "retry_partition",
    "running_execution",
    "running_executions",
    "save_partition_plan",
    "start_execution",
    "start_partition",
    "stop_partitions",
    "update_execution",
]
