#!/usr/bin/env bash
# Stop the cluster slurm-up.sh started: cancel its jobs, kill what is left of them, then stop
# the daemons by the PIDs slurm-up.sh recorded (never by name). Safe to run twice.
set -uo pipefail
DIR=${SENSIFLOW_SLURM_DIR:-/tmp/sensiflow-slurm}
RUN=$DIR/run

pid_of() { [ -s "$RUN/$1.pid" ] && cat "$RUN/$1.pid"; }
alive() { local pid; pid=$(pid_of "$1") && kill -0 "$pid" 2> /dev/null; }

# Jobs run under slurmstepd, which is neither a child of slurmd nor stopped with it: cancel
# them while the controller still answers, then kill any job process slurmd still tracks.
if alive slurmctld; then
  jobs=$(squeue -h -o %i 2> /dev/null)
  if [ -n "$jobs" ]; then
    echo "slurm-down: cancelling jobs $(echo $jobs)"
    scancel $jobs
    for _ in $(seq 300); do
      [ -z "$(squeue -h -o %i 2> /dev/null)" ] && break
      sleep 0.1
    done
  fi
  # scontrol listpids: PID JOBID STEPID ..., after a header line
  stray=$(scontrol listpids 2> /dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }')
  if [ -n "$stray" ]; then
    echo "slurm-down: killing job processes $(echo $stray)"
    kill -KILL $stray 2> /dev/null
  fi
fi

# reverse start order
for name in slurmd slurmctld munged; do
  pid=$(pid_of "$name") || continue
  if kill -0 "$pid" 2> /dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 300); do
      kill -0 "$pid" 2> /dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
      echo "slurm-down: $name ($pid) still running 30 s after TERM; sending KILL"
      kill -KILL "$pid"
    fi
    echo "slurm-down: stopped $name ($pid)"
  fi
  rm -f "$RUN/$name.pid"
done
exit 0
