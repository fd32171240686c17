#!/usr/bin/env bash
# Runs a scenario as N Slurm array tasks, then merges them:
#   deploy/slurm/submit.sh scenarios/million.toml 16 results/million
#   COMMAND=sweep deploy/slurm/submit.sh scenarios/window-sweep.toml 8 results/window-sweep
set -euo pipefail
SCENARIO=${1:?usage: submit.sh SCENARIO N OUT}
N=${2:?usage: submit.sh SCENARIO N OUT}
OUT=${3:?usage: submit.sh SCENARIO N OUT}
HERE=$(cd "$(dirname "$0")" && pwd)
export SCENARIO OUT
export SHARDS=${SHARDS:-$OUT.shards}
jid=$(sbatch --parsable --array="1-$N" --export=ALL "$HERE/shard.sbatch")
sbatch --dependency="afterok:$jid" --export=ALL "$HERE/merge.sbatch"
echo "queued $N shards as job $jid; the merge writes $OUT when they all succeed"
