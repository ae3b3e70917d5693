"""The job repository, the partitioner and the runner of the batch (Spring Batch's vocabulary).

- job instance: a job name plus its identifying parameters (`daily`, date=2026-11-01), unique;
- job execution: one attempt at an instance;
- partition execution: one attempt at one partition (a video-id range) of an instance.
"""
