# Shared by `run` and `runner`: where the kernel tier keeps its cache.
# Sourced, not run.
tier_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tier_cache=${BRIDGEKIT_TIER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bridgekit-kernel-tier}

tier_say() { echo "kernel tier: $*" >&2; }

# Kernel command-line arguments cannot hold spaces.
tier_no_spaces() {
    case "$1" in
    *[[:space:]]*)
        tier_say "path '$1' contains whitespace; the guest kernel command line cannot carry it"
        exit 2
        ;;
    esac
}

# qemu command line for one boot; $1 = accel (tcg|kvm), $2 = command file.
tier_qemu_args() {
    local accel=$1 cmd=$2
    local cpu=()
    # Under TCG, several vCPUs run on one host thread (thread=single), never
    # one thread each: with multi-threaded TCG a vCPU can run code another
    # vCPU has just patched (the kernel rewrites its own text when a static
    # key flips) from a stale translation. CI saw 6.12 die of it: "Oops:
    # int3" in crng_make_state, the crng-ready key flipping under a test.
    # One thread still lets the test threads' waits overlap.
    if [ "$accel" = kvm ]; then
        cpu=(-accel kvm -cpu host)
    elif [ "${TIER_SMP:-2}" -gt 1 ]; then
        cpu=(-accel tcg,thread=single)
    else
        cpu=(-accel tcg)
    fi
    # Two guests side by side get one vCPU each: more vCPUs than the
    # machine's cores make TCG far slower, not faster.
    printf '%s\n' "${cpu[@]}" -m 1G -smp "${TIER_SMP:-2}" -nographic -no-reboot -monitor none \
        -serial stdio -net none -vga none -bios /usr/share/qemu/qboot.rom \
        -kernel "$TIER_VMLINUZ" -initrd "$TIER_INITRD" \
        -append "console=ttyS0 quiet loglevel=1 panic=-1 bk.moddir=$TIER_MODDIR bk.stage2=$tier_dir/stage2 bk.cmd=$cmd" \
        -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
}

# Boots the guest on command file $2 with accel $1 and timeout $3 seconds.
# Streams the console (CR stripped, markers hidden) to stdout; returns the
# command's exit status, or 124 if the guest never printed the exit marker.
# A guest that never reached the command (no start marker: the boot itself
# failed, which TCG does now and then) is booted once more, and says so.
tier_boot() {
    local accel=$1 cmd=$2 limit=$3 log status try
    for try in 1 2; do
        log=$(mktemp "$tier_cache/run/console.XXXXXX")
        mapfile -t args < <(tier_qemu_args "$accel" "$cmd")
        timeout -k 5 "$limit" qemu-system-x86_64 "${args[@]}" </dev/null 2>&1 |
            tr -d '\r' | tee "$log" | grep -v --line-buffered 'BRIDGEKIT-KERNEL-TIER-' || true
        status=$(sed -n 's/.*BRIDGEKIT-KERNEL-TIER-EXIT=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
        # How each test binary ended, for the runner's table.
        [ -z "${TIER_MARKERS:-}" ] || grep -a -o 'BRIDGEKIT-KERNEL-TIER-BIN .*' "$log" >"$TIER_MARKERS" || true
        if [ -n "$status" ]; then
            rm -f "$log"
            return "$status"
        fi
        if [ "$try" = 1 ] && ! grep -q 'BRIDGEKIT-KERNEL-TIER-START' "$log"; then
            tier_say "the guest did not boot as far as the command; booting it once more. Console:"
            tail -n 40 "$log" >&2
            rm -f "$log"
            continue
        fi
        tier_say "the guest did not finish (timeout ${limit}s, or it crashed); console tail:"
        tail -n 40 "$log" >&2
        rm -f "$log"
        return 124
    done
}
