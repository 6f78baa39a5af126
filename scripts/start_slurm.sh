#!/usr/bin/env bash
# Install (Debian's slurm-wlm and munge) and start a one-node SLURM cluster on localhost, for
# the SLURM integration tests. Needs root. Safe to run again: it rewrites the configuration and
# restarts the daemons. .ci/run calls it before the tests; it exits non-zero if the cluster does
# not come up, so CI fails rather than skipping the SLURM tests.
#
# The cluster mimics the part of Amarel that lenspipe's profile uses: a default partition
# `main` and a partition `gpu` whose node advertises one GPU (a counted GRES with no device
# file: SLURM schedules it, TensorFlow still runs on the CPU). Accounting storage is off, so
# `sacct` does not work here; tests use `--slurm-status-command squeue`.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
    echo "start_slurm.sh: must run as root (it installs packages and starts daemons)" >&2
    exit 1
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

cpus=$(nproc)
# Leave 2 GiB of the machine's memory to the system and the Snakemake driver.
memory_mb=$(awk '/MemTotal/ {print int($2 / 1024) - 2048}' /proc/meminfo)

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=lenspipe-local
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
# Finished jobs stay visible to squeue for 5 minutes (the status command the tests use).
MinJobAge=300
# Enforce time limits promptly: no grace period, a short wait between SIGTERM and SIGKILL.
OverTimeLimit=0
KillWait=10
InactiveLimit=0
# Reject a job that asks for more than its partition allows, instead of leaving it pending.
EnforcePartLimits=ALL
GresTypes=gpu
# Trust this file for the node's resources, so the counted GPU without a device is accepted.
SlurmdParameters=config_overrides
NodeName=localhost CPUs=${cpus} RealMemory=${memory_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=14-00:00:00 State=UP
PartitionName=gpu Nodes=localhost MaxTime=14-00:00:00 State=UP
EOF
cat >/etc/slurm/gres.conf <<EOF
NodeName=localhost Name=gpu File=/dev/null
EOF

# Restart cleanly if an earlier run left daemons behind.
pkill -x slurmd 2>/dev/null || true
pkill -x slurmctld 2>/dev/null || true
pkill -x munged 2>/dev/null || true
# A fresh cluster each time: no jobs or node states carried over from an earlier start.
rm -rf /var/spool/slurmctld/* /var/spool/slurmd/*
sleep 1

if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 0400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged
slurmctld
slurmd

for _ in $(seq 60); do
    if sinfo --noheader --nodes=localhost --format=%T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        sinfo
        exit 0
    fi
    sleep 1
done
echo "start_slurm.sh: the SLURM node did not become idle within 60 s" >&2
sinfo >&2 || true
tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
exit 1
