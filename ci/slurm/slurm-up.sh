#!/usr/bin/env bash
# Start a one-node Slurm cluster on loopback for the Slurm tests: munged, slurmctld and slurmd
# from Debian's packages, started by hand (no systemd, no cgroups, no accounting database).
# Root only; Debian 12. Installs the packages when they are missing.
#
#   bash ci/slurm/slurm-up.sh      # then: pytest -m slurm;  bash ci/slurm/slurm-down.sh
#
# State, logs and the PIDs of the daemons it starts live in $SENSIFLOW_SLURM_DIR
# (default /tmp/sensiflow-slurm); slurm-down.sh stops exactly those PIDs. The config goes to
# /etc/slurm/slurm.conf: snakemake-executor-plugin-slurm-jobstep drops SLURM_CONF (with every
# other SLURM_* variable but the job's id) before its nested srun, so a config anywhere else is
# not found inside the jobs. An existing slurm.conf that this script did not write is left
# alone and the script stops.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${SENSIFLOW_SLURM_DIR:-/tmp/sensiflow-slurm}
CONF=/etc/slurm/slurm.conf
MARK="# written by sensiflow ci/slurm/slurm-up.sh"
PACKAGES=(slurmctld slurmd slurm-client munge)

say() { echo "slurm-up: $*"; }
die() { echo "slurm-up: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and writes $CONF)"
if [ -e "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
  die "$CONF exists and was not written by this script; not touching a real cluster's config"
fi

started=$SECONDS
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  # The packages' maintainer scripts would start the daemons through invoke-rc.d. A
  # policy-rc.d that exits 101 forbids that, so that every daemon running afterwards is one
  # this script started and recorded. Add one for the install if the machine has none.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    > "/tmp/sensiflow-slurm-apt.log" 2>&1 || { cat /tmp/sensiflow-slurm-apt.log >&2; exit 1; }
fi
installed=$SECONDS

# A cluster left from an earlier run would answer our readiness checks while the new daemons
# die on "Address already in use": stop it by its recorded PIDs, then insist the ports are free.
if compgen -G "$DIR/run/*.pid" > /dev/null; then
  say "stopping the cluster recorded in $DIR"
  bash "$HERE/slurm-down.sh"
fi
for port in 6817 6818; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    die "port $port is in use (another Slurm?); stop it first"
  fi
done

rm -rf "$DIR"
mkdir -p "$DIR"/{state,spool,log,run}
host=$(hostname -s)
# The node line from slurmd's own probe of this machine, with 512 MiB less memory than found
# so that the node is never drained for having less memory than configured.
node=$(slurmd -C | head -n 1)
mem=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<< "$node")
node=$(sed -E "s/RealMemory=[0-9]+/RealMemory=$((mem - 512))/" <<< "$node")

mkdir -p /etc/slurm
cat > "$CONF" << CONFIG
$MARK
ClusterName=sensiflow-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no cgroups on the CI machine: track processes by their parent, bind no tasks
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# no slurmdbd: sacct does not work; use squeue (snakemake: --slurm-status-command squeue)
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# refuse at submission a job this node can never run, rather than leave it pending forever
EnforcePartLimits=ALL
# keep finished jobs visible to 'squeue --states=all' for 10 minutes (the status command
# needs at least 3 x snakemake's first status-check delay)
MinJobAge=600
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.daemon-pid
SlurmdPidFile=$DIR/run/slurmd.daemon-pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
$node NodeAddr=127.0.0.1 State=UNKNOWN
# DefMemPerCPU: a job that asks for no memory would otherwise get the whole node
PartitionName=debug Nodes=$host Default=YES MaxTime=60 State=UP DefMemPerCPU=1000
CONFIG

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_for() {
  local tries=$(($1 * 10))
  shift
  for _ in $(seq "$tries"); do
    "$@" > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "slurm-up: timed out waiting for: $*" >&2
  tail -n 20 "$DIR"/log/* >&2 || true
  return 1
}
# start NAME COMMAND...: run a daemon in the foreground mode, in the background, and record
# its PID (the daemon's own: -F/-D keep it from forking away)
start() {
  local name=$1
  shift
  "$@" > "$DIR/log/$name.out" 2>&1 &
  echo $! > "$DIR/run/$name.pid"
}
alive() { kill -0 "$(cat "$DIR/run/$1.pid")" 2> /dev/null; }

# munge: the package's postinst creates the key; make one if it did not
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --force
  chown munge:munge /etc/munge/munge.key
  chmod 0600 /etc/munge/munge.key
fi
# setpriv execs munged as the munge user, so the recorded PID is munged's
start munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
wait_for 10 test -S /run/munge/munge.socket.2
munge -n | unmunge > /dev/null

# -c: start from an empty state (job ids restart at 1)
start slurmctld /usr/sbin/slurmctld -D -c
wait_for 30 scontrol ping
alive slurmctld || die "slurmctld exited; see $DIR/log/slurmctld.*"

start slurmd /usr/sbin/slurmd -D
wait_for 30 bash -c '[ "$(sinfo -h -o %T)" = idle ]'
alive slurmd || die "slurmd exited; see $DIR/log/slurmd.*"

sinfo
say "up in $((SECONDS - started)) s (packages $((installed - started)) s); state in $DIR"
