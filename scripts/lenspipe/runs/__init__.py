"""Runs: the resumable chunk job, job records and logs, the SLURM checks and the status command."""
