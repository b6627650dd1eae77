#!/usr/bin/env bash
# Container entrypoint for the F5-TTS voice studio.
#
# Finds the persistent volume, points HF_HOME (model weights) and VOICES_DIR (saved voices) at it,
# checks that it is usable (exists, writable, room for the weights), then runs the command it was
# given (the image's CMD, `python app.py`) in its place with exec, so signals and the exit code
# reach the app directly.
#
# Settings, all optional (values already in the environment are respected):
#   VOLUME_DIR         the volume to use; must exist (otherwise the container stops with an error)
#   VOLUME_CANDIDATES  where to look when VOLUME_DIR is unset, first existing folder wins
#                      (default "/runpod-volume /workspace": RunPod serverless, then RunPod pods)
#   FALLBACK_DIR       container-disk folder used when no volume is found (default /tmp/studio);
#                      nothing there survives a restart
#   HF_HOME            Hugging Face cache (default $VOLUME/hf)
#   VOICES_DIR         saved voices (default $VOLUME/voices)
#   MIN_FREE_GB        free space needed while the weights are still missing (default 10)
#   BAKED_HF_HOME      where an image built with BAKE_WEIGHTS=1 holds its weights (default /opt/hf);
#                      used when HF_HOME is unset and the volume has no weights of its own
#   RUNPOD_HF_CACHE    RunPod's model cache (default /runpod-volume/huggingface-cache/hub, where RunPod
#                      puts it and where the app looks: change it only to test this script); weights
#                      there count as present
#   F5_CKPT            read, not changed: the checkpoint whose presence is checked (the app's default
#                      hf:// checkpoint when unset; a local path counts as present when the file exists)
#
# Exit status: the command's own once it runs (exec). Before that, on a problem it cannot work around,
# the entrypoint prints one line starting "[entrypoint] ERROR:" that says what to fix, and exits with
#   78  a setting is wrong (VOLUME_DIR is not a folder, MIN_FREE_GB is not a number)
#   73  the volume (HF_HOME or VOICES_DIR) cannot be written: read-only or wrong permissions
#   75  too little free space to download the missing weights (MIN_FREE_GB)
# The studio itself (python app.py) exits with 2 and a line starting "error:" when it refuses one
# of its settings (e.g. F5_DEVICE=gpu); restarting does not help until the setting is fixed.
#
# Messages go to stderr, prefixed with [entrypoint]. Only paths and sizes are printed, never the
# environment (it may hold STUDIO_AUTH, STUDIO_API_TOKEN or HF_TOKEN).
set -euo pipefail

EXIT_CONFIG=78
EXIT_NOT_WRITABLE=73
EXIT_NO_SPACE=75

log() { printf '[entrypoint] %s\n' "$*" >&2; }
warn() { printf '[entrypoint] WARNING: %s\n' "$*" >&2; }
# die STATUS MESSAGE
die() {
    printf '[entrypoint] ERROR: %s\n' "$2" >&2
    exit "$1"
}

# The checkpoint the app will load: a local file, or hf://owner/repo/path (the app's default).
CKPT=${F5_CKPT:-hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors}
ckpt_repo="" ckpt_file=""
if [[ $CKPT =~ ^hf://([^/]+)/([^/]+)/(.+)$ ]]; then
    ckpt_repo="models--${BASH_REMATCH[1]}--${BASH_REMATCH[2]}"
    ckpt_file=${BASH_REMATCH[3]}
fi

# has_weights HUB_DIR: true when the hf:// checkpoint is in that hub cache (a snapshot of its repo).
# -f follows the snapshot symlink, so a dangling link (interrupted download) counts as missing.
has_weights() {
    local f
    [ -n "$ckpt_repo" ] || return 1
    for f in "$1/$ckpt_repo"/snapshots/*/"$ckpt_file"; do
        if [ -f "$f" ]; then
            return 0
        fi
    done
    return 1
}

# ensure_writable DIR WHAT: create DIR and prove we can write in it, or stop with a clear message.
ensure_writable() {
    local dir=$1 what=$2 probe
    if ! mkdir -p -- "$dir" 2>/dev/null; then
        die "$EXIT_NOT_WRITABLE" "cannot create the $what folder $dir (running as uid $(id -u)). The volume looks read-only or not writable: check the volume mount and its permissions (on RunPod: the pod's Volume Mount Path and that the volume is attached read-write)."
    fi
    if ! probe=$(mktemp "$dir/.entrypoint-write-test.XXXXXX" 2>/dev/null); then
        die "$EXIT_NOT_WRITABLE" "the $what folder $dir is not writable (running as uid $(id -u)). The volume looks read-only: check the volume mount and its permissions (on RunPod: that the volume is attached read-write)."
    fi
    rm -f -- "$probe"
}

VOLUME_CANDIDATES=${VOLUME_CANDIDATES-/runpod-volume /workspace}
FALLBACK_DIR=${FALLBACK_DIR:-/tmp/studio}
MIN_FREE_GB=${MIN_FREE_GB:-10}
BAKED_HF_HOME=${BAKED_HF_HOME:-/opt/hf}
RUNPOD_HF_CACHE=${RUNPOD_HF_CACHE:-/runpod-volume/huggingface-cache/hub}

# At most 12 digits, so the KiB arithmetic below cannot overflow.
if ! [[ $MIN_FREE_GB =~ ^[0-9]{1,12}$ ]]; then
    die "$EXIT_CONFIG" "MIN_FREE_GB=$MIN_FREE_GB is not a whole number of gigabytes. Set it to e.g. 10, or unset it."
fi

# Without a command (an empty CMD), start the studio.
if [ "$#" -eq 0 ]; then
    set -- python app.py
fi

# 1. Find the volume.
volume=""
if [ -n "${VOLUME_DIR:-}" ]; then
    if [ ! -d "$VOLUME_DIR" ]; then
        die "$EXIT_CONFIG" "VOLUME_DIR=$VOLUME_DIR does not exist or is not a folder, so the volume is not mounted there. Check the volume mount path in the pod or endpoint settings (RunPod pods mount at /workspace, serverless at /runpod-volume), or unset VOLUME_DIR to look in: $VOLUME_CANDIDATES."
    fi
    volume=$VOLUME_DIR
else
    read -r -a candidates <<<"$VOLUME_CANDIDATES"
    for candidate in ${candidates[@]+"${candidates[@]}"}; do
        if [ -d "$candidate" ]; then
            volume=$candidate
            break
        fi
    done
fi

persistent=1
volume_kind="volume"
if [ -z "$volume" ]; then
    persistent=0
    volume_kind="container disk, not persistent"
    warn "=================================================================="
    warn "No volume found (VOLUME_DIR is unset; looked for: ${VOLUME_CANDIDATES:-nothing})."
    warn "NOTHING WILL PERSIST: model weights are downloaded again on every start"
    warn "and saved voices are lost when the container stops."
    warn "Using the container disk at $FALLBACK_DIR for now."
    warn "To fix: attach a volume (RunPod pods: mount path /workspace) or set VOLUME_DIR."
    warn "=================================================================="
    volume=$FALLBACK_DIR
elif command -v mountpoint >/dev/null 2>&1 && ! mountpoint -q "$volume"; then
    log "note: $volume is a plain folder, not a mount point; data persists only if it lives on a volume."
fi

# 2. Decide where the weights and voices go.
if [ -n "${HF_HOME:-}" ]; then
    hf_from="set in the environment"
elif has_weights "$volume/hf/hub"; then
    HF_HOME=$volume/hf
    hf_from=$volume_kind
elif has_weights "$BAKED_HF_HOME/hub"; then
    HF_HOME=$BAKED_HF_HOME
    hf_from="baked into the image; models not baked in are not kept across restarts"
else
    HF_HOME=$volume/hf
    hf_from=$volume_kind
fi
VOICES_DIR=${VOICES_DIR:-$volume/voices}
export HF_HOME VOICES_DIR

# 3. Check that both can be written.
ensure_writable "$HF_HOME" "HF_HOME (model weights)"
ensure_writable "$VOICES_DIR" "VOICES_DIR (saved voices)"

# 4. Are the weights there? Then check the free space where they are (or will be) stored.
# weights=missing means a download is ahead; none is for a local checkpoint, even a missing one.
if [ -z "$ckpt_repo" ]; then
    if [ -f "$CKPT" ]; then
        weights="present (F5_CKPT=$CKPT, a local file)"
    else
        weights="not found at F5_CKPT=$CKPT"
        warn "F5_CKPT=$CKPT is not a file (not an hf:// URL either), so Generate will fail until it is there: check the path (files on the volume are under $volume) or unset F5_CKPT for the default model."
    fi
elif has_weights "${HF_HUB_CACHE:-$HF_HOME/hub}"; then
    weights=present
elif has_weights "$RUNPOD_HF_CACHE"; then
    weights="present (RunPod model cache at $RUNPOD_HF_CACHE)"
else
    weights=missing
fi
free_kb=$(df -Pk -- "$HF_HOME" 2>/dev/null | awk 'NR == 2 { print $4 }') || free_kb=""
if ! [[ $free_kb =~ ^[0-9]+$ ]]; then
    warn "could not read the free space of $HF_HOME; skipping the disk space check."
else
    free_gb=$(awk -v kb="$free_kb" 'BEGIN { printf "%.1f", kb / 1048576 }')
    if ((free_kb < MIN_FREE_GB * 1048576)); then
        if [ "$weights" = missing ]; then
            die "$EXIT_NO_SPACE" "only $free_gb GB free at $HF_HOME, but the model weights are not there yet and at least $MIN_FREE_GB GB (MIN_FREE_GB) is needed to download them. Grow the volume (or free space on it), or pre-populate it with \`python app.py download\` from a machine or pod that has room, using HF_HOME=$HF_HOME."
        fi
        warn "only $free_gb GB free at $HF_HOME (less than MIN_FREE_GB=$MIN_FREE_GB). The weights are present so the studio starts, but new downloads or saved voices may fail: grow the volume or free space."
    fi
fi

if [ "$persistent" -eq 1 ]; then
    log "volume: $volume"
else
    log "volume: none (container disk $volume, not persistent)"
fi
log "HF_HOME=$HF_HOME ($hf_from); weights $weights${free_gb:+; $free_gb GB free}"
log "VOICES_DIR=$VOICES_DIR"
if [ "$weights" = missing ]; then
    log "the weights will be downloaded on first use (a few GB); run \`python app.py download\` once to fetch them ahead of time."
fi

exec "$@"
