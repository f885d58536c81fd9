#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, from Debian's packages (slurm-wlm, munge), for
# test/slurm_test.ts and .ci/run: munged, slurmctld and slurmd, configured for this host.
#
#   scripts/slurm-local.sh up     configure (if needed) and start; wait until the node is idle
#   scripts/slurm-local.sh down   stop the three daemons this script started
#   scripts/slurm-local.sh status exit 0 when the node answers and is idle
#
# Needs root. It writes /etc/slurm/slurm.conf only when there is none or it is one of its
# own (marked below): a real cluster's configuration is never replaced.
# Exit 0: up (or down); 1: a daemon did not start (its log is printed); 2: cannot run here.
set -uo pipefail

MARK="# written by ganbench scripts/slurm-local.sh"
CONF=/etc/slurm/slurm.conf
STATE=/var/lib/ganbench-slurm
HOST=$(hostname -s)

node_idle() {
  timeout 10 sinfo -h -n "$HOST" -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'
}

write_conf() {
  local cpus mem
  cpus=$(nproc)
  mem=$(free -m | awk '/^Mem:/ { print $2 }')
  mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d"
  cat >"$CONF" <<EOF
$MARK
ClusterName=ganbench
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
# a job runs at the niceness of the sbatch that submitted it (the tests submit with nice)
PropagatePrioProcess=1
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  if munge -n </dev/null >/dev/null 2>&1; then return 0; fi
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged || return 1
  for _ in $(seq 20); do
    munge -n </dev/null >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

stop_pidfile() {
  local pid
  [ -s "$1" ] || return 0
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  rm -f "$1"
}

up() {
  if node_idle; then
    echo "slurm-local: $HOST is up"
    return 0
  fi
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    echo "slurm-local: $CONF exists and is not ours; not touching it" >&2
    return 2
  fi
  write_conf
  if ! start_munge; then
    echo "slurm-local: munged did not start" >&2
    return 1
  fi
  if ! [ -s "$STATE/slurmctld.pid" ] || ! kill -0 "$(cat "$STATE/slurmctld.pid")" 2>/dev/null; then
    /usr/sbin/slurmctld -i || { tail -20 "$STATE/slurmctld.log" >&2; return 1; }
  fi
  if ! [ -s "$STATE/slurmd.pid" ] || ! kill -0 "$(cat "$STATE/slurmd.pid")" 2>/dev/null; then
    /usr/sbin/slurmd || { tail -20 "$STATE/slurmd.log" >&2; return 1; }
  fi
  for _ in $(seq 60); do
    if node_idle; then
      echo "slurm-local: $HOST is up ($(sinfo -h -n "$HOST" -o '%c CPUs, %m MB'))"
      return 0
    fi
    # a node that was down when slurmctld last saw it comes back on its own (ReturnToService)
    scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  echo "slurm-local: $HOST did not become idle:" >&2
  sinfo -N -l >&2 || true
  tail -20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2
  return 1
}

down() {
  stop_pidfile "$STATE/slurmd.pid"
  stop_pidfile "$STATE/slurmctld.pid"
  if [ -s /run/munge/munged.pid ]; then stop_pidfile /run/munge/munged.pid; fi
  echo "slurm-local: stopped"
}

if [ "$(id -u)" != 0 ]; then
  echo "slurm-local: needs root (it configures and starts system daemons)" >&2
  exit 2
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-local: slurmctld, slurmd or munged is not installed (apt-get install slurm-wlm munge)" >&2
  exit 2
fi
case "${1:-up}" in
up) up ;;
down) down ;;
status) node_idle ;;
*)
  echo "usage: scripts/slurm-local.sh up|down|status" >&2
  exit 2
  ;;
esac
